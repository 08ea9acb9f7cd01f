"""``CreateOptions`` (what ``run``/``create`` accept) and the parsers for Docker's value syntaxes.

Every parser raises :class:`InvalidArgumentError` with one line naming the flag and the value at fault.
"""

from __future__ import annotations

import re

from skiff.errors import InvalidArgumentError
from skiff.records import dataclass, field

from .containers_model import MountSpec, RestartPolicy, Ulimit


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
    kv: dict[str, str] = {}
    for item in spec.split(","):
        k, eq, v = item.partition("=")
        k = k.strip().lower()
        if not k:
            raise InvalidArgumentError(f"invalid argument \"{spec}\" for \"--mount\" flag: empty field")
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
