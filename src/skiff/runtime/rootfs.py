"""The container's filesystem view, built in the child's new mount namespace: propagation, the spec's mounts
in order, /dev, pivot_root (old root unmounted), masked and read-only paths.

Targets inside the rootfs are resolved component by component with symlinks clamped to the rootfs (never
``os.path.realpath`` then mount), and masks/binds onto files go through O_PATH|O_NOFOLLOW fds mounted via
/proc/self/fd, so a symlink planted in the image cannot redirect a mount to the host (SECURITY.md 13, 26,
27, 29).
"""

from __future__ import annotations

import errno
import os
import stat

from skiff.kernel import (
    MNT_DETACH,
    MOUNT_ATTR_NODEV,
    MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_NOSYMFOLLOW,
    MOUNT_ATTR_RDONLY,
    MS_BIND,
    MS_DIRSYNC,
    MS_LAZYTIME,
    MS_MANDLOCK,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_NOSYMFOLLOW,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    MS_UNBINDABLE,
    Kernel,
)
from skiff.oci.runtime import LinuxDevice, Mount, Spec
from skiff.runtime.cgroupfs import CgroupView, mount_cgroup

_FLAGS = {  # option -> (clear?, flag)
    "ro": (False, MS_RDONLY), "rw": (True, MS_RDONLY), "nosuid": (False, MS_NOSUID), "suid": (True, MS_NOSUID),
    "nodev": (False, MS_NODEV), "dev": (True, MS_NODEV), "noexec": (False, MS_NOEXEC),
    "exec": (True, MS_NOEXEC), "sync": (False, MS_SYNCHRONOUS), "async": (True, MS_SYNCHRONOUS),
    "dirsync": (False, MS_DIRSYNC), "mand": (False, MS_MANDLOCK), "nomand": (True, MS_MANDLOCK),
    "noatime": (False, MS_NOATIME), "atime": (True, MS_NOATIME), "nodiratime": (False, MS_NODIRATIME),
    "diratime": (True, MS_NODIRATIME), "relatime": (False, MS_RELATIME), "norelatime": (True, MS_RELATIME),
    "strictatime": (False, MS_STRICTATIME), "nostrictatime": (True, MS_STRICTATIME),
    "lazytime": (False, MS_LAZYTIME), "nolazytime": (True, MS_LAZYTIME),
    "nosymfollow": (False, MS_NOSYMFOLLOW), "symfollow": (True, MS_NOSYMFOLLOW),
    "bind": (False, MS_BIND), "rbind": (False, MS_BIND | MS_REC),
}
PROPAGATION = {"private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC, "shared": MS_SHARED,
               "rshared": MS_SHARED | MS_REC, "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC,
               "unbindable": MS_UNBINDABLE, "runbindable": MS_UNBINDABLE | MS_REC}
_IGNORED = {"tmpcopyup", "idmap", "ridmap", "defaults", "remount"}
# runtime-spec's recursive options (runc's "rro"...): mount_setattr(2) on the whole tree -> (clear?, attribute)
RECURSIVE = {"rro": (False, MOUNT_ATTR_RDONLY), "rrw": (True, MOUNT_ATTR_RDONLY),
             "rnosuid": (False, MOUNT_ATTR_NOSUID), "rsuid": (True, MOUNT_ATTR_NOSUID),
             "rnodev": (False, MOUNT_ATTR_NODEV), "rdev": (True, MOUNT_ATTR_NODEV),
             "rnoexec": (False, MOUNT_ATTR_NOEXEC), "rexec": (True, MOUNT_ATTR_NOEXEC),
             "rnosymfollow": (False, MOUNT_ATTR_NOSYMFOLLOW), "rsymfollow": (True, MOUNT_ATTR_NOSYMFOLLOW)}
# The devices every container gets: (path, major, minor)
DEFAULT_DEVICES = (("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
                   ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0))
