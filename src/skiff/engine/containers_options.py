"""``CreateOptions`` (what ``run``/``create`` accept) and the parsers for Docker's value syntaxes.

Every parser raises :class:`InvalidArgumentError` with one line naming the flag and the value at fault.
"""

from __future__ import annotations

import posixpath
import re

from skiff.errors import InvalidArgumentError
from skiff.records import dataclass, field

from .containers_model import MountSpec, RestartPolicy, Ulimit

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class CreateOptions:
    """What `skiff run`/`skiff create` accept, as given (values are parsed when the container is made)."""

    image: str
    command: list[str] = field(default_factory=list)
    name: str | None = None
    detach: bool = False
    interactive: bool = False
    tty: bool = False
    auto_remove: bool = False
    env: list[str] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    entrypoint: str | None = None
    hostname: str | None = None
    volumes: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    read_only: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    security_opt: list[str] = field(default_factory=list)
    memory: str | None = None
    memory_swap: str | None = None
    cpus: str | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    ulimits: list[str] = field(default_factory=list)
    init: bool = False
    stop_signal: str | None = None
    stop_timeout: int | None = None
    restart: str = "no"
    labels: list[str] = field(default_factory=list)
    label_files: list[str] = field(default_factory=list)
    group_add: list[str] = field(default_factory=list)
    shm_size: str | None = None
    add_hosts: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    network: str = "bridge"
    publish: list[str] = field(default_factory=list)
    publish_all: bool = False
    expose: list[str] = field(default_factory=list)
    pull: str = "missing"
    platform: str | None = None
    runtime: str | None = None
    sysctls: list[str] = field(default_factory=list)
    oom_score_adj: int | None = None
    oom_kill_disable: bool = False
    cpu_period: int | None = None
    cpu_quota: int | None = None
    memory_reservation: str | None = None
    memory_swappiness: int | None = None
    domainname: str | None = None
    pid: str | None = None
    ipc: str | None = None
    uts: str | None = None
    userns: str | None = None  # "" or "host": skiff has no user-namespace remapping to opt out of
    storage_opt: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # --link NAME[:ALIAS] (the default bridge's legacy links)
    volume_driver: str | None = None
    cgroupns: str | None = None
    devices: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
    cidfile: str | None = None
    cpuset_mems: str | None = None
    blkio_weight: int | None = None
    blkio_weight_device: list[str] = field(default_factory=list)
    device_read_bps: list[str] = field(default_factory=list)
    device_write_bps: list[str] = field(default_factory=list)
    device_read_iops: list[str] = field(default_factory=list)
    device_write_iops: list[str] = field(default_factory=list)
    device_cgroup_rules: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    log_driver: str | None = None
    log_opts: list[str] = field(default_factory=list)
    health_cmd: str | None = None
    health_interval: str | None = None
    health_timeout: str | None = None
    health_start_period: str | None = None
    health_start_interval: str | None = None
    health_retries: int | None = None
    no_healthcheck: bool = False
    network_aliases: list[str] = field(default_factory=list)
    attach: list[str] = field(default_factory=list)
    cgroup_parent: str | None = None
    ip: str | None = None
    mac_address: str | None = None
    ip6: str | None = None
    link_local_ips: list[str] = field(default_factory=list)
    cpu_count: int | None = None  # Windows' (the daemon stores it on Linux and applies nothing)
    cpu_percent: int | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None
    kernel_memory: str | None = None
    io_max_bandwidth: str | None = None  # Windows' QoS: refused on Linux as the daemon does
    io_max_iops: int | None = None
    isolation: str | None = None
    gpus: list[str] = field(default_factory=list)


