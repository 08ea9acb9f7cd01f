"""`skiff cp`: Docker's copy rules between a container and the host, or a tar stream on stdin/stdout.

Paths are cleaned as Docker cleans them: absolute, ``..`` stops at ``/``, and a trailing ``/`` or ``/.`` kept as
the claim that the path is a folder (``/.``: its content). Every container path is resolved inside the
container's root one component at a time (``archive.rootfs.RootDir``, ``containers_paths.open_in_root``) and
then read or written only through fds with the last name never followed, so a symlink planted or swapped by the
container cannot send a read or a write outside it (CVE-2018-15664). A destination that is a symlink is
followed (inside the root for a container path), as Docker does. The host side runs the same code with ``/``
as its root. A copy lands whole or not at all (a temporary sibling renamed into place), except into an existing
folder, which is merged.

Ownership, as Docker does it: into a container the source's owners are kept, or with ``-a`` the container's
user's (``Config.User``, read from the container's own /etc/passwd); out of a container files belong to the
invoking user, or with ``-a`` keep the container's owners. A running container's kernel file systems (proc,
sysfs, devpts, mqueue...) are not entered: their mount points are copied as empty folders.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from skiff.errors import InvalidArgumentError, NotFoundError, SkiffError
from skiff.records import dataclass

from .containers_files import container_root

if TYPE_CHECKING:
    from skiff.archive.walk import Item, Walker

    from .containers import ContainerEngine
    from .containers_model import ContainerRecord

# kernel file systems whose mount points a copy lists but never enters
PSEUDO_FS = frozenset({"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "debugfs", "tracefs",
                       "securityfs", "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "efivarfs",
                       "selinuxfs", "autofs", "rpc_pipefs", "nsfs"})
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class CpPath:
    """A cp path as Docker reads it: absolute and clean, plus what its trailing ``/`` or ``/.`` claimed."""

    path: str  # absolute, lexically clean ("/" for the root)
    contents: bool  # ended with "/." (or was "."): the folder's content, not the folder
    slash: bool  # ended with "/" or "/.": must be a folder

    @property
    def rel(self) -> str:
        return self.path.lstrip("/")

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def parse_path(text: str, cwd: str = "/") -> CpPath:
    """``text`` made absolute against ``cwd`` and cleaned (``..`` at the root stays at the root)."""
    clean = posixpath.normpath(text if text.startswith("/") else posixpath.join(cwd, text))
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    stripped = text.rstrip("/")
    contents = stripped == "." or stripped.endswith("/.")
    return CpPath(clean, contents, contents or text.endswith("/"))


def split_arg(text: str) -> tuple[str | None, str]:
    """``CONTAINER:PATH`` -> (container, path); a local path (absolute, ``./x:y``, no colon) -> (None, path)."""
    if text.startswith("/") or ":" not in text:
        return None, text
    c, _, p = text.partition(":")
    if c.startswith("."):
        return None, text
    return c, p


def pseudo_mount_devs(pid: int | str) -> frozenset[int]:
    """The st_dev of every kernel file system mounted in process ``pid``'s mount namespace."""
    try:
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return frozenset()
    devs = set()
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if sep and len(fields) > 2 and right.split(" ", 1)[0] in PSEUDO_FS:
            major, _, minor = fields[2].partition(":")
            if major.isdigit() and minor.isdigit():
                devs.add(os.makedev(int(major), int(minor)))
    return frozenset(devs)


