"""skiff info / system info: system-wide information (store paths, storage driver, counts)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", help="Format output using a Go template, or json")


def run(args: argparse.Namespace, opts: object) -> int:
    import dataclasses

    from skiff import __version__
    from skiff.cli.commands._fmt import human_size
    from skiff.engine.context import EngineContext
    from skiff.engine.system import info

    rep = info(EngineContext.from_options(opts))  # type: ignore[arg-type]
    if args.format:
        from skiff.cli.commands._fmt import render_one

        print(render_one(args.format, dataclasses.asdict(rep)))
        return 0
    lines = ["Client:", f" Version:    {__version__}", " Context:    default", "", "Server:",
             f" Containers: {rep.Containers}", f"  Running: {rep.ContainersRunning}",
             f"  Paused: {rep.ContainersPaused}", f"  Stopped: {rep.ContainersStopped}", f" Images: {rep.Images}",
             f" Server Version: {rep.ServerVersion}", f" Storage Driver: {rep.Driver}"]
    lines += [f"  {k}: {v}" for k, v in rep.DriverStatus]
    lines += [f" Cgroup Driver: {rep.CgroupDriver}", f" Cgroup Version: {rep.CgroupVersion}",
              f" Runtimes: {' '.join(rep.Runtimes)}", f" Default Runtime: {rep.DefaultRuntime}",
              f" Kernel Version: {rep.KernelVersion}", f" Operating System: {rep.OperatingSystem}",
              f" OSType: {rep.OSType}", f" Architecture: {rep.Architecture}", f" CPUs: {rep.NCPU}",
              f" Total Memory: {human_size(rep.MemTotal)}", f" Name: {rep.Name}",
              f" Docker Root Dir: {rep.DockerRootDir}", f" Run Root: {rep.RunRoot}"]
    print("\n".join(lines))
    return 0
