"""Read-only container queries: ps, inspect (Docker's JSON shape), logs, top, stats, port."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.monitor.logs import parse_rfc3339, read_entries
from skiff.oci.codec import to_obj
from skiff.records import dataclass

from .containers_model import ContainerRecord
from .containers_state import State, Status

if TYPE_CHECKING:
    from .containers import ContainerEngine


@dataclass(frozen=True)
class ContainerSummary:
    """One row of `skiff ps`: a container's names, image, command, state and ports, formatted for display."""

    id: str
    names: list[str]
    image: str
    image_id: str
    command: str
    created: str
    state: str
    status: str
    ports: str
    labels: dict[str, str]
    mounts: list[str]
    size: str = ""

    def field(self, name: str) -> Any:
        return getattr(self, name)


def _ago(ts: str) -> str:
    try:
        secs = max(0.0, time.time() - parse_rfc3339(ts) / 1e9)
    except (ValueError, IndexError):
        return ""
    return _human(secs) + " ago"


def _human(secs: float) -> str:
    if secs < 1:
        return "Less than a second"
    if secs < 60:
        return f"{int(secs)} second{'s' if int(secs) != 1 else ''}"
    if secs < 3600:
        m = int(secs // 60)
        return "About a minute" if m == 1 else f"{m} minutes"
    if secs < 86400 * 2:
        h = round(secs / 3600)
        return "About an hour" if h == 1 else f"{h} hours"
    return f"{int(secs // 86400)} days"


def status_text(st: State) -> str:
    s = st.st
    if s is Status.CREATED:
        return "Created"
    if s in (Status.RUNNING, Status.PAUSED):
        up = "Up " + _ago(st.started_at).removesuffix(" ago")
        return up + (" (Paused)" if s is Status.PAUSED else "")
    if s is Status.RESTARTING:
        return f"Restarting ({st.exit_code}) {_ago(st.finished_at)}"
    if s is Status.EXITED:
        return f"Exited ({st.exit_code}) {_ago(st.finished_at)}"
    text: str = s.value.capitalize()
    return text


def ports_text(rec: ContainerRecord) -> str:
    out = []
    for key, binds in sorted(rec.host_config.port_bindings.items()):
        for b in binds:
            out.append(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{key}")
    return ", ".join(out)


def matches(rec: ContainerRecord, st: State, filters: list[str], eng: ContainerEngine) -> bool:
    by: dict[str, list[str]] = {}
    for f in filters:
        k, eq, v = f.partition("=")
        if not eq:
            raise InvalidArgumentError(f"bad format of filter (expected name=value): {f}")
        if k not in ("status", "name", "label", "ancestor", "id", "exited", "before", "since", "volume"):
            raise InvalidArgumentError(f"invalid filter '{k}'")
        by.setdefault(k, []).append(v)
    for k, values in by.items():
        if k == "status" and st.status not in values:
            return False
        if k == "name" and not any(v.lstrip("/") in rec.bare_name for v in values):
            return False
        if k == "id" and not any(rec.id.startswith(v) for v in values):
            return False
        if k == "exited" and not (st.st is Status.EXITED and str(st.exit_code) in values):
            return False
        if k == "label":
            for v in values:
                lk, leq, lv = v.partition("=")
                if lk not in rec.config.labels or (leq and rec.config.labels[lk] != lv):
                    return False
        if k == "ancestor" and not any(_ancestor(eng, rec, v) for v in values):
            return False
        if k == "volume" and not any(m.name == v or m.destination == v for m in rec.mounts for v in values):
            return False
    return True


def _ancestor(eng: ContainerEngine, rec: ContainerRecord, text: str) -> bool:
    if rec.config.image == text:
        return True
    found: bool
    try:
        found = eng.store.resolve_image(text).id == rec.image
        return found
    except SkiffError:
        return False


def ps(eng: ContainerEngine, *, all: bool = False, last: int = -1, filters: list[str] | None = None,
       no_trunc: bool = False) -> list[ContainerSummary]:
    rows: list[tuple[str, ContainerSummary]] = []
    for cid in eng.cs.ids():
        try:
            rec = eng.cs.record(cid)
            st = eng.cs.state(cid)
        except SkiffError:
            continue
        if not all and last < 0 and not filters and not st.st.is_live:
            continue
        if filters and not matches(rec, st, filters, eng):
            continue
        if not all and last < 0 and filters and not any(f.startswith(("status=", "exited=")) for f in filters) \
                and not st.st.is_live:
            continue
        cmd = " ".join([rec.path, *rec.args])
        if not no_trunc and len(cmd) > 20:
            cmd = cmd[:19] + "…"
        image = rec.config.image or rec.image
        rows.append((rec.created, ContainerSummary(
            id=rec.id if no_trunc else rec.short_id, names=[rec.bare_name], image=image,
            image_id=rec.image, command=f'"{cmd}"', created=_ago(rec.created), state=st.status,
            status=status_text(st), ports=ports_text(rec), labels=dict(rec.config.labels),
            mounts=[m.name or m.source for m in rec.mounts])))
    rows.sort(key=lambda r: r[0], reverse=True)
    out = [r[1] for r in rows]
    return out[:last] if last >= 0 else out


def inspect(eng: ContainerEngine, text: str) -> dict[str, Any]:
    cid = eng.cs.resolve(text)
    rec = eng.cs.record(cid)
    st = eng.cs.state(cid)
    obj: dict[str, Any] = to_obj(rec)
    state = {"Status": st.status, "Running": st.st in (Status.RUNNING, Status.PAUSED),
             "Paused": st.st is Status.PAUSED, "Restarting": st.st is Status.RESTARTING,
             "OOMKilled": st.oom_killed, "Dead": st.st is Status.DEAD,
             "Pid": st.pid if st.st.is_live else 0, "ExitCode": st.exit_code, "Error": st.error,
             "StartedAt": st.started_at, "FinishedAt": st.finished_at}
    out: dict[str, Any] = {"Id": rec.id, "Created": rec.created, "Path": rec.path, "Args": rec.args,
                           "State": state, "Image": rec.image,
                           "ResolvConfPath": str(eng.cs.rdir(cid) / "resolv.conf"),
                           "HostnamePath": str(eng.cs.rdir(cid) / "hostname"),
                           "HostsPath": str(eng.cs.rdir(cid) / "hosts"), "LogPath": str(eng.cs.log_path(cid)),
                           "Name": rec.name, "RestartCount": st.restart_count, "Driver": rec.driver,
                           "Platform": rec.platform, "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "",
                           "ExecIDs": None}
    hc = obj.get("HostConfig", {})
    hc.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
    out["HostConfig"] = hc
    out["GraphDriver"] = {"Name": rec.driver, "Data": None}
    out["Mounts"] = obj.get("Mounts", [])
    out["Config"] = obj.get("Config", {})
    out["NetworkSettings"] = _network_settings(eng, rec, st.st.is_live)
    return out


def _network_settings(eng: ContainerEngine, rec: ContainerRecord, live: bool) -> dict[str, Any]:
    from .networks import attachments

    ports: dict[str, Any] = {p: None for p in rec.config.exposed_ports}
    mode = rec.host_config.network_mode
    nets: dict[str, Any] = {}
    if mode in ("none", "host"):
        nets[mode] = {"IPAddress": "", "Gateway": "", "MacAddress": "", "NetworkID": mode}
    first: dict[str, Any] = {}
    for att in attachments(eng, rec) if live else []:
        ent = {"IPAddress": att.ip, "IPPrefixLen": att.prefixlen, "Gateway": att.gateway, "MacAddress": att.mac,
               "NetworkID": att.network, "Aliases": att.aliases or None}
        nets[att.network] = ent
        first = first or ent
        for p in att.ports:
            ports.setdefault(f"{p.container_port}/{p.protocol}", [])
            lst = ports[f"{p.container_port}/{p.protocol}"] or []
            lst.append({"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)})
            ports[f"{p.container_port}/{p.protocol}"] = lst
    return {"Bridge": "", "SandboxID": "", "Ports": ports, "SandboxKey": "",
            "IPAddress": first.get("IPAddress", ""), "IPPrefixLen": first.get("IPPrefixLen", 0),
            "Gateway": first.get("Gateway", ""), "MacAddress": first.get("MacAddress", ""), "Networks": nets}


def published_ports(eng: ContainerEngine, text: str) -> list[tuple[str, str, str]]:
    """(container port/proto, host ip, host port) of a running container (its real host ports)."""
    from .networks import attachments

    cid = eng.cs.resolve(text)
    rec = eng.cs.record(cid)
    if not eng.cs.state(cid).st.is_live:
        return []
    return [(f"{p.container_port}/{p.protocol}", p.host_ip or "0.0.0.0", str(p.host_port))
            for att in attachments(eng, rec) for p in att.ports]


def logs(eng: ContainerEngine, text: str, *, follow: bool = False, tail: str = "all", since: str | None = None,
         until: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(stream, time, text) entries of the json-file log; with ``follow`` until the container stops."""
    cid = eng.cs.resolve(text)
    path = str(eng.cs.log_path(cid))
    since_ns = _time_arg(since, "--since") if since else None
    until_ns = _time_arg(until, "--until") if until else None
    entries, offset = read_entries(path)
    if tail != "all":
        try:
            n = int(tail)
        except ValueError:
            raise InvalidArgumentError(f'invalid value for "--tail": "{tail}"') from None
        entries = entries[-n:] if n > 0 else ([] if n == 0 else entries)

    def keep(e: tuple[str, str, str]) -> bool:
        if since_ns is None and until_ns is None:
            return True
        t = parse_rfc3339(e[1])
        return (since_ns is None or t >= since_ns) and (until_ns is None or t <= until_ns)

    yield from (e for e in entries if keep(e))
    if not follow:
        return
    while True:
        live = eng.cs.state(cid).st.is_live if eng.cs.cdir(cid).is_dir() else False
        entries, offset = read_entries(path, offset)
        yield from (e for e in entries if keep(e))
        if not live:
            entries, offset = read_entries(path, offset)
            yield from (e for e in entries if keep(e))
            return
        time.sleep(0.05)


def _time_arg(value: str, flag: str) -> int:
    """--since/--until: RFC 3339, a Unix timestamp, or a duration like 10m (relative to now)."""
    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", value)
    if m:
        mult = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[m.group(2)]
        return time.time_ns() - int(float(m.group(1)) * mult)
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return int(float(value) * 1e9)
    try:
        return parse_rfc3339(value)
    except (ValueError, IndexError):
        raise InvalidArgumentError(f'invalid value for "{flag}": "{value}"') from None


def cgroup_dirs(pid: int) -> dict[str, str]:
    """controller -> cgroup folder of ``pid`` (v1 controllers, and "unified" for v2)."""
    out: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        for c in (ctrls.split(",") if ctrls else ["unified"]):
            c = c.removeprefix("name=")
            base = "/sys/fs/cgroup/unified" if c == "unified" else f"/sys/fs/cgroup/{c}"
            if not os.path.isdir(base) and c == "unified":
                base = "/sys/fs/cgroup"
            out[c] = base + path
    return out


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def cgroup_pids(pid: int) -> list[int]:
    d = cgroup_dirs(pid)
    for key in ("pids", "memory", "unified"):
        if key in d:
            text = _read(d[key] + "/cgroup.procs")
            if text is not None:
                return [int(x) for x in text.split()]
    return [pid]


def running_pid(eng: ContainerEngine, text: str) -> tuple[str, int]:
    cid = eng.cs.resolve(text)
    st = eng.cs.state(cid)
    if not st.st.is_live:
        from skiff.errors import ConflictError

        raise ConflictError(f"container {cid} is not running")
    return cid, st.pid


def top(eng: ContainerEngine, text: str, ps_args: list[str]) -> tuple[list[str], list[list[str]]]:
    import subprocess

    _, pid = running_pid(eng, text)
    pids = cgroup_pids(pid)
    args = ps_args or ["-ef"]
    out = subprocess.run(["ps", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SkiffError(f"ps {' '.join(args)}: {out.stderr.strip()}")
    lines = out.stdout.splitlines()
    header = lines[0].split()
    try:
        pcol = header.index("PID")
    except ValueError:
        raise SkiffError("couldn't find PID field in ps output") from None
    rows = []
    for line in lines[1:]:
        fields = line.split(None, len(header) - 1)
        if len(fields) > pcol and fields[pcol].isdigit() and int(fields[pcol]) in pids:
            rows.append(fields)
    return header, rows


@dataclass(frozen=True)
class StatsReport:
    """One container's `skiff stats` figures: CPU percent over the interval, memory use and limit, pids."""

    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    pids: int


def stats(eng: ContainerEngine, text: str, interval: float = 0.2) -> StatsReport:
    cid = eng.cs.resolve(text)
    rec = eng.cs.record(cid)
    st = eng.cs.state(cid)
    if not st.st.is_live:
        return StatsReport(cid, rec.bare_name, 0.0, 0, 0, 0)
    d = cgroup_dirs(st.pid)

    def cpu_ns() -> int:
        if "cpuacct" in d and (v := _read(d["cpuacct"] + "/cpuacct.usage")):
            return int(v)
        if "unified" in d and (v := _read(d["unified"] + "/cpu.stat")):
            for line in v.splitlines():
                k, _, n = line.partition(" ")
                if k == "usage_usec":
                    return int(n) * 1000
        return 0

    c0, t0 = cpu_ns(), time.monotonic()
    time.sleep(interval)
    c1, t1 = cpu_ns(), time.monotonic()
    cpu = (c1 - c0) / ((t1 - t0) * 1e9) * 100.0
    mem = lim = 0
    if "memory" in d:
        usage = int(_read(d["memory"] + "/memory.usage_in_bytes") or 0)
        stat = dict(line.split() for line in (_read(d["memory"] + "/memory.stat") or "").splitlines()
                    if len(line.split()) == 2)
        mem = max(0, usage - int(stat.get("total_inactive_file", 0)))
        lim = int(_read(d["memory"] + "/memory.limit_in_bytes") or 0)
    elif "unified" in d:
        mem = int(_read(d["unified"] + "/memory.current") or 0)
        raw = _read(d["unified"] + "/memory.max") or "max"
        lim = 0 if raw == "max" else int(raw)
    host_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if not lim or lim > host_mem:
        lim = host_mem
    pids = len(cgroup_pids(st.pid))
    if "pids" in d and (v := _read(d["pids"] + "/pids.current")):
        pids = int(v)
    return StatsReport(cid, rec.bare_name, cpu, mem, lim, pids)
