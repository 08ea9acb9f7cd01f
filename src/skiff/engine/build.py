"""`skiff build`: the engine's side of the builder. It gives the builder its services: a StepRunner that runs
RUN steps with skiff's runtime (in-process, or crun/runc with the same bundle) and an ImageProvider that finds
or pulls FROM images."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from skiff.errors import InvalidArgumentError, SkiffError

if TYPE_CHECKING:
    from skiff.build.builder.options import BuildOptions, BuildReport, RunStep, StepLimits
    from skiff.engine.containers_model import HostConfig
    from skiff.engine.context import EngineContext
    from skiff.oci.runtime import Spec
    from skiff.store.images import ImageRecord


class RuntimeStepRunner:
    """Runs a RUN step as a container: a bundle whose root is the step's mounted overlay. ``host`` holds
    docker build's resource flags (memory, CPU, ulimits, /dev/shm size, cgroup parent) for every step."""

    def __init__(self, ctx: EngineContext, host: HostConfig | None = None) -> None:
        self.ctx = ctx
        self.host = host

    def spec(self, step: RunStep, cid: str = "") -> Spec:
        from dataclasses import replace

        from skiff.oci.runtime import Mount
        from skiff.runtime.defaults import default_mounts, default_spec, inherited_nofile

        mounts = default_mounts()
        for m in step.mounts:
            if m.kind == "tmpfs":
                mounts.append(Mount(destination=m.target, type="tmpfs", source="tmpfs",
                                    options=["nosuid", "nodev", "mode=1777", *([f"size={m.size}"] if m.size else [])]))
            else:
                assert m.source is not None
                mounts.append(Mount(destination=m.target, type="bind", source=str(m.source),
                                    options=["rbind", "ro" if m.readonly else "rw"]))
        spec = default_spec(list(step.args), rootfs=str(step.rootfs), env=list(step.env), cwd=step.cwd,
                            uid=step.uid, gid=step.gid, additional_gids=list(step.additional_gids),
                            hostname=step.hostname, mounts=mounts, no_new_privileges=False,
                            nofile=inherited_nofile())  # BuildKit's RUN inherits the daemon's limits, as run does
        if step.network == "host" and spec.linux is not None:
            spec = replace(spec, linux=replace(spec.linux, namespaces=[
                n for n in spec.linux.namespaces if n.type != "network"]))
        if self.host is not None:
            spec = _with_limits(spec, self.host, cid)
        return spec

    def run(self, step: RunStep) -> int:
        import shutil
        import subprocess
        import sys
        import tempfile
        import threading
        import uuid

        from skiff.oci.codec import canonical

        cid = "skiff-build-" + uuid.uuid4().hex[:16]
        spec = self.spec(step, cid)
        bundle = Path(tempfile.mkdtemp(prefix="build-bundle-", dir=self._tmp()))
        r, w = os.pipe()
        reader: threading.Thread | None = None
        try:
            (bundle / "config.json").write_bytes(canonical(spec))

            def pump() -> None:
                buf = b""
                while True:
                    chunk = os.read(r, 65536)
                    if not chunk:
                        break
                    buf += chunk
                    if b"\n" in buf:
                        head, _, buf = buf.rpartition(b"\n")
                        step.output(head)
                if buf:
                    step.output(buf)

            devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if self.ctx.runtime in ("skiff", "") and threading.active_count() == 1:
                    from skiff.runtime import Runtime
                    from skiff.runtime.errors import ExecFailed

                    def started(_pid: int) -> None:
                        nonlocal reader
                        os.close(w)
                        reader = threading.Thread(target=pump, daemon=True)
                        reader.start()

                    try:
                        code = Runtime(self.ctx.runroot / "runtime").run(
                            cid, bundle, stdio=(devnull, w, w), on_started=started)
                    except ExecFailed as e:
                        step.output(str(e).encode())
                        code = e.exit_code
                    finally:
                        with contextlib.suppress(OSError):
                            os.close(w)
                else:
                    exe = self.ctx.runtime if self.ctx.runtime not in ("skiff", "") else "skiff-runtime"
                    binary = shutil.which(exe) or str(Path(sys.executable).parent / exe)
                    proc = subprocess.Popen([binary, "--root", str(self.ctx.runroot / exe), "run", "--bundle",
                                             str(bundle), cid], stdin=devnull, stdout=w, stderr=w)
                    os.close(w)
                    reader = threading.Thread(target=pump, daemon=True)
                    reader.start()
                    code = proc.wait()
            finally:
                os.close(devnull)
            if reader is not None:
                reader.join()
            return code
        finally:
            os.close(r)
            shutil.rmtree(bundle, ignore_errors=True)

    def _tmp(self) -> Path:
        d = self.ctx.runroot / "build"
        d.mkdir(parents=True, exist_ok=True)
        return d


