"""COPY and ADD: files staged in a folder (context, named context, stage, image, heredoc or URL), then
archived as one layer. Context symlinks are copied as links and ``..`` is clamped to the context
(SECURITY.md #35); ADD unpacks a local tar archive through skiff.archive (never tarfile.extractall)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from skiff.build.builder.context import BuildContext
from skiff.build.builder.layers import add_layer_from, dirs_of, layer_dirs, mkdirs, mounted_layers, tmp_dir
from skiff.build.builder.rootview import RootView, resolve_user
from skiff.build.dockerfile import commands as c
from skiff.errors import SkiffError
from skiff.lightfs import TemporaryFolder, copy_file

if TYPE_CHECKING:
    from collections.abc import Callable

    from skiff.build.builder.cache import LayerRef
    from skiff.build.builder.executor import Builder
    from skiff.build.builder.state import StageState


class CopyError(SkiffError):
    exit_code = 1


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def _named(b: Builder, from_: str) -> BuildContext | None:
    return b.named_context(from_) if b.context_dir(from_) is not None else None


def copy_key(b: Builder, state: StageState, cmd: c.CopyCommand | c.AddCommand) -> str:
    from_ = getattr(cmd, "from_", "")
    sums: list[str] = []
    named = _named(b, from_) if from_ else None
    if from_ and named is None:
        sums.append("from:" + b.source_key(from_))
    else:
        ctx = named or b.context
        for s in cmd.sources:
            if _is_url(s):
                sums.append("url:" + s + ":" + (cmd.checksum if isinstance(cmd, c.AddCommand) else ""))
                continue
            for rel in ctx.resolve(s, where=cmd.location):
                sums.append(rel + ":" + ctx.checksum(rel))
    return json.dumps([list(cmd.sources), cmd.dest, [f.data for f in cmd.contents], from_, cmd.chown, cmd.chmod,
                       list(cmd.excludes), state.config.config.working_dir or "/", sums])


def copy(b: Builder, n: int, state: StageState, cmd: c.CopyCommand | c.AddCommand) -> None:
    from skiff.archive import copy_into_root, safe_join

    t0 = time.monotonic()
    workdir = state.config.config.working_dir or "/"
    dest = cmd.dest if cmd.dest.startswith("/") else os.path.join(workdir, cmd.dest)
    dest_is_dir = cmd.dest.endswith("/") or cmd.dest in (".", "./") or len(cmd.sources) + len(cmd.contents) > 1
    view = RootView(layer_dirs(b, state))
    dest_is_dir = dest_is_dir or view.is_dir(dest)
    if cmd.chown:
        uid, gid, _ = resolve_user(view.read, cmd.chown, where=f"{cmd.location}: --chown")
    else:
        uid, gid = 0, 0
    mode = cmd.chmod or None
    from_ = getattr(cmd, "from_", "")
    with TemporaryFolder(tmp_dir(b)) as tmp, contextlib.ExitStack() as stack:
        stage = Path(tmp) / "layer"
        mkdirs(stage, os.path.dirname(dest.rstrip("/")) if not dest_is_dir else dest, view, 0, 0)
        sources: list[tuple[Path, str, BuildContext | None]] = []
        named = _named(b, from_) if from_ else None
        link_source = None
        if from_ and named is None:
            src_layers = b.layers_of(from_)
            _, src_root = stack.enter_context(mounted_layers(b, src_layers))
            link_source = _layer_file_of(b, src_layers, src_root)
            for s in cmd.sources:
                if any(ch in s for ch in "*?["):
                    for rel in BuildContext(src_root).resolve(s, where=cmd.location):
                        sources.append((src_root / rel, os.path.basename(rel), None))
                else:
                    sources.append((safe_join(src_root, s), os.path.basename(s.rstrip("/")), None))
        else:
            ctx = named or b.context
            for s in cmd.sources:
                if _is_url(s):
                    sources.append((_download(s, Path(tmp), cmd), os.path.basename(s.split("?")[0]), None))
                    continue
                assert ctx.root is not None
                for rel in ctx.resolve(s, where=cmd.location):
                    sources.append((ctx.root / rel if rel else ctx.root, os.path.basename(rel), ctx))
        for f in cmd.contents:
            p = Path(tmp) / "heredoc" / f.name
            p.parent.mkdir(exist_ok=True)
            p.write_text(f.data)
            sources.append((p, f.name, None))
        for path, name, ctx_of in sources:
            is_dir = path.is_dir() and not path.is_symlink()
            if isinstance(cmd, c.AddCommand) and ctx_of is not None and not is_dir and cmd.unpack is not False \
                    and _is_archive(path):
                _extract(path, stage, dest, cmd)
                continue
            target = dest if is_dir or not dest_is_dir else os.path.join(dest, name)
            if is_dir and ctx_of is not None and ctx_of.ignore is not None:
                _copy_included(ctx_of, path, stage, target, uid, gid)
            else:
                copy_into_root(path, stage, target, uid=uid, gid=gid, chown=True,
                               link_source=link_source if mode is None else None)
            if mode is not None:
                _chmod_tree(stage / target.lstrip("/"), mode)
        add_layer_from(b, state, stage, "dir")
    b.progress.done(n, time.monotonic() - t0)
    srcs = [*cmd.sources, *(f"<<{f.name}" for f in cmd.contents)]
    state.add_history(b.created, f"{cmd.keyword.upper()} {' '.join(srcs)} {cmd.dest} # buildkit", empty=False)


def _layer_file_of(b: Builder, layers: list[LayerRef], mounted: Path) -> Callable[[str], str | None] | None:
    """COPY --from a stage or image: a file seen in the overlay ``mounted`` over ``layers`` lives in one of
    the layer folders, immutable store content, so the new layer may hard-link it instead of copying (the
    extractor still checks it has exactly the copy's metadata). The layer folder's file is the one with the
    inode number the overlay shows (overlayfs reports the real inode of a non-folder when all layers are on
    one file system), which proves it is the same file without resolving whiteouts. Not for reproducible
    builds (SOURCE_DATE_EPOCH), whose layers are archived from exactly what a copy gives."""
    if b.opts.source_date_epoch is not None:
        return None
    dirs = [os.fspath(d) for d in reversed(dirs_of(b, layers))]  # topmost first
    prefix = os.fspath(mounted).rstrip("/") + "/"

    def real(path: str) -> str | None:
        if not path.startswith(prefix):
            return None
        try:
            seen = os.lstat(path)
        except OSError:
            return None
        rel = path[len(prefix):]
        for d in dirs:
            cand = f"{d}/{rel}"
            try:
                st = os.lstat(cand)
            except OSError:
                continue
            if st.st_ino == seen.st_ino and st.st_size == seen.st_size and stat.S_ISREG(st.st_mode):
                return cand
        return None

    return real


def _copy_included(ctx: BuildContext, src: Path, stage: Path, dest: str, uid: int, gid: int) -> None:
    """Copy the context folder ``src`` into ``stage``/``dest``, leaving out what .dockerignore excludes.
    Links are copied as links, never followed (SECURITY.md #35)."""
    assert ctx.root is not None
    rel = os.path.relpath(src, ctx.root)
    prefix = "" if rel == "." else rel + "/"
    base = stage / dest.lstrip("/")
    base.mkdir(parents=True, exist_ok=True)
    dirs: list[tuple[Path, os.stat_result]] = []
    for f in ctx.files():
        if not f.startswith(prefix) or f == rel:
            continue
        s_path = os.path.join(ctx.root, f)
        d_path = base / f[len(prefix):]
        st = os.lstat(s_path)
        d_path.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISDIR(st.st_mode):
            d_path.mkdir(exist_ok=True)
            dirs.append((d_path, st))
            continue
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s_path), d_path)
        elif stat.S_ISREG(st.st_mode):
            copy_file(s_path, d_path)
            os.chmod(d_path, stat.S_IMODE(st.st_mode))
        else:
            continue
        os.chown(d_path, uid, gid, follow_symlinks=False)
        os.utime(d_path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    for d_path, st in reversed(dirs):
        os.chmod(d_path, stat.S_IMODE(st.st_mode))
        os.chown(d_path, uid, gid)
        os.utime(d_path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _chmod_tree(p: Path, spec: str) -> None:
    """``--chmod``: octal, or symbolic (``u+x,go-w``, ``a=rX``) applied to each entry's own mode."""
    paths = [str(p)]
    if p.is_dir() and not p.is_symlink():
        for dirpath, dirnames, filenames in os.walk(p):
            paths += [os.path.join(dirpath, nm) for nm in dirnames + filenames]
    for q in paths:
        st = os.lstat(q)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(q, chmod_value(spec, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode)))


def chmod_value(spec: str, mode: int, is_dir: bool) -> int:
    if spec.isdigit():
        return int(spec, 8)
    import re

    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([+=-])([rwxXst]*)", clause)
        if m is None:
            raise CopyError(f"invalid --chmod {spec!r}")
        who = m.group(1) or "a"
        if "a" in who:
            who = "ugo"
        bits = 0
        for perm in m.group(3):
            for w in who:
                shift = {"u": 6, "g": 3, "o": 0}[w]
                if perm in "rwx" or (perm == "X" and (is_dir or mode & 0o111)):
                    bits |= {"r": 4, "w": 2, "x": 1, "X": 1}[perm] << shift
                elif perm == "s" and w in "ug":
                    bits |= stat.S_ISUID if w == "u" else stat.S_ISGID
                elif perm == "t":
                    bits |= stat.S_ISVTX
        op = m.group(2)
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for w in who:
                mask |= 0o7 << {"u": 6, "g": 3, "o": 0}[w]
            mode = (mode & ~mask) | bits
    return mode


_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ\x00")


def _is_archive(p: Path) -> bool:
    """A tar, maybe gzip/zstd/bzip2/xz compressed (Docker's ADD unpacks these and copies anything else)."""
    try:
        with open(p, "rb") as f:
            head = f.read(512)
            if head.startswith(_MAGIC[2:]):  # bzip2, xz
                import bz2
                import lzma

                f.seek(0)
                opener = bz2.open if head.startswith(b"BZh") else lzma.open
                with opener(f) as d:
                    head = d.read(512)
            elif head.startswith(_MAGIC[0]):
                import gzip

                f.seek(0)
                with gzip.open(f) as d:
                    head = d.read(512)
            elif head.startswith(_MAGIC[1]):
                return True
    except (OSError, EOFError, ValueError):
        return False
    return len(head) >= 262 and head[257:262] == b"ustar"


def _extract(path: Path, stage: Path, dest: str, cmd: c.Command) -> None:
    """Unpack a local archive at ``dest`` in the stage folder with the layer extractor's guarantees (no entry
    lands outside the folder; links are checked)."""
    from skiff.archive import ArchiveError, apply_layer

    target = stage / dest.lstrip("/")
    target.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        stream: BinaryIO = raw
        if head.startswith((b"BZh", b"\xfd7zXZ\x00")):
            import bz2
            import lzma

            stream = bz2.open(raw) if head.startswith(b"BZh") else lzma.open(raw)  # type: ignore[assignment]
        try:
            apply_layer(stream, target, what=f"ADD {path.name}")
        except ArchiveError as e:
            raise CopyError(f"{cmd.location}: ADD {path.name}: {e.message}") from None


def _download(url: str, tmp: Path, cmd: c.CopyCommand | c.AddCommand) -> Path:
    import email.utils
    import hashlib

    import httpx

    if not isinstance(cmd, c.AddCommand):
        raise CopyError(f"{cmd.location}: source can't be a URL for COPY")
    name = os.path.basename(url.split("?")[0]) or "__unnamed__"
    out = tmp / "download" / name
    out.parent.mkdir(exist_ok=True)
    h = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as r:
            if r.status_code != 200:
                raise CopyError(f"{cmd.location}: ADD {url}: HTTP {r.status_code}")
            with open(out, "wb") as f:
                for chunk in r.iter_bytes():
                    h.update(chunk)
                    f.write(chunk)
            lm = r.headers.get("last-modified")
    except httpx.HTTPError as e:
        raise CopyError(f"{cmd.location}: ADD {url}: {e}") from None
    if cmd.checksum and cmd.checksum != "sha256:" + h.hexdigest():
        raise CopyError(f"{cmd.location}: ADD {url}: digest mismatch sha256:{h.hexdigest()}: {cmd.checksum}")
    os.chmod(out, 0o600)
    if lm:
        with contextlib.suppress(TypeError, ValueError):
            ts = email.utils.parsedate_to_datetime(lm).timestamp()
            os.utime(out, (ts, ts))
    return out