_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def parse_bytes(value: str, flag: str) -> int:
    """Docker's RAMInBytes: ``512m``, ``1g``, ``1048576``, ``1.5g`` (also ``kb``/``mb``/``gb``)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", value.lower())
    if not m:
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: invalid size: \'{value}\'')
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def parse_memory_swap(value: str) -> int:
    return -1 if value.strip() == "-1" else parse_bytes(value, "--memory-swap")


def parse_cpus(value: str) -> int:
    """--cpus as NanoCpus."""
    try:
        f = float(value)
    except ValueError:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--cpus" flag: failed to parse {value} '
                                   f"as a rational number") from None
    if f < 0:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--cpus" flag: range is 0 to inf')
    return int(f * 1e9)


def parse_env_line(line: str, flag: str = "-e") -> str | None:
    """``KEY=VAL`` kept; bare ``KEY`` takes the host's value (dropped when unset), as Docker does."""
    import os

    key, eq, _ = line.partition("=")
    if not key or any(c.isspace() for c in key):
        raise InvalidArgumentError(f'invalid argument "{line}" for "{flag}" flag: variable \'{key}\' '
                                   "contains whitespaces" if key else
                                   f'invalid argument "{line}" for "{flag}" flag: no variable name')
    if eq:
        return line
    return f"{key}={os.environ[key]}" if key in os.environ else None


def _file_lines(path: str) -> list[str]:
    """An --env-file or --label-file, as lines (docker/cli's error for one it cannot open)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        raise InvalidArgumentError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None


def read_env_file(path: str) -> list[str]:
    lines = _file_lines(path)
    out = []
    for n, line in enumerate(lines, 1):
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        try:
            v = parse_env_line(line, "--env-file")
        except InvalidArgumentError:
            raise InvalidArgumentError(f"{path}:{n}: invalid environment line: {line!r}") from None
        if v is not None:
            out.append(v)
    return out


def merge_env(base: list[str], over: list[str]) -> list[str]:
    """moby's ReplaceOrAppendEnvValues: each ``KEY=VAL`` of ``over`` replaces KEY in place or is appended; a
    bare ``KEY`` removes it (``exec -e KEY`` when the host does not set KEY)."""
    keys: dict[str, str] = {}
    for e in base:
        keys[e.partition("=")[0]] = e
    for e in over:
        k, eq, _ = e.partition("=")
        if eq:
            keys[k] = e
        else:
            keys.pop(k, None)
    return list(keys.values())


DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def process_env(env: list[str], hostname: str, tty: bool) -> list[str]:
    """A container process's environment as Docker builds it (CreateDaemonEnvironment): PATH, HOSTNAME and,
    with a tty, TERM=xterm, each replaced by the container's own ``env`` (image ENV, then -e), which follows.
    These three are not part of the container's Config.Env (inspect, commit), as in Docker."""
    return merge_env([DEFAULT_PATH, f"HOSTNAME={hostname}", *(["TERM=xterm"] if tty else [])], env)


PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")


def parse_volume(spec: str) -> MountSpec:
    """``-v [SRC:]DST[:OPTS]``: SRC absolute = bind, a name = named volume, absent = anonymous volume."""
    parts = spec.split(":")
    if not spec or len(parts) > 3 or any(p == "" for p in parts):
        raise InvalidArgumentError(f"invalid volume specification: '{spec}'")
    if len(parts) == 1:
        src, dst, opts = "", parts[0], ""
    elif len(parts) == 2:
        if parts[1].startswith("/"):
            src, dst, opts = parts[0], parts[1], ""
        else:
            src, dst, opts = "", parts[0], parts[1]
    else:
        src, dst, opts = parts
    if not dst.startswith("/"):
        raise InvalidArgumentError(f"invalid volume specification: '{spec}': invalid mount config: "
                                   f"mount path must be absolute")
    if dst == "/":
        raise InvalidArgumentError(f"invalid volume specification: '{spec}': invalid mount config: "
                                   "destination can't be '/'")
    ro, prop, extra = False, None, []
    for o in [o for o in opts.split(",") if o]:
        if o in ("ro", "rw"):
            ro = o == "ro"
        elif o in PROPAGATIONS:
            prop = o
        elif o in ("z", "Z", "nocopy", "copy"):
            extra.append(o)
        else:
            raise InvalidArgumentError(f"invalid volume specification: '{spec}': invalid mode: {o}")
    if src.startswith("/") or src.startswith("."):
        if not src.startswith("/"):
            raise InvalidArgumentError(f"invalid volume specification: '{spec}': bind source must be absolute")
        return MountSpec(type="bind", source=src, target=dst, read_only=ro, propagation=prop or "rprivate",
                         options=extra)
    if src and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", src):
        raise InvalidArgumentError(f"invalid volume specification: '{spec}': \"{src}\" includes invalid "
                                   "characters for a local volume name")
    if prop:
        raise InvalidArgumentError(f"invalid volume specification: '{spec}': propagation applies to binds only")
    return MountSpec(type="volume", source=src, target=dst, read_only=ro, options=extra)