def copy(eng: ContainerEngine, src: str, dst: str, *, follow_link: bool = False, archive: bool = False,
         stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """`skiff cp SRC DEST`: one side is ``CONTAINER:PATH``, the other a host path or ``-`` (a tar stream on
    stdin/stdout). ``follow_link`` (-L) copies what a source symlink points at; ``archive`` (-a) see above."""
    if not src:
        raise InvalidArgumentError("source can not be empty")
    if not dst:
        raise InvalidArgumentError("destination can not be empty")
    sc, sp = split_arg(src)
    dc, dp = split_arg(dst)
    if sc is not None and dc is not None:
        raise InvalidArgumentError("copying between containers is not supported")
    if sc is not None:
        _copy_out(eng, sc, sp, dp, follow_link=follow_link, keep_ids=archive, out=stdout)
        eng.event(eng.lookup(sc), "archive-path")  # moby's names for the two directions
    elif dc is not None:
        _copy_in(eng, sp, dc, dp, follow_link=follow_link, archive=archive, stdin=stdin)
        eng.event(eng.lookup(dc), "extract-to-dir")
    else:
        raise InvalidArgumentError("must specify at least one container source")


class _Source:
    """An open copy source inside ``root``: its type, the name its entries take, and the fds its items are
    read through (kept open until :meth:`close`)."""

    def __init__(self, root: str, p: CpPath, *, follow: bool, missing: SkiffError) -> None:
        from skiff.archive.rootfs import RootDir

        from .containers_paths import open_in_root

        self.name = p.name
        self.dfd = -1
        self.pfd = -1
        try:
            with RootDir(f"{root}/.") as rd:
                real = rd.resolve(p.rel, follow=follow or p.slash)
            parent, _, self.base = real.rpartition("/")
            self.pfd = open_in_root(root, "/" + parent)
            self.st = os.stat(self.base, dir_fd=self.pfd, follow_symlinks=False) if self.base else os.fstat(self.pfd)
            self.is_dir = stat.S_ISDIR(self.st.st_mode)
            if p.slash and not self.is_dir:
                raise NotADirectoryError
            if self.is_dir:
                self.dfd = os.open(self.base or ".", _DIR_FLAGS, dir_fd=self.pfd)
        except FileNotFoundError:
            self.close()
            raise missing from None
        except NotADirectoryError:
            self.close()
            raise SkiffError(f"lstat {p.path}{'/' if p.slash else ''}: not a directory") from None
        except OSError as e:
            self.close()
            raise SkiffError(f"{p.path}: {e.strerror or e}") from None
        self.contents = self.is_dir and (p.contents or not self.name)

    def items(self, walker: Walker, top: str, skip_devs: frozenset[int]) -> Iterator[Item]:
        """The source's entries, named ``top`` and below (``top`` "" : the content only)."""
        if not self.is_dir:
            yield walker.entry(top, f"/proc/self/fd/{self.pfd}/{self.base}", self.st)
            return
        if top:
            yield walker.entry(top, f"/proc/self/fd/{self.dfd}/.", os.fstat(self.dfd))
        if self.st.st_dev not in skip_devs:
            yield from walker.tree_at(self.dfd, top, skip_devs=skip_devs)

    def close(self) -> None:
        for fd in (self.dfd, self.pfd):
            if fd >= 0:
                os.close(fd)
        self.dfd = self.pfd = -1

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class _Dest:
    """Where a copy goes, and how Docker words what is wrong with it (host and container differ)."""

    root: str  # the folder the destination is resolved in: "/" or the container's root
    shown: str  # the destination as the user gave it
    container: str | None  # the container's name, for a container destination

    def parent_error(self, parent: str, missing: bool) -> SkiffError:
        if self.container is None:
            return InvalidArgumentError(f'invalid output path: directory "{parent}" does not exist' if missing
                                        else f'invalid output path: "{parent}" is not a directory')
        if missing:
            return NotFoundError(f"Could not find the file {parent} in container {self.container}")
        return InvalidArgumentError(f"extraction point is not a directory: {self.container}:{parent}")

    def kind_error(self) -> SkiffError:
        if self.container is None:
            return InvalidArgumentError(f'invalid output path: "{self.shown}" must be a directory or a regular file')
        return InvalidArgumentError(f'destination "{self.container}:{self.shown}" must be a directory or a regular '
                                    "file")

    def resolve(self, p: CpPath) -> tuple[str, str | None]:
        """(the destination with its symlinks resolved inside the root, its kind: "dir", "file", "other" or
        None when missing); a missing or non-folder parent is an error."""
        from skiff.archive.rootfs import RootDir

        with RootDir(self.root) as rd:
            real = rd.resolve(p.rel, follow=True)
            parent, _, name = real.rpartition("/")
            try:
                pfd = rd.dir_fd(parent)
            except FileNotFoundError:
                raise self.parent_error("/" + parent, True) from None
            except NotADirectoryError:
                raise self.parent_error("/" + parent, False) from None
            if not name:
                return real, "dir"
            try:
                st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            except FileNotFoundError:
                return real, None
        if stat.S_ISDIR(st.st_mode):
            return real, "dir"
        return real, "file" if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode) else "other"

    def target(self, p: CpPath, src: _Source) -> str:
        """Docker's PrepareArchiveCopy: the path the copy takes (clean, relative to the root)."""
        real, kind = self.resolve(p)
        if kind == "dir":
            if src.contents:
                return real
            return f"{real}/{src.name}" if real else src.name
        if kind is not None:
            if src.is_dir:
                raise InvalidArgumentError(f"cannot copy directory: {self.shown} is not a directory")
            if p.slash:
                raise NotFoundError(f"no such directory: {self.shown}")
            if kind == "other":
                raise self.kind_error()
            return real
        if p.slash and not src.is_dir:
            raise NotFoundError(f"no such directory: {self.shown}")
        return real


