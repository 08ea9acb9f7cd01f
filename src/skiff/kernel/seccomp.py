"""ctypes bindings to libseccomp.so.2: build a filter from plain rules and load it."""

from __future__ import annotations

import ctypes
import os

ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000
ACT_NOTIFY = 0x7FC00000

CMP_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
           "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
_FLTATR_CTL_NNP = 3
_FLTATR_CTL_TSYNC = 4
_FLTATR_CTL_LOG = 6
_FLTATR_CTL_SSB = 7


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


_lib: ctypes.CDLL | None = None


def _libseccomp() -> ctypes.CDLL:
    global _lib  # a process-wide handle to a shared library; never changes once loaded
    if _lib is None:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)  # find_library would spawn ldconfig
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
        lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                               ctypes.POINTER(_ArgCmp)]
        _lib = lib
    return _lib


def syscall_number(name: str) -> int | None:
    """The native number of a syscall name, or None when this architecture has no such call."""
    nr = int(_libseccomp().seccomp_syscall_resolve_name(name.encode()))
    return None if nr < 0 else nr


def arch_token(name: str) -> int:
    """libseccomp's token for an architecture name such as ``x86_64``; 0 when unknown."""
    return int(_libseccomp().seccomp_arch_resolve_name(name.encode()))


class Filter:
    """A libseccomp filter context. Rules are (action, syscall number, [(index, op, a, b)])."""

    def __init__(self, default_action: int) -> None:
        self._lib = _libseccomp()
        self._ctx = self._lib.seccomp_init(ctypes.c_uint32(default_action))
        if not self._ctx:
            raise OSError(ctypes.get_errno() or 22, "seccomp_init failed")
        self._lib.seccomp_attr_set(self._ctx, _FLTATR_CTL_NNP, 0)  # the runtime sets no_new_privs itself

    def add_arch(self, token: int) -> None:
        ret = self._lib.seccomp_arch_add(self._ctx, ctypes.c_uint32(token))
        if ret < 0 and -ret != 17:  # EEXIST: the native arch is always there
            raise OSError(-ret, f"seccomp_arch_add: {os.strerror(-ret)}")

    def set_flag(self, attr: int, value: int = 1) -> None:
        self._lib.seccomp_attr_set(self._ctx, attr, value)

    def add_rule(self, action: int, nr: int, args: list[tuple[int, int, int, int]]) -> None:
        arr = (_ArgCmp * max(1, len(args)))()
        for i, (index, op, a, b) in enumerate(args):
            arr[i] = _ArgCmp(index, op, a, b)
        ret = self._lib.seccomp_rule_add_array(self._ctx, ctypes.c_uint32(action), nr, len(args), arr)
        if ret < 0 and -ret != 17:
            raise OSError(-ret, f"seccomp rule for syscall {nr}: {os.strerror(-ret)}")

    def load(self) -> None:
        ret = self._lib.seccomp_load(self._ctx)
        if ret < 0:
            raise OSError(-ret, f"seccomp_load: {os.strerror(-ret)}")

    def export_bpf(self) -> bytes:
        """The compiled BPF program (struct sock_filter array), for loading with seccomp(2) directly."""
        fd = os.memfd_create("skiff-seccomp", os.MFD_CLOEXEC)
        try:
            ret = self._lib.seccomp_export_bpf(self._ctx, fd)
            if ret < 0:
                raise OSError(-ret, f"seccomp_export_bpf: {os.strerror(-ret)}")
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._ctx:
            self._lib.seccomp_release(self._ctx)
            self._ctx = None


FLAG_ATTRS = {"SECCOMP_FILTER_FLAG_TSYNC": _FLTATR_CTL_TSYNC, "SECCOMP_FILTER_FLAG_LOG": _FLTATR_CTL_LOG,
              "SECCOMP_FILTER_FLAG_SPEC_ALLOW": _FLTATR_CTL_SSB}
