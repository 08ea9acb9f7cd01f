"""The instructions that make layers: RUN (in a container through the StepRunner) and COPY/ADD (files staged
in a folder, then archived). Each returns after adding one layer to the stage state."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from skiff.build.builder.cache import LayerRef
from skiff.build.builder.options import RunStep, StepMount
from skiff.build.builder.rootview import RootView, resolve_user
from skiff.build.dockerfile import commands as c
from skiff.errors import SkiffError
from skiff.oci.digest import Digest

if TYPE_CHECKING:
    from skiff.build.builder.executor import Builder
    from skiff.build.builder.state import StageState

CA_PATH = "/etc/ssl/certs/ca-certificates.crt"
_TAIL = 20


# -- layers ----------------------------------------------------------------------------------------------
def layer_dirs(b: Builder, state: StageState) -> list[Path]:
    """The stage's layers unpacked in the store (bottom first), unpacking any not yet there."""
    from skiff.store.layers import LayerSource

    if not state.layers:
        return []
    recs = b.store.layers.ensure([LayerSource(lr.diff_id, lr.blob, lr.media_type) for lr in state.layers],
                                 b.store.blobs.open, b.store._unpacker())
    return [b.store.layers.diff_dir(r.chain_id) for r in recs]


def add_layer_from(b: Builder, state: StageState, src: Path, mode: str) -> None:
    from skiff.archive import create_layer

    tmpdir = b.store.root / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    fd, blob = tempfile.mkstemp(dir=tmpdir, prefix="layer-")
    try:
        with os.fdopen(fd, "wb") as out:
            res = create_layer(src, out, compression="gzip", mode=mode,  # type: ignore[arg-type]
                               source_date_epoch=b.opts.source_date_epoch)
        with open(blob, "rb") as f:
            d = b.store.put_blob(f, res.digest, res.size, res.media_type, what="layer")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(blob)
    state.add_layer(LayerRef(str(res.diff_id), d.digest, d.media_type, d.size))


@contextlib.contextmanager
def mounted(b: Builder, state: StageState) -> Iterator[tuple[str, Path]]:
    """A read-write overlay of the stage's layers for one step; removed afterwards."""
    drv = b.store.driver
    cid = "build-" + uuid.uuid4().hex[:20]
    drv.create_rw(cid, layer_dirs(b, state))
    try:
        root = drv.mount(cid)
        try:
            yield cid, root
        finally:
            drv.unmount(cid)
    finally:
        drv.remove(cid)


def reader(root: Path):  # type: ignore[no-untyped-def]
    """A reader of image files inside a mounted root that never follows a link out of it."""
    from skiff.archive import open_in_root

    def read(path: str) -> bytes | None:
        try:
            fd = open_in_root(root, path, os.O_RDONLY | os.O_NONBLOCK)
        except (OSError, SkiffError):
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return os.read(fd, 4 << 20)
        finally:
            os.close(fd)

    return read


# -- RUN -------------------------------------------------------------------------------------------------
def _args(state: StageState, cmd: c.RunCommand) -> list[str]:
    if cmd.prepend_shell:
        script = " ".join(cmd.cmd_line or ())
        if cmd.files and script.strip().startswith("<<"):
            script = cmd.files[0].data
        return [*state.shell(), script]
    return list(cmd.cmd_line or ())


def run_key(b: Builder, state: StageState, cmd: c.RunCommand) -> str:
    mounts = [(m.type, m.target, m.source, m.from_, m.cache_id, m.readonly) for m in cmd.mounts]
    src_sums = [b.context.checksum(os.path.normpath("/" + m.source).lstrip("/"))
                for m in cmd.mounts if m.type == "bind" and not m.from_ and b.context.root is not None]
    files = [f.data for f in cmd.files]
    return json.dumps([_args(state, cmd), mounts, src_sums, files, cmd.network])


