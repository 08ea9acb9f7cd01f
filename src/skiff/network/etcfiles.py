"""/etc/hosts, /etc/hostname and /etc/resolv.conf generated for a container."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

from skiff.errors import InvalidArgumentError
from skiff.network.model import Attachment
from skiff.network.state import atomic_write
from skiff.records import dataclass

FALLBACK_DNS = ("8.8.8.8", "8.8.4.4")  # Docker's choice when the host only has a loopback resolver


@dataclass(frozen=True)
class ResolvConf:
    """What a ``resolv.conf`` says: its nameservers, search domains and options."""

    nameservers: list[str]
    search: list[str]
    options: list[str]


def read_resolv_conf(path: Path) -> ResolvConf:
    ns: list[str] = []
    search: list[str] = []
    options: list[str] = []
    try:
        text = path.read_text()
    except OSError:
        return ResolvConf(ns, search, options)
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            ns.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            options.extend(words[1:])
    return ResolvConf(ns, search, options)


def _is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr.split("%")[0]).is_loopback
    except ValueError:
        return False


def host_resolvers(resolv: Path = Path("/etc/resolv.conf")) -> ResolvConf:
    """The host's resolvers as usable from a container: loopback ones replaced (systemd-resolved's upstream
    file, else Docker's public fallback)."""
    conf = read_resolv_conf(resolv)
    usable = [n for n in conf.nameservers if not _is_loopback(n)]
    if not usable and conf.nameservers:
        alt = read_resolv_conf(Path("/run/systemd/resolve/resolv.conf"))
        usable = [n for n in alt.nameservers if not _is_loopback(n)] or list(FALLBACK_DNS)
    if not conf.nameservers:
        usable = list(FALLBACK_DNS)
    return ResolvConf(usable, conf.search, conf.options)


HOST_GATEWAY = "host-gateway"


def parse_add_host(spec: str) -> tuple[str, str]:
    """docker/cli's ValidateExtraHost: ``name:ip`` or (docker/cli 25) ``name=ip``, the address optionally in
    brackets (``name:[::1]``); ``host-gateway`` stands for the host's address. -> (name, ip)."""
    name, sep, ip = spec.partition("=")
    if not sep:
        name, sep, ip = spec.partition(":")  # the first colon: the address may be IPv6
    bad = f'invalid argument "{spec}" for "--add-host" flag: '
    if not sep or not name or ":" in name:
        raise InvalidArgumentError(f'{bad}bad format for add-host: "{spec}"')
    if ip != HOST_GATEWAY:
        if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
            ip = ip[1:-1]
        try:
            ipaddress.ip_address(ip.strip())
        except ValueError:
            raise InvalidArgumentError(f'{bad}invalid IP address in add-host: "{ip}"') from None
    return name, ip


def write_etc_files(dest_dir: Path, hostname: str, attachments: Sequence[Attachment] = (), *,
                    extra_hosts: Sequence[str] = (), dns: Sequence[str] = (), dns_search: Sequence[str] = (),
                    dns_options: Sequence[str] = (), host_network: bool = False,
                    host_resolv: Path = Path("/etc/resolv.conf")) -> dict[str, Path]:
    """Write hosts, hostname and resolv.conf into ``dest_dir``; returns {"hosts"|"hostname"|"resolv.conf": path}.

    A container on a user network (an attachment with ``dns_server``) gets the embedded resolver; explicit
    ``dns`` wins over everything. ``host-gateway`` in ``extra_hosts`` is the first attachment's gateway.
    """
    for d in dns:
        try:
            ipaddress.ip_address(d)
        except ValueError:
            raise InvalidArgumentError(f"invalid --dns {d!r}: not an IP address") from None
    dest_dir = Path(dest_dir)
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
             "ff02::2\tip6-allrouters"]
    for name, ip in (parse_add_host(h) for h in extra_hosts):
        if ip == HOST_GATEWAY:
            if not attachments:
                raise InvalidArgumentError(f"--add-host {name}:host-gateway needs a bridge network")
            ip = attachments[0].gateway
        lines.append(f"{ip}\t{name}")
    for att in attachments:
        names = [hostname, *[a for a in att.aliases if a != hostname]]
        lines.append(f"{att.ip}\t{' '.join(dict.fromkeys(names))}")
    if host_network and not attachments:
        lines.append(f"127.0.1.1\t{hostname}")
    host = host_resolvers(host_resolv) if not host_network else read_resolv_conf(host_resolv)
    embedded = [a.dns_server for a in attachments if a.dns_server]
    if dns:
        servers = list(dns)
    elif embedded:
        servers = [embedded[0]]
    else:
        servers = host.nameservers
    search = list(dns_search) if dns_search else host.search
    options = list(dns_options) if dns_options else host.options
    if embedded and not dns and "ndots:0" not in options:
        options = [*options, "ndots:0"]
    resolv = [f"nameserver {s}" for s in servers]
    if search and search != ["."]:
        resolv.append("search " + " ".join(search))
    if options:
        resolv.append("options " + " ".join(options))
    out = {"hosts": dest_dir / "hosts", "hostname": dest_dir / "hostname", "resolv.conf": dest_dir / "resolv.conf"}
    atomic_write(out["hosts"], ("\n".join(lines) + "\n").encode())
    atomic_write(out["hostname"], f"{hostname}\n".encode())
    atomic_write(out["resolv.conf"], ("\n".join(resolv) + "\n").encode())
    return out


def rewrite_in_place(rundir: Path, hostname: str, attachments: Sequence[Attachment], *,
                     extra_hosts: Sequence[str] = (), dns: Sequence[str] = (), dns_search: Sequence[str] = (),
                     dns_options: Sequence[str] = ()) -> None:
    """A created container's hosts, hostname and resolv.conf (``rundir/<name>``, already bind-mounted into it)
    rewritten for its attachments: made in ``rundir/net``, then copied into the same inodes."""
    rundir = Path(rundir)
    tmp = rundir / "net"
    tmp.mkdir(exist_ok=True)
    files = write_etc_files(tmp, hostname, attachments, extra_hosts=extra_hosts, dns=dns, dns_search=dns_search,
                            dns_options=dns_options)
    for name, path in files.items():
        with open(rundir / name, "r+b") as f:  # in place: the container has these files bind-mounted
            f.truncate(0)
            f.write(Path(path).read_bytes())
