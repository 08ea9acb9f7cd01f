"""skiff.network."""
