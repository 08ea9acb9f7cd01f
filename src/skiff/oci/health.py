"""Docker's Healthcheck: kept in image configs by Docker and BuildKit (not in the OCI spec) and in a container's
Config. A module of its own: a container record holds one, and reading records (``ps``) needs no image types."""

from __future__ import annotations

from skiff.oci.codec import jfield
from skiff.records import dataclass


@dataclass(frozen=True)
class HealthConfig:
    """``Test`` (``["CMD", ...]``, ``["CMD-SHELL", cmd]`` or ``["NONE"]``); durations in nanoseconds."""

    test: list[str] = jfield("Test", default_factory=list)
    interval: int | None = jfield("Interval", default=None)
    timeout: int | None = jfield("Timeout", default=None)
    start_period: int | None = jfield("StartPeriod", default=None)
    start_interval: int | None = jfield("StartInterval", default=None)
    retries: int | None = jfield("Retries", default=None)
