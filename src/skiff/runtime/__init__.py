"""skiff.runtime: a standalone OCI runtime (bundle in, container out), used in-process by the engine and
behind the ``skiff-runtime`` CLI.

    from skiff.runtime import Runtime
    rt = Runtime(Path("/run/skiff/runtime"))
    code = rt.run("c1", Path("/path/to/bundle"), stdio=(0, 1, 2))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skiff.runtime.container import Runtime

__all__ = ["Runtime"]


def __getattr__(name: str) -> Any:
    if name == "Runtime":
        from skiff.runtime.container import Runtime

        return Runtime
    raise AttributeError(name)
