"""Container record + rootfs -> an OCI runtime bundle (``config.json``), the role of umoci's convert.

The record already holds the image defaults merged with the run options (:mod:`skiff.engine.containers`
does that at create time, Docker's rules); here they become a runtime-spec ``Spec`` on top of
``skiff.runtime.defaults.default_spec()``: user and groups from the image's /etc/passwd and /etc/group,
mounts, capabilities, seccomp, no-new-privileges, resources, rlimits, the init, the network namespace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.oci.codec import from_obj, to_obj
from skiff.oci.runtime import (
    Linux,
    LinuxBlockIO,
    LinuxCPU,
    LinuxDevice,
    LinuxDeviceCgroup,
    LinuxMemory,
    LinuxPids,
    LinuxResources,
    LinuxSeccomp,
    LinuxThrottleDevice,
    LinuxWeightDevice,
    Mount,
    POSIXRlimit,
    Spec,
)
from skiff.records import replace
from skiff.runtime.defaults import DOCKER_CAPS, default_spec, inherited_nofile

from .containers_model import BlkioRate, ContainerRecord, DeviceMapping, MountPoint
from .containers_paths import read_small

ALL_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
            "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
# capability numbers (linux/capability.h order)
_CAP_ORDER = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
              "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
              "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
              "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
              "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
              "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
              "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
              "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE")
INIT_PATH = "/sbin/docker-init"
INIT_CANDIDATES = ("/usr/bin/docker-init", "/usr/bin/tini-static", "/usr/bin/tini", "/usr/bin/catatonit",
                   "/usr/libexec/podman/catatonit")


def _cap(name: str) -> str:
    n = name.strip().upper()
    return n if n.startswith("CAP_") or n == "ALL" else "CAP_" + n


def host_caps() -> list[str]:
    """ALL_CAPS within this process's bounding set (a container cannot get more than its creator)."""
    try:
        with open("/proc/self/status") as f:
            bnd = next(int(line.split()[1], 16) for line in f if line.startswith("CapBnd:"))
    except (OSError, StopIteration, ValueError):
        return list(ALL_CAPS)
    return [c for i, c in enumerate(_CAP_ORDER) if bnd & (1 << i) and c in ALL_CAPS]


def capabilities(add: list[str], drop: list[str], privileged: bool) -> list[str]:
    """Docker's rules: the default set, then --cap-drop, then --cap-add (ALL allowed on both)."""
    if privileged:
        return host_caps()
    adds = [_cap(c) for c in add]
    drops = [_cap(c) for c in drop]
    for c in adds + drops:
        if c != "ALL" and c not in ALL_CAPS:
            raise InvalidArgumentError(f"invalid capability: {c.removeprefix('CAP_')} (--cap-add/--cap-drop)")
    if "ALL" in adds:  # moby's TweakCapabilities: every capability but the dropped ones
        return [c for c in host_caps() if c not in drops]
    caps = [] if "ALL" in drops else [c for c in DOCKER_CAPS if c not in drops]
    avail = host_caps()
    return caps + [c for c in adds if c not in caps and c in avail]


def _passwd(rootfs: str) -> list[list[str]]:
    raw = read_small(rootfs, "/etc/passwd") or b""
    return [line.split(":") for line in raw.decode(errors="replace").splitlines() if line.count(":") >= 6]


def _group(rootfs: str) -> list[list[str]]:
    raw = read_small(rootfs, "/etc/group") or b""
    return [line.split(":") for line in raw.decode(errors="replace").splitlines() if line.count(":") >= 3]


