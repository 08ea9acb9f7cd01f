"""Instruction flags (``--name=value``), ``RUN --mount`` specs and the small value grammars they use.

Errors are :class:`FlagError` (a plain message); :mod:`instructions` adds the location.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from skiff import units
from skiff.build.dockerfile.commands import Mount
from skiff.records import dataclass, field

BOOL, STRING, STRINGS = "bool", "string", "strings"
MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
CACHE_SHARING = ("shared", "private", "locked")
NETWORK_MODES = ("default", "none", "host")
SECURITY_MODES = ("sandbox", "insecure")
BIND_PROPAGATION = ("shared", "rshared", "private", "rprivate", "slave", "rslave")


class FlagError(ValueError):
    """A bad flag or flag value (message only; the caller knows the line)."""


@dataclass
class Flags:
    """BuildKit's ``BFlags``: declare the flags an instruction takes, then :meth:`parse` its words."""

    args: list[str]
    spec: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)

    def parse(self, spec: dict[str, str] | None = None) -> Flags:
        """Parse ``args`` given the flags the instruction takes (``{name: BOOL|STRING|STRINGS}``)."""
        self.spec = dict(spec or {})
        for arg in self.args:
            if not arg.startswith("--"):
                raise FlagError(f"arg should start with -- : {arg}")
            if arg == "--":
                break
            name, eq, value = arg[2:].partition("=")
            kind = self.spec.get(name)
            if kind is None:
                raise FlagError(f"unknown flag: {arg.partition('=')[0]}")
            if name in self.used and kind != STRINGS:
                raise FlagError(f"duplicate flag specified: {name}")
            self.used.append(name)
            if kind == BOOL:
                if eq and value == "":
                    raise FlagError(f"missing a value on flag: {name}")
                low = value.lower()
                if low not in ("", "true", "false"):
                    raise FlagError(f"expecting boolean value for flag {name}, not: {value}")
                self.values[name] = "false" if low == "false" else "true"
            elif not eq:
                raise FlagError(f"missing a value on flag: {name}")
            elif kind == STRINGS:
                self.lists.setdefault(name, []).append(value)
            else:
                self.values[name] = value
        return self

    def string(self, name: str) -> str:
        return self.values.get(name, "")

    def boolean(self, name: str) -> bool | None:
        """``None`` when the flag was not given."""
        value = self.values.get(name)
        return None if value is None else value == "true"

    def strings(self, name: str) -> tuple[str, ...]:
        return tuple(self.lists.get(name, ()))




def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds (``1m30s``, ``250ms``, ``0``), with its messages."""
    try:
        return units.parse_duration(text)
    except ValueError as e:
        raise FlagError(str(e)) from None


def health_interval(name: str, value: str) -> int:
    """A HEALTHCHECK duration flag: empty or 0 means "inherit"; otherwise at least 1ms."""
    if not value:
        return 0
    ns = parse_duration(value)
    if ns == 0:
        return 0
    if ns < 10**6:
        raise FlagError(f'Interval "{name}" cannot be less than 1ms')
    return ns


_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)*) ?([kKmMgGtTpP])?[iI]?[bB]?\Z")


def parse_ram_size(text: str) -> int:
    """docker/go-units ``RAMInBytes`` (``64m``, ``1.5GiB``; binary multiples)."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise FlagError(f"invalid size: '{text}'")
    power = " kmgtp".index(match.group(2).lower()) if match.group(2) else 0
    return int(float(match.group(1)) * 1024**power)


_CHMOD_SYMBOLIC = re.compile(
    r"[ugoa]*[-+=][rwxXst]*(?:[-+=][rwxXst]*)*(?:,[ugoa]*[-+=][rwxXst]*(?:[-+=][rwxXst]*)*)*\Z"
)


def check_chmod(value: str) -> None:
    """``--chmod``: octal (``755``, ``0644``) or symbolic (``u+x,go-w``); empty or with ``$`` passes."""
    if not value or "$" in value:
        return
    if re.fullmatch(r"[0-7]{1,4}", value) or _CHMOD_SYMBOLIC.match(value):
        return
    raise FlagError(f"invalid chmod parameter: {value!r}: expected octal digits or a symbolic mode")


_DIGEST_RE = re.compile(r"(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})\Z")


def check_checksum(value: str) -> None:
    """``ADD --checksum``: a digest (``sha256:<64 hex>``...)."""
    if value and "$" not in value and not _DIGEST_RE.match(value):
        raise FlagError(f"invalid checksum digest format: {value!r}")


def _flag_bool(key: str, value: str) -> bool:
    low = value.lower()
    if low in ("1", "t", "true"):
        return True
    if low in ("0", "f", "false"):
        return False
    raise FlagError(f"invalid value for {key}: {value}")


def _uint(key: str, value: str, base: int) -> int:
    digits = "[0-7]+" if base == 8 else "[0-9]+"
    if not re.fullmatch(digits, value) or int(value, base) >= 2**32:
        raise FlagError(f"invalid value {value} for {key}")
    return int(value, base)


def _has_dotdot(path: str) -> bool:
    return ".." in path.replace("\\", "/").split("/")