_DEFAULT_DEVICE_PATHS = frozenset(p for p, _, _ in DEFAULT_DEVICES)
_LINKS = (("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("/proc/self/fd/1", "/dev/stdout"),
          ("/proc/self/fd/2", "/dev/stderr"), ("pts/ptmx", "/dev/ptmx"))


def parse_options(options: list[str]) -> tuple[int, int, str]:
    """-> (mount flags, propagation flags, data string)."""
    flags = prop = 0
    data: list[str] = []
    for opt in options:
        if opt in _FLAGS:
            clear, f = _FLAGS[opt]
            flags = flags & ~f if clear else flags | f
        elif opt in PROPAGATION:
            prop |= PROPAGATION[opt]
        elif opt not in _IGNORED and opt not in RECURSIVE:
            data.append(opt)
    return flags, prop, ",".join(data)


def resolve_in_root(root: str, path: str) -> str:
    """``path`` inside ``root`` with every symlink followed but clamped to ``root`` (like securejoin)."""
    parts = path.split("/")  # empty and "." components are skipped below
    cur: list[str] = []
    hops = 0
    while parts:
        name = parts.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            if cur:
                cur.pop()
            continue
        full = os.path.join(root, *cur, name)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            cur.append(name)
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > 40:
                raise OSError(errno.ELOOP, f"too many symlinks resolving {path}")
            target = os.readlink(full)
            if target.startswith("/"):
                cur = []
            parts = target.split("/") + parts
            continue
        cur.append(name)
    return os.path.join(root, *cur)


def _open_path(path: str) -> int:
    return os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)


_O_WALK = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


def open_in_root(root: str, path: str, create: str | None = None) -> int:
    """An O_PATH fd of ``path`` inside ``root``, walked one component at a time from an fd of ``root``.

    Every step is an ``openat(parent, name, O_PATH|O_NOFOLLOW)``; a symlink is read and its target walked again
    from ``root`` (absolute) or from its parent (relative), with ``..`` clamped at ``root``. With ``create`` ("dir"
    or "file") missing components are made with ``mkdirat``/``openat(O_EXCL)`` relative to the parent fd and then
    opened and checked again. No step goes through a path string, so a folder swapped for a symlink by another
    process at any moment can only send the walk elsewhere *inside* root (SECURITY.md 12/13, CVE-2021-30465).
    """
    stack = [os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)]
    parts = [p for p in path.split("/") if p not in ("", ".")]
    parts.reverse()  # a stack: the next component is parts[-1]
    hops = 0
    try:
        while parts:
            name = parts.pop()
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            try:
                fd = os.open(name, _O_WALK, dir_fd=stack[-1])
            except FileNotFoundError:
                if create is None:
                    raise
                hops += 1  # a create that loses a race is retried, within the same bound as links
                if hops > 40:
                    raise OSError(errno.ELOOP, f"too many retries resolving {path}") from None
                try:
                    if parts or create == "dir":
                        os.mkdir(name, 0o755, dir_fd=stack[-1])
                    else:
                        os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                         0o644, dir_fd=stack[-1]))
                except FileExistsError:
                    pass
                parts.append(name)  # open what is there now, and check it like any other component
                continue
            mode = os.fstat(fd).st_mode
            if stat.S_ISLNK(mode):
                os.close(fd)
                hops += 1
                if hops > 40:
                    raise OSError(errno.ELOOP, f"too many symlinks resolving {path}")
                target = os.readlink(name, dir_fd=stack[-1])
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                parts.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
                continue
            if parts and not stat.S_ISDIR(mode):
                os.close(fd)
                raise OSError(errno.ENOTDIR, f"{name} in {path} is not a folder")
            stack.append(fd)
        return stack.pop() if len(stack) > 1 else os.dup(stack[0])
    finally:
        for fd in stack:
            os.close(fd)


def _mount_fd(kernel: Kernel, source: str | None, fd: int, fstype: str | None, flags: int,
              data: str | None) -> None:
    kernel.mount(source, f"/proc/self/fd/{fd}", fstype, flags, data)