def _with_limits(spec: Spec, host: HostConfig, cid: str) -> Spec:
    """The legacy builder's HostConfig on a step's Spec, by run's rules (engine.bundles): cgroup resources,
    the cgroup under --cgroup-parent, ulimits in place of the inherited ones, the size of /dev/shm."""
    from dataclasses import replace

    from skiff.engine.bundles import resources
    from skiff.engine.containers_model import ContainerRecord
    from skiff.oci.runtime import POSIXRlimit

    assert spec.linux is not None and spec.process is not None
    rec = ContainerRecord(id=cid, created="", host_config=host)
    linux = replace(spec.linux, resources=resources(rec),
                    cgroups_path=rec.cgroup if host.cgroup_parent else spec.linux.cgroups_path)
    rlimits = list(spec.process.rlimits)
    for ul in host.ulimits:
        rlimits = [r for r in rlimits if r.type != f"RLIMIT_{ul.name.upper()}"]
        rlimits.append(POSIXRlimit(type=f"RLIMIT_{ul.name.upper()}", soft=ul.soft, hard=ul.hard))
    mounts = spec.mounts
    if host.shm_size:
        mounts = [replace(m, options=[*(o for o in m.options if not o.startswith("size=")), f"size={host.shm_size}"])
                  if m.destination == "/dev/shm" and m.type == "tmpfs" else m for m in mounts]
    process = replace(spec.process, rlimits=rlimits)
    if host.security_opt:  # the legacy builder's --security-opt, by run's rules
        from skiff.engine.bundles import _seccomp

        use_default, profile = _seccomp(host.security_opt, [], False)
        if not use_default:
            linux = replace(linux, seccomp=profile)  # unconfined (None), or the file's profile
        for o in host.security_opt:
            k, _, v = o.replace(":", "=", 1).partition("=")
            if k == "no-new-privileges":
                process = replace(process, no_new_privileges=v.lower() in ("", "true", "1"))
    return replace(spec, linux=linux, process=process, mounts=mounts)


def step_host(limits: StepLimits) -> HostConfig:
    """docker build's resource flags -> the steps' HostConfig, parsed and checked by `skiff run`'s own
    parsers and the daemon's checks (Docker's words): a bad value fails before anything is built."""
    from skiff.engine.bundles import no_new_privileges, seccomp_profile
    from skiff.engine.containers_create import cgroup_parent_path, check_mems, cpu_info
    from skiff.engine.containers_model import HostConfig
    from skiff.engine.containers_options import (
        check_cpuset,
        check_resources,
        parse_bytes,
        parse_memory_swap,
        parse_ulimit,
    )

    memory = parse_bytes(limits.memory, "--memory") if limits.memory else 0
    swap = parse_memory_swap(limits.memory_swap) if limits.memory_swap else 0
    shm = parse_bytes(limits.shm_size, "--shm-size") if limits.shm_size else 0
    check_resources(memory=memory, swap=swap, cpu_period=limits.cpu_period or 0, cpu_quota=limits.cpu_quota or 0)
    if limits.cpuset_cpus:
        check_cpuset(limits.cpuset_cpus, cpu_info()[1])
    if limits.cpuset_mems:
        check_mems(limits.cpuset_mems)
    ulimits = [parse_ulimit(u) for u in limits.ulimits]
    _check_ulimits_within_hard(ulimits)
    no_new_privileges(list(limits.security_opt))  # run's checks and words: an unknown option, a bad profile
    seccomp_profile(list(limits.security_opt))
    shares = limits.cpu_shares or 0
    if shares:  # dockerd's adaptContainerSettings: into the kernel's range [2, 262144]
        shares = min(max(shares, 2), 262144)
    return HostConfig(memory=memory, memory_swap=swap, shm_size=shm, cpu_shares=shares,
                      cpu_period=limits.cpu_period or 0, cpu_quota=limits.cpu_quota or 0,
                      cpuset_cpus=limits.cpuset_cpus or "", cpuset_mems=limits.cpuset_mems or "",
                      cgroup_parent=cgroup_parent_path(limits.cgroup_parent), ulimits=ulimits,
                      security_opt=list(limits.security_opt))


