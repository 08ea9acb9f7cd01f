"""skiff.monitor."""