def check_writable(rec: ContainerRecord, target: str) -> None:
    """Docker's checks before a copy into a container (moby ``checkIfPathIsInAVolume``): a path under a
    read-only mount is refused, and so is a path under no mount of a container whose rootfs is read-only.
    ``target`` is the path the copy takes, symlinks resolved, relative to the root; the innermost mount
    holding it decides."""
    path = "/" + target.strip("/") + "/"
    holders = [m for m in rec.mounts if path.startswith("/" + m.destination.strip("/") + "/")]
    if holders:
        holder = max(holders, key=lambda m: len(m.destination.strip("/")))
        if not holder.rw:
            raise InvalidArgumentError("mounted volume is marked read-only")
    elif rec.host_config.readonly_rootfs:
        raise InvalidArgumentError("container rootfs is marked read-only")


def _copy_out(eng: ContainerEngine, cname: str, cpath: str, host_dst: str, *, follow_link: bool, keep_ids: bool,
              out: BinaryIO | None) -> None:
    from skiff.archive.copy import fill_items, place
    from skiff.archive.create import write_items
    from skiff.archive.extract import ExtractOptions
    from skiff.archive.walk import Walker

    cid = eng.cs.resolve(cname)
    src = parse_path(cpath)
    st = eng.cs.state(cid)
    skip = pseudo_mount_devs(st.pid) if st.st.is_live and st.pid else frozenset()
    missing = NotFoundError(f"Could not find the file {cpath} in container {cname}")
    with container_root(eng, cid) as root, _Source(root, src, follow=follow_link, missing=missing) as s:
        walker = Walker()
        if host_dst == "-":
            if out is None:
                raise InvalidArgumentError("cp to stdout: no output stream")
            # a reader that stops early (`| head`): BrokenPipeError ends the command quietly (cli.main), as
            # SIGPIPE ends docker's
            write_items(s.items(walker, "" if s.contents else s.name, skip), out)
            out.flush()
            return
        dest = _Dest("/", host_dst, None)
        dp = parse_path(host_dst, os.getcwd())
        target = dest.target(dp, s)
        place("/", target, lambda ex, top: fill_items(ex, s.items(walker, top, skip)), is_dir=s.is_dir,
              opts=ExtractOptions(chown=keep_ids, whiteouts=False), shown=host_dst)


def _copy_in(eng: ContainerEngine, host_src: str, cname: str, cpath: str, *, follow_link: bool, archive: bool,
             stdin: BinaryIO | None) -> None:
    from skiff.archive.copy import fill_items, fill_tar, place
    from skiff.archive.extract import ExtractOptions
    from skiff.archive.walk import Walker

    cid = eng.cs.resolve(cname)
    rec = eng.cs.record(cid)
    dp = parse_path(cpath)
    with container_root(eng, cid) as root:
        croot = f"{root}/."  # "/." keeps /proc/PID/root usable as a folder for an O_NOFOLLOW open
        uid = gid = None
        user = rec.config.user if archive else ""
        if user:
            from .bundles import resolve_user

            uid, gid, _, _ = resolve_user(root, user, [])
        opts = ExtractOptions(uid=uid, gid=gid, whiteouts=False)
        dest = _Dest(croot, cpath, cname)
        if host_src == "-":
            if stdin is None:
                raise InvalidArgumentError("cp from stdin: no input stream")
            real, kind = dest.resolve(dp)
            if kind != "dir":
                raise InvalidArgumentError(f'destination "{cname}:{cpath}" must be a directory')
            check_writable(rec, real)
            place(croot, real, lambda ex, top: fill_tar(ex, stdin, top), is_dir=True, opts=opts,
                  shown=f"{cname}:{cpath}")
            return
        sp = parse_path(host_src, os.getcwd())
        missing = NotFoundError(f"lstat {sp.path}: no such file or directory")
        with _Source("/", sp, follow=follow_link, missing=missing) as s:
            target = dest.target(dp, s)
            check_writable(rec, target)
            skip = pseudo_mount_devs("self")
            place(croot, target, lambda ex, top: fill_items(ex, s.items(Walker(), top, skip)), is_dir=s.is_dir,
                  opts=opts, shown=f"{cname}:{cpath}")