def parse_mount(spec: str) -> MountSpec:
    """``--mount type=bind|volume|tmpfs,source=..,target=..,readonly,bind-propagation=..``."""
    import csv

    kv: dict[str, str] = {}
    volume_opts: list[str] = []
    try:  # docker/cli reads the value as one CSV record: "volume-opt=o=size=64m,uid=1000" in quotes
        items = next(csv.reader([spec]), [])
    except csv.Error as e:
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: {e}") from None
    for item in items:
        k, eq, v = item.partition("=")
        k = k.strip().lower()
        if not k:
            raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: empty field")
        if k == "volume-opt":  # KEY=VALUE, repeatable: the local driver's options for a volume made now
            if "=" not in v:
                raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid field "
                                           f"'{item}' must be a key=value pair")
            volume_opts.append(f"volume-opt={v}")
            continue
        kv[k] = v if eq else "true"
    typ = kv.pop("type", "volume")
    src = kv.pop("source", kv.pop("src", ""))
    dst = kv.pop("target", kv.pop("destination", kv.pop("dst", "")))
    ro = kv.pop("readonly", kv.pop("ro", "false")).lower() in ("true", "1", "")
    prop = kv.pop("bind-propagation", None)
    opts: list[str] = []
    if "tmpfs-size" in kv:
        opts.append(f"size={parse_bytes(kv.pop('tmpfs-size'), '--mount')}")
    if "tmpfs-mode" in kv:
        opts.append(f"mode={kv.pop('tmpfs-mode')}")
    if kv.pop("volume-nocopy", "false") == "true":
        opts.append("nocopy")
    if volume_opts and typ != "volume":
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: cannot mix 'volume-*' "
                                   f"options with mount type '{typ}'")
    opts += volume_opts
    if kv:
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: unexpected key "
                                   f"'{next(iter(kv))}'")
    if typ not in ("bind", "volume", "tmpfs"):
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid mount type {typ}")
    if not dst.startswith("/"):
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: target must be absolute")
    if prop is not None and (typ != "bind" or prop not in PROPAGATIONS):
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: invalid propagation "
                                   f"{prop}")
    if typ == "bind" and not src.startswith("/"):
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: bind source must be "
                                   "an absolute path")
    return MountSpec(type=typ, source=src, target=dst, read_only=ro,
                     propagation=(prop or "rprivate") if typ == "bind" else None, options=opts)


def parse_tmpfs(spec: str) -> tuple[str, str]:
    dst, _, opts = spec.partition(":")
    if not dst.startswith("/"):
        raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--tmpfs\" flag: path must be absolute")
    return dst, opts