def resolve_user(rootfs: str, user: str, group_add: list[str]) -> tuple[int, int, list[int], str]:
    """-u name|uid[:group|gid] -> (uid, gid, additional gids, home), read from the image's files. The additional
    gids start with the primary one, as moby's getUser has since CVE-2023-25173 (a process that drops a
    supplementary group must not keep the primary group's access through it); then the groups that list the
    user (only without an explicit group, as runc's GetExecUser) and --group-add."""
    name, _, grp = (user or "0").partition(":")
    pw = _passwd(rootfs)
    groups = _group(rootfs)
    home = "/"
    entry = next((p for p in pw if p[0] == name), None) or next((p for p in pw if p[2] == name), None)
    if entry is not None:
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5] or "/"
        uname = entry[0]
    elif name.isdigit():
        uid, gid, uname = int(name), 0, name
    else:
        raise SkiffError(f"unable to find user {name}: no matching entries in passwd file")
    if grp:
        g = next((e for e in groups if e[0] == grp), None)
        if g is not None:
            gid = int(g[2])
        elif grp.isdigit():
            gid = int(grp)
        else:
            raise SkiffError(f"unable to find group {grp}: no matching entries in group file")
    extra: list[int] = [gid]
    if not grp:
        extra += [int(e[2]) for e in groups if uname in e[3].split(",")]
    for ga in group_add:
        g = next((e for e in groups if e[0] == ga), None)
        if g is not None:
            extra.append(int(g[2]))
        elif ga.isdigit():
            extra.append(int(ga))
        else:
            raise SkiffError(f"unable to find group {ga}: no matching entries in group file")
    return uid, gid, list(dict.fromkeys(extra)), home


def seccomp_profile(opts: list[str]) -> LinuxSeccomp | None:
    """The profile a ``--security-opt seccomp=FILE`` names, read and decoded (None: none named, or
    ``unconfined``)."""
    return _seccomp(opts, [], False)[1]


def _seccomp(opts: list[str], caps: list[str], privileged: bool) -> tuple[bool, LinuxSeccomp | None]:
    """(use the default profile, or a profile from a file)."""
    for o in opts:
        k, _, v = o.replace(":", "=", 1).partition("=")
        if k == "seccomp":
            if v == "unconfined":
                return False, None
            try:
                with open(v, "rb") as f:
                    return False, from_obj(LinuxSeccomp, json.load(f), f"seccomp profile {v}")
            except OSError as e:  # the docker/cli's words (it reads the file before create)
                raise InvalidArgumentError(f"opening seccomp profile ({v}) failed: open {v}: "
                                           f"{(e.strerror or str(e)).lower()}") from None
            except ValueError as e:
                raise InvalidArgumentError(f"decoding seccomp profile ({v}) failed: {e}") from None
    return not privileged, None


def no_new_privileges(opts: list[str], privileged: bool = False) -> bool:
    """On by default (SECURITY.md 3c) but for a --privileged container (as Podman); an explicit
    ``--security-opt no-new-privileges[=true|false]`` wins either way."""
    nnp = not privileged
    for o in opts:
        k, _, v = o.replace(":", "=", 1).partition("=")
        if k == "no-new-privileges":
            nnp = v.lower() in ("", "true", "1")
        elif k not in ("seccomp", "label", "apparmor"):
            raise InvalidArgumentError(f"invalid --security-opt: {o}")
    return nnp


def init_binary() -> str:
    for c in INIT_CANDIDATES:
        if os.path.exists(c):
            return c
    raise SkiffError("--init: no init binary found (install tini or catatonit)")


def resources(rec: ContainerRecord) -> LinuxResources | None:
    hc = rec.host_config
    mem = cpu = pids = None
    if hc.memory or hc.memory_swap or hc.memory_reservation or hc.memory_swappiness is not None \
            or hc.oom_kill_disable or hc.kernel_memory:
        swap = hc.memory_swap if hc.memory_swap else (hc.memory * 2 if hc.memory else None)
        mem = LinuxMemory(limit=hc.memory or None, swap=swap, reservation=hc.memory_reservation or None,
                          swappiness=hc.memory_swappiness, disable_oom_killer=hc.oom_kill_disable or None,
                          kernel=hc.kernel_memory or None)
    if hc.nano_cpus or hc.cpu_shares or hc.cpuset_cpus or hc.cpu_period or hc.cpu_quota or hc.cpuset_mems \
            or hc.cpu_realtime_period or hc.cpu_realtime_runtime:
        period = 100000
        if hc.nano_cpus:
            quota: int | None = hc.nano_cpus * period // 10**9
        else:
            quota, period = hc.cpu_quota or None, hc.cpu_period
        cpu = LinuxCPU(shares=hc.cpu_shares or None, quota=quota, period=period or None,
                       cpus=hc.cpuset_cpus or None, mems=hc.cpuset_mems or None,
                       realtime_period=hc.cpu_realtime_period or None,
                       realtime_runtime=hc.cpu_realtime_runtime or None)
    if hc.pids_limit is not None and hc.pids_limit > 0:
        pids = LinuxPids(limit=hc.pids_limit)
    blkio = _block_io(rec)
    if mem is None and cpu is None and pids is None and blkio is None:
        return None
    return LinuxResources(memory=mem, cpu=cpu, pids=pids, block_io=blkio)


