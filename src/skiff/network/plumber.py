"""A helper process that joins one container to a network for the engine, started before the container
exists so that its imports (pyroute2's message classes, the network manager: ~20 ms) run on another core
while the engine prepares the rootfs and the bundle.

    python -S -c '...; from skiff.network.plumber import main; main()' ROOT RUNROOT BRIDGE_PREFIX NFT_TABLE NETWORK

It reads one JSON request per line on stdin and answers each with one JSON line on stdout:

    {"op": "attach", "cid": ..., "netns": "/proc/PID/ns/net", "network": ..., "name": ..., "ports": [...]}
        -> {"ok": {attachment}} | {"error": message, "kind": class name, "exit_code": n}
    {"op": "release", "cid": ...}            -> {"ok": null} | {"error": ...}

End of input ends it. The engine side is :class:`Plumber`; a request does exactly what the same
:class:`~skiff.network.manager.NetworkManager` call does in the engine's own process.
"""

from __future__ import annotations

import os
import sys

from skiff.errors import SkiffError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from skiff.network.model import Attachment

PORT_FIELDS = ("container_port", "protocol", "host_ip", "host_port", "host_port_end")
ATTACHMENT_FIELDS = ("network", "container_id", "ip", "gateway", "prefixlen", "mac", "ifname", "veth", "internal",
                     "dns_server", "aliases")


def attachment_to_json(att: Attachment) -> dict[str, Any]:
    ports = [{f: getattr(p, f) for f in PORT_FIELDS} for p in att.ports]
    return {**{f: getattr(att, f) for f in ATTACHMENT_FIELDS}, "ports": ports}


def _serve(root: str, runroot: str, prefix: str, table: str, network: str) -> None:
    import json
    from pathlib import Path

    from skiff.network import rtnl
    from skiff.network.etcfiles import rewrite_in_place
    from skiff.network.manager import NetworkManager
    from skiff.network.model import PortMapping
    from skiff.network.ports import with_exposed

    rtnl.load()  # the expensive part, done before the first request arrives
    mgr = NetworkManager(Path(root), Path(runroot), bridge_prefix=prefix, table=table)
    mgr.warm(network)
    for line in sys.stdin:
        req = json.loads(line)
        reply: dict[str, Any]
        try:
            if req["op"] == "attach":
                ports = [PortMapping(**p) for p in req["ports"]]
                if req.get("exposed") is not None:
                    ports = with_exposed(ports, req["exposed"], True)
                ep = req.get("endpoint") or {}
                att = mgr.attach(req["cid"], req["netns"], req["network"], name=req["name"], ports=ports,
                                 aliases=ep.get("Aliases", ()), ip=ep.get("IPv4Address"), mac=ep.get("MacAddress"),
                                 link_local_ips=ep.get("LinkLocalIPs", ()))
                if req.get("rundir"):
                    try:
                        rewrite_in_place(Path(req["rundir"]), req["hostname"], [att], **req["etc"])
                    except BaseException:
                        mgr.release_all(req["cid"])
                        raise
                reply = {"ok": attachment_to_json(att)}
            elif req["op"] == "release":
                mgr.release_all(req["cid"])
                reply = {"ok": None}
            else:
                reply = {"error": f"unknown request {req['op']!r}", "kind": "NetworkError", "exit_code": 125}
        except SkiffError as e:
            reply = {"error": e.message, "kind": type(e).__name__, "exit_code": e.exit_code}
        except Exception as e:  # noqa: BLE001 - reported to the engine, which raises it
            reply = {"error": f"network set-up failed: {e}", "kind": "NetworkError", "exit_code": 125}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> None:
    _serve(*sys.argv[1:6])
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: the engine does not wait for it


class HelperGone(SkiffError):
    """The plumber process died or could not start (its stderr is not kept): the caller may do the work in
    its own process instead."""


class _Helper:
    """The helper process: its pid and the two ends of its stdin and stdout."""

    def __init__(self, pid: int, stdin: BinaryIO, stdout: BinaryIO) -> None:
        self.pid = pid
        self.stdin: BinaryIO | None = stdin
        self.stdout: BinaryIO | None = stdout

    def kill(self) -> None:
        os.kill(self.pid, 9)

    def wait(self) -> int:
        return os.waitpid(self.pid, 0)[1]


