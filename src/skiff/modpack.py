"""The byte-code of the modules skiff imports, in one file read by one finder: a command's ~150 imports skip
the path search and the ``.pyc`` handling of each module (finding, opening, reading and checking a file per
module costs ~6 ms of a ~45 ms import of the engine here).

``python -m skiff.records`` (scripts/setup.sh) imports every skiff module and then writes this pack: for each
module it loaded from a ``.py`` file (skiff's, the standard library's, site-packages'), the code object as
its loader got it, with the source's size and modification time. The launchers call :func:`install` first.
A module is served from the pack only while its source still has that size and time (what a ``.pyc`` is
checked against, in nanoseconds here), else the usual machinery imports it; a pack made by another
interpreter, with other optimisation flags, or damaged, is not used at all.

File: header, the index's size (8 bytes), the index (marshal: name -> offset, length, is-package, source path,
mtime_ns, size), then each module's marshalled code. Only the index is read at start; each module's code is
read with one ``pread`` when it is imported.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

CACHE = os.path.join(os.path.dirname(__file__), "__pycache__", f"modules.{sys.implementation.cache_tag}.pack")


# MAGIC_NUMBER without importing importlib.util at start: the frozen bootstrap module has it
_MAGIC: bytes = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER
_HEADER = _MAGIC + f"skiff.modpack 1 O{sys.flags.optimize}\n".encode()


class PackFinder:
    """A meta path finder and loader for the modules in one pack file."""

    def __init__(self, path: str, fd: int, base: int, index: dict[str, tuple[int, int, bool, str, int, int]]) -> None:
        self._path = path
        self._fd = fd
        self._base = base
        self._index = index
        self._end = os.fstat(fd).st_size

    def find_spec(self, name: str, path: object = None, target: object = None) -> Any:
        entry = self._index.get(name)
        if entry is None or self._base + entry[0] + entry[1] > self._end:  # absent, or past a cut
            return None
        origin = entry[3]
        try:
            st = os.stat(origin)
        except OSError:
            return None
        if st.st_mtime_ns != entry[4] or st.st_size != entry[5]:
            return None  # the source changed since the pack was made: the usual import
        spec = _ModuleSpec(name, self, origin=origin, is_package=entry[2])
        spec.has_location = True
        if entry[2]:  # a package's own folder, where the path finder looks for what the pack does not hold
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.get_code(module.__spec__.name), module.__dict__)  # type: ignore[union-attr]

    # what importlib.abc.InspectLoader offers, for linecache, inspect and runpy
    def get_code(self, name: str) -> Any:
        entry = self._index[name]
        data = os.pread(self._fd, entry[1], self._base + entry[0])
        if len(data) != entry[1]:
            raise ImportError(f"skiff.modpack: {self._path} is cut short at {name}", name=name)
        return marshal.loads(data)

    def get_source(self, name: str) -> str:
        from importlib.util import decode_source

        with open(self._index[name][3], "rb") as f:
            return decode_source(f.read())

    def get_filename(self, name: str) -> str:
        return self._index[name][3]

    def is_package(self, name: str) -> bool:
        return self._index[name][2]


_ModuleSpec: Any = sys.modules["_frozen_importlib"].ModuleSpec


def _read_index(fd: int) -> tuple[int, dict[str, tuple[int, int, bool, str, int, int]]] | None:
    head = os.pread(fd, len(_HEADER) + 8, 0)
    if len(head) != len(_HEADER) + 8 or not head.startswith(_HEADER):
        return None
    size = int.from_bytes(head[len(_HEADER):], "little")
    raw = os.pread(fd, size, len(_HEADER) + 8)
    if len(raw) != size:
        return None
    index = marshal.loads(raw)
    if not isinstance(index, dict):
        return None
    return len(_HEADER) + 8 + size, index


def install(path: str = CACHE) -> PackFinder | None:
    """Put the pack's finder before the path finder (after the built-in and frozen importers); None, and
    nothing changed, when there is no usable pack."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        got = _read_index(fd)
    except (OSError, EOFError, ValueError, TypeError):
        got = None
    if got is None:
        os.close(fd)
        return None
    finder = PackFinder(path, fd, *got)
    meta = sys.meta_path
    at = next((i for i, f in enumerate(meta) if getattr(f, "__name__", "") == "PathFinder"), len(meta))
    meta.insert(at, finder)
    return finder


def write(path: str = CACHE, modules: dict[str, ModuleType] | None = None) -> int:
    """Pack every module of ``modules`` (default: all imported) that its loader read from a ``.py`` file and
    whose source is unchanged since; temp file, fsync, rename. -> the number of modules."""
    from importlib.machinery import SourceFileLoader

    from skiff.patterns import write_cache

    index: dict[str, tuple[int, int, bool, str, int, int]] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, mod in sorted((modules if modules is not None else dict(sys.modules)).items()):
        spec = getattr(mod, "__spec__", None)
        loader = getattr(spec, "loader", None)
        origin = getattr(spec, "origin", None)
        if (name == "__main__" or not isinstance(loader, SourceFileLoader) or not isinstance(origin, str)
                or not origin.endswith(".py")):
            continue
        try:
            st = os.stat(origin)
            code = loader.get_code(name)
        except (OSError, ImportError, SyntaxError):
            continue
        if code is None:
            continue
        blob = marshal.dumps(code)
        is_pkg = getattr(spec, "submodule_search_locations", None) is not None
        index[name] = (offset, len(blob), is_pkg, origin, st.st_mtime_ns, st.st_size)
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps(index)
    write_cache(path, b"".join([_HEADER, len(head).to_bytes(8, "little"), head, *blobs]))
    return len(index)