def _block_io(rec: ContainerRecord) -> LinuxBlockIO | None:
    """--blkio-weight and friends: each device by its numbers, read when the container starts (moby's
    getBlkioWeightDevices and getBlkioThrottleDevices)."""
    hc = rec.host_config
    if not (hc.blkio_weight or hc.blkio_weight_device or hc.blkio_device_read_bps or hc.blkio_device_write_bps
            or hc.blkio_device_read_iops or hc.blkio_device_write_iops):
        return None
    from .containers_create import block_device

    def throttle(rates: list[BlkioRate]) -> list[LinuxThrottleDevice]:
        return [LinuxThrottleDevice(*block_device(r.path), rate=r.rate or 0) for r in rates]

    return LinuxBlockIO(weight=hc.blkio_weight or None,
                        weight_device=[LinuxWeightDevice(*block_device(w.path), weight=w.weight)
                                       for w in hc.blkio_weight_device],
                        throttle_read_bps_device=throttle(hc.blkio_device_read_bps),
                        throttle_write_bps_device=throttle(hc.blkio_device_write_bps),
                        throttle_read_iops_device=throttle(hc.blkio_device_read_iops),
                        throttle_write_iops_device=throttle(hc.blkio_device_write_iops))


def build_spec(rec: ContainerRecord, rootfs: str, rundir: Path, mounts: list[MountPoint],
               netns: str | None, host_gateway: str | None = None, joins: dict[str, str] | None = None,
               shm: str | None = None) -> Spec:
    """The Spec for ``rec`` with ``rootfs`` as root; ``netns``: "host", a netns path, or None (new netns);
    ``host_gateway``: the address of ``--add-host NAME:host-gateway`` (None on a bridge: the network helper
    writes /etc/hosts again once the container is attached, with its gateway); ``joins``: the namespaces of
    another container to enter (``--pid``/``--ipc container:NAME``), by type; ``shm``: a host folder to bind
    as /dev/shm (a shareable IPC's, its donor's or the host's) instead of a tmpfs of its own."""
    cfg, hc = rec.config, rec.host_config
    if hc.device_requests:  # --gpus: no device driver here, so the start fails as moby's does without one
        from .containers_options import device_request_error

        raise SkiffError(device_request_error(hc.device_requests[0]))
    uid, gid, extra_gids, home = resolve_user(rootfs, cfg.user, hc.group_add)
    caps = capabilities(hc.cap_add, hc.cap_drop, hc.privileged)
    use_seccomp, profile = _seccomp(hc.security_opt, caps, hc.privileged)
    from .containers_options import process_env

    env = process_env(list(cfg.env), cfg.hostname, cfg.tty)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={home}")
    args = [*(cfg.entrypoint or []), *(cfg.cmd or [])]
    if hc.init:
        args = [INIT_PATH, "--", *args]
    spec = default_spec(args, rootfs=rootfs, hostname=cfg.hostname, env=env, cwd=cfg.working_dir or "/",
                        terminal=cfg.tty, uid=uid, gid=gid, additional_gids=extra_gids, capabilities=caps,
                        no_new_privileges=no_new_privileges(hc.security_opt, hc.privileged), seccomp=use_seccomp,
                        readonly_rootfs=hc.readonly_rootfs, network_namespace=None,
                        resources=resources(rec), cgroups_path=rec.cgroup,
                        nofile=inherited_nofile())  # the engine's own limits, as Docker's (dockerd's) and Podman's
    assert spec.linux is not None and spec.process is not None
    linux = spec.linux
    if profile is not None:
        linux = replace(linux, seccomp=profile)
    if netns == "host":
        linux = replace(linux, namespaces=[n for n in linux.namespaces if n.type != "network"])
    elif netns:
        linux = replace(linux, namespaces=[replace(n, path=netns) if n.type == "network" else n
                                           for n in linux.namespaces])
    shared = {kind for kind, mode in (("pid", hc.pid_mode), ("ipc", hc.ipc_mode), ("uts", hc.uts_mode),
                                      ("cgroup", hc.cgroupns_mode)) if mode == "host"}
    joins = joins or {}
    if shared or joins:
        linux = replace(linux, namespaces=[replace(n, path=joins[n.type]) if n.type in joins else n
                                           for n in linux.namespaces if n.type not in shared])
    if hc.sysctls:
        linux = replace(linux, sysctl={**linux.sysctl, **hc.sysctls})
    if hc.privileged:
        linux = replace(linux, masked_paths=[], readonly_paths=[])
    linux = _devices(linux, hc.privileged, hc.devices, hc.device_cgroup_rules or [])
    spec_mounts = []
    for m in spec.mounts:
        if m.destination == "/dev/shm":
            if hc.ipc_mode == "none":  # Docker's --ipc none: no /dev/shm at all
                continue
            if hc.ipc_mode == "host" or shm:  # the /dev/shm of the IPC namespace it shares
                m = Mount(destination="/dev/shm", type="bind", source=shm or "/dev/shm",
                          options=["rbind", "nosuid", "nodev", "noexec"])
            else:
                m = replace(m, options=[*(o for o in m.options if not o.startswith("size=")),
                                        f"size={hc.shm_size}"])
        if hc.privileged and m.destination in ("/sys", "/sys/fs/cgroup"):
            m = replace(m, options=[o for o in m.options if o != "ro"])
        spec_mounts.append(m)
    etc_dir = rundir.parent / hc.network_mode.partition(":")[2] if hc.network_mode.startswith("container:") \
        else rundir
    spec_mounts += _etc_files(rec, etc_dir, netns, host_gateway)
    if hc.init:
        spec_mounts.append(Mount(destination=INIT_PATH, type="bind", source=init_binary(),
                                 options=["bind", "ro", "nosuid", "nodev"]))
    for dst, opts in hc.tmpfs.items():
        base = ["nosuid", "nodev", "noexec"]
        spec_mounts.append(Mount(destination=dst, type="tmpfs", source="tmpfs",
                                 options=base + [o for o in opts.split(",") if o]))
    for mp in mounts:
        if mp.type == "tmpfs":
            spec_mounts.append(Mount(destination=mp.destination, type="tmpfs", source="tmpfs",
                                     options=["nosuid", "nodev"] + ([] if mp.rw else ["ro"]) +
                                     [o for o in mp.mode.split(",") if o]))
            continue
        bopts = ["rbind", "ro" if not mp.rw else "rw"]
        if not mp.rw and mp.type == "bind" and _recursive_ro():  # Docker 25's default: the submounts too
            bopts.append("rro")
        if mp.propagation:
            bopts.append(mp.propagation)
        spec_mounts.append(Mount(destination=mp.destination, type="bind", source=mp.source, options=bopts))
    rlimits = list(spec.process.rlimits)
    for ul in hc.ulimits:
        rlimits = [r for r in rlimits if r.type != f"RLIMIT_{ul.name.upper()}"]
        rlimits.append(POSIXRlimit(type=f"RLIMIT_{ul.name.upper()}", soft=ul.soft, hard=ul.hard))
    process = replace(spec.process, rlimits=rlimits, oom_score_adj=hc.oom_score_adj or None)
    return replace(spec, mounts=spec_mounts, linux=linux, process=process,
                   hostname=None if hc.uts_mode == "host" else spec.hostname, domainname=cfg.domainname or None,
                   annotations={**spec.annotations, **hc.annotations})


