"""skiff.cli."""
