"""A small rtnetlink client: pyroute2's message classes (ifinfmsg, ifaddrmsg, rtmsg) over one plain socket.

Why not ``pyroute2.IPRoute``: importing the ``pyroute2`` package runs its ``__init__``, which imports all of
pyroute2 (NDB, IPDB, conntrack, nl80211... and asyncio, on which 0.9's IPRoute runs an event loop per call):
230-290 ms before the first request, against a 20 ms budget for the default bridge in ``skiff run``. Here only
``pyroute2.netlink`` and the three rtnl message modules are imported (:func:`load`), requests are encoded and
decoded by pyroute2, and several requests go to the kernel in one datagram (:meth:`Rtnl.batch`).
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import importlib.util
import os
import socket
import struct
import sys
from collections.abc import Sequence
from typing import Any

from skiff.network.model import NetworkError

CLONE_NEWNET = 0x40000000
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 0x100, 0x200, 0x400, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_GETADDR, RTM_NEWROUTE, RTM_GETROUTE = 20, 22, 24, 26
IFF_UP = 0x1
_HDR = struct.Struct("=LHHLL")


class RtnlError(NetworkError):
    """A request the kernel refused; ``code`` is the errno."""

    def __init__(self, code: int, what: str) -> None:
        super().__init__(f"{what}: {os.strerror(code)}")
        self.code = code


def _lightweight_package() -> None:
    """Let ``import pyroute2.<sub>`` skip the package's ``__init__`` (which imports everything).

    The ``pyroute2`` entry put in ``sys.modules`` is the real package module, not yet executed; the first
    access to a name that only its ``__init__`` defines (``from pyroute2 import IPRoute`` anywhere else in
    the process) executes it then, so other users see the complete package."""
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.loader is None:
        raise NetworkError("pyroute2 is not installed (it is a dependency of skiff)")
    mod = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module hook
        if name.startswith("__"):
            raise AttributeError(name)
        if importlib.util.find_spec(f"pyroute2.{name}") is not None:  # `from pyroute2 import config`
            return importlib.import_module(f"pyroute2.{name}")
        mod.__dict__.pop("__getattr__", None)
        loader.exec_module(mod)
        return getattr(mod, name)

    mod.__dict__["__getattr__"] = __getattr__
    sys.modules["pyroute2"] = mod


def load() -> tuple[type[Any], type[Any], type[Any], type[Any]]:
    """The message classes: (link, link to create, address, route); pyroute2's, but for links."""
    _lightweight_package()
    ifaddr = importlib.import_module("pyroute2.netlink.rtnl.ifaddrmsg")
    rt = importlib.import_module("pyroute2.netlink.rtnl.rtmsg")
    from skiff.network.rtnl_link import ifinfmsg, ifinfmsg_new

    return ifinfmsg, ifinfmsg_new, ifaddr.ifaddrmsg, rt.rtmsg


def _enter(netns_path: str) -> tuple[Any, int, int]:
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"cannot open network namespace {netns_path}: {e.strerror}") from None
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    return libc, target, own


