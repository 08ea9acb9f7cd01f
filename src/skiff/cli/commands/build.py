"""skiff build [OPTIONS] PATH | URL | -"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from skiff.errors import InvalidArgumentError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("context", help="the build context: a folder, or - for a Dockerfile on stdin")
    p.add_argument("-t", "--tag", action="append", default=[], help="Name and optionally a tag (name:tag)")
    p.add_argument("-f", "--file", help="Name of the Dockerfile (default: PATH/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], help="Set build-time variables")
    p.add_argument("--build-context", action="append", default=[], help="Additional build contexts (name=path)")
    p.add_argument("--label", action="append", default=[], help="Set metadata for an image")
    p.add_argument("--target", help="Set the target build stage to build")
    p.add_argument("--no-cache", action="store_true", help="Do not use cache when building the image")
    p.add_argument("--no-cache-filter", action="append", default=[], help="Do not cache specified stages")
    p.add_argument("--pull", action="store_true", help="Always attempt to pull a newer version of the image")
    p.add_argument("--network", default="default", help="Networking mode for the RUN instructions")
    p.add_argument("--iidfile", help="Write the image ID to the file")
    p.add_argument("--secret", action="append", default=[], help="Secret to expose to the build (id=,src=)")
    p.add_argument("--ca-bundle",  # default: $SKIFF_CA_BUNDLE, read in run() (defaults must not read the env)
                   help="CA bundle made visible read-only to RUN steps (env SKIFF_CA_BUNDLE)")
    p.add_argument("--platform", help="Set target platform for build (the host's only)")
    p.add_argument("--output", "-o", help="Output destination (type=oci|docker,dest=path)")
    p.add_argument("--progress", default="auto", help="Set type of progress output (auto, plain, tty, quiet)")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the build output and print image ID")
    # the RUN steps' containers (the legacy builder's HostConfig), checked by run's own parsers
    from skiff.cli.commands.container_common import _int

    a = p.add_argument
    a("--add-host", action="append", default=[], help="Add a custom host-to-IP mapping (host:ip or host=ip)")
    a("--shm-size", help="Size of /dev/shm")
    a("--ulimit", action="append", default=[], help="Ulimit options")
    a("--security-opt", action="append", default=[], help="Security options for the RUN steps")
    a("--cgroup-parent", help="Set the parent cgroup for the RUN instructions during build")
    a("-m", "--memory", help="Memory limit")
    a("--memory-swap", help="Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    a("-c", "--cpu-shares", type=_int("--cpu-shares"), help="CPU shares (relative weight)")
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    a("--cpu-period", type=_int("--cpu-period"), help="Limit the CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=_int("--cpu-quota"), help="Limit the CPU CFS (Completely Fair Scheduler) quota")
    a("--ssh", action="append", default=[], help="SSH agent socket to expose to the build "
      "(format: default|<id>[=<socket>])")
    a("--cache-from", action="append", default=[], help="Images to consider as cache sources (accepted, unused)")
    a("--cache-to", action="append", default=[], help="Cache export destinations (accepted, unused)")
    # accepted for compatibility: what they control does not exist in a daemonless build
    a("--rm", action="store_true", default=True, help="Remove intermediate containers after a successful build")
    a("--force-rm", action="store_true", help="Always remove intermediate containers")
    a("--compress", action="store_true", help="Compress the build context using gzip (no-op: no daemon)")
    a("--disable-content-trust", action="store_true", default=True, help="Skip image verification")
    a("--isolation", help="Container isolation technology (default)")
    a("--squash", action="store_true", help="Squash newly built layers into a single new layer (refused)")


def _kv(items: list[str], flag: str, *, from_env: bool = True) -> dict[str, str]:
    """``K=V`` values; a bare ``K`` takes the environment's value (left out when it has none), or "" without
    ``from_env``."""
    out: dict[str, str] = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not k:
            raise InvalidArgumentError(f"invalid argument {it!r} for {flag}")
        if sep or not from_env:
            out[k] = v
        elif k in os.environ:
            out[k] = os.environ[k]
    return out


def run(args: argparse.Namespace, opts: object) -> int:
    import contextlib

    from skiff.build.builder import BuildOptions
    from skiff.cli.main import UsageError
    from skiff.engine import build as engine_build
    from skiff.engine.context import EngineContext
    from skiff.errors import SkiffError

    if args.progress not in ("auto", "plain", "tty", "quiet"):
        raise InvalidArgumentError(f"invalid --progress {args.progress!r} (auto, plain, tty or quiet)")
    if args.network not in ("default", "host", "none", "bridge"):
        raise InvalidArgumentError(f"invalid --network {args.network!r} for build (default, host or none)")
    if args.context == "-" and args.file == "-":
        raise InvalidArgumentError("cannot read both the context and the Dockerfile from stdin")
    if args.squash:  # docker/cli's words without an experimental daemon (BuildKit dropped the flag)
        raise UsageError('"--squash" is only supported on a Docker daemon with experimental features enabled')
    if args.isolation and args.isolation.lower() != "default":  # the daemon's check: Linux has only one
        raise UsageError(f'unsupported isolation: "{args.isolation}"')
    ctx = EngineContext.from_options(opts)  # type: ignore[arg-type]
    with contextlib.ExitStack() as stack:
        text = None
        context: Path | None
        if args.context == "-":
            context, text = stack.enter_context(engine_build.stdin_context(ctx, sys.stdin.buffer.read()))
        else:
            context = Path(args.context).resolve()
        dockerfile = None
        if args.file == "-":
            text = sys.stdin.read()
        elif args.file:
            # -f is relative to the current folder (or inside a tar context read from stdin)
            dockerfile = (context / args.file) if args.context == "-" and context else Path(args.file).resolve()
        # a bad sandbox flag exits 125 (docker/cli's flag errors), before anything is built
        ssh = _flag_check(engine_build.parse_ssh, args.ssh)
        bopts = _options(args, BuildOptions, context, dockerfile, text, ssh)
        checked = _flag_check(engine_build.check_options, ctx, bopts)
        try:
            report = engine_build.build(ctx, bopts, sys.stderr, checked=checked)
        except SkiffError as e:
            e.exit_code = 1  # docker build exits 1 for every failed build
            raise
    if bopts.quiet:
        print(report.image_id)
    return 0


def _flag_check(check: Callable[..., Any], *args: Any) -> Any:
    """``check(*args)``, its refusal of a value exiting 125 like a flag error."""
    from skiff.cli.main import UsageError

    try:
        return check(*args)
    except InvalidArgumentError as e:
        raise UsageError(e.message, hint=e.hint) from None


def _options(args: argparse.Namespace, cls, context: Path | None, dockerfile: Path | None,  # type: ignore[no-untyped-def]
             text: str | None, ssh: dict[str, Path]):
    secrets: dict[str, Path] = {}
    for s in args.secret:
        kv = dict(part.partition("=")[::2] for part in s.split(","))
        sid = kv.get("id")
        src = kv.get("src") or kv.get("source")
        if not sid or not src:
            raise InvalidArgumentError(f"invalid --secret {s!r}: expected id=ID,src=FILE")
        secrets[sid] = Path(src).resolve()
    contexts: dict[str, Path] = {}
    for k, v in _kv(args.build_context, "--build-context").items():
        if v.startswith("docker-image://"):
            contexts[k] = Path(v)  # kept as text: an image reference
        else:
            p = Path(v).resolve()
            if not p.is_dir():
                raise InvalidArgumentError(f"--build-context {k}={v}: no such folder")
            contexts[k] = p
    from skiff.build.builder.options import StepLimits

    limits = StepLimits(memory=args.memory, memory_swap=args.memory_swap, shm_size=args.shm_size,
                        cpu_shares=args.cpu_shares, cpu_period=args.cpu_period, cpu_quota=args.cpu_quota,
                        cpuset_cpus=args.cpuset_cpus, cpuset_mems=args.cpuset_mems,
                        cgroup_parent=args.cgroup_parent, ulimits=tuple(args.ulimit),
                        security_opt=tuple(args.security_opt))
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    args.ca_bundle = args.ca_bundle or os.environ.get("SKIFF_CA_BUNDLE") or None
    ca = Path(args.ca_bundle).resolve() if args.ca_bundle else None
    if ca is not None and not ca.is_file():
        raise InvalidArgumentError(f"--ca-bundle {args.ca_bundle}: no such file")
    return cls(
        context=context, dockerfile=dockerfile, dockerfile_text=text, tags=tuple(args.tag),
        build_args=_kv(args.build_arg, "--build-arg"), labels=_kv(args.label, "--label", from_env=False), target=args.target,
        no_cache=args.no_cache, no_cache_filter=tuple(x for f in args.no_cache_filter for x in f.split(",") if x),
        pull=args.pull, network=args.network, iidfile=Path(args.iidfile) if args.iidfile else None,
        secrets=secrets, build_contexts=contexts, ca_bundle=ca, quiet=args.quiet or args.progress == "quiet",
        platform=args.platform, source_date_epoch=int(sde) if sde and sde.isdigit() else None,
        output=args.output, progress=args.progress, add_hosts=tuple(args.add_host), ssh=ssh,
        limits=limits if limits != StepLimits() else None, cache_from=tuple(args.cache_from),
        cache_to=tuple(args.cache_to))
