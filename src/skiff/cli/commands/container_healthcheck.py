"""skiff container healthcheck CONTAINER: run the container's health check once and record the result (what its
monitor runs every interval; Podman's `healthcheck run`). Exit 0 when healthy, 1 when not, 3 while the
container is still starting (the monitor's cue for the start interval)."""

from __future__ import annotations

from skiff.cli.commands.container_common import engine

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("container")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine import containers_health as health
    from skiff.errors import SkiffError

    eng = engine(opts)
    rec = eng.lookup(args.container)
    if health.effective(rec) is None:
        raise SkiffError(f"container {args.container} has no defined healthcheck", exit_code=1)
    code = health.probe(eng, rec.id)
    if code == health.STILL_STARTING:
        return code
    return 0 if health.status(eng, rec) == "healthy" else 1
