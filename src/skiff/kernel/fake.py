"""A :class:`skiff.kernel.Kernel` that records calls instead of making them (for unit tests)."""

from __future__ import annotations

from typing import Any


class FakeKernel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.prctl_results: dict[int, int] = {}

    def _rec(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def unshare(self, flags: int) -> None:
        self._rec("unshare", flags)

    def setns(self, fd: int, nstype: int) -> None:
        self._rec("setns", fd, nstype)

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None) -> None:
        self._rec("mount", source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int) -> None:
        self._rec("umount2", target, flags)

    def mount_setattr(self, fd: int, attr_set: int, attr_clr: int) -> None:
        self._rec("mount_setattr", fd, attr_set, attr_clr)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._rec("pivot_root", new_root, put_old)

    def sethostname(self, name: str) -> None:
        self._rec("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._rec("setdomainname", name)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        self._rec("prctl", option, arg2, arg3, arg4, arg5)
        return self.prctl_results.get(option, 0)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._rec("capset", effective, permitted, inheritable)

    def close_range(self, first: int, last: int, flags: int) -> None:
        self._rec("close_range", first, last, flags)

    def seccomp_load_bpf(self, program: bytes, flags: int = 0) -> None:
        self._rec("seccomp_load_bpf", len(program), flags)

    def clone(self, flags: int) -> int:
        self._rec("clone", flags)
        return 4242
