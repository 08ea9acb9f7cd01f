"""skiff update / container update: docker/cli's update (resource limits and the restart policy)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

_FIELDS = ("blkio_weight", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset_cpus", "cpuset_mems", "memory",
           "memory_reservation", "memory_swap", "pids_limit", "restart")


def configure(p: argparse.ArgumentParser) -> None:
    from skiff.cli.commands.container_common import _int

    p.allow_abbrev = False
    a = p.add_argument
    a("containers", nargs="+", metavar="CONTAINER")
    a("--blkio-weight", type=_int("--blkio-weight"), help="Block IO (relative weight), between 10 and 1000, or 0 "
                                                           "to disable (default 0)")
    a("--cpu-period", type=_int("--cpu-period"), help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=_int("--cpu-quota"), help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("--cpu-rt-period", type=_int("--cpu-rt-period"), help="Limit the CPU real-time period in microseconds")
    a("--cpu-rt-runtime", type=_int("--cpu-rt-runtime"), help="Limit the CPU real-time runtime in microseconds")
    a("-c", "--cpu-shares", type=_int("--cpu-shares"), help="CPU shares (relative weight)")
    a("--cpus", help="Number of CPUs")
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    a("-m", "--memory", help="Memory limit")
    a("--memory-reservation", help="Memory soft limit")
    a("--memory-swap", help="Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    a("--pids-limit", type=_int("--pids-limit"), help="Tune container pids limit (set -1 for unlimited)")
    a("--restart", help="Restart policy to apply when a container exits")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import each, engine
    from skiff.engine.containers_update import UpdateOptions, update
    from skiff.errors import SkiffError

    given = {f: getattr(args, f) for f in _FIELDS if getattr(args, f) is not None}
    if not given:  # docker/cli, before asking the daemon
        raise SkiffError("you must provide one or more flags when using this command", exit_code=1)
    eng = engine(opts)
    o = UpdateOptions(**given)

    def one(name: str) -> str:
        update(eng, name, o)
        return name  # docker/cli prints each container as it was named

    return each(args.containers, one)