class Plumber:
    """The engine's handle on a plumber process (started by :meth:`spawn`, ended by :meth:`close`)."""

    def __init__(self, proc: _Helper) -> None:
        self.proc = proc
        self.pending = 0  # requests sent whose answers are not read yet

    @classmethod
    def spawn(cls, root: str, runroot: str, prefix: str, table: str, network: str) -> Plumber:
        """posix_spawn rather than subprocess (~5 ms to import, on `skiff run`'s path): the pipes are made
        close-on-exec, so the helper gets them as stdin and stdout and no other descriptor of ours."""
        code = (f"import gc, sys; gc.disable(); sys.path[:] = {sys.path!r}; "  # gc: as in the CLI (launchers)
                "from skiff.modpack import install; install(); "  # pyroute2's ~160 modules from one file
                "from skiff.network.plumber import main; main()")
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        try:
            pid = os.posix_spawn(sys.executable,
                                 [sys.executable, "-S", "-c", code, root, runroot, prefix, table, network],
                                 os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, r_in, 0),
                                                           (os.POSIX_SPAWN_DUP2, w_out, 1),
                                                           (os.POSIX_SPAWN_DUP2, null, 2)])
        except BaseException:
            os.close(w_in)
            os.close(r_out)
            raise
        finally:
            for fd in (r_in, w_out, null):
                os.close(fd)
        return cls(_Helper(pid, open(w_in, "wb"), open(r_out, "rb")))

    def send(self, req: dict[str, Any]) -> None:
        """Write a request; its answer is read by :meth:`answer` (one per request, in order)."""
        import json  # here, not at the top: `run` starts the helper before the CLI has loaded json (or re)

        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(req).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as e:
            raise HelperGone(f"network set-up failed: the network helper is gone ({e.strerror})") from None
        self.pending += 1

    def answer(self) -> Any:
        import json

        assert self.proc.stdout is not None
        self.pending -= 1
        try:
            line = self.proc.stdout.readline()
        except OSError as e:
            raise HelperGone(f"network set-up failed: the network helper is gone ({e.strerror})") from None
        if not line:
            raise HelperGone("network set-up failed: the network helper exited")
        reply = json.loads(line)
        if "error" in reply:
            raise _error(reply["kind"], reply["error"], int(reply.get("exit_code", 125)))
        return reply["ok"]

    def request(self, req: dict[str, Any]) -> Any:
        while self.pending:  # answers of earlier requests first
            self.answer()
        self.send(req)
        return self.answer()

    def attach(self, cid: str, netns: str, network: str, name: str, ports: list[dict[str, Any]], *,
               exposed: list[str] | None = None, rundir: str = "", hostname: str = "",
               etc: dict[str, list[str]] | None = None, wait: bool = True,
               endpoint: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """NetworkManager.attach with ``ports`` as PortMapping fields (plus, with ``exposed``, -P's ports);
        with ``rundir``, the container's hosts/hostname/resolv.conf rewritten there too (etcfiles). Returns
        the attachment as JSON (:func:`attachment_from_json` makes it a record); ``endpoint``: the container's
        --network-alias, --ip, --mac-address and --link-local-ip (``Aliases``, ``IPv4Address``, ``MacAddress``,
        ``LinkLocalIPs``). Without ``wait`` it only
        sends the request: the helper works while the caller goes on, and :meth:`answer` reads the result."""
        req = {"op": "attach", "cid": cid, "netns": netns, "network": network, "name": name, "ports": ports,
               "exposed": exposed, "rundir": rundir, "hostname": hostname, "etc": etc or {},
               "endpoint": endpoint or {}}
        if not wait:
            self.send(req)
            return None
        reply: dict[str, Any] = self.request(req)
        return reply

    def release(self, cid: str, *, wait: bool = True) -> None:
        """NetworkManager.release_all; without ``wait`` it runs while the caller goes on, and :meth:`close`
        collects its answer (`run --rm` removes the container's files meanwhile)."""
        if wait:
            self.request({"op": "release", "cid": cid})
        else:
            self.send({"op": "release", "cid": cid})

    def close(self) -> None:
        """Collect the answers still due (an error is shown as a warning: the container is gone by then),
        then end the input: the helper exits (without changing anything if it attached nothing). Its exit is
        not waited for."""
        while self.pending:
            try:
                self.answer()
            except Exception as e:  # noqa: BLE001 - reported, not raised: the container is already removed
                print(f"Warning: {e}", file=sys.stderr)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None and not f.closed:
                try:
                    f.close()
                except OSError:
                    pass


def _error(kind: str, message: str, exit_code: int) -> Exception:
    from skiff import errors
    from skiff.network import model

    cls = getattr(errors, kind, None) or getattr(model, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.SkiffError)):
        cls = errors.SkiffError
    e = cls(message)
    e.exit_code = exit_code
    return e


if __name__ == "__main__":  # pragma: no cover
    main()