def _recursive_ro() -> bool:
    """mount_setattr(2) (Linux 5.12) makes a read-only bind read-only all the way down, as Docker 25 does
    where the kernel can."""
    from skiff.runtime.defaults import kernel_at_least

    return kernel_at_least(5, 12)


def _etc_files(rec: ContainerRecord, rundir: Path, netns: str | None, host_gateway: str | None) -> list[Mount]:
    """/etc/hostname, /etc/hosts and /etc/resolv.conf, written under the container's run folder (with
    ``--network container:NAME``, ``rundir`` is NAME's: its files are shared, as Docker shares them)."""
    cfg, hc = rec.config, rec.host_config
    if hc.network_mode.startswith("container:"):
        return [Mount(destination=f"/etc/{name}", type="bind", source=str(rundir / name),
                      options=["rbind", "rprivate"] + (["ro"] if hc.readonly_rootfs else []))
                for name in ("hostname", "hosts", "resolv.conf")
                if not any(m.destination == f"/etc/{name}" for m in rec.mounts)]
    rundir.mkdir(parents=True, exist_ok=True)
    (rundir / "hostname").write_text(cfg.hostname + "\n")
    hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    if netns == "host":
        try:
            hosts = Path("/etc/hosts").read_text().splitlines()
        except OSError:
            pass
    else:
        hosts.append(f"127.0.1.1\t{cfg.hostname}")
    if hc.extra_hosts:  # the bridge path's parser (~9 ms of imports: only when there are some)
        from skiff.network.etcfiles import parse_add_host
    for name, ip in (parse_add_host(h) for h in hc.extra_hosts):
        if ip == "host-gateway":
            if host_gateway is None:
                continue
            ip = host_gateway
        hosts.append(f"{ip}\t{name}")
    (rundir / "hosts").write_text("\n".join(hosts) + "\n")
    if hc.dns or hc.dns_search or hc.dns_options:
        lines = [f"nameserver {d}" for d in hc.dns]
        if hc.dns_search:
            lines.append("search " + " ".join(hc.dns_search))
        if hc.dns_options:
            lines.append("options " + " ".join(hc.dns_options))
        (rundir / "resolv.conf").write_text("\n".join(lines) + "\n")
    else:
        try:
            (rundir / "resolv.conf").write_bytes(Path("/etc/resolv.conf").read_bytes())  # the host's, links followed
        except OSError:
            (rundir / "resolv.conf").write_text("")
    out = []
    for name in ("hostname", "hosts", "resolv.conf"):
        if any(m.destination == f"/etc/{name}" for m in rec.mounts):
            continue
        out.append(Mount(destination=f"/etc/{name}", type="bind", source=str(rundir / name),
                         options=["rbind", "rprivate"] + (["ro"] if hc.readonly_rootfs else [])))
    return out