def parse_restart(value: str) -> RestartPolicy:
    """docker/cli's ParseRestartPolicy, then the daemon's ValidateRestartPolicy, with their words."""
    name, colon, n = value.partition(":")
    if colon and not name:
        raise InvalidArgumentError("invalid restart policy format: no policy provided before colon")
    count = 0
    if n:
        if not re.fullmatch(r"[+-]?\d+", n):  # strconv.Atoi
            raise InvalidArgumentError("invalid restart policy format: maximum retry count must be an integer")
        count = int(n)
    if name in ("no", "always", "unless-stopped"):
        if count:
            raise InvalidArgumentError("invalid restart policy: maximum retry count can only be used with "
                                       "'on-failure'" + (" and cannot be negative" if count < 0 else ""))
    elif name == "on-failure":
        if count < 0:
            raise InvalidArgumentError("invalid restart policy: maximum retry count cannot be negative")
    else:
        raise InvalidArgumentError(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                                   "'on-failure', or 'unless-stopped'")
    return RestartPolicy(name=name, maximum_retry_count=count)


def parse_uint_list(value: str) -> set[int]:
    """moby's parsers.ParseUintList: ``0-3``, ``0,2``, ``0-2,7`` (``--cpuset-cpus``); ValueError otherwise."""
    out: set[int] = set()
    if not value:
        return out
    for part in value.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"invalid format: {value}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ValueError(f"invalid format: {value}")
        out.update(range(lo, hi + 1))
    return out


def check_cpuset(value: str, available: str) -> None:
    """The daemon's check of ``--cpuset-cpus`` against the CPUs it may use (``available``: a list like 0-1)."""
    try:
        want = parse_uint_list(value)
    except ValueError:
        raise InvalidArgumentError(f"Invalid value {value} for cpuset cpus") from None
    if not want <= parse_uint_list(available):
        raise InvalidArgumentError(f"Requested CPUs are not available - requested {value}, available: {available}")


def check_cpus(nano_cpus: int, ncpu: int) -> None:
    """The daemon's range of ``--cpus`` (NanoCPUs): at most the number of CPUs this process may run on."""
    if nano_cpus < 0 or nano_cpus > ncpu * 10**9:
        raise InvalidArgumentError(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs "
                                   "available")


def check_resources(*, memory: int = 0, swap: int = 0, reservation: int = 0, nano_cpus: int = 0,
                    cpu_period: int = 0, cpu_quota: int = 0) -> None:
    """The daemon's checks of a container's limits (verifyPlatformContainerResources), at create and at update,
    with its words. ``swap`` -1 is unlimited."""
    mb6 = 6 * 1024 * 1024
    if memory and memory < mb6:
        raise InvalidArgumentError("Minimum memory limit allowed is 6MB")
    if swap > 0 and memory and swap < memory:
        raise InvalidArgumentError("Minimum memoryswap limit should be larger than memory limit, see usage")
    if swap and not memory:
        raise InvalidArgumentError("You should always set the Memory limit when using Memoryswap limit, see usage")
    if reservation and reservation < mb6:
        raise InvalidArgumentError("Minimum memory reservation allowed is 6MB")
    if memory and reservation and memory < reservation:
        raise InvalidArgumentError("Minimum memory limit can not be less than memory reservation limit, see usage")
    if nano_cpus and cpu_period:
        raise InvalidArgumentError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano_cpus and cpu_quota:
        raise InvalidArgumentError("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if cpu_period and not 1000 <= cpu_period <= 1000000:
        raise InvalidArgumentError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                                   "(i.e. 1000000)")
    if cpu_quota and 0 < cpu_quota < 1000:
        raise InvalidArgumentError("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def read_label_file(path: str) -> list[str]:
    """``--label-file``: one ``key=value`` a line; blank lines and ``#`` comments skipped (docker/cli's
    ReadKVStrings, without the environment lookup ``--env-file`` has)."""
    lines = _file_lines(path)
    out = []
    for line in lines:
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.lstrip(" \t")
        if any(c in " \t\n\v\f\r" for c in key):
            raise InvalidArgumentError(f"poorly formatted environment: variable '{key}' contains whitespaces")
        if not key:
            raise InvalidArgumentError(f"poorly formatted environment: no variable name on line '{line}'")
        out.append(f"{key}={value}" if eq else line.strip())
    return out


_RLIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
            "rtprio", "rttime", "sigpending", "stack", "as")


