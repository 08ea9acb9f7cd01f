"""skiff: a daemonless, Docker-compatible container engine."""

__version__ = "0.1.0"
