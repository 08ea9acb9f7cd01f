"""File operations on a container's filesystem: cp (both directions, in :mod:`.containers_cp`), diff, export,
commit.

A running container is reached through ``/proc/PID/root`` (its volumes included); a stopped one through
its mounted rootfs with its volumes and bind mounts on it, made in a private mount namespace
(:mod:`.containers_fsview`), for cp only: diff, export and commit see the rootfs alone, as in Docker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from skiff.errors import SkiffError

if TYPE_CHECKING:
    from .containers import ContainerEngine


@contextlib.contextmanager
def container_root(eng: ContainerEngine, cid: str) -> Iterator[str]:
    """The container's file system as its process sees it, volumes included, as a path for the block."""
    from .containers_fsview import mounted_view

    st = eng.cs.state(cid)
    if st.st.is_live and st.pid:
        yield f"/proc/{st.pid}/root"
        return
    drv = eng.store.driver
    root = str(drv.mount(cid))
    try:
        with mounted_view(root, eng.cs.record(cid).mounts) as view:
            yield view
    finally:
        if not eng.cs.state(cid).st.is_live:
            with contextlib.suppress(SkiffError, OSError):
                drv.unmount(cid)


def copy(eng: ContainerEngine, src: str, dst: str, *, follow_link: bool = False, archive: bool = False,
         stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """`skiff cp`: see :mod:`.containers_cp`."""
    from .containers_cp import copy as cp

    cp(eng, src, dst, follow_link=follow_link, archive=archive, stdin=stdin, stdout=stdout)


def diff(eng: ContainerEngine, text: str) -> list[Any]:
    """The container's changes in Docker's order: its walk of the upper folder (names sorted in each folder,
    a folder before what it holds, so ``/a/b`` comes before ``/a-b``)."""
    cid = eng.cs.resolve(text)
    return sorted(eng.store.driver.diff(cid), key=lambda ch: ch.path.split("/"))


def export(eng: ContainerEngine, text: str, out: BinaryIO) -> None:
    from skiff.archive import create_layer

    cid = eng.cs.resolve(text)
    drv = eng.store.driver
    root = drv.mount(cid)
    try:
        create_layer(root, out, compression="none", mode="dir")
    finally:
        if not eng.cs.state(cid).st.is_live:
            with contextlib.suppress(SkiffError, OSError):
                drv.unmount(cid)
    eng.event(eng.cs.record(cid), "export")


def export_file(eng: ContainerEngine, text: str, path: str) -> None:
    """`export -o PATH`, as docker/cli does it: the path is checked before the container is looked up
    (ValidateOutputPath), and the archive is written under a temporary name in the same folder (mode 0600) and
    renamed to PATH once complete (CopyToFile), so that a failed export leaves no file behind."""
    import os
    import stat
    import tempfile

    from skiff.errors import InvalidArgumentError

    folder = os.path.dirname(os.path.normpath(path))
    if folder and not os.path.exists(folder):
        raise InvalidArgumentError(f'failed to export container: invalid output path: directory "{folder}" does '
                                   "not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InvalidArgumentError(f'failed to export container: invalid output path: "{path}" must be a '
                                   "directory or a regular file: got a device")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".skiff_temp_", dir=folder or ".")
    except OSError as e:
        raise SkiffError(f"open {path}: {_go_strerror(e)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            export(eng, text, f)
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise SkiffError(f"rename {tmp} {path}: {_go_strerror(e)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _go_strerror(e: OSError) -> str:
    """An errno's text as Go spells it ("is a directory")."""
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]


def commit(eng: ContainerEngine, text: str, reference: str | None, *, changes: list[str], message: str | None,
           author: str | None, pause: bool = True) -> str:
    """A new image: the container's image plus one layer with the container's changes."""
    from .containers_commit import commit_container

    cid = eng.cs.resolve(text)
    return commit_container(eng, cid, reference, changes=changes, message=message, author=author, pause=pause)
