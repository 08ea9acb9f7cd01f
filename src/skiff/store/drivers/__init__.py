"""skiff.store.drivers."""