def parse_ulimit(value: str) -> Ulimit:
    name, eq, limits = value.partition("=")
    if not eq or name not in _RLIMITS:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--ulimit" flag: invalid ulimit type: {name}'
                                   if eq else f'invalid argument "{value}" for "--ulimit" flag: invalid '
                                   'ulimit argument')
    soft_s, _, hard_s = limits.partition(":")
    try:
        soft = int(soft_s)
        hard = int(hard_s) if hard_s else soft
    except ValueError:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--ulimit" flag: invalid ulimit value') \
            from None
    if soft > hard:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--ulimit" flag: ulimit soft limit must '
                                   f"be less than or equal to hard limit: {soft} > {hard}")
    return Ulimit(name=name, soft=soft, hard=hard)


# docker/cli's ValidateSysctl: the namespaced sysctls a container may set
_SYSCTLS = frozenset({"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                      "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"})
_SYSCTL_PREFIXES = ("net.", "fs.mqueue.")


def parse_sysctls(items: list[str], *, host_network: bool = False, host_ipc: bool = False) -> dict[str, str]:
    """``--sysctl KEY=VALUE``: docker/cli's allow-list (IPC sysctls, ``fs.mqueue.*``, ``net.*``), then the
    daemon's refusal of a sysctl in a namespace the container shares with the host."""
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not (key in _SYSCTLS or key.startswith(_SYSCTL_PREFIXES)):
            raise InvalidArgumentError(f'invalid argument "{item}" for "--sysctl" flag: sysctl \'{item}\' is not '
                                       "whitelisted")
        if host_network and key.startswith("net."):
            raise InvalidArgumentError(f"sysctl {key!r} not allowed in host network namespace")
        if host_ipc and not key.startswith("net."):
            raise InvalidArgumentError(f"sysctl {key!r} not allowed in host IPC namespace")
        out[key] = value
    return out


def parse_namespace_mode(value: str | None, flag: str, *, kinds: tuple[str, ...]) -> str:
    """``--pid``/``--uts``/``--ipc``/``--cgroupns``: one of ``kinds`` ("" for the default), or
    ``container:NAME`` where Docker allows it."""
    v = value or ""
    if v in kinds or (v.startswith("container:") and "container" in kinds and v != "container:"):
        return v
    what = {"--pid": "PID", "--uts": "UTS", "--ipc": "IPC", "--cgroupns": "cgroup namespace",
            "--userns": "USER"}[flag]
    raise InvalidArgumentError(f"{flag}: invalid {what} mode")


def parse_device(spec: str) -> tuple[str, str, str]:
    """``--device HOST[:CONTAINER][:PERMISSIONS]`` -> (host, container, permissions): docker/cli's
    ValidateDevice (a second part that is a mode is the mode; the container path must be absolute)."""
    def mode_ok(m: str) -> bool:
        return bool(m) and all(c in "rwm" for c in m) and len(set(m)) == len(m)

    def bad(why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f'invalid argument "{spec}" for "--device" flag: {why}')

    parts = spec.split(":")
    if not parts[0] or len(parts) > 3:
        raise bad(f"bad format for path: {spec}")
    host, inside, perms = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if mode_ok(parts[1]):
            perms = parts[1]
        else:
            inside = parts[1]
    elif len(parts) == 3:
        inside, perms = parts[1], parts[2]
        if not mode_ok(perms):
            raise bad(f"bad mode specified: {perms}")
    if not inside.startswith("/"):
        raise bad(f"{inside} is not an absolute path")
    return host, posixpath.normpath(inside), perms


def parse_blkio_rate(value: str, flag: str) -> tuple[str, int]:
    """``--device-read-bps``/``--device-write-bps`` (``/dev/x:RATE[kb|mb|gb]``) and the ``-iops`` flags
    (``/dev/x:N``): docker/cli's ValidateThrottleBpsDevice and ValidateThrottleIOpsDevice."""
    path, colon, rate = value.rpartition(":")
    if not colon:
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: bad format: {value}')
    if not path.startswith("/dev/"):
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: bad format for device path: '
                                   f"{value}")
    try:
        if flag.endswith("iops"):
            if not rate.isdigit():
                raise ValueError
            n = int(rate)
        else:
            n = parse_bytes(rate, flag)
    except (ValueError, InvalidArgumentError):
        unit = "" if flag.endswith("iops") else "[<unit>]"
        tail = "" if flag.endswith("iops") else " Unit is optional and can be kb, mb, or gb."
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: invalid rate for device: '
                                   f"{value}. The correct format is <device-path>:<number>{unit}. Number must be "
                                   f"a positive integer.{tail}") from None
    return path, n


