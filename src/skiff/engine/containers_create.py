"""Create-time work: run options + image config -> a record (Docker's merge rules), the container's
read-write layer and volumes; start-time work: the mounted rootfs and the bundle."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.records import replace

from .containers_model import Config, ContainerRecord, HostConfig, MountPoint, MountSpec
from .containers_options import (
    CreateOptions,
    check_cpus,
    check_cpuset,
    merge_env,
    parse_bytes,
    parse_cpus,
    parse_env_line,
    parse_labels,
    parse_memory_swap,
    parse_mount,
    parse_restart,
    parse_signal,
    parse_tmpfs,
    parse_ulimit,
    parse_volume,
    read_env_file,
    read_label_file,
)
from .containers_paths import find_executable, host_path, open_in_root
from .containers_state import check_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from .containers import ContainerEngine

_ADJ = ("admiring", "brave", "clever", "dazzling", "eager", "focused", "gallant", "happy", "jolly", "keen",
        "lucid", "modest", "nifty", "optimistic", "quirky", "relaxed", "serene", "tender", "vibrant", "zen")
_NOUN = ("albattani", "babbage", "curie", "darwin", "euclid", "fermat", "galileo", "hopper", "hypatia",
         "jang", "kepler", "lovelace", "meitner", "noether", "pascal", "ritchie", "shannon", "turing", "wozniak")


def _pick(options: tuple[str, ...]) -> str:
    return options[int.from_bytes(os.urandom(4), "little") % len(options)]  # no secrets/random import (~7 ms)


def random_name(taken: set[str]) -> str:
    for attempt in range(1000):
        n = f"{_pick(_ADJ)}_{_pick(_NOUN)}"
        if attempt:  # Docker's retry: a digit, then (when those are taken too) more
            n += str(os.urandom(1)[0] % 10) if attempt < 50 else os.urandom(3).hex()
        if n not in taken:
            return n
    raise RuntimeError("no free container name")  # pragma: no cover - 16M suffixes


def _command(opts: CreateOptions, img: Any) -> tuple[list[str] | None, list[str] | None]:
    """Docker's Entrypoint/Cmd rules: --entrypoint replaces the image's and drops its Cmd."""
    if opts.entrypoint is not None:
        ep = [opts.entrypoint] if opts.entrypoint else None
        return ep, list(opts.command) or None
    ep = list(img.entrypoint) if img.entrypoint else None
    cmd = list(opts.command) if opts.command else (list(img.cmd) if img.cmd else None)
    return ep, cmd


def build_record(eng: ContainerEngine, opts: CreateOptions, image: Any, image_config: Any) -> ContainerRecord:
    """Validate every option (nothing is written on bad input) and merge with the image's defaults."""
    icfg = image_config.config
    entrypoint, cmd = _command(opts, icfg)
    if not entrypoint and not cmd:
        raise InvalidArgumentError("no command specified")
    env: list[str] = []
    for f in opts.env_files:
        env += read_env_file(f)
    for e in opts.env:
        v = parse_env_line(e)
        if v is not None:
            env.append(v)
    base_env = list(icfg.env) if icfg.env else []
    cid = eng.cs.new_id()
    hostname = opts.hostname or cid[:12]
    full_env = merge_env(base_env, env)  # PATH, HOSTNAME and TERM are added when it runs (process_env)
    binds = [v for v in opts.volumes if parse_volume(v).type == "bind"]
    vol_specs = [parse_volume(v) for v in opts.volumes]
    mount_specs = [parse_mount(m) for m in opts.mounts]
    specs = vol_specs + mount_specs
    tmpfs = dict(parse_tmpfs(t) for t in opts.tmpfs)
    targets = [s.target for s in specs] + list(tmpfs)
    dup = next((t for t in targets if targets.count(t) > 1), None)
    if dup:
        raise InvalidArgumentError(f"Duplicate mount point: {dup}")
    for s in mount_specs:
        if s.type == "bind" and not os.path.exists(s.source):
            raise InvalidArgumentError(f'invalid mount config for type "bind": bind source path does not '
                                       f"exist: {s.source}")
    memory = parse_bytes(opts.memory, "--memory") if opts.memory else 0
    if memory and memory < 6 * 1024 * 1024:
        raise InvalidArgumentError("Minimum memory limit allowed is 6MB")
    swap = parse_memory_swap(opts.memory_swap) if opts.memory_swap else 0
    if swap > 0 and memory and swap < memory:
        raise InvalidArgumentError("Minimum memoryswap limit should be larger than memory limit, see usage")
    if swap and not memory:
        raise InvalidArgumentError("You should always set the Memory limit when using Memoryswap limit, see usage")
    if opts.stop_signal:
        parse_signal(opts.stop_signal)
    if opts.network.startswith("container:"):
        raise InvalidArgumentError("--network container:<name> is not supported")
    name = check_name(opts.name) if opts.name else random_name(set())
    from .bundles import capabilities, no_new_privileges, seccomp_profile

    capabilities(opts.cap_add, opts.cap_drop, opts.privileged)
    no_new_privileges(opts.security_opt)
    seccomp_profile(opts.security_opt)  # the docker/cli reads the profile before it creates anything
    extra_hosts = _extra_hosts(opts.add_hosts)
    workdir = opts.workdir if opts.workdir else (icfg.working_dir or "")
    if workdir and not workdir.startswith("/"):
        raise InvalidArgumentError(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
    nano_cpus = parse_cpus(opts.cpus) if opts.cpus else 0
    if nano_cpus or opts.cpuset_cpus:
        ncpu, available = _cpu_info()
        check_cpus(nano_cpus, ncpu)
        if opts.cpuset_cpus:
            check_cpuset(opts.cpuset_cpus, available)
    labels = [line for f in opts.label_files for line in read_label_file(f)] + list(opts.labels)
    ports = _ports(opts)
    config = Config(hostname=hostname, user=opts.user if opts.user is not None else (icfg.user or ""),
                    attach_stdin=opts.interactive and not opts.detach,
                    attach_stdout=not opts.detach, attach_stderr=not opts.detach, tty=opts.tty,
                    open_stdin=opts.interactive, stdin_once=opts.interactive and not opts.detach,
                    env=full_env, cmd=cmd, image=opts.image,
                    volumes=dict(icfg.volumes) if icfg.volumes else None,
                    working_dir=workdir, entrypoint=entrypoint, labels={**(icfg.labels or {}), **parse_labels(labels)},
                    stop_signal=opts.stop_signal or icfg.stop_signal, stop_timeout=opts.stop_timeout,
                    exposed_ports={**(icfg.exposed_ports or {}), **{p: {} for p in ports[0]}})
    host = HostConfig(
        binds=binds, network_mode=opts.network or "bridge", port_bindings=ports[1],
        restart_policy=parse_restart(opts.restart or "no"), auto_remove=opts.auto_remove,
        cap_add=list(opts.cap_add), cap_drop=list(opts.cap_drop), dns=list(opts.dns),
        dns_search=list(opts.dns_search), dns_options=list(opts.dns_options), extra_hosts=extra_hosts,
        group_add=list(opts.group_add), privileged=opts.privileged, publish_all_ports=opts.publish_all,
        readonly_rootfs=opts.read_only, security_opt=list(opts.security_opt), tmpfs=tmpfs,
        shm_size=(parse_bytes(opts.shm_size, "--shm-size") if opts.shm_size else 0) or 67108864,  # 0: Docker's 64m
        runtime=opts.runtime or eng.ctx.runtime or "skiff", memory=memory, memory_swap=swap,
        nano_cpus=nano_cpus, cpu_shares=opts.cpu_shares or 0,
        cpuset_cpus=opts.cpuset_cpus or "", pids_limit=opts.pids_limit,
        ulimits=[parse_ulimit(u) for u in opts.ulimits], init=opts.init or None,
        mounts=mount_specs)
    args = [*(entrypoint or []), *(cmd or [])]
    return ContainerRecord(id=cid, created=_now(), path=args[0], args=args[1:], image=image.id, name="/" + name,
                           driver=eng.store.driver.name, config=config, host_config=host,
                           mounts=[_planned(s) for s in specs])


def _extra_hosts(specs: list[str]) -> list[str]:
    """--add-host checked by the parser the network helper uses (``name:ip`` or ``name=ip``), kept as Docker's
    HostConfig.ExtraHosts: ``name:ip``, the address out of its brackets."""
    if not specs:
        return []
    from skiff.network.etcfiles import parse_add_host

    return [":".join(parse_add_host(h)) for h in specs]


def _cpu_info() -> tuple[int, str]:
    """(the number of CPUs this process may run on, the CPUs a container may be pinned to), as the daemon's
    sysinfo reads them (NumCPU; the root cpuset cgroup)."""
    ncpu = len(os.sched_getaffinity(0))
    for path in ("/sys/fs/cgroup/cpuset/cpuset.effective_cpus", "/sys/fs/cgroup/cpuset/cpuset.cpus",
                 "/sys/fs/cgroup/cpuset.cpus.effective", "/sys/devices/system/cpu/online"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text:
            return ncpu, text
    return ncpu, f"0-{ncpu - 1}"


def _ports(opts: CreateOptions) -> tuple[list[str], dict[str, list[dict[str, str]]]]:
    exposed = []
    for e in opts.expose:
        p, _, proto = e.partition("/")
        exposed.append(f"{p}/{proto or 'tcp'}")
    bindings: dict[str, list[dict[str, str]]] = {}
    if opts.publish:
        from skiff.network.ports import parse_publish

        if opts.network in ("none", "host"):
            raise InvalidArgumentError(f"-p: published ports are discarded with --network {opts.network}")
        for p in opts.publish:
            for b in parse_publish(p):
                key = f"{b.container_port}/{b.protocol}"
                hp = str(b.host_port) if not b.host_port_end else f"{b.host_port}-{b.host_port_end}"
                bindings.setdefault(key, []).append({"HostIp": b.host_ip or "", "HostPort": "" if hp == "0" else hp})
                exposed.append(key)
    return exposed, bindings


def _planned(s: MountSpec) -> MountPoint:
    if s.type == "bind":
        return MountPoint(type="bind", source=s.source, destination=s.target, mode=",".join(s.options),
                          rw=not s.read_only, propagation=s.propagation or "rprivate")
    if s.type == "tmpfs":
        return MountPoint(type="tmpfs", source="", destination=s.target, mode=",".join(s.options),
                          rw=not s.read_only)
    return MountPoint(type="volume", name=s.source or None, source="", destination=s.target, driver="local",
                      mode=",".join(o for o in s.options if o in ("z", "Z", "nocopy")), rw=not s.read_only)


def _now() -> str:
    from skiff.monitor.logs import rfc3339_nano

    return rfc3339_nano(time.time_ns())


def prepare_storage(eng: ContainerEngine, rec: ContainerRecord, image: Any, image_config: Any) -> ContainerRecord:
    """The read-write layer, then the volumes (named, anonymous for the image's VOLUMEs), populated from the
    image's content like Docker's copy-up."""
    drv = eng.store.driver
    # `run --rm` layers never outlive the container: a volatile overlay makes its unmount instant
    from skiff.store.drivers.tree import CONTAINER_INIT

    drv.create_rw(rec.id, eng.store.layer_dirs(image), volatile=rec.host_config.auto_remove, init=CONTAINER_INIT)
    mounts: list[MountPoint] = []
    covered = {m.destination for m in rec.mounts} | set(rec.host_config.tmpfs)
    wanted = list(rec.mounts) + [
        MountPoint(type="volume", name=None, destination=v, driver="local") for v in
        sorted(image_config.config.volumes or {}) if v not in covered]
    rootfs: Path | None = None
    try:
        for m in wanted:
            if m.type == "bind" and not os.path.exists(m.source):
                os.makedirs(m.source, exist_ok=True)  # Docker makes a missing -v source folder
            if m.type != "volume":
                mounts.append(m)
                continue
            vol, fresh = eng.volumes.create(m.name)
            m = replace(m, name=vol.name, source=vol.mountpoint)
            if fresh and "nocopy" not in m.mode:
                if rootfs is None:
                    rootfs = drv.mount(rec.id)
                _copy_up(str(rootfs), m.destination, vol.mountpoint)
            mounts.append(m)
    finally:
        if rootfs is not None:
            drv.unmount(rec.id)
    rec = replace(rec, mounts=mounts)
    eng.cs.write_record(rec)
    return rec


def _copy_up(rootfs: str, dest: str, volume_dir: str) -> None:
    from .volumes import copy_up

    try:
        src = host_path(rootfs, dest)
    except OSError:
        return
    if not src.startswith(rootfs.rstrip("/") + "/"):
        return
    copy_up(src, volume_dir)


def prepare_bundle(eng: ContainerEngine, rec: ContainerRecord) -> Path:
    """Mount the rootfs, make the workdir, write the bundle, and check that the command can be executed
    (Docker's 127 "executable file not found" and 126 "permission denied")."""
    from .bundles import build_spec, write_bundle
    from .networks import drop_netns, early_attach, host_gateway, setup_network

    rootfs = str(eng.store.driver.mount(rec.id))
    netns: str | None = None
    try:
        exit_file = eng.cs.exit_path(rec.id)
        exit_file.unlink(missing_ok=True)
        if rec.config.working_dir:
            try:
                os.close(open_in_root(rootfs, rec.config.working_dir, create_dirs=True))
            except OSError as e:
                raise SkiffError(f"cannot create workdir {rec.config.working_dir}: {e.strerror}") from None
        for m in rec.mounts:  # mount points inside the rootfs, made without following links out
            try:
                os.close(open_in_root(rootfs, m.destination, create_dirs=os.path.isdir(m.source or "/")))
            except OSError:
                pass
        netns = setup_network(eng, rec)
        spec = build_spec(rec, rootfs, eng.cs.rdir(rec.id), rec.mounts, netns, host_gateway(eng, rec))
        assert spec.process is not None
        args = spec.process.args
        exe = args[2] if rec.host_config.init and len(args) > 2 else args[0]
        _check_exec(rootfs, exe, spec.process.env, spec.process.cwd)
        bundle = eng.cs.rdir(rec.id) / "bundle"
        write_bundle(bundle, spec)
        early_attach(eng, rec, netns)
        return bundle
    except BaseException:
        try:
            eng.store.driver.unmount(rec.id)
        except (SkiffError, OSError):
            pass
        if netns and netns != "host":
            drop_netns(Path(netns))
        raise


def _check_exec(rootfs: str, exe: str, env: list[str], cwd: str) -> None:
    if not exe.startswith("/") and "/" in exe:
        exe = os.path.join(cwd, exe)
    path, err = find_executable(rootfs, exe, env)
    if path is not None:
        return
    if err == errno.EACCES:
        raise SkiffError(f'exec: "{exe}": permission denied', exit_code=126)
    if "/" in exe:
        raise SkiffError(f'exec: "{exe}": stat {exe}: no such file or directory', exit_code=127)
    raise SkiffError(f'exec: "{exe}": executable file not found in $PATH', exit_code=127)
