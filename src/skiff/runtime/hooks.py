"""Runtime-namespace hooks (createRuntime, prestart, poststart, poststop): each hook runs with the container's
state JSON on stdin, its own args/env and an optional timeout. createContainer and startContainer hooks
would run inside the container's namespaces; they are refused at validation time instead of being ignored.
"""

from __future__ import annotations

import json
import subprocess

from skiff.oci.codec import to_obj
from skiff.oci.runtime import Hook, State
from skiff.runtime.errors import ContainerStartError


def run_hooks(stage: str, hooks: list[Hook], state: State, *, strict: bool = True) -> None:
    """Run ``hooks`` in order; with ``strict`` the first failure raises (and the caller cleans up)."""
    payload = json.dumps(to_obj(state)).encode()
    for i, hook in enumerate(hooks):
        argv = hook.args or [hook.path]
        try:
            cp = subprocess.run(argv, executable=hook.path, input=payload, env=dict(
                e.split("=", 1) for e in hook.env), capture_output=True, timeout=hook.timeout, check=False)
            err = None if cp.returncode == 0 else f"exit status {cp.returncode}: " \
                f"{cp.stderr.decode(errors='replace').strip()[:200]}"
        except subprocess.TimeoutExpired:
            err = f"timed out after {hook.timeout}s"
        except OSError as e:
            err = e.strerror or str(e)
        if err is not None and strict:
            raise ContainerStartError(f"config.json: hooks.{stage}[{i}] ({hook.path}): {err}")
