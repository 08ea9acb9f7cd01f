"""The build context: a folder (with .dockerignore) from which COPY/ADD take files, hashed only as needed.

File content hashes are memoised by (size, mtime_ns, inode, ctime_ns) in ROOT/buildcache/ctxmemo/<root hash>.json,
so a rebuild reads only the files that changed."""

from __future__ import annotations

import fnmatch
import json
import os
import stat
from pathlib import Path
from typing import Any

from skiff.build.dockerfile.ignore import DockerIgnore
from skiff.errors import SkiffError
from skiff.hashes import LARGE, sha256


class ContextError(SkiffError):
    exit_code = 1


class BuildContext:
    """Files of a context folder as COPY sees them: paths relative to the root, ignored files left out."""

    def __init__(self, root: Path | None, ignore: DockerIgnore | None = None, memo_dir: Path | None = None) -> None:
        self.root = root
        self.ignore = ignore
        self._files: list[str] | None = None
        self._hashes: dict[str, str] = {}
        self._memo_path = None
        if memo_dir is not None and root is not None:
            name = sha256(os.fsencode(root)).hexdigest()[:24]
            self._memo_path = memo_dir / "ctxmemo" / f"{name}.json"
        self._memo: dict[str, list[object]] | None = None
        self._memo_dirty = False

    @classmethod
    def open(cls, root: Path | None, dockerfile: Path | None, memo_dir: Path | None = None) -> BuildContext:
        if root is None:
            return cls(None)
        if not root.is_dir():
            raise ContextError(f"unable to prepare context: path {str(root)!r} not found")
        ignore = None
        candidates = []
        if dockerfile is not None:
            candidates.append(dockerfile.parent / (dockerfile.name + ".dockerignore"))
        candidates.append(root / ".dockerignore")
        for c in candidates:
            if c.is_file():
                ignore = DockerIgnore.from_file(c)
                break
        return cls(root, ignore, memo_dir)

    def files(self) -> list[str]:
        """Every included path (files, links and folders), relative, sorted."""
        if self._files is None:
            if self.root is None:
                self._files = []
            elif self.ignore is not None:
                self._files = sorted(self.ignore.walk(self.root))
            else:
                out: list[str] = []
                base = str(self.root)
                for dirpath, dirnames, filenames in os.walk(base):
                    rel = os.path.relpath(dirpath, base)
                    for n in dirnames + filenames:
                        out.append(n if rel == "." else f"{rel}/{n}")
                self._files = sorted(out)
        return self._files

    def excluded(self, rel: str) -> bool:
        return self.ignore is not None and self.ignore.excluded(rel)

    def resolve(self, source: str, *, where: str) -> list[str]:
        """Relative paths matching one COPY source (wildcards allowed); ``..`` is clamped to the root."""
        if self.root is None:
            raise ContextError(f"{where}: no build context to copy {source!r} from")
        rel = os.path.normpath("/" + source).lstrip("/")
        if rel in ("", "."):
            return [""]
        if any(ch in rel for ch in "*?["):
            matches = [f for f in self.files() if fnmatch.fnmatchcase(f, rel)]
            if not matches:
                raise ContextError(f"{where}: no source files were specified matching {source!r}")
            # a match inside a matched folder is copied with the folder
            top = [m for m in matches if not any(m.startswith(o + "/") for o in matches if o != m)]
            return top
        rel = self.in_scope(rel, where=where)
        full = self.root / rel if rel else self.root
        if not os.path.lexists(full) or (rel and self.excluded(rel)):
            raise ContextError(f"{where}: {source!r} not found in the build context "
                               f"(or excluded by .dockerignore)")
        return [rel]

    def in_scope(self, rel: str, *, where: str) -> str:
        """``rel`` with every symlink among its parent folders resolved as if the context were ``/``: a link
        in the context can never lead a COPY source out of it (SECURITY.md #35). The last component is kept
        as it is, so a link named as a source is copied as a link."""
        assert self.root is not None
        todo = [p for p in rel.split("/") if p not in ("", ".")]
        done: list[str] = []
        links = 0
        while todo:
            part = todo.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            cand = os.path.join(self.root, *done, part)
            if todo and os.path.islink(cand):
                links += 1
                if links > 40:
                    raise ContextError(f"{where}: too many levels of symbolic links in {rel!r}")
                target = os.readlink(cand)
                if target.startswith("/"):
                    done = []
                todo = [p for p in target.split("/") if p not in ("", ".")] + todo
                continue
            done.append(part)
        return "/".join(done)

    def checksum(self, rel: str) -> str:
        """Content and metadata hash of a path (a folder: of everything under it that is included)."""
        if rel in self._hashes:
            return self._hashes[rel]
        assert self.root is not None
        h = sha256()
        paths = [rel] if rel else []
        full = self.root / rel if rel else self.root
        if full.is_dir() and not full.is_symlink():
            prefix = rel + "/" if rel else ""
            paths += [f for f in self.files() if f.startswith(prefix)]
        for p in paths:
            self._hash_entry(h, p)
        self._hashes[rel] = h.hexdigest()
        return self._hashes[rel]

    def _hash_entry(self, h: Any, rel: str) -> None:
        assert self.root is not None
        full = os.path.join(self.root, rel)
        st = os.lstat(full)
        h.update(f"{rel}\0{stat.S_IFMT(st.st_mode)}\0{stat.S_IMODE(st.st_mode):o}\0".encode())
        if stat.S_ISLNK(st.st_mode):
            h.update(os.readlink(full).encode())
        elif stat.S_ISREG(st.st_mode):
            h.update(self._file_sum(rel, full, st).encode())
        h.update(b"\n")

    def _file_sum(self, rel: str, full: str, st: os.stat_result) -> str:
        memo = self._load_memo()
        sig = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
        hit = memo.get(rel)
        if hit is not None and hit[:4] == sig:
            return str(hit[4])
        fh = sha256(large=st.st_size >= LARGE)
        with open(full, "rb") as f:
            while chunk := f.read(1 << 20):
                fh.update(chunk)
        memo[rel] = [*sig, fh.hexdigest()]
        self._memo_dirty = True
        return fh.hexdigest()

    def _load_memo(self) -> dict[str, list[object]]:
        if self._memo is None:
            self._memo = {}
            if self._memo_path is not None:
                try:
                    raw = json.loads(self._memo_path.read_bytes())
                    if isinstance(raw, dict):
                        self._memo = raw
                except (OSError, ValueError):
                    pass
        return self._memo

    def save_memo(self) -> None:
        """Write the hash memo when it changed (no fsync: it is only a cache, checked against stat each time)."""
        if not self._memo_dirty or self._memo_path is None or self._memo is None:
            return
        from skiff.lightfs import replace_cache

        self._memo_path.parent.mkdir(parents=True, exist_ok=True)
        replace_cache(self._memo_path, json.dumps(self._memo).encode())
        self._memo_dirty = False