class Rtnl:
    """One NETLINK_ROUTE socket, in the host's network namespace or (``netns_path``) in another one: the
    socket is opened there and used from here."""

    def __init__(self, netns_path: str | None = None) -> None:
        self.ifinfmsg, self.ifinfmsg_new, self.ifaddrmsg, self.rtmsg = load()
        self._seq = 0
        if netns_path is None:
            self.sock = self._open()
            return
        libc, target, own = _enter(netns_path)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise NetworkError(f"cannot enter network namespace {netns_path}: {os.strerror(err)}")
            try:
                self.sock = self._open()
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:  # pragma: no cover - would leave the thread elsewhere
                    raise SystemExit("skiff: cannot return to the host network namespace")
        finally:
            os.close(target)
            os.close(own)

    @staticmethod
    def _open() -> socket.socket:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)  # NETLINK_ROUTE
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((0, 0))
        s.settimeout(10)
        return s

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- wire ------------------------------------------------------------------------------------
    def _encode(self, msg: Any, msg_type: int, flags: int) -> tuple[int, bytes]:
        self._seq += 1
        msg["header"]["type"] = msg_type
        msg["header"]["flags"] = NLM_F_REQUEST | flags
        msg["header"]["sequence_number"] = self._seq
        msg.encode()
        return self._seq, bytes(msg.data)

    def _replies(self, seqs: set[int], cls: type[Any] | None) -> tuple[dict[int, int], list[Any]]:
        """Read until every sequence number in ``seqs`` is answered (an ACK/error, or a dump's DONE)."""
        codes: dict[int, int] = {}
        msgs: list[Any] = []
        while len(codes) < len(seqs):
            try:
                buf = self.sock.recv(1 << 18)
            except TimeoutError:
                raise NetworkError("the kernel did not answer a netlink request within 10 s") from None
            off = 0
            while off + _HDR.size <= len(buf):
                length, mtype, flags, seq, _ = _HDR.unpack_from(buf, off)
                if length < _HDR.size:
                    break
                if seq in seqs:
                    if mtype == NLMSG_ERROR:
                        codes[seq] = -struct.unpack_from("=i", buf, off + _HDR.size)[0]
                    elif mtype == NLMSG_DONE:
                        codes[seq] = 0
                    elif cls is not None:
                        m = cls(buf[off:off + length])
                        m.decode()
                        msgs.append(m)
                        if not flags & NLM_F_MULTI:
                            codes[seq] = 0
                off += (length + 3) & ~3
        return codes, msgs

    def request(self, msg: Any, msg_type: int, flags: int = NLM_F_ACK, what: str = "netlink request",
                ok: Sequence[int] = ()) -> list[Any]:
        """One request; its answers (a dump's messages, a get's one). Errors not in ``ok`` raise RtnlError."""
        if msg_type not in (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE):
            flags |= NLM_F_ACK  # a change is always acknowledged: its answer is its ACK
        seq, data = self._encode(msg, msg_type, flags)
        self.sock.send(data)
        codes, msgs = self._replies({seq}, type(msg))
        if codes[seq] and codes[seq] not in ok:
            raise RtnlError(codes[seq], what)
        return msgs

    def batch(self, reqs: Sequence[tuple[Any, int, int, str]], ok: Sequence[int] = ()) -> None:
        """Several acknowledged requests in one datagram: (msg, type, flags, what). The kernel runs them in
        order (each one even when an earlier one failed); the first error not in ``ok`` is raised."""
        seqs: list[int] = []
        data = b""
        for msg, msg_type, flags, _ in reqs:
            seq, d = self._encode(msg, msg_type, flags | NLM_F_ACK)
            seqs.append(seq)
            data += d
        self.sock.send(data)
        codes, _ = self._replies(set(seqs), None)
        for seq, (_, _, _, what) in zip(seqs, reqs, strict=True):
            if codes[seq] and codes[seq] not in ok:
                raise RtnlError(codes[seq], what)

    # ---- messages --------------------------------------------------------------------------------
    def link_msg(self, index: int = 0, up: bool = False, **attrs: Any) -> Any:
        m = (self.ifinfmsg_new if "IFLA_LINKINFO" in attrs else self.ifinfmsg)()
        m["index"] = index
        if up:
            m["flags"], m["change"] = IFF_UP, IFF_UP
        m["attrs"] = [(k, v) for k, v in attrs.items() if v is not None]
        return m

    def addr_msg(self, index: int, ip: str, prefixlen: int) -> Any:
        m = self.ifaddrmsg()
        m["family"], m["prefixlen"], m["index"] = socket.AF_INET, prefixlen, index
        bcast = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", socket.inet_aton(ip))[0]
                                             | (0xFFFFFFFF >> prefixlen if prefixlen < 32 else 0)))
        m["attrs"] = [("IFA_LOCAL", ip), ("IFA_ADDRESS", ip), ("IFA_BROADCAST", bcast)]
        return m

    def default_route_msg(self, gateway: str, oif: int) -> Any:
        m = self.rtmsg()
        m["family"], m["table"], m["proto"], m["scope"], m["type"] = socket.AF_INET, 254, 3, 0, 1
        m["attrs"] = [("RTA_GATEWAY", gateway), ("RTA_OIF", oif)]
        return m

    # ---- queries ---------------------------------------------------------------------------------
    def get_link(self, name: str) -> Any | None:
        """One link by name, asked of the kernel; None when there is none."""
        got = self.request(self.link_msg(IFLA_IFNAME=name), RTM_GETLINK, 0, f"link {name}", ok=(errno.ENODEV,))
        return got[0] if got else None

    def links(self) -> list[Any]:
        return self.request(self.ifinfmsg(), RTM_GETLINK, NLM_F_DUMP, "link dump")

    def routes(self) -> list[Any]:
        m = self.rtmsg()
        m["family"] = socket.AF_INET
        return self.request(m, RTM_GETROUTE, NLM_F_DUMP, "route dump")

    def delete_link(self, name: str) -> bool:
        """Delete by name; False when there was no such link."""
        try:
            self.request(self.link_msg(IFLA_IFNAME=name), RTM_DELLINK, NLM_F_ACK, f"cannot delete link {name}")
        except RtnlError as e:
            if e.code == errno.ENODEV:
                return False
            raise
        return True
