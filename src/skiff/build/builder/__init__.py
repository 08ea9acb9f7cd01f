"""The Dockerfile executor (L2): stages in dependency order, a persistent cache keyed like Docker's, RUN through
an injected :class:`StepRunner`, COPY/ADD through skiff.archive, results committed to the store.

    from skiff.build.builder import Builder, BuildOptions
    report = Builder(store, runner, images, out).build(BuildOptions(...))

Names are loaded on first use (a no-op rebuild never imports the executor, see :mod:`quick`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skiff.build.builder.executor import Builder, BuildError
    from skiff.build.builder.options import (
        BuildOptions,
        BuildReport,
        ImageProvider,
        RunStep,
        StepMount,
        StepRunner,
    )

__all__ = ["BuildError", "BuildOptions", "BuildReport", "Builder", "ImageProvider", "RunStep", "StepMount",
           "StepRunner"]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("Builder", "BuildError"):
        return getattr(importlib.import_module("skiff.build.builder.executor"), name)
    if name in __all__:
        return getattr(importlib.import_module("skiff.build.builder.options"), name)
    raise AttributeError(name)