def mount_in_root(kernel: Kernel, root: str, dest: str, source: str | None, fstype: str | None, flags: int,
                   data: str | None, create: str | None = None) -> None:
    """mount onto ``dest`` inside ``root`` through the fd :func:`open_in_root` gives (never a path string)."""
    fd = open_in_root(root, dest, create)
    try:
        _mount_fd(kernel, source, fd, fstype, flags, data)
    finally:
        os.close(fd)


def _mount_at(kernel: Kernel, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None) -> None:
    """mount onto ``target`` through an O_PATH|O_NOFOLLOW fd, so a last-moment symlink cannot redirect it."""
    fd = _open_path(target)
    try:
        _mount_fd(kernel, source, fd, fstype, flags, data)
    finally:
        os.close(fd)


def mount_one(kernel: Kernel, root: str, m: Mount, bundle: str) -> None:
    try:
        _mount_one(kernel, root, m, bundle)
    except OSError as e:
        raise OSError(e.errno, f"mount {m.type or 'bind'} {m.source or ''} on {m.destination}: "
                               f"{os.strerror(e.errno or 0)}") from None


def _mount_one(kernel: Kernel, root: str, m: Mount, bundle: str) -> None:
    flags, prop, data = parse_options(m.options)
    dest = m.destination
    is_bind = bool(flags & MS_BIND) or m.type == "bind"
    if is_bind:
        src = m.source or ""
        if not src.startswith("/"):
            src = os.path.join(bundle, src)
        sfd = os.open(src, os.O_PATH | os.O_CLOEXEC)  # a missing source fails before anything is created
        try:
            kind = "dir" if stat.S_ISDIR(os.fstat(sfd).st_mode) else "file"
            mount_in_root(kernel, root, dest, f"/proc/self/fd/{sfd}", None, MS_BIND | (flags & MS_REC), None,
                           kind)
        finally:
            os.close(sfd)
        extra = flags & ~(MS_BIND | MS_REC)
        if extra:  # walked again: the fd must be the new mount, not the folder under it
            mount_in_root(kernel, root, dest, None, None, MS_REMOUNT | MS_BIND | extra, None)
    else:
        fstype = m.type or "none"
        mount_in_root(kernel, root, dest, m.source or fstype, fstype, flags, data or None, "dir")
    if prop:
        mount_in_root(kernel, root, dest, None, None, prop, None)
    attr_set = attr_clr = 0
    for opt in m.options:
        if opt in RECURSIVE:
            clear, attr = RECURSIVE[opt]
            attr_set, attr_clr = (attr_set & ~attr, attr_clr | attr) if clear else (attr_set | attr, attr_clr & ~attr)
    if attr_set or attr_clr:  # after the bind: the mounts under it (a bind's submounts) get them too
        fd = open_in_root(root, dest)
        try:
            kernel.mount_setattr(fd, attr_set, attr_clr)
        finally:
            os.close(fd)


def make_devices(kernel: Kernel, root: str, devices: list[LinuxDevice], *, in_userns: bool) -> None:
    wanted = [(p, 0o20666, ma, mi, 0, 0) for p, ma, mi in DEFAULT_DEVICES]
    for d in devices:
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}.get(d.type, 0)
        wanted.append((d.path, kind | ((d.file_mode or 0o666) & 0o7777), d.major or 0, d.minor or 0,
                       d.uid or 0, d.gid or 0))
    for path, mode, major, minor, uid, gid in wanted:
        parent, name = os.path.split(os.path.normpath("/" + path))
        pfd = open_in_root(root, parent, "dir")  # every change below is relative to this fd, by name
        try:
            try:
                os.stat(name, dir_fd=pfd, follow_symlinks=False)
                if path not in _DEFAULT_DEVICE_PATHS:
                    continue  # the spec's own devices never replace what is there
                os.unlink(name, dir_fd=pfd)
            except FileNotFoundError:
                pass
            if in_userns:
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                                 dir_fd=pfd))
                tfd = os.open(name, _O_WALK, dir_fd=pfd)
                try:
                    _mount_fd(kernel, path, tfd, None, MS_BIND, None)
                finally:
                    os.close(tfd)
                continue
            os.mknod(name, mode, os.makedev(major, minor), dir_fd=pfd)
            tfd = os.open(name, _O_WALK, dir_fd=pfd)
            try:  # through the fd: chmod/chown never follow a name another process could swap
                os.chmod(f"/proc/self/fd/{tfd}", mode & 0o7777)
                os.chown(f"/proc/self/fd/{tfd}", uid, gid)
            finally:
                os.close(tfd)
        finally:
            os.close(pfd)
    dfd = open_in_root(root, "/dev", "dir")
    try:
        for src, link in _LINKS:
            try:
                os.symlink(src, os.path.basename(link), dir_fd=dfd)
            except FileExistsError:
                pass
    finally:
        os.close(dfd)


