"""Read-only lookups in a stack of overlay-form layer folders (top last) without mounting them: what a path
is in the image, and user/group names resolved from the image's /etc/passwd and /etc/group."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from skiff.errors import SkiffError

_MAX_DB = 4 << 20  # /etc/passwd larger than this is refused (SECURITY.md #24)


class UserError(SkiffError):
    exit_code = 1


class RootView:
    def __init__(self, layers: list[Path]) -> None:
        self.layers = layers  # bottom first

    def _find(self, rel: str) -> Path | None:
        """The topmost layer's copy of ``rel``; None when absent, whited out or hidden by an opaque folder."""
        parts = [p for p in rel.strip("/").split("/") if p and p != "."]
        for layer in reversed(self.layers):
            cur = layer
            found = True
            for i, part in enumerate(parts):
                cur = cur / part
                try:
                    st = os.lstat(cur)
                except (FileNotFoundError, NotADirectoryError):
                    if i > 0 and _opaque(cur.parent):
                        return None
                    found = False
                    break
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    return None
                if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
                    return None
            if found:
                return cur
        return None

    def exists(self, rel: str) -> bool:
        return self._find(rel) is not None

    def is_dir(self, rel: str) -> bool:
        p = self._find(rel)
        return p is not None and p.is_dir() and not p.is_symlink()

    def read(self, rel: str, limit: int = _MAX_DB) -> bytes | None:
        """A regular file's content (symlinks are not followed; a FIFO or device is refused)."""
        p = self._find(rel)
        if p is None:
            return None
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = os.read(fd, limit + 1)
            if len(data) > limit:
                raise UserError(f"/{rel.strip('/')} in the image is larger than {limit} bytes")
            return data
        finally:
            os.close(fd)


def _opaque(d: Path) -> bool:
    try:
        return os.getxattr(d, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _table(data: bytes | None) -> list[list[str]]:
    if not data:
        return []
    return [line.split(":") for line in data.decode(errors="replace").splitlines() if line and line[0] != "#"]


def resolve_user(read: object, spec: str, *, where: str) -> tuple[int, int, tuple[int, ...]]:
    """``USER``/``--chown`` spec (name|uid[:group|gid]) -> (uid, gid, additional gids), Docker's rules.

    ``read`` is a callable taking an image path and returning its bytes or None."""
    reader = read  # Callable[[str], bytes | None]
    user, _, group = spec.partition(":")
    passwd = _table(reader("/etc/passwd"))  # type: ignore[operator]
    groups = _table(reader("/etc/group"))  # type: ignore[operator]
    uid: int | None = None
    gid: int | None = None
    name = None
    if user.isdigit():
        uid = int(user)
        for row in passwd:
            if len(row) > 3 and row[2] == user:
                name, gid = row[0], int(row[3]) if row[3].isdigit() else 0
                break
    else:
        for row in passwd:
            if len(row) > 3 and row[0] == user:
                name = user
                uid = int(row[2]) if row[2].isdigit() else None
                gid = int(row[3]) if row[3].isdigit() else None
                break
        if uid is None:
            raise UserError(f"{where}: unable to find user {user}: no matching entries in passwd file")
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            for row in groups:
                if len(row) > 2 and row[0] == group:
                    gid = int(row[2])
                    break
            else:
                raise UserError(f"{where}: unable to find group {group}: no matching entries in group file")
    extra: list[int] = []
    if name is not None and not group:
        for row in groups:
            if len(row) > 3 and name in row[3].split(",") and row[2].isdigit():
                extra.append(int(row[2]))
    return uid, gid if gid is not None else 0, tuple(extra)
