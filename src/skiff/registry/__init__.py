"""skiff.registry."""