def _step_mounts(b: Builder, state: StageState, cmd: c.RunCommand) -> list[StepMount]:
    out: list[StepMount] = []
    cwd = state.config.config.working_dir or "/"
    for m in cmd.mounts:
        target = m.target if m.target.startswith("/") else os.path.join(cwd, m.target)
        if m.type == "cache":
            out.append(StepMount(target, b.cache.mount_dir(m.cache_id or target), readonly=m.readonly
                                 if m.readonly is False else False))
        elif m.type == "tmpfs":
            out.append(StepMount(target, None, readonly=False, kind="tmpfs"))
        elif m.type == "secret":
            sid = m.cache_id or os.path.basename(m.target or "")
            src = b.opts.secrets.get(sid)
            if src is None:
                if m.required:
                    raise SkiffError(f"secret {sid} not found (pass --secret id={sid},src=FILE)", exit_code=1)
                continue
            out.append(StepMount(m.target or f"/run/secrets/{sid}", src, readonly=True))
        elif m.type == "bind":
            if m.from_:
                raise SkiffError(f"RUN --mount=type=bind,from={m.from_} is not supported yet", exit_code=1)
            if b.context.root is None:
                raise SkiffError("RUN --mount=type=bind needs a build context", exit_code=1)
            from skiff.archive import safe_join

            src = safe_join(b.context.root, m.source or ".")
            out.append(StepMount(target, src, readonly=m.readonly))
        else:
            raise SkiffError(f"RUN --mount=type={m.type} is not supported", exit_code=1)
    return out


def run(b: Builder, n: int, state: StageState, cmd: c.RunCommand) -> None:
    args = _args(state, cmd)
    t0 = time.monotonic()
    tail: list[bytes] = []
    started = t0

    def output(data: bytes) -> None:
        for line in data.splitlines():
            tail.append(line)
            del tail[:-_TAIL]
            b.say(f"#{n} {time.monotonic() - started:.3f} {line.decode(errors='replace')}")

    mounts = _step_mounts(b, state, cmd)
    env = state.run_env()
    ca = b.opts.ca_bundle
    if ca is not None:
        mounts.append(StepMount(CA_PATH, ca, readonly=True))
        env += [f"SSL_CERT_FILE={CA_PATH}", f"REQUESTS_CA_BUNDLE={CA_PATH}", f"PIP_CERT={CA_PATH}"]
    network = cmd.network or b.opts.network
    if network in ("default", "", "bridge"):
        network = "host"
        if Path("/etc/resolv.conf").is_file():
            mounts.append(StepMount("/etc/resolv.conf", Path("/etc/resolv.conf").resolve(), readonly=True))
    with mounted(b, state) as (cid, root):
        view = RootView(b.store.driver.lower_dirs(cid))
        created = [m.target for m in mounts if not view.exists(m.target)]
        uid, gid, extra = resolve_user(reader(root), state.config.config.user or "root",
                                       where=f"{cmd.location}: USER")
        cwd = state.config.config.working_dir or "/"
        step = RunStep(rootfs=root, args=tuple(args), env=tuple(env), cwd=cwd, uid=uid, gid=gid,
                       additional_gids=extra, mounts=tuple(mounts), network=network, hostname="buildkitsandbox",
                       output=output)
        code = b.runner.run(step)
        if code != 0:
            shown = " ".join(json.dumps(a) if " " in a else a for a in args)
            raise SkiffError(f"{cmd.location}: {cmd.original.strip()}: process \"{shown}\" did not complete "
                             f"successfully: exit code: {code}", exit_code=1)
        upper = b.store.driver.upper_dir(cid)
        _remove_mount_points(upper, created, view)
        b.say(f"#{n} DONE {time.monotonic() - t0:.1f}s")
        add_layer_from(b, state, upper, "overlay-upper")
    state.add_history(b.created, "RUN " + " ".join(args) + " # buildkit", empty=False)


def _remove_mount_points(upper: Path, targets: list[str], view: RootView) -> None:
    """Mount points the runtime had to create for a step's mounts leave no trace in its layer."""
    for t in targets:
        parts = [p for p in t.strip("/").split("/") if p]
        # the first missing component is where the runtime started creating
        first = 0
        while first < len(parts) and view.exists("/".join(parts[: first + 1])):
            first += 1
        for depth in range(len(parts), first, -1):
            p = upper.joinpath(*parts[:depth])
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode):
                with contextlib.suppress(OSError):
                    os.rmdir(p)  # only when empty
            elif stat.S_ISREG(st.st_mode) and st.st_size == 0 and depth == len(parts):
                os.unlink(p)


