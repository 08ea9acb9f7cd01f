"""skiff.archive."""