def _devices(linux: Linux, privileged: bool, custom: list[DeviceMapping], cgroup_rules: list[str]) -> Linux:
    """Docker's devices: a --privileged container gets the host's device nodes and may use any device; any
    other container is denied every device but those the runtime creates (null, zero, tty...), those given
    with --device, each allowed with its permissions, and those a --device-cgroup-rule allows."""
    from .host_devices import ALLOW_ALL, DENY_ALL, custom_devices, host_devices

    res = linux.resources or LinuxResources()
    added: list[LinuxDevice] = []
    rules: list[LinuxDeviceCgroup] = []
    for d in custom:
        for node in custom_devices(d.path_on_host, d.path_in_container):
            added.append(node)
            rules.append(LinuxDeviceCgroup(allow=True, type=node.type, major=node.major, minor=node.minor,
                                           access=d.cgroup_permissions))
    for rule in cgroup_rules:  # "c 1:3 mr", checked at create
        kind, numbers, access = rule.split()
        major, _, minor = numbers.partition(":")
        rules.append(LinuxDeviceCgroup(allow=True, type=kind, major=None if major == "*" else int(major),
                                       minor=None if minor == "*" else int(minor), access=access))
    if privileged:
        return replace(linux, devices=[*linux.devices, *host_devices(), *added],
                       resources=replace(res, devices=[*res.devices, ALLOW_ALL]))
    return replace(linux, devices=[*linux.devices, *added], resources=replace(res, devices=[DENY_ALL, *res.devices,
                                                                                            *rules]))


def write_bundle(bundle: Path, spec: Spec) -> None:
    from skiff.oci.runtime import WRITTEN_CONFIGS

    bundle.mkdir(parents=True, exist_ok=True)
    tmp = bundle / ".config.json.tmp"
    data = json.dumps(to_obj(spec)).encode()
    tmp.write_bytes(data)
    os.rename(tmp, bundle / "config.json")
    WRITTEN_CONFIGS[str((bundle / "config.json").absolute())] = (data, spec)  # the in-process runtime's load
