"""rename, port, container prune, system prune."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    v = verb(p)
    p.set_defaults(_verb=v)
    p.allow_abbrev = False
    if v == "rename":
        p.add_argument("container")
        p.add_argument("new_name")
    elif v == "port":
        p.add_argument("container")
        p.add_argument("private_port", nargs="?")
    elif v == "prune":
        p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
        p.add_argument("--filter", action="append", default=[], help="Provide filter values")
        if p.prog.split()[-2] == "system":
            p.add_argument("-a", "--all", action="store_true", help="Remove all unused images not just dangling")
            p.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")
            p.set_defaults(_verb="system-prune")


def port_lines(ports: list[tuple[str, str, str]], container: str, private: str | None) -> list[str]:
    """docker/cli `port`: every "80/tcp -> 0.0.0.0:8080", or the "host:port" bindings of one private port
    (tcp unless a protocol is given), in natural order."""
    import re

    from skiff.errors import InvalidArgumentError

    def host_port(ip: str, port: str) -> str:
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    if private:  # docker/cli 20.10: "PORT[/PROTO]" checked by nat.NewPort ("" and "a-b" ranges pass)
        port, proto = private, "tcp"
        head, slash, tail = private.partition("/")
        if slash and tail:
            port, proto = head, tail
        if port:
            parts = port.split("-", 1)
            for part in parts:
                if not re.fullmatch(r"[0-9]+", part) or int(part) > 65535:
                    raise InvalidArgumentError(f'strconv.ParseUint: parsing "{part}": ' + (
                        "value out of range" if re.fullmatch(r"[0-9]+", part) else "invalid syntax"), exit_code=1)
            if len(parts) == 2 and int(parts[1]) < int(parts[0]):
                raise InvalidArgumentError(f"Invalid range specified for the Port: {port}", exit_code=1)
        key = f"{port}/{proto}"
        out = [host_port(ip, hp) for k, ip, hp in ports if k == key]
        if not out:
            raise InvalidArgumentError(f"No public port '{key}' published for {container}", exit_code=1)
    else:
        out = [f"{k} -> {host_port(ip, hp)}" for k, ip, hp in ports]

    def natural(s: str) -> list[tuple[int, int | str]]:
        return [(0, int(t)) if t.isdigit() else (1, t) for t in re.findall(r"\d+|\D+", s)]

    return sorted(out, key=natural)


def _confirm(text: str) -> bool:
    print(f"WARNING! {text}\nAre you sure you want to continue? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.errors import SkiffError

    eng = engine(opts)
    try:
        if args._verb == "rename":  # docker/cli: the names trimmed, then the daemon's error and its own
            old, new = args.container.strip(), args.new_name.strip()
            if not old or not new:
                raise SkiffError("Neither old nor new names may be empty", exit_code=1)
            try:
                eng.rename(old, new)
            except SkiffError as e:
                print(f"Error response from daemon: {e.message}", file=sys.stderr)
                raise SkiffError(f"failed to rename container named {old}", exit_code=1) from None
            return 0
        if args._verb == "port":
            from skiff.engine.containers_query import published_ports

            for line in port_lines(published_ports(eng, args.container), args.container, args.private_port):
                print(line)
            return 0
        if args._verb == "prune":
            return _container_prune(eng, args)
        return _system_prune(eng, args)
    except SkiffError as e:
        raise as_daemon_error(e) from None


def _container_prune(eng: object, args: argparse.Namespace) -> int:
    from skiff.cli.commands._fmt import human_size
    from skiff.engine.prune import prune_containers

    if not args.force and not _confirm("This will remove all stopped containers."):
        return 0
    rep = prune_containers(eng, args.filter)  # type: ignore[arg-type]
    if rep.deleted:
        print("Deleted Containers:", *rep.deleted, "", sep="\n")
    print(f"Total reclaimed space: {human_size(rep.reclaimed, 4)}")
    return 0


def system_prune_warning(all: bool, volumes: bool, filters: list[str]) -> str:
    """docker/cli system/prune.go's confirmation text (the warnings, then the filters used)."""
    warnings = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        warnings.append("all anonymous volumes not used by at least one container")
    warnings.append("all images without at least one container associated to them" if all else
                    "all dangling images")
    warnings.append("all build cache" if all else "unused build cache")
    text = "This will remove:" + "".join(f"\n  - {w}" for w in warnings) + "\n"
    shown = sorted(f for f in filters if f.partition("=")[0] in ("label", "label!", "until"))
    if shown:
        text += "\n  Items to be pruned will be filtered with:" + "".join(f"\n  - {f}" for f in shown) + "\n"
    return text


def _system_prune(eng: object, args: argparse.Namespace) -> int:
    from skiff.cli.commands._fmt import human_size
    from skiff.engine.prune import system_prune

    if not args.force and not _confirm(system_prune_warning(args.all, args.volumes, args.filter)):
        return 0
    rep = system_prune(eng, all=args.all, volumes=args.volumes, filters=args.filter)  # type: ignore[arg-type]
    if rep.containers.deleted:
        print("Deleted Containers:", *rep.containers.deleted, "", sep="\n")
    if rep.networks:
        print("Deleted Networks:", *rep.networks, "", sep="\n")
    if rep.volumes is not None and rep.volumes.deleted:
        print("Deleted Volumes:", *rep.volumes.deleted, "", sep="\n")
    if rep.images_untagged or rep.images_deleted:
        print("Deleted Images:", *(f"untagged: {n}" for n in rep.images_untagged),
              *(f"deleted: {i}" for i in rep.images_deleted), "", sep="\n")
    records, mounts = rep.build_cache
    if records or mounts:
        print(f"Deleted build cache records: {records}, cache mounts: {mounts}", "", sep="\n")
    print(f"Total reclaimed space: {human_size(rep.reclaimed, 4)}")
    return 0