def pivot(kernel: Kernel, root: str) -> None:
    """pivot_root(".", ".") into ``root``; the old root is made private and detached, leaving no folder."""
    os.chdir(root)
    kernel.pivot_root(".", ".")
    kernel.mount(None, ".", None, MS_SLAVE | MS_REC, None)
    kernel.umount2(".", MNT_DETACH)
    os.chdir("/")


def mask_paths(kernel: Kernel, paths: list[str]) -> None:
    null = _open_path("/dev/null")
    try:
        st = os.fstat(null)
        if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
            raise OSError(errno.EPERM, "/dev/null in the container is not the null device")
        for p in paths:
            try:
                fd = _open_path(p)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                if e.errno == errno.ELOOP:  # a symlink: never mount over what it points at
                    continue
                raise
            try:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    kernel.mount("tmpfs", f"/proc/self/fd/{fd}", "tmpfs", MS_RDONLY, "size=0k")
                else:
                    kernel.mount(f"/proc/self/fd/{null}", f"/proc/self/fd/{fd}", None, MS_BIND, None)
            finally:
                os.close(fd)
    finally:
        os.close(null)


def readonly_paths(kernel: Kernel, paths: list[str]) -> None:
    for p in paths:
        try:
            fd = _open_path(p)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            target = f"/proc/self/fd/{fd}"
            kernel.mount(target, target, None, MS_BIND | MS_REC, None)
        finally:
            os.close(fd)
        _mount_at(kernel, None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, None)  # the new mount


def setup(kernel: Kernel, spec: Spec, rootfs: str, bundle: str, *, in_userns: bool,
          cgroup_view: CgroupView | None = None, new_cgroupns: bool = False) -> None:
    """Everything up to and including pivot_root and the masks; runs in the child's new mount namespace.
    ``cgroup_view``: the container's own cgroups, for a `cgroup` mount (:mod:`skiff.runtime.cgroupfs`)."""
    linux = spec.linux
    prop = PROPAGATION.get((linux.rootfs_propagation if linux else None) or "rprivate", MS_PRIVATE | MS_REC)
    kernel.mount(None, "/", None, prop, None)
    kernel.mount(rootfs, rootfs, None, MS_BIND | MS_REC, None)
    root = os.path.realpath(rootfs)
    dev_mounted = False
    for m in spec.mounts:
        if m.type in ("cgroup", "cgroup2"):
            try:
                mount_cgroup(kernel, root, m, cgroup_view, new_cgroupns=new_cgroupns)
            except OSError as e:
                raise OSError(e.errno, f"mount cgroup on {m.destination}: {os.strerror(e.errno or 0)}") from None
            continue
        mount_one(kernel, root, m, bundle)
        dev_mounted = dev_mounted or os.path.normpath(m.destination) == "/dev"
    if dev_mounted:
        make_devices(kernel, root, linux.devices if linux else [], in_userns=in_userns)
    pivot(kernel, root)


def finish(kernel: Kernel, spec: Spec) -> None:
    """After pivot_root: sysctls, masked and read-only paths, then a read-only root when asked."""
    linux = spec.linux
    if linux is not None:
        for key, value in linux.sysctl.items():
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(value)
        mask_paths(kernel, linux.masked_paths)
        readonly_paths(kernel, linux.readonly_paths)
    if spec.root is not None and spec.root.readonly:
        kernel.mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