def parse_weight_device(value: str) -> tuple[str, int]:
    """``--blkio-weight-device /dev/x:WEIGHT`` (docker/cli's ValidateWeightDevice: 10 to 1000, or 0)."""
    path, colon, w = value.rpartition(":")
    flag = "--blkio-weight-device"
    if not colon or not path.startswith("/dev/"):
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: bad format for device path: '
                                   f"{value}")
    if not w.isdigit() or (int(w) != 0 and not 10 <= int(w) <= 1000):
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: invalid weight for device: '
                                   f"{value}")
    return path, int(w)


def check_device_cgroup_rule(value: str) -> str:
    """``--device-cgroup-rule 'c 1:3 mr'`` (docker/cli's ValidateDeviceCgroupRule)."""
    if not re.fullmatch(r"([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})", value):
        raise InvalidArgumentError(f'invalid argument "{value}" for "--device-cgroup-rule" flag: invalid device '
                                   f"cgroup format '{value}'")
    return value


LOG_DRIVERS = ("json-file", "none")
_JSON_FILE_OPTS = ("max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag")


def parse_log_config(driver: str | None, opts: list[str]) -> tuple[str, dict[str, str]]:
    """``--log-driver`` (json-file, the default, or none) and ``--log-opt KEY=VALUE``, checked as moby's
    json-file driver checks them (ValidateLogOpt): max-size a size, max-file a positive number."""
    driver = driver or "json-file"
    if driver not in LOG_DRIVERS:
        raise InvalidArgumentError(f"logger: no log driver named '{driver}' is registered")
    config: dict[str, str] = {}
    for o in opts:
        k, eq, v = o.partition("=")
        if not eq:
            raise InvalidArgumentError(f'invalid argument "{o}" for "--log-opt" flag: invalid key value pair '
                                       f'format: "{o}"')  # docker/cli's ValidateLogOpt words
        config[k] = v
    for k, v in config.items():
        if driver == "none" or k not in _JSON_FILE_OPTS:
            raise InvalidArgumentError(f"unknown log opt '{k}' for {driver} log driver")
        if k == "max-size":
            if human_size(v) <= 0:
                raise InvalidArgumentError("max-size must be a positive number")
        elif k == "max-file":
            if not re.fullmatch(r"\d+", v):
                raise InvalidArgumentError(f'strconv.Atoi: parsing "{v}": invalid syntax')
            if int(v) < 1:
                raise InvalidArgumentError("max-file cannot be less than 1")
        elif k == "compress" and v.lower() not in ("false", "0", ""):
            raise InvalidArgumentError("compress: skiff does not compress rotated log files")
    return driver, config


def human_size(value: str) -> int:
    """go-units' FromHumanSize (json-file's max-size): decimal units, ``10m`` = 10,000,000 bytes."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?", value)
    if not m:
        raise InvalidArgumentError(f"invalid size: '{value}'")
    return int(float(m.group(1)) * 1000 ** " kmgtp".index((m.group(2) or " ").lower()))


def check_ip(value: str, flag: str) -> str:
    """docker/cli's ValidateIPAddress (``--dns``): an IPv4 or IPv6 address, returned in its canonical form."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: {value} is not an ip '
                                   "address") from None


