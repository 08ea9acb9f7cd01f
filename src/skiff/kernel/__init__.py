"""skiff.kernel."""
