"""Image builds: the pure Dockerfile front half (``dockerfile``) and the builder that runs stages."""