def check_dns_search(value: str) -> str:
    """docker/cli's ValidateDNSSearch: ``.`` (no search), or a domain name (labels of letters, digits and inner
    hyphens, at least one letter, under 255 characters), returned without its trailing dot."""
    v = value.strip(" ")
    if v == ".":
        return v
    label = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    m = re.fullmatch(rf"({label}(?:\.{label})*)\.?\s*", v)
    if m is None or not re.search("[a-zA-Z]", v) or len(m.group(1)) >= 255:
        raise InvalidArgumentError(f'invalid argument "{value}" for "--dns-search" flag: {value} is not a valid '
                                   "domain")
    return m.group(1)


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        if not k:
            raise InvalidArgumentError(f'invalid argument "{item}" for "--label" flag: empty label name')
        out[k] = v
    return out


SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
           "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
           "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
           "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31}


def parse_signal(value: str) -> int:
    v = value.strip().upper()
    if v.isdigit() and 0 < int(v) < 65:
        return int(v)
    v = v.removeprefix("SIG")
    if v in SIGNALS:
        return SIGNALS[v]
    raise InvalidArgumentError(f"invalid signal: {value}")


def parse_gpus(value: str) -> dict[str, Any]:
    """docker/cli's ``--gpus`` (GpuOpts.Set): a CSV of ``all`` or a count, ``count=``, ``device=``, ``driver=``,
    ``capabilities=`` (``gpu`` is added) and ``options=`` (a CSV of k=v), as moby's DeviceRequest."""
    import csv

    def bad(why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f'invalid argument "{value}" for "--gpus" flag: {why}')

    def count(text: str) -> int:
        if text == "all":
            return -1
        try:
            return int(text)
        except ValueError:
            raise bad(f'count must be an integer: strconv.Atoi: parsing "{text}": invalid syntax') from None

    try:
        fields = next(csv.reader([value]), [])
    except csv.Error as e:
        raise bad(str(e)) from None
    req: dict[str, Any] = {"Driver": "", "Count": 0, "DeviceIDs": None, "Capabilities": None, "Options": None}
    seen: set[str] = set()
    for f in fields:
        key, eq, val = f.partition("=")
        if key in seen:
            raise bad(f"gpu request key '{key}' can be specified only once")
        seen.add(key)
        if not eq:
            seen.add("count")
            req["Count"] = count(key)
        elif key == "driver":
            req["Driver"] = val
        elif key == "count":
            req["Count"] = count(val)
        elif key == "device":
            req["DeviceIDs"] = val.split(",")
        elif key == "capabilities":
            req["Capabilities"] = [[*val.split(","), "gpu"]]
        elif key == "options":
            req["Options"] = dict(kv.partition("=")[::2] for kv in next(csv.reader([val]), []))
        else:
            raise bad(f"unexpected key '{key}' in '{f}'")
    if "count" not in seen and req["DeviceIDs"] is None:
        req["Count"] = 1
    req["Options"] = req["Options"] or {}
    req["Capabilities"] = req["Capabilities"] or [["gpu"]]
    return req


def device_request_error(req: dict[str, Any]) -> str:
    """moby's incompatibleDeviceRequest at a start: no device driver is registered here (moby registers its
    nvidia driver only where nvidia-container-runtime-hook is installed; skiff has none)."""
    caps = "[" + " ".join("[" + " ".join(c) + "]" for c in req.get("Capabilities") or []) + "]"
    return f'could not select device driver "{req.get("Driver", "")}" with capabilities: {caps}'


def check_isolation(value: str) -> str:
    """runconfig's validateIsolation: Linux has only the default isolation (any case, or empty)."""
    if value and value.lower() != "default":
        raise InvalidArgumentError(f'Invalid isolation: "{value}" - linux only supports \'default\'')
    return value