# -- WORKDIR ---------------------------------------------------------------------------------------------
def ensure_dir(b: Builder, state: StageState, path: str) -> bool:
    """Create ``path`` in a layer when the image lacks it; True when a layer was added."""
    view = RootView(layer_dirs(b, state))
    if view.is_dir(path):
        return False
    uid, gid, _ = resolve_user(view.read, state.config.config.user or "root", where="WORKDIR")
    with tempfile.TemporaryDirectory(dir=_tmp(b)) as tmp:
        stage = Path(tmp) / "layer"
        _mkdirs(stage, path, view, uid, gid)
        add_layer_from(b, state, stage, "dir")
    return True


def _tmp(b: Builder) -> Path:
    d = b.store.root / "tmp"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _mkdirs(stage: Path, path: str, view: RootView, uid: int, gid: int) -> None:
    """Create ``path``'s folders in ``stage``; those the image has keep the image's owner, mode and mtime."""
    stage.mkdir(exist_ok=True)
    cur = stage
    rel = ""
    for part in [p for p in path.strip("/").split("/") if p]:
        rel = f"{rel}/{part}"
        cur = cur / part
        if cur.exists():
            continue
        cur.mkdir()
        src = view._find(rel)
        if src is not None and src.is_dir():
            st = os.lstat(src)
            os.chown(cur, st.st_uid, st.st_gid)
            os.chmod(cur, stat.S_IMODE(st.st_mode))
            os.utime(cur, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            os.chown(cur, uid, gid)
            os.chmod(cur, 0o755)


# -- COPY / ADD ------------------------------------------------------------------------------------------
def copy_key(b: Builder, state: StageState, cmd: c.CopyCommand | c.AddCommand) -> str:
    from_ = getattr(cmd, "from_", "")
    sums: list[str] = []
    if from_:
        sums.append("from:" + _from_key(b, from_, cmd))
    else:
        for s in cmd.sources:
            if _is_url(s):
                sums.append("url:" + s + ":" + cmd.checksum if isinstance(cmd, c.AddCommand) else s)
                continue
            for rel in b.context.resolve(s, where=cmd.location):
                sums.append(rel + ":" + b.context.checksum(rel))
    return json.dumps([list(cmd.sources), cmd.dest, [f.data for f in cmd.contents], from_, cmd.chown, cmd.chmod,
                       list(cmd.excludes), state.config.config.working_dir or "/", sums])


def _from_key(b: Builder, from_: str, cmd: c.Command) -> str:
    j = b._stage_ref(from_, len(b.stages))
    if j is not None and j in b.built:
        return b.built[j].key
    rec = b.images.ensure(from_, pull=False, platform=b.opts.platform)
    return rec.id


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def copy(b: Builder, n: int, state: StageState, cmd: c.CopyCommand | c.AddCommand) -> None:
    from skiff.archive import copy_into_root

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
    mode = int(cmd.chmod, 8) if cmd.chmod else None
    with tempfile.TemporaryDirectory(dir=_tmp(b)) as tmp, contextlib.ExitStack() as stack:
        stage = Path(tmp) / "layer"
        _mkdirs(stage, os.path.dirname(dest.rstrip("/")) if not dest_is_dir else dest, view, 0, 0)
        from_ = getattr(cmd, "from_", "")
        src_root = b.context.root
        sources: list[tuple[Path, str]] = []
        if from_:
            src_root = stack.enter_context(_from_root(b, from_))
            for s in cmd.sources:
                from skiff.archive import safe_join

                sources.append((safe_join(src_root, s), os.path.basename(s.rstrip("/"))))
        else:
            for s in cmd.sources:
                if _is_url(s):
                    sources.append((_download(b, s, Path(tmp), cmd), os.path.basename(s.split("?")[0])))
                    continue
                for rel in b.context.resolve(s, where=cmd.location):
                    assert src_root is not None
                    sources.append((src_root / rel if rel else src_root, os.path.basename(rel)))
        for f in cmd.contents:
            p = Path(tmp) / "heredoc" / f.name
            p.parent.mkdir(exist_ok=True)
            p.write_text(f.data)
            sources.append((p, f.name))
        for path, name in sources:
            is_dir = path.is_dir() and not path.is_symlink()
            if isinstance(cmd, c.AddCommand) and not is_dir and _is_archive(path) and not _is_url(str(path)):
                _extract(path, stage, dest)
                continue
            target = dest if is_dir or not dest_is_dir else os.path.join(dest, name)
            if is_dir and not from_ and b.context.ignore is not None and b.context.root is not None:
                _copy_included(b, path, stage, target, uid, gid)
            else:
                copy_into_root(path, stage, target, uid=uid, gid=gid, chown=True)
            if mode is not None:
                _chmod_tree(stage / target.lstrip("/"), mode)
        add_layer_from(b, state, stage, "dir")
    b.say(f"#{n} DONE {time.monotonic() - t0:.1f}s")
    state.add_history(b.created, f"{cmd.keyword.upper()} {' '.join(cmd.sources)} {cmd.dest} # buildkit",
                      empty=False)


def _copy_included(b: Builder, src: Path, stage: Path, dest: str, uid: int, gid: int) -> None:
    """Copy the context folder ``src`` into ``stage``/``dest``, leaving out what .dockerignore excludes.
    Links are copied as links, never followed (SECURITY.md #35)."""
    assert b.context.root is not None
    rel = os.path.relpath(src, b.context.root)
    prefix = "" if rel == "." else rel + "/"
    base = stage / dest.lstrip("/")
    base.mkdir(parents=True, exist_ok=True)
    dirs: list[tuple[Path, os.stat_result]] = []
    for f in b.context.files():
        if not f.startswith(prefix) or f == rel:
            continue
        s_path = os.path.join(b.context.root, f)
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
            shutil.copyfile(s_path, d_path, follow_symlinks=False)
            os.chmod(d_path, stat.S_IMODE(st.st_mode))
        else:
            continue
        os.chown(d_path, uid, gid, follow_symlinks=False)
        os.utime(d_path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    for d_path, st in reversed(dirs):
        os.chmod(d_path, stat.S_IMODE(st.st_mode))
        os.chown(d_path, uid, gid)
        os.utime(d_path, ns=(st.st_atime_ns, st.st_mtime_ns))


@contextlib.contextmanager
def _from_root(b: Builder, from_: str) -> Iterator[Path]:
    from skiff.build.builder.state import StageState

    j = b._stage_ref(from_, len(b.stages))
    if j is not None:
        st = b.built[j]
    else:
        rec = b.images.ensure(from_, pull=b.opts.pull, platform=b.opts.platform)
        st = StageState(layers=[LayerRef(d, bl, mt, 0) for d, bl, mt in
                                zip(rec.diff_ids, rec.layer_blobs, rec.layer_media_types, strict=True)],
                        config=b.store.image_config(rec), key=rec.id)
    with mounted(b, st) as (_, root):
        yield root


def _chmod_tree(p: Path, mode: int) -> None:
    if p.is_symlink():
        return
    os.chmod(p, mode)
    if p.is_dir():
        for dirpath, dirnames, filenames in os.walk(p):
            for nm in dirnames + filenames:
                q = os.path.join(dirpath, nm)
                if not os.path.islink(q):
                    os.chmod(q, mode)


def _is_archive(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def _extract(path: Path, stage: Path, dest: str) -> None:
    import tarfile

    target = stage / dest.lstrip("/")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path) as tf:
        tf.extractall(target, filter="tar")


def _download(b: Builder, url: str, tmp: Path, cmd: c.CopyCommand | c.AddCommand) -> Path:
    import email.utils
    import hashlib

    import httpx

    name = os.path.basename(url.split("?")[0]) or "download"
    out = tmp / "download" / name
    out.parent.mkdir(exist_ok=True)
    h = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as r:
            if r.status_code != 200:
                raise SkiffError(f"{cmd.location}: ADD {url}: HTTP {r.status_code}", exit_code=1)
            with open(out, "wb") as f:
                for chunk in r.iter_bytes():
                    h.update(chunk)
                    f.write(chunk)
            lm = r.headers.get("last-modified")
    except httpx.HTTPError as e:
        raise SkiffError(f"{cmd.location}: ADD {url}: {e}", exit_code=1) from None
    want = getattr(cmd, "checksum", "")
    if want and want != "sha256:" + h.hexdigest():
        raise SkiffError(f"{cmd.location}: ADD {url}: checksum sha256:{h.hexdigest()} does not match {want}",
                         exit_code=1)
    os.chmod(out, 0o600)
    if lm:
        with contextlib.suppress(TypeError, ValueError):
            ts = email.utils.parsedate_to_datetime(lm).timestamp()
            os.utime(out, (ts, ts))
    return out


_ = (shutil, Digest)