def parse_mount(spec: str, expander: Callable[[str], str] | None = None) -> Mount:
    """One ``--mount`` value (CSV ``key=value`` fields) -> :class:`Mount`, validated.

    ``expander`` (``$VAR`` substitution) is applied to every value before it is checked.
    """
    import csv  # only for --mount values (its import costs start-up time)

    try:
        fields = next(csv.reader([spec]), [])
    except csv.Error as err:
        raise FlagError(f"invalid mount {spec!r}: {err}") from None
    m: dict[str, object] = {"type": "bind"}
    ro_auto = True
    given: set[str] = set()
    for item in fields:
        key, eq, value = item.partition("=")
        key = key.lower()
        mtype = str(m["type"])
        if not eq:
            if key in ("readonly", "ro", "readwrite", "rw"):
                m["readonly"] = key in ("readonly", "ro")
                ro_auto = False
            elif key == "required" and mtype in ("secret", "ssh"):
                m["required"] = True
            elif key == "required":
                raise FlagError(f"unexpected key '{key}' for mount type '{mtype}'")
            else:
                raise FlagError(f"invalid field '{item}' must be a key=value pair")
            continue
        given.add(key)
        if expander is not None:
            value = expander(value)
        if key == "type":
            if value.lower() not in MOUNT_TYPES:
                raise FlagError(f"unsupported mount type {value!r} (one of {', '.join(MOUNT_TYPES)})")
            m["type"] = value.lower()
        elif key == "from":
            m["from_"] = value
        elif key in ("source", "src"):
            m["source"] = value
        elif key in ("target", "dst", "destination"):
            m["target"] = value
        elif key in ("readonly", "ro"):
            m["readonly"] = _flag_bool(key, value)
            ro_auto = False
        elif key in ("readwrite", "rw"):
            m["readonly"] = not _flag_bool(key, value)
            ro_auto = False
        elif key == "required" and mtype in ("secret", "ssh"):
            m["required"] = _flag_bool(key, value)
        elif key == "size" and mtype == "tmpfs":
            m["size"] = parse_ram_size(value)
        elif key == "id":
            m["cache_id"] = value
        elif key == "sharing":
            if value.lower() not in CACHE_SHARING:
                raise FlagError(f"unsupported sharing value {value!r} (one of {', '.join(CACHE_SHARING)})")
            m["cache_sharing"] = value.lower()
        elif key == "mode":
            m["mode"] = _uint(key, value, 8)
        elif key in ("uid", "gid"):
            m[key] = _uint(key, value, 10)
        elif key == "env" and mtype == "secret":
            m["env"] = value
        elif key == "bind-propagation" and mtype == "bind":
            if value not in BIND_PROPAGATION:
                raise FlagError(f"invalid bind-propagation {value!r} (one of {', '.join(BIND_PROPAGATION)})")
            m["bind_propagation"] = value
        elif key in ("required", "size", "env", "bind-propagation"):
            raise FlagError(f"unexpected key '{key}' for mount type '{mtype}'")
        else:
            raise FlagError(f"unexpected key '{key}' in '{item}'")
    return _finish_mount(m, given, ro_auto, spec)


def _finish_mount(m: dict[str, object], given: set[str], ro_auto: bool, spec: str) -> Mount:
    mtype = str(m["type"])
    if mtype not in ("secret", "ssh", "cache"):
        for key in ("mode", "uid", "gid"):
            if key in m:
                raise FlagError(f"{key} not allowed for {mtype!r} type mounts")
    if ro_auto:
        m["readonly"] = mtype not in ("cache", "tmpfs")
    if "sharing" in given and mtype != "cache":
        raise FlagError(f"invalid cache sharing set for {mtype} mount")
    if mtype in ("secret", "ssh", "tmpfs") and m.get("from_"):
        raise FlagError(f"{mtype} mount should not have a from")
    if mtype == "secret":
        if not (m.get("source") or m.get("target") or m.get("cache_id")):
            raise FlagError("invalid secret mount. one of source, target required")
        if m.get("source") and m.get("cache_id"):
            raise FlagError("both source and id can't be set")
        secret_id = str(
            m.get("cache_id") or m.get("source") or str(m["target"]).rstrip("/").rsplit("/", 1)[-1]
        )
        m["cache_id"], m["source"] = secret_id, ""
        m.setdefault("target", "/run/secrets/" + secret_id)
        if not m["target"]:
            m["target"] = "/run/secrets/" + secret_id
    if mtype == "ssh" and not m.get("cache_id"):
        m["cache_id"] = "default"
    if mtype in ("bind", "cache", "tmpfs") and not m.get("target"):
        raise FlagError(f"mount type {mtype} requires a target")
    if mtype == "cache":
        for key in ("cache_id", "source"):
            value = str(m.get(key, ""))
            if "$" not in value and _has_dotdot(value):
                raise FlagError(
                    f"cache mount {'id' if key == 'cache_id' else key} {value!r} must not contain '..'"
                )
        if not m.get("cache_id"):
            m["cache_id"] = m["target"]
    return Mount(spec=spec, **m)  # type: ignore[arg-type]


_SIGNALS = frozenset(
    "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS "
    "TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX".split()
    + [f"RTMIN+{i}" for i in range(1, 16)]
    + [f"RTMAX-{i}" for i in range(1, 15)]
)


def check_signal(value: str) -> None:
    """STOPSIGNAL: a Linux signal name (``SIGTERM``, ``term``, ``RTMIN+3``) or a non-zero number."""
    if "$" in value:
        return
    if re.fullmatch(r"[+-]?[0-9]+", value):
        if int(value) != 0:
            return
    elif value.upper().removeprefix("SIG") in _SIGNALS:
        return
    raise FlagError(f"Invalid signal: {value}")


def check_port(value: str) -> None:
    """One EXPOSE value: ``PORT[-PORT][/tcp|udp|sctp]``."""
    if "$" in value:
        return
    port, _, proto = value.partition("/")
    if proto and proto.lower() not in ("tcp", "udp", "sctp"):
        raise FlagError(f"Invalid proto: {proto}")
    match = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", port)
    if match is None or int(match.group(1)) > 65535 or int(match.group(2) or 0) > 65535:
        raise FlagError(f"Invalid containerPort: {port}")
    if match.group(2) and int(match.group(2)) < int(match.group(1)):
        raise FlagError(f"Invalid range specified for container port: {port}")
