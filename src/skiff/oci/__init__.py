"""skiff.oci."""
