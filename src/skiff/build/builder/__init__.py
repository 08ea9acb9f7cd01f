"""The Dockerfile executor (L2): stages in dependency order, a persistent cache keyed like Docker's, RUN through
an injected :class:`StepRunner`, COPY/ADD through skiff.archive, results committed to the store.

    from skiff.build.builder import Builder, BuildOptions
    report = Builder(store, runner, images, out).build(BuildOptions(...))
"""

from __future__ import annotations

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
