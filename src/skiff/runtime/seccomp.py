"""linux.seccomp -> a compiled BPF program: built with libseccomp in the parent (or read from a cache keyed by
the profile's canonical digest), installed by the child with seccomp(2) just before execve.
"""

from __future__ import annotations

import errno
import os

from skiff.kernel import seccomp as lib
from skiff.oci.runtime import LinuxSeccomp
from skiff.runtime.errors import BundleError
from skiff.runtime.paths import read_bytes, write_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _typeshed import StrPath

_ACTIONS = {"SCMP_ACT_KILL": lib.ACT_KILL_THREAD, "SCMP_ACT_KILL_THREAD": lib.ACT_KILL_THREAD,
            "SCMP_ACT_KILL_PROCESS": lib.ACT_KILL_PROCESS, "SCMP_ACT_TRAP": lib.ACT_TRAP,
            "SCMP_ACT_ALLOW": lib.ACT_ALLOW, "SCMP_ACT_LOG": lib.ACT_LOG}


def action(name: str, errno_ret: int | None, default_errno: int = errno.EPERM) -> int:
    if name == "SCMP_ACT_ERRNO":
        return lib.ACT_ERRNO | ((errno_ret if errno_ret is not None else default_errno) & 0xFFFF)
    if name == "SCMP_ACT_TRACE":
        return lib.ACT_TRACE | ((errno_ret if errno_ret is not None else default_errno) & 0xFFFF)
    if name in _ACTIONS:
        return _ACTIONS[name]
    raise BundleError(f"config.json: linux.seccomp: action {name!r} is not supported")


def build(profile: LinuxSeccomp) -> lib.Filter:
    """A filter ready to load; syscall names unknown on this architecture are skipped (as runc and crun do)."""
    default_errno = profile.default_errno_ret if profile.default_errno_ret is not None else errno.EPERM
    default = action(profile.default_action, profile.default_errno_ret)
    flt = lib.Filter(default)
    try:
        for arch in profile.architectures:
            token = lib.arch_token(arch.removeprefix("SCMP_ARCH_").lower())
            if token:
                flt.add_arch(token)
        for flag in profile.flags:
            if flag in lib.FLAG_ATTRS:
                flt.set_flag(lib.FLAG_ATTRS[flag])
        for rule in profile.syscalls:
            act = action(rule.action, rule.errno_ret, default_errno)
            if act == default:
                continue
            args = [(a.index, lib.CMP_OPS[a.op], a.value, a.value_two or 0) for a in rule.args]
            for name in rule.names:
                nr = lib.syscall_number(name)
                if nr is not None:
                    flt.add_rule(act, nr, args)
    except BaseException:
        flt.release()
        raise
    return flt


_FLAG_BITS = {"SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}


def flags_of(profile: LinuxSeccomp) -> int:
    bits = 0
    for f in profile.flags:
        bits |= _FLAG_BITS.get(f, 0)
    return bits


def compile_bpf(profile: LinuxSeccomp, cache_dir: StrPath | None = None) -> bytes:
    """The BPF program for ``profile``; cached under ``cache_dir`` (per profile, kernel and architecture)."""
    from skiff.hashes import sha256
    from skiff.oci.codec import canonical
    key = sha256(canonical(profile) + os.uname().release.encode() + os.uname().machine.encode())
    path = os.path.join(cache_dir, f"{key.hexdigest()}.bpf") if cache_dir is not None else None
    if path is not None:
        try:
            data = read_bytes(path)
            if data and len(data) % 8 == 0:
                return data
        except OSError:
            pass
    flt = build(profile)
    try:
        data = flt.export_bpf()
    finally:
        flt.release()
    if path is not None:
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            tmp = f"{path.removesuffix('.bpf')}.{os.getpid()}.tmp"
            write_bytes(tmp, data)
            os.replace(tmp, path)
        except OSError:
            pass
    return data
