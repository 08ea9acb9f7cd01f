"""File operations on a container's filesystem: cp (both directions, in :mod:`.containers_cp`), diff, export,
commit.

A running container is reached through ``/proc/PID/root`` (its volumes included); a stopped one through
its mounted rootfs.
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
    st = eng.cs.state(cid)
    if st.st.is_live and st.pid:
        yield f"/proc/{st.pid}/root"
        return
    drv = eng.store.driver
    root = str(drv.mount(cid))
    try:
        yield root
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
    cid = eng.cs.resolve(text)
    return list(eng.store.driver.diff(cid))


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


def commit(eng: ContainerEngine, text: str, reference: str | None, *, changes: list[str], message: str | None,
           author: str | None, pause: bool = True) -> str:
    """A new image: the container's image plus one layer with the container's changes."""
    from .containers_commit import commit_container

    cid = eng.cs.resolve(text)
    return commit_container(eng, cid, reference, changes=changes, message=message, author=author, pause=pause)
