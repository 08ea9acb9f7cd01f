"""skiff.runtime: a standalone OCI runtime (bundle in, container out), used in-process by the engine and
behind the ``skiff-runtime`` CLI (runc-compatible).

    from skiff.runtime import Runtime
    rt = Runtime(Path("/run/skiff/runtime"))
    code = rt.run("c1", Path("/path/to/bundle"), stdio=(0, 1, 2))       # fast path: no second interpreter

Public API (container.Runtime): create, start, run, wait, state, status, kill, delete, exec, list, spec,
pause, resume, stats, oom_killed. Errors (errors.py): BundleError (bad config.json/rootfs, names the field),
ExecFailed (exit_code 127 not found / 126 not executable), ContainerStartError, StateTransitionError,
ContainerNotFound, ContainerExists. Defaults for the engine: defaults.default_spec, defaults.default_seccomp.
The runtime forks only from a single-threaded process; otherwise use the skiff-runtime binary.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the CLI's `state` and `kill` never import typing
if TYPE_CHECKING:
    from typing import Any

    from skiff.runtime.container import Runtime

__all__ = ["Runtime"]


def __getattr__(name: str) -> Any:
    if name == "Runtime":
        from skiff.runtime.container import Runtime

        return Runtime
    raise AttributeError(name)
