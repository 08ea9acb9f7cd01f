"""Cgroup managers: v1 (legacy/hybrid) and v2, behind :class:`base.Manager`; :func:`base.create_manager`."""
