"""skiff.transfer."""