def _check_ulimits_within_hard(ulimits: list[Any]) -> None:
    """A hard limit above this process's own needs CAP_SYS_RESOURCE (dockerd has it; skiff may not): refused
    here, with the limit named, rather than by a failed RUN step."""
    import resource

    from skiff.runtime.rlimits import RLIMITS

    if not ulimits or _has_cap(24):  # CAP_SYS_RESOURCE
        return
    for ul in ulimits:
        cur = resource.getrlimit(RLIMITS[f"RLIMIT_{ul.name.upper()}"])[1]
        if cur != resource.RLIM_INFINITY and (ul.hard < 0 or ul.hard > cur):
            raise InvalidArgumentError(f"--ulimit {ul.name}={ul.soft}:{ul.hard}: the hard limit is above this "
                                       f"process's ({cur}); raising it needs CAP_SYS_RESOURCE")


def _has_cap(bit: int) -> bool:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError):
        pass
    return True  # unknown: let the runtime decide


def resolve_hosts(ctx: EngineContext, specs: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """--add-host checked by run's parser (``name:ip``, ``name=ip``, ``name:[v6]``) -> ``name:ip`` entries;
    ``host-gateway`` is the default bridge's gateway, as dockerd resolves it to its own (docker0's) address."""
    from skiff.engine.containers_create import extra_hosts_entries

    out = []
    for entry in extra_hosts_entries(list(specs)):
        name, _, ip = entry.partition(":")
        if ip == "host-gateway":
            from skiff.engine.networks import network_manager

            ip = str(network_manager(ctx.root, ctx.runroot).inspect("bridge").record.gateway)
        out.append(f"{name}:{ip}")
    return tuple(out)


def parse_ssh(specs: list[str], environ: dict[str, str] | None = None) -> dict[str, Path]:
    """``--ssh default|ID[=SOCKET]`` (buildx's syntax): the agent socket forwarded for each id; ``default``
    and a bare ID take $SSH_AUTH_SOCK. skiff forwards agent sockets (key files need an agent: ssh-add)."""
    import stat

    env = os.environ if environ is None else environ
    out: dict[str, Path] = {}
    for spec in specs:
        sid, _, paths = spec.partition("=")
        if not sid:
            raise InvalidArgumentError(f'invalid argument "{spec}" for "--ssh" flag: the id is empty')
        path = paths or env.get("SSH_AUTH_SOCK", "")
        if not path:
            raise InvalidArgumentError("--ssh: invalid empty ssh agent socket, make sure SSH_AUTH_SOCK is set")
        if "," in path:
            raise InvalidArgumentError(f"--ssh {spec}: skiff forwards one agent socket per id, not key files")
        try:
            st = os.stat(path)
        except OSError as e:
            raise InvalidArgumentError(f"--ssh {spec}: stat {path}: {(e.strerror or str(e)).lower()}") from None
        if not stat.S_ISSOCK(st.st_mode):
            raise InvalidArgumentError(f"--ssh {spec}: {path} is not an agent socket (skiff forwards agent "
                                       "sockets: load the key into ssh-agent with ssh-add)")
        out[sid] = Path(path).resolve()
    return out


def check_options(ctx: EngineContext, opts: BuildOptions) -> tuple[BuildOptions, HostConfig | None]:
    """Everything about the RUN steps' sandbox checked before the build (nothing is stored on bad input):
    the options with --add-host resolved, and the steps' HostConfig (None without resource flags)."""
    from dataclasses import replace

    host = step_host(opts.limits) if opts.limits is not None else None
    if opts.add_hosts:
        opts = replace(opts, add_hosts=resolve_hosts(ctx, opts.add_hosts))
    return opts, host


class StoreImageProvider:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def ensure(self, reference: str, *, pull: bool, platform: str | None) -> ImageRecord:
        if not pull:  # present in the store: no registry code is loaded
            try:
                found: ImageRecord = self.ctx.store.resolve_image(reference)
                if platform is None or f"{found.os}/{found.architecture}" == platform:
                    return found
            except SkiffError:
                pass
        try:
            from skiff.engine.registry import ensure_image
        except ImportError:
            if pull:
                raise SkiffError(f"pulling {reference}: no registry support in this build", exit_code=1) from None
            return self.ctx.store.resolve_image(reference)
        rec: ImageRecord = ensure_image(self.ctx, reference, platform=platform,
                                        policy="always" if pull else "missing")
        return rec


def host_platform() -> str:
    m = os.uname().machine
    return "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def build(ctx: EngineContext, opts: BuildOptions, out: TextIO, *,
          checked: tuple[BuildOptions, HostConfig | None] | None = None) -> BuildReport:
    """Build; with ``opts.output`` (``type=oci|docker,dest=FILE``) also write the image as an archive.
    A rebuild whose inputs did not change since the last build is answered from the build memo.
    ``checked``: what :func:`check_options` returned for ``opts`` (else it is called here)."""
    import time

    from skiff.build.builder.options import BuildReport
    from skiff.build.builder.quick import Memo

    opts, host = checked if checked is not None else check_options(ctx, opts)
    for flag, values in (("--cache-from", opts.cache_from), ("--cache-to", opts.cache_to)):
        if values:  # skiff's cache is its store's: records keyed by step, no image or registry cache to use
            out.write(f"WARNING: {flag} {','.join(values)} ignored: skiff builds use their store's build "
                      "cache only\n")
    t0 = time.monotonic()
    memo = Memo.prepare(ctx.root, opts)
    if memo is not None:
        image_id = memo.replay(ctx.root, opts, out)
        if image_id is not None:
            _tag_events(ctx, image_id, opts.tags)
            return BuildReport(image_id=image_id, tags=opts.tags, steps=0, cached=0, seconds=time.monotonic() - t0)
    from skiff.build.builder import Builder

    output = parse_output(opts.output) if opts.output else None
    b = Builder(ctx.store, RuntimeStepRunner(ctx, host), StoreImageProvider(ctx), out, host_platform=host_platform())
    report = b.build(opts)
    if memo is not None:
        memo.save(lines=b.transcript, images=b.images_used, records=b.keys_used, image_id=report.image_id,
                  manifest=b.manifest_digest, names=b.names)
    if output is not None:
        from skiff.engine.image_io import ImageIO, SaveOptions

        kind, dest = output
        names = [report.image_id]
        if opts.tags:
            names = [opts.tags[0]]
        ImageIO(ctx).save(SaveOptions(names=names, output=dest, format=f"{kind}-archive"))
    _tag_events(ctx, report.image_id, opts.tags)
    return report


