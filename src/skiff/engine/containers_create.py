"""Create-time work: run options + image config -> a record (Docker's merge rules), the container's
read-write layer and volumes; start-time work: the mounted rootfs and the bundle."""

from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path

from skiff.errors import InvalidArgumentError, NotFoundError, SkiffError
from skiff.records import replace

from .containers_model import (
    BlkioRate,
    Config,
    ContainerRecord,
    DeviceMapping,
    HostConfig,
    LogConfig,
    MountPoint,
    MountSpec,
)
from .containers_options import (
    CreateOptions,
    check_cpus,
    check_cpuset,
    check_device_cgroup_rule,
    check_dns_search,
    check_ip,
    check_isolation,
    check_resources,
    merge_env,
    parse_blkio_rate,
    parse_bytes,
    parse_cpus,
    parse_device,
    parse_env_line,
    parse_gpus,
    parse_labels,
    parse_log_config,
    parse_memory_swap,
    parse_mount,
    parse_namespace_mode,
    parse_restart,
    parse_signal,
    parse_sysctls,
    parse_tmpfs,
    parse_ulimit,
    parse_volume,
    parse_weight_device,
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
    modes = _namespace_modes(eng, opts)
    network, donor = _network_mode(eng, opts)
    # --uts host: the host's name, which the container cannot change (Docker's words when -h is given too);
    # --network container:NAME: NAME's (its /etc/hostname, hosts and resolv.conf are shared too)
    hostname = opts.hostname or (donor.config.hostname if donor is not None else
                                 os.uname().nodename if modes["uts"] == "host" else cid[:12])
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
    inherited = _volumes_from(eng, opts.volumes_from, set(targets))
    _check_storage(eng, opts, specs, image_config)
    for s in mount_specs:
        if s.type == "bind" and not os.path.exists(s.source):
            raise InvalidArgumentError(f'invalid mount config for type "bind": bind source path does not '
                                       f"exist: {s.source}")
    memory = parse_bytes(opts.memory, "--memory") if opts.memory else 0
    swap = parse_memory_swap(opts.memory_swap) if opts.memory_swap else 0
    reservation = parse_bytes(opts.memory_reservation, "--memory-reservation") if opts.memory_reservation else 0
    check_resources(memory=memory, swap=swap, reservation=reservation, cpu_period=opts.cpu_period or 0,
                    cpu_quota=opts.cpu_quota or 0)
    _check_limits(opts)
    special = _windows_and_realtime(opts)
    if opts.stop_signal:
        parse_signal(opts.stop_signal)
    name = check_name(opts.name) if opts.name else random_name(set())
    from .bundles import capabilities, no_new_privileges, seccomp_profile

    capabilities(opts.cap_add, opts.cap_drop, opts.privileged)
    no_new_privileges(opts.security_opt)
    seccomp_profile(opts.security_opt)  # the docker/cli reads the profile before it creates anything
    extra_hosts = extra_hosts_entries(opts.add_hosts)
    workdir = opts.workdir if opts.workdir else (icfg.working_dir or "")
    if workdir and not workdir.startswith("/"):
        raise InvalidArgumentError(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
    nano_cpus = parse_cpus(opts.cpus) if opts.cpus else 0
    check_resources(nano_cpus=nano_cpus, cpu_period=opts.cpu_period or 0, cpu_quota=opts.cpu_quota or 0)
    sysctls = parse_sysctls(opts.sysctls, host_network=opts.network == "host", host_ipc=modes["ipc"] == "host")
    devices = [_device(spec) for spec in opts.devices]
    dns = [check_ip(d, "--dns") for d in opts.dns]
    blkio = _blkio(opts)
    rules = [check_device_cgroup_rule(r) for r in opts.device_cgroup_rules]
    log_driver, log_opts = parse_log_config(opts.log_driver, opts.log_opts) if opts.log_driver or opts.log_opts \
        else ("json-file", {})
    if opts.cpuset_mems:
        check_mems(opts.cpuset_mems)
    dns_search = [check_dns_search(d) for d in opts.dns_search]
    if nano_cpus or opts.cpuset_cpus:
        ncpu, available = cpu_info()
        check_cpus(nano_cpus, ncpu)
        if opts.cpuset_cpus:
            check_cpuset(opts.cpuset_cpus, available)
    labels = [line for f in opts.label_files for line in read_label_file(f)] + list(opts.labels)
    ports = _ports(opts)
    domainname = opts.domainname or (donor.config.domainname if donor is not None else "")
    streams = _attach(opts)
    config = Config(hostname=hostname, domainname=domainname,
                    user=opts.user if opts.user is not None else (icfg.user or ""),
                    attach_stdin="stdin" in streams, attach_stdout="stdout" in streams,
                    attach_stderr="stderr" in streams, tty=opts.tty,
                    open_stdin=opts.interactive, stdin_once=opts.interactive and not opts.detach,
                    env=full_env, cmd=cmd, image=opts.image,
                    volumes=dict(icfg.volumes) if icfg.volumes else None,
                    working_dir=workdir, entrypoint=entrypoint, labels={**(icfg.labels or {}), **parse_labels(labels)},
                    stop_signal=opts.stop_signal or icfg.stop_signal, stop_timeout=opts.stop_timeout,
                    healthcheck=_healthcheck(opts, icfg),
                    exposed_ports={**(icfg.exposed_ports or {}), **{p: {} for p in ports[0]}})
    host = HostConfig(
        binds=binds, network_mode=network, port_bindings=ports[1],
        restart_policy=parse_restart(opts.restart or "no"), auto_remove=opts.auto_remove,
        cap_add=list(opts.cap_add), cap_drop=list(opts.cap_drop), dns=dns,
        dns_search=dns_search, dns_options=list(opts.dns_options), extra_hosts=extra_hosts,
        group_add=list(opts.group_add), privileged=opts.privileged, publish_all_ports=opts.publish_all,
        readonly_rootfs=opts.read_only, security_opt=list(opts.security_opt), tmpfs=tmpfs,
        shm_size=(parse_bytes(opts.shm_size, "--shm-size") if opts.shm_size else 0) or 67108864,  # 0: Docker's 64m
        runtime=opts.runtime or eng.ctx.runtime or "skiff", memory=memory, memory_swap=swap,
        nano_cpus=nano_cpus, cpu_shares=opts.cpu_shares or 0,
        cpuset_cpus=opts.cpuset_cpus or "", pids_limit=opts.pids_limit,
        ulimits=[parse_ulimit(u) for u in opts.ulimits], init=opts.init or None,
        mounts=mount_specs, cpu_period=opts.cpu_period or 0, cpu_quota=opts.cpu_quota or 0,
        memory_reservation=reservation, memory_swappiness=opts.memory_swappiness,
        oom_kill_disable=opts.oom_kill_disable, oom_score_adj=opts.oom_score_adj or 0, sysctls=sysctls,
        devices=devices, volumes_from=list(opts.volumes_from) or None, pid_mode=modes["pid"],
        ipc_mode=modes["ipc"], uts_mode=modes["uts"], cgroupns_mode=modes["cgroupns"],
        userns_mode=modes["userns"], volume_driver=opts.volume_driver or "",
        links=_links(eng, opts, network, name) or None,
        container_id_file=opts.cidfile or "", cpuset_mems=opts.cpuset_mems or "", **blkio,
        cgroup_parent=cgroup_parent_path(opts.cgroup_parent),
        device_cgroup_rules=rules or None, annotations=parse_labels(opts.annotations),
        log_config=LogConfig(type=log_driver, config=log_opts), **special)
    args = [*(entrypoint or []), *(cmd or [])]
    return ContainerRecord(id=cid, created=_now(), path=args[0], args=args[1:], image=image.id, name="/" + name,
                           driver=eng.store.driver.name, config=config, host_config=host,
                           mounts=[_planned(s) for s in specs] + inherited, endpoint=_endpoint(opts, network))


def host_warnings(rec: ContainerRecord) -> tuple[ContainerRecord, list[str]]:
    """What the daemon warns about at create (its words), and the settings it discards because this host
    cannot apply them (verifyPlatformContainerResources)."""
    hc = rec.host_config
    warnings = []
    if hc.oom_kill_disable and not hc.memory:
        warnings.append("OOM killer is disabled for the container, but no memory limit is set, this can result "
                        "in the system running out of resources.")
    blkio = "/sys/fs/cgroup/blkio"
    if hc.blkio_weight and not any(os.path.exists(f"{blkio}/{f}") for f in ("blkio.weight", "blkio.bfq.weight")):
        warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight "
                        "discarded.")
        hc = replace(hc, blkio_weight=0)
    if hc.blkio_weight_device and not os.path.exists(f"{blkio}/blkio.weight_device"):
        warnings.append("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
                        "Weight-device discarded.")
        hc = replace(hc, blkio_weight_device=[])
    if hc.cpu_percent:
        warnings.append("linux does not support CPU percent. Percent discarded.")
        hc = replace(hc, cpu_percent=0)
    if hc.kernel_memory:
        if os.path.exists("/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes"):
            warnings.append("Specifying a kernel memory limit is deprecated and will be removed in a future "
                            "release.")
        else:
            warnings.append("Your kernel does not support kernel memory limit capabilities or the cgroup is not "
                            "mounted. Limitation discarded.")
            hc = replace(hc, kernel_memory=0)
    return (replace(rec, host_config=hc) if hc is not rec.host_config else rec), warnings


def _healthcheck(opts: CreateOptions, icfg: Any) -> Any:
    if icfg.healthcheck is None and not (opts.health_cmd or opts.health_interval or opts.health_timeout
                                         or opts.health_start_period or opts.health_start_interval
                                         or opts.health_retries or opts.no_healthcheck):
        return None  # the common case, without importing the health checks' module
    from .containers_health import from_options

    return from_options(opts, icfg.healthcheck)


def _namespace_modes(eng: ContainerEngine, opts: CreateOptions) -> dict[str, str]:
    """--pid, --ipc, --uts and --cgroupns as Docker records them (PidMode, IpcMode, UTSMode, CgroupnsMode); a
    ``container:NAME`` must name a container that exists (it must run when this one starts)."""
    modes = {"pid": parse_namespace_mode(opts.pid, "--pid", kinds=("", "host", "container")),
             "ipc": parse_namespace_mode(opts.ipc, "--ipc", kinds=("", "none", "private", "shareable", "host",
                                                                   "container")) or "private",
             "uts": parse_namespace_mode(opts.uts, "--uts", kinds=("", "host")),
             "userns": parse_namespace_mode(opts.userns, "--userns", kinds=("", "host")),
             "cgroupns": parse_namespace_mode(opts.cgroupns, "--cgroupns", kinds=("", "host", "private"))
             or "private"}
    if modes["uts"] == "host" and opts.hostname:
        raise InvalidArgumentError("Conflicting options: hostname and the UTS mode")
    for mode in (modes["pid"], modes["ipc"]):
        if mode.startswith("container:"):
            eng.cs.resolve(mode.partition(":")[2])  # NotFoundError: "No such container: NAME"
    return modes


def _links(eng: ContainerEngine, opts: CreateOptions, network: str, name: str) -> list[str]:
    """--link NAME[:ALIAS] as docker/cli parses it and the daemon records it ("/NAME:/ME/ALIAS"): on the default
    bridge NAME must exist (moby's registerLinks) and not use the host's network; a user network keeps them
    unchecked, as Docker does (its links are DNS aliases there)."""
    out = []
    for spec in opts.links:
        parts = spec.split(":")
        if not spec or len(parts) > 2:
            why = "empty string specified for links" if not spec else f"bad format for links: {spec}"
            raise InvalidArgumentError(f'invalid argument "{spec}" for "--link" flag: {why}')
        target, alias = parts[0], (parts[1] if len(parts) == 2 else parts[0])
        if network == "host":
            raise InvalidArgumentError("conflicting options: host type networking can't be used with links. This "
                                       "would result in undefined behavior")
        if network == "bridge":
            try:
                child = eng.cs.record(eng.cs.resolve(target))
            except NotFoundError as e:
                raise InvalidArgumentError(f"could not get container for {target}: {e.message}") from None
            if child.host_config.network_mode == "host":
                raise InvalidArgumentError("conflicting options: host type networking can't be used with links. "
                                           "This would result in undefined behavior")
            target = child.bare_name
        out.append(f"/{target}:/{name}/{alias}")
    return out


def _check_storage(eng: ContainerEngine, opts: CreateOptions, specs: list[Any], image_config: Any) -> None:
    """--storage-opt: skiff's overlay has no per-container quota (Docker's overlay2 has one only on xfs with
    pquota, and says so); --volume-driver: only the local driver exists, as a daemon without plugins has."""
    for o in opts.storage_opt:
        if "=" not in o:
            raise InvalidArgumentError("invalid storage option")
    if opts.storage_opt:
        if eng.store.driver.name == "overlay":
            raise InvalidArgumentError("--storage-opt is supported only for overlay over xfs with 'pquota' mount "
                                       "option")
        raise InvalidArgumentError(f"--storage-opt is not supported by the {eng.store.driver.name} storage driver")
    driver = opts.volume_driver or "local"
    if driver != "local":
        named = [s.source or "" for s in specs if s.type == "volume"]
        if named or image_config.config.volumes:  # each volume it would create is looked up in the plugin
            raise InvalidArgumentError(f"create {named[0] if named and named[0] else 'volume'}: error looking up "
                                       f'volume plugin {driver}: plugin "{driver}" not found')


def cgroup_parent_path(value: str | None) -> str:
    """--cgroup-parent (cgroupfs: a path under each hierarchy, made if missing and left when the container
    goes, as Docker's cgroupfs driver leaves it); a path that climbs out is refused."""
    if not value:
        return ""
    parts = [p for p in value.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise InvalidArgumentError(f"invalid --cgroup-parent: {value}")
    return "/" + "/".join(parts)


def _attach(opts: CreateOptions) -> set[str]:
    """The streams a foreground run attaches (-a, docker/cli's rules): stdout and stderr, and stdin with -i,
    unless -a names them; none when detached, where -a is refused."""
    if not opts.attach:
        return set() if opts.detach else {"stdout", "stderr", *(["stdin"] if opts.interactive else [])}
    if opts.detach:
        raise InvalidArgumentError("Conflicting options: -a and -d")
    streams = {a.lower() for a in opts.attach}
    for a in opts.attach:
        if a.lower() not in ("stdin", "stdout", "stderr"):
            raise InvalidArgumentError(f'invalid argument "{a}" for "-a, --attach" flag: valid streams are STDIN, '
                                       "STDOUT and STDERR")
    return streams


def _endpoint(opts: CreateOptions, network: str) -> dict[str, Any]:
    """--network-alias, --ip and --mac-address, checked as docker/cli and the daemon check them."""
    if not (opts.network_aliases or opts.ip or opts.mac_address or opts.ip6 or opts.link_local_ips):
        return {}
    import ipaddress

    out: dict[str, Any] = {}
    user_network = network not in ("bridge", "default", "none", "host") and not network.startswith("container:")

    def static_address(value: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address], word: str) -> None:
        """--ip/--ip6: an address of that family, on a user network (the daemon's words)."""
        try:
            kind(value)
        except ValueError:
            raise InvalidArgumentError(f"invalid {word} address: {value}") from None
        if not user_network:
            raise InvalidArgumentError("user specified IP address is supported on user defined networks only")

    if opts.ip6:
        static_address(opts.ip6, ipaddress.IPv6Address, "IPv6")
        # skiff's networks have IPv4 subnets only: libnetwork's words for an address outside every subnet
        raise InvalidArgumentError(f"Invalid address {opts.ip6}: It does not belong to any of this network's "
                                   "subnets")
    if opts.link_local_ips:
        from .network_admin import check_link_local_ips

        out["LinkLocalIPs"] = check_link_local_ips(opts.link_local_ips)
    if opts.ip:
        static_address(opts.ip, ipaddress.IPv4Address, "IPv4")
        out["IPv4Address"] = opts.ip
    if opts.network_aliases:
        if not user_network:
            raise InvalidArgumentError("network-scoped alias is supported only for containers in user defined "
                                       "networks")
        out["Aliases"] = list(opts.network_aliases)
    if opts.mac_address:
        mac = opts.mac_address.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
            raise InvalidArgumentError(f'invalid argument "{opts.mac_address}" for "--mac-address" flag: address '
                                       f"{opts.mac_address}: invalid MAC address")
        if network == "host" or network.startswith("container:"):
            raise InvalidArgumentError("conflicting options: mac-address and the network mode")
        out["MacAddress"] = mac
    return out


def _network_mode(eng: ContainerEngine, opts: CreateOptions) -> tuple[str, ContainerRecord | None]:
    """--network as recorded (``container:<ID>`` for a container's network), with that container's record;
    the daemon's refusals of what cannot apply to a network it does not own (validateNetContainerMode)."""
    mode = opts.network or "bridge"
    if not mode.startswith("container:"):
        return mode, None
    name = mode.partition(":")[2]
    if not name:
        raise InvalidArgumentError("invalid container format container:<name|id>")
    for given, what in ((opts.hostname, "hostname and the network mode"), (opts.dns, "dns and the network mode"),
                        (opts.add_hosts, "custom host-to-IP mapping and the network mode"),
                        (opts.publish or opts.publish_all, "port publishing and the container type network mode"),
                        (opts.expose, "port exposing and the container type network mode")):
        if given:
            raise InvalidArgumentError(f"conflicting options: {what}")
    donor = eng.cs.record(eng.cs.resolve(name))
    return f"container:{donor.id}", donor


def _check_limits(opts: CreateOptions) -> None:
    """The daemon's checks of the flags only create has (verifyPlatformContainerResources), with its words."""
    if opts.memory_swappiness is not None and not 0 <= opts.memory_swappiness <= 100:
        raise InvalidArgumentError(f"Invalid value: {opts.memory_swappiness}, valid memory swappiness range is "
                                   "0-100")
    if opts.oom_score_adj is not None and not -1000 <= opts.oom_score_adj <= 1000:
        raise InvalidArgumentError(f"Invalid value {opts.oom_score_adj}, range for oom score adj is [-1000, 1000]")


def _windows_and_realtime(opts: CreateOptions) -> dict[str, Any]:
    """--isolation, --io-max*, --cpu-count, --cpu-percent (Windows' flags, as the daemon on Linux takes them),
    --cpu-rt-*, --kernel-memory and --gpus: checked with the daemon's words; the HostConfig fields they set."""
    check_isolation(opts.isolation or "")
    if opts.io_max_bandwidth:  # docker/cli parses the size first (MemBytes), then the daemon refuses it
        if parse_bytes(opts.io_max_bandwidth, "--io-maxbandwidth"):
            raise InvalidArgumentError("Invalid QoS settings: linux does not support configuration of maximum "
                                       "bandwidth")
    if opts.io_max_iops:
        raise InvalidArgumentError("Invalid QoS settings: linux does not support configuration of maximum IOPs")
    period, runtime = opts.cpu_rt_period or 0, opts.cpu_rt_runtime or 0
    if (period or runtime) and not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        raise InvalidArgumentError("Your kernel does not support CPU real-time scheduler")
    if period and runtime and runtime > period:
        raise InvalidArgumentError("cpu real-time runtime cannot be higher than cpu real-time period")
    kmem = parse_bytes(opts.kernel_memory, "--kernel-memory") if opts.kernel_memory else 0
    if kmem and kmem < 6 * 1024 * 1024:
        raise InvalidArgumentError("Minimum kernel memory limit allowed is 6MB")
    return {"isolation": opts.isolation or "", "cpu_count": opts.cpu_count or 0,
            "cpu_percent": opts.cpu_percent or 0, "cpu_realtime_period": period, "cpu_realtime_runtime": runtime,
            "kernel_memory": kmem, "device_requests": [parse_gpus(g) for g in opts.gpus] or None}


def _blkio(opts: CreateOptions) -> dict[str, Any]:
    """--blkio-weight, --blkio-weight-device and the four throttles, checked (each device must exist)."""
    if opts.blkio_weight and not 10 <= opts.blkio_weight <= 1000:
        raise InvalidArgumentError("Range of blkio weight is from 10 to 1000")
    out: dict[str, Any] = {"blkio_weight": opts.blkio_weight or 0, "blkio_weight_device": [
        BlkioRate(path=p, weight=w) for p, w in map(parse_weight_device, opts.blkio_weight_device)]}
    for key, flag, items in (("blkio_device_read_bps", "--device-read-bps", opts.device_read_bps),
                             ("blkio_device_write_bps", "--device-write-bps", opts.device_write_bps),
                             ("blkio_device_read_iops", "--device-read-iops", opts.device_read_iops),
                             ("blkio_device_write_iops", "--device-write-iops", opts.device_write_iops)):
        out[key] = [BlkioRate(path=p, rate=n) for p, n in (parse_blkio_rate(v, flag) for v in items)]
    for rates in out.values():
        for r in rates if isinstance(rates, list) else []:
            block_device(r.path)
    return out


def block_device(path: str) -> tuple[int, int]:
    """(major, minor) of the device at ``path`` (moby's getBlkio*Devices stat it)."""
    import stat

    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidArgumentError(f"stat {path}: {(e.strerror or str(e)).lower()}") from None
    if not stat.S_ISBLK(st.st_mode):
        raise InvalidArgumentError(f"{path} is not a block device")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def check_mems(value: str) -> None:
    """The daemon's check of --cpuset-mems against the memory nodes it may use."""
    from .containers_options import parse_uint_list

    try:
        want = parse_uint_list(value)
    except ValueError:
        raise InvalidArgumentError(f"Invalid value {value} for cpuset mems") from None
    available = "0"
    for path in ("/sys/fs/cgroup/cpuset/cpuset.effective_mems", "/sys/fs/cgroup/cpuset/cpuset.mems",
                 "/sys/fs/cgroup/cpuset.mems.effective", "/sys/devices/system/node/online"):
        try:
            with open(path) as f:
                available = f.read().strip() or available
            break
        except OSError:
            continue
    if not want <= parse_uint_list(available):
        raise InvalidArgumentError(f"Requested memory nodes are not available - requested {value}, available: "
                                   f"{available}")


def _device(spec: str) -> DeviceMapping:
    """One --device, checked against the host now (the daemon does it at start: a container that could never
    start is not created)."""
    from .host_devices import custom_devices

    host, inside, perms = parse_device(spec)
    custom_devices(host, inside)
    return DeviceMapping(path_on_host=host, path_in_container=inside, cgroup_permissions=perms)


def _volumes_from(eng: ContainerEngine, items: list[str], covered: set[str]) -> list[MountPoint]:
    """--volumes-from CONTAINER[:ro|rw]: the volumes and bind mounts of another container, at the same places
    (its own mode, or the one given); a place this container mounts something at itself keeps its own."""
    out: list[MountPoint] = []
    for item in items:
        name, _, mode = item.partition(":")
        if mode not in ("", "ro", "rw"):
            raise InvalidArgumentError(f"invalid mode: {mode}")
        src = eng.cs.record(eng.cs.resolve(name))
        for m in src.mounts:
            if m.type not in ("volume", "bind") or m.destination in covered:
                continue
            covered.add(m.destination)
            out.append(replace(m, rw=m.rw if not mode else mode == "rw"))
    return out


def extra_hosts_entries(specs: list[str]) -> list[str]:
    """--add-host checked by the parser the network helper uses (``name:ip`` or ``name=ip``), kept as Docker's
    HostConfig.ExtraHosts: ``name:ip``, the address out of its brackets."""
    if not specs:
        return []
    from skiff.network.etcfiles import parse_add_host

    return [":".join(parse_add_host(h)) for h in specs]


def cpu_info() -> tuple[int, str]:
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


def exposed_ports(spec: str) -> list[str]:
    """One ``--expose`` value as docker/cli reads it (``PORT[/PROTO]`` or ``START-END[/PROTO]``): a key per
    port of the range; its errors in its words (nat.ParsePortRange, strconv.ParseUint)."""
    from skiff.units import go_quote

    if ":" in spec:
        raise InvalidArgumentError(f"invalid port format for --expose: {spec}")
    parts = spec.split("/")
    port, proto = (parts[0], parts[1] or "tcp") if len(parts) > 1 else (spec, "tcp")

    def uint16(text: str) -> int:
        if not text.isascii() or not text.isdigit():
            raise InvalidArgumentError(f"invalid range format for --expose: {spec}, error: strconv.ParseUint: "
                                       f"parsing {go_quote(text)}: invalid syntax")
        if int(text) > 65535:
            raise InvalidArgumentError(f"invalid range format for --expose: {spec}, error: strconv.ParseUint: "
                                       f"parsing {go_quote(text)}: value out of range")
        return int(text)

    if not port:
        raise InvalidArgumentError(f"invalid range format for --expose: {spec}, error: empty string specified "
                                   "for ports")
    bounds = port.split("-")
    start = uint16(bounds[0])
    end = uint16(bounds[1]) if len(bounds) > 1 else start
    if end < start:
        raise InvalidArgumentError(f"invalid range format for --expose: {spec}, error: invalid range specified "
                                   f"for port: {port}")
    return [f"{n}/{proto}" for n in range(start, end + 1)]


def _ports(opts: CreateOptions) -> tuple[list[str], dict[str, list[dict[str, str]]]]:
    exposed = [p for e in opts.expose for p in exposed_ports(e)]
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
    volume_options = {s.target: opts for s in rec.host_config.mounts if s.type == "volume"
                      and (opts := dict(o[len("volume-opt="):].partition("=")[::2] for o in s.options
                                        if o.startswith("volume-opt=")))}  # --mount ...,volume-opt=K=V
    try:
        for m in wanted:
            if m.type == "bind" and not os.path.exists(m.source):
                os.makedirs(m.source, exist_ok=True)  # Docker makes a missing -v source folder
            if m.type != "volume":
                mounts.append(m)
                continue
            vol, _ = eng.volumes.create(m.name, options=volume_options.get(m.destination))
            m = replace(m, name=vol.name, source=vol.mountpoint)
            if "nocopy" not in m.mode:  # moby copies into any empty volume, new or not
                eng.volumes.activate(vol, f"create-{rec.id}")  # its device, as moby mounts it for the copy
                try:
                    if not os.listdir(vol.mountpoint):
                        if rootfs is None:
                            rootfs = drv.mount(rec.id)
                        _copy_up(str(rootfs), m.destination, vol.mountpoint)
                finally:
                    eng.volumes.deactivate(vol.name, f"create-{rec.id}")
            mounts.append(m)
    finally:
        if rootfs is not None:
            drv.unmount(rec.id)
    rec = replace(rec, mounts=mounts)
    eng.cs.write_record(rec)
    return rec


def release_volumes(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """The container no longer uses its volumes: a device mounted for them goes with its last user."""
    for m in rec.mounts:
        if m.type == "volume" and m.name:
            try:
                eng.volumes.deactivate(m.name, rec.id)
            except (SkiffError, OSError):
                pass


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
        for m in rec.mounts:  # a volume with a device (volume create -o type=...): mounted for its first user
            if m.type == "volume" and m.name:
                eng.volumes.activate(eng.volumes.get(m.name), rec.id)
        joins, shm = _joins(eng, rec)
        netns = setup_network(eng, rec)
        spec = build_spec(rec, rootfs, eng.cs.rdir(rec.id), rec.mounts, netns, host_gateway(eng, rec), joins,
                          shm)
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
        release_volumes(eng, rec)
        raise


def _joins(eng: ContainerEngine, rec: ContainerRecord) -> tuple[dict[str, str], str | None]:
    """(the namespaces a ``--pid``/``--ipc container:NAME`` container enters: those of NAME's process, which must
    be running; the folder its /dev/shm binds, when that is not a tmpfs of its own): moby's getPidContainer
    and getIpcContainer. A container shares its IPC only when made ``--ipc shareable`` (or ``host``), whose
    /dev/shm is then a tmpfs on the host side (``RUNROOT/containers/ID/shm``) that others can bind."""
    from .containers_state import Status

    hc = rec.host_config
    out = {}
    shm: str | None = None
    for kind, mode in (("pid", hc.pid_mode), ("ipc", hc.ipc_mode)):
        if not mode.startswith("container:"):
            continue
        name = mode.partition(":")[2]
        donor = eng.cs.resolve(name)
        st = eng.cs.state(donor)
        if st.st not in (Status.RUNNING, Status.PAUSED) or not st.pid:
            raise SkiffError(f"cannot join {kind.upper()} of a non running container: {name}")
        out[kind] = namespace_of(donor, st.pid, kind)
        if kind == "ipc":
            donor_mode = eng.cs.record(donor).host_config.ipc_mode
            if donor_mode not in ("shareable", "host"):
                raise SkiffError(f"cannot join IPC of container {name}: non-shareable IPC (hint: use "
                                 "IpcMode:shareable for the donor container)")
            shm = "/dev/shm" if donor_mode == "host" else str(eng.cs.rdir(donor) / "shm")
    if hc.ipc_mode == "shareable":
        shm = _shareable_shm(eng, rec)
    return out, shm


def namespace_of(cid: str, pid: int, kind: str) -> str:
    """``/proc/PID/ns/KIND`` of container ``cid``'s init, once PID is seen to be that process still (in the
    container's cgroup): a pid reused by a host process would otherwise hand out the host's namespace."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            mine = any(line.rstrip("\n").endswith(f"/{cid}") for line in f)  # its cgroup is named by its ID
    except OSError:
        mine = False
    if not mine:
        raise SkiffError(f"container {cid} is not running")
    return f"/proc/{pid}/ns/{kind}"


def _shareable_shm(eng: ContainerEngine, rec: ContainerRecord) -> str:
    from skiff.store.drivers.base import is_mountpoint, sys_mount

    path = eng.cs.rdir(rec.id) / "shm"
    path.mkdir(parents=True, exist_ok=True)
    if not is_mountpoint(path):
        sys_mount("shm", str(path), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  f"mode=1777,size={rec.host_config.shm_size}")
    return str(path)


def release_shm(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """Unmount the host-side /dev/shm of a ``--ipc shareable`` container (its teardown)."""
    from skiff.store.drivers.base import sys_umount

    try:
        sys_umount(str(eng.cs.rdir(rec.id) / "shm"), MNT_DETACH)
    except OSError:
        pass


MS_NOSUID, MS_NODEV, MS_NOEXEC, MNT_DETACH = 2, 4, 8, 2


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
