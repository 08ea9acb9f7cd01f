"""skiff.engine."""
