"""skiff.runtime.cgroups."""