def _tag_events(ctx: EngineContext, image_id: str, tags: tuple[str, ...]) -> None:
    """The image "tag" event of each -t, as the daemon logs a build's tags (`skiff events`)."""
    if tags:
        from skiff.events import image_event
        from skiff.oci.reference import parse

        labels = ctx.store.image_config(ctx.store.get_image(image_id)).config.labels or {}
        for t in tags:
            image_event(ctx.runroot, "tag", image_id, parse(t).familiar(), labels)


def parse_output(spec: str) -> tuple[str, str]:
    """``type=oci|docker,dest=FILE`` (or a bare path: a docker archive) -> (kind, dest)."""
    fields = dict(part.partition("=")[::2] for part in spec.split(",")) if "=" in spec else {"dest": spec}
    kind = fields.get("type", "docker")
    dest = fields.get("dest", "")
    if kind not in ("oci", "docker"):
        raise SkiffError(f"--output type={kind}: not supported (oci or docker)", exit_code=1)
    if not dest or dest == "-":
        raise SkiffError(f"--output {spec}: give dest=FILE", exit_code=1)
    return kind, dest


@contextlib.contextmanager
def stdin_context(ctx: EngineContext, data: bytes):  # type: ignore[no-untyped-def]
    """``skiff build -``: stdin is either a Dockerfile (no context) or a tar context, maybe compressed, with
    the Dockerfile inside. Yields (context folder or None, Dockerfile text or None); the folder is removed."""
    import io

    head = data[:512]
    is_tar = head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")) or (len(head) >= 262 and head[257:262] == b"ustar")
    if not is_tar:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise SkiffError("the Dockerfile on stdin is not UTF-8 text", exit_code=1) from None
        yield None, text
        return
    import shutil
    import tempfile

    from skiff.archive import ArchiveError, apply_layer

    tmp = ctx.runroot / "build"
    tmp.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="context-", dir=tmp))
    try:
        try:
            apply_layer(io.BytesIO(data), d, what="build context on stdin")
        except ArchiveError as e:
            raise SkiffError(f"build context on stdin: {e.message}", exit_code=1) from None
        yield d, None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def prune(ctx: EngineContext) -> tuple[int, int]:
    from skiff.build.builder.cache import BuildCache

    n = BuildCache(ctx.root).prune()
    ctx.store.gc()
    return n

