"""skiff.store."""
