"""Read-only container queries: inspect (Docker's JSON shape), logs, top, stats, port; ps is in
:mod:`.containers_list`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.monitor.logs import LogTail, parse_rfc3339, read_entries, rotated
from skiff.oci.codec import to_obj
from skiff.records import dataclass

from .containers_model import ContainerRecord
from .containers_state import Status

if TYPE_CHECKING:
    from .containers import ContainerEngine


def inspect(eng: ContainerEngine, text: str, *, size: bool = False) -> dict[str, Any]:
    """Docker's container JSON (every key Docker's structs marshal; see inspect_shapes); with ``size``,
    SizeRw (the writable layer) and SizeRootFs (that plus the image), as `inspect -s` shows."""
    from . import inspect_shapes

    cid = eng.cs.resolve(text)
    rec = eng.cs.record(cid)
    st = eng.cs.state(cid)
    obj: dict[str, Any] = to_obj(rec)
    # moby's SetRestarting: a container waiting to restart counts as running, with no pid
    state = {"Status": st.status, "Running": st.st.is_live,
             "Paused": st.st is Status.PAUSED, "Restarting": st.st is Status.RESTARTING,
             "OOMKilled": st.oom_killed, "Dead": st.st is Status.DEAD,
             "Pid": st.pid if st.st in (Status.RUNNING, Status.PAUSED) else 0, "ExitCode": st.exit_code, "Error": st.error,
             "StartedAt": st.started_at, "FinishedAt": st.finished_at}
    if rec.config.healthcheck is not None:
        from . import containers_health

        if containers_health.effective(rec) is not None:
            h = containers_health.read(eng, cid) or {}
            state["Health"] = {"Status": h.get("Status", "starting"), "FailingStreak": h.get("FailingStreak", 0),
                               "Log": h.get("Log") or []}
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
    if size:
        out["SizeRw"], out["SizeRootFs"] = _inspect_sizes(eng, rec)
    out["Mounts"] = obj.get("Mounts", [])
    out["Config"] = obj.get("Config", {})
    out["NetworkSettings"] = _network_settings(eng, rec, st.st.is_live)
    return inspect_shapes.container(out)


def _inspect_sizes(eng: ContainerEngine, rec: ContainerRecord) -> tuple[int, int]:
    from .containers_list import dir_size

    drv = eng.store.driver
    try:
        rw = dir_size(str(drv.upper_dir(rec.id))) if drv.exists(rec.id) else 0
    except (OSError, SkiffError):
        rw = 0
    try:
        image = eng.store.resolve_image(rec.image).size
    except SkiffError:
        image = 0
    return rw, rw + image


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
        ipam = {k: rec.endpoint[k] for k in ("IPv4Address", "LinkLocalIPs") if rec.endpoint.get(k)}
        if ipam:
            ent["IPAMConfig"] = ipam
        if att.link_local_ips:  # network connect --link-local-ip (kept on the endpoint)
            ent["IPAMConfig"] = {**(ent.get("IPAMConfig") or {}), "LinkLocalIPs": list(att.link_local_ips)}
        if att.links:  # network connect --link NAME:ALIAS
            ent["Links"] = list(att.links)
        if att.driver_opts:  # network connect --driver-opt
            ent["DriverOpts"] = dict(att.driver_opts)
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
    if eng.cs.record(cid).host_config.log_config.type == "none":
        raise SkiffError("configured logging driver does not support reading")
    path = str(eng.cs.log_path(cid))
    since_ns = _time_arg(since, "--since") if since else None
    until_ns = _time_arg(until, "--until") if until else None
    entries = [e for old in rotated(path) for e in read_entries(old)[0]]  # json-file's rotated files first
    latest, offset = read_entries(path)
    entries += latest
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
    tail_ = LogTail(path, offset)
    try:
        while True:
            live = eng.cs.state(cid).st.is_live if eng.cs.cdir(cid).is_dir() else False
            yield from (e for e in tail_.read() if keep(e))
            if not live:
                yield from (e for e in tail_.read() if keep(e))
                return
            time.sleep(0.05)
    finally:
        tail_.close()


def _time_arg(value: str, flag: str) -> int:
    """--since/--until as Docker reads them (a Go duration, a date or RFC 3339 time, local when it has no
    zone, or a Unix timestamp): Unix nanoseconds (see timetypes)."""
    from .timetypes import unix_nanos

    return unix_nanos(value, flag.lstrip("-"))


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
    eng.event(eng.lookup(text), "top")
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
    container: str = ""  # the name or ID the user asked for
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    running: bool = True


def net_io(pid: int) -> tuple[int, int]:
    """Received and sent bytes of every interface but lo in ``pid``'s network namespace (/proc/PID/net/dev
    shows the namespace of PID), as Docker sums its Networks stats."""
    text = _read(f"/proc/{pid}/net/dev") or ""
    return parse_net_dev(text)


def parse_net_dev(text: str) -> tuple[int, int]:
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def block_io(d: dict[str, str]) -> tuple[int, int]:
    """Bytes read and written by the cgroup: blkio.throttle.io_service_bytes (v1) or io.stat (v2)."""
    if "blkio" in d:
        text = _read(d["blkio"] + "/blkio.throttle.io_service_bytes_recursive")
        if text is None:
            text = _read(d["blkio"] + "/blkio.throttle.io_service_bytes")
        return parse_blkio(text or "")
    if "unified" in d:
        return parse_io_stat(_read(d["unified"] + "/io.stat") or "")
    return 0, 0


def parse_blkio(text: str) -> tuple[int, int]:
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            continue  # the "Total N" line
        if parts[1].lower() == "read":
            read += int(parts[2])
        elif parts[1].lower() == "write":
            write += int(parts[2])
    return read, write


def parse_io_stat(text: str) -> tuple[int, int]:
    read = write = 0
    for line in text.splitlines():
        for kv in line.split()[1:]:
            k, _, v = kv.partition("=")
            if k == "rbytes" and v.isdigit():
                read += int(v)
            elif k == "wbytes" and v.isdigit():
                write += int(v)
    return read, write


def stats(eng: ContainerEngine, text: str, interval: float = 0.2) -> StatsReport:
    return stats_many(eng, [text], interval)[0]


def stats_many(eng: ContainerEngine, texts: list[str], interval: float = 0.2) -> list[StatsReport]:
    """The figures of several containers over one shared interval (CPU use is sampled at its start and end for
    all of them: a frame of `stats` takes ``interval`` whatever the number of containers). A container that is
    not running gets zeros and ``running`` False."""
    live: list[tuple[int, str, str, Any, Any, dict[str, str], int]] = []
    out: dict[int, StatsReport] = {}
    for i, text in enumerate(texts):
        cid = eng.cs.resolve(text)
        rec = eng.cs.record(cid)
        st = eng.cs.state(cid)
        if not st.st.is_live:
            out[i] = StatsReport(cid, rec.bare_name, 0.0, 0, 0, 0, container=text, running=False)
            continue
        d = cgroup_dirs(st.pid)
        live.append((i, text, cid, rec, st, d, _cpu_ns(d)))
    t0 = time.monotonic()
    if live:
        time.sleep(interval)
    t1 = time.monotonic()
    host_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for i, text, cid, rec, st, d, c0 in live:
        cpu = (_cpu_ns(d) - c0) / ((t1 - t0) * 1e9) * 100.0
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
        if not lim or lim > host_mem:
            lim = host_mem
        pids = len(cgroup_pids(st.pid))
        if "pids" in d and (v := _read(d["pids"] + "/pids.current")):
            pids = int(v)
        rx, tx = net_io(st.pid) if (rec.host_config.network_mode or "bridge") != "host" else (0, 0)
        rd, wr = block_io(d)
        out[i] = StatsReport(cid, rec.bare_name, cpu, mem, lim, pids, container=text, net_rx=rx,
                                             net_tx=tx, block_read=rd, block_write=wr)
    return [out[i] for i in range(len(texts))]


def _cpu_ns(d: dict[str, str]) -> int:
    """The cgroup's CPU time in nanoseconds (cgroup v1 cpuacct, else v2's cpu.stat)."""
    if "cpuacct" in d and (v := _read(d["cpuacct"] + "/cpuacct.usage")):
        return int(v)
    if "unified" in d and (v := _read(d["unified"] + "/cpu.stat")):
        for line in v.splitlines():
            k, _, n = line.partition(" ")
            if k == "usage_usec":
                return int(n) * 1000
    return 0
