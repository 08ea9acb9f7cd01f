"""The real :class:`skiff.kernel.Kernel`: libc through ctypes (x86_64 and aarch64 syscall numbers)."""

from __future__ import annotations

import ctypes
import os
import signal

_NR = {
    "x86_64": {"pivot_root": 155, "capset": 126, "clone": 56, "seccomp": 317, "close_range": 436, "clone3": 435,
               "mount_setattr": 442},
    "aarch64": {"pivot_root": 41, "capset": 91, "clone": 220, "seccomp": 277, "close_range": 436, "clone3": 435,
                "mount_setattr": 442},
}
_CLONE_INTO_CGROUP = 0x200000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


class _CloneArgs(ctypes.Structure):  # struct clone_args, CLONE_ARGS_SIZE_VER2 (Linux 5.7)
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls", "set_tid",
        "set_tid_size", "cgroup")]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_SECCOMP_SET_MODE_FILTER = 1
_MACHINE = os.uname().machine


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


class LinuxKernel:
    """System calls through libc. One instance can be shared; it holds no state but the library handles."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        # PyDLL keeps the GIL across the call: needed for clone, whose child continues in this interpreter.
        self._pylibc = ctypes.PyDLL(None, use_errno=True)
        self._nr = _NR[_MACHINE]
        self._libc.syscall.restype = ctypes.c_long
        self._pylibc.syscall.restype = ctypes.c_long
        self._libc.prctl.restype = ctypes.c_int
        self._libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                     ctypes.c_ulong]

    def unshare(self, flags: int) -> None:
        _check(self._libc.unshare(ctypes.c_int(flags)), "unshare")

    def setns(self, fd: int, nstype: int) -> None:
        _check(self._libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None) -> None:
        ret = self._libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
        _check(ret, f"mount {target}")

    def umount2(self, target: str, flags: int) -> None:
        _check(self._libc.umount2(_b(target), ctypes.c_int(flags)), f"umount {target}")

    def mount_setattr(self, fd: int, attr_set: int, attr_clr: int) -> None:
        """The mount tree whose root ``fd`` is (an O_PATH fd), every mount under it too (AT_RECURSIVE)."""
        attr = (ctypes.c_uint64 * 4)(attr_set, attr_clr, 0, 0)  # struct mount_attr: set, clr, propagation, userns
        ret = self._libc.syscall(ctypes.c_long(self._nr["mount_setattr"]), ctypes.c_int(fd), b"",
                                 ctypes.c_uint(0x1000 | 0x8000), ctypes.byref(attr),  # AT_EMPTY_PATH|AT_RECURSIVE
                                 ctypes.c_size_t(ctypes.sizeof(attr)))
        _check(ret, "mount_setattr")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        ret = self._libc.syscall(ctypes.c_long(self._nr["pivot_root"]), _b(new_root), _b(put_old))
        _check(ret, "pivot_root")

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        _check(self._libc.sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        _check(self._libc.setdomainname(raw, ctypes.c_size_t(len(raw))), "setdomainname")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return _check(self._libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        hdr = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        for i in range(2):
            shift = 32 * i
            data[i].effective = (effective >> shift) & 0xFFFFFFFF
            data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        ret = self._libc.syscall(ctypes.c_long(self._nr["capset"]), ctypes.byref(hdr), data)
        _check(ret, "capset")

    def close_range(self, first: int, last: int, flags: int) -> None:
        ret = self._libc.syscall(ctypes.c_long(self._nr["close_range"]), ctypes.c_uint(first),
                                 ctypes.c_uint(last), ctypes.c_uint(flags))
        _check(ret, "close_range")

    def seccomp_load_bpf(self, program: bytes, flags: int = 0) -> None:
        """Install a compiled seccomp BPF program (needs no_new_privs or CAP_SYS_ADMIN)."""
        buf = ctypes.create_string_buffer(program, len(program))
        prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
        ret = self._libc.syscall(ctypes.c_long(self._nr["seccomp"]), ctypes.c_ulong(_SECCOMP_SET_MODE_FILTER),
                                 ctypes.c_ulong(flags), ctypes.byref(prog))
        _check(ret, "seccomp")

    def clone(self, flags: int, cgroup_fd: int | None = None) -> int:
        """fork(2) into new namespaces in one step: returns 0 in the child, the child's pid in the parent.

        With ``cgroup_fd`` (a cgroup2 folder), clone3's CLONE_INTO_CGROUP starts the child in that cgroup:
        no migration afterwards, whose first write to cgroup.procs waits for an RCU grace period (5-15 ms).
        Does what ``os.fork`` does around the call (PyOS_BeforeFork / AfterFork_*), with the GIL held, so
        the child continues in this interpreter. The caller must be single-threaded.
        """
        api = ctypes.pythonapi
        args = None
        if cgroup_fd is not None:  # stack 0 and stack_size 0: the child runs on a copy of ours, as after fork
            args = _CloneArgs(flags=flags | _CLONE_INTO_CGROUP, exit_signal=signal.SIGCHLD, cgroup=cgroup_fd)
        api.PyOS_BeforeFork()
        if args is not None:
            ret = self._pylibc.syscall(ctypes.c_long(self._nr["clone3"]), ctypes.byref(args),
                                       ctypes.c_size_t(ctypes.sizeof(args)))
        elif _MACHINE == "x86_64":  # clone(flags, stack, parent_tid, child_tid, tls)
            ret = self._pylibc.syscall(ctypes.c_long(self._nr["clone"]), ctypes.c_ulong(flags | signal.SIGCHLD),
                                       ctypes.c_void_p(0), ctypes.c_void_p(0), ctypes.c_void_p(0),
                                       ctypes.c_ulong(0))
        else:  # aarch64: clone(flags, stack, parent_tid, tls, child_tid)
            ret = self._pylibc.syscall(ctypes.c_long(self._nr["clone"]), ctypes.c_ulong(flags | signal.SIGCHLD),
                                       ctypes.c_void_p(0), ctypes.c_void_p(0), ctypes.c_ulong(0),
                                       ctypes.c_void_p(0))
        if ret == 0:
            api.PyOS_AfterFork_Child()
            return 0
        err = ctypes.get_errno()
        api.PyOS_AfterFork_Parent()
        if ret < 0:
            raise OSError(err, f"{'clone3' if args is not None else 'clone'}: {os.strerror(err)}")
        return int(ret)
