"""Moving images in and out of the store: save, load, import (Options in, Reports out)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from skiff.engine.context import EngineContext
from skiff.errors import InvalidArgumentError, SkiffError
from skiff.oci import reference
from skiff.records import dataclass, field

if TYPE_CHECKING:
    from skiff.store.images import ImageRecord
    from skiff.transfer.sink import Sink

SAVE_FORMATS = ("docker-archive", "oci-archive", "oci-dir")


@dataclass
class SaveOptions:
    """What `skiff save` was asked for: the images, the output (``None``: stdout) and the format."""

    names: list[str]
    output: str | None = None  # None: stdout
    format: str = "docker-archive"


@dataclass
class LoadOptions:
    """What `skiff load` reads: an archive path, or stdin when ``None`` or ``-``."""

    input: str | None = None  # None or "-": stdin


@dataclass
class LoadReport:
    """What `skiff load` loaded: names of the images, IDs of those without one, and the archive format."""

    loaded: list[str] = field(default_factory=list)  # familiar names
    ids: list[str] = field(default_factory=list)  # image IDs loaded without a name
    format: str = ""


@dataclass
class ImportOptions:
    """What `skiff import` takes: a rootfs tarball or ``-``, a name, ``--change`` edits, message, platform."""

    source: str  # file or "-"
    reference: str | None = None
    changes: list[str] = field(default_factory=list)
    message: str | None = None
    platform: str | None = None


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def spool_stdin(tmp: Path, stream: BinaryIO) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=tmp, prefix="stdin-")
    with os.fdopen(fd, "wb") as f:
        shutil.copyfileobj(stream, f, 1 << 20)
    return Path(path)


class ImageIO:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def save(self, opts: SaveOptions, stdout: BinaryIO | None = None) -> None:
        from skiff.transfer.sink import DirSink, TarSink

        if opts.format not in SAVE_FORMATS:
            raise InvalidArgumentError(f"unknown save format {opts.format!r} (want {', '.join(SAVE_FORMATS)})")
        if not opts.names:
            raise InvalidArgumentError("\"save\" requires at least 1 argument")
        store = self.ctx.store
        picked = []
        for text in opts.names:
            rec = store.resolve_image(text)
            names: list[str] = []
            if not reference.looks_like_id(text) or ":" in text or "/" in text:
                with contextlib.suppress(reference.ReferenceError):
                    ref = reference.parse(text)
                    names = [str(ref)] if str(ref) in rec.names else []
            if text.startswith("sha256:") or (reference.looks_like_id(text) and not names):
                names = []
            picked.append((rec, names))
        tmp_out: Path | None = None
        out_file: BinaryIO | None = None
        sink: Sink
        if opts.format == "oci-dir":
            if not opts.output:
                raise InvalidArgumentError("oci-dir format needs an output folder (-o)")
            sink = DirSink(Path(opts.output))
        else:
            if opts.output:
                target = Path(opts.output)
                fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".skiff-save-")
                tmp_out = Path(tmp)
                out_file = os.fdopen(fd, "wb")
            else:
                if stdout is None:
                    raise InvalidArgumentError("no output: give -o FILE")
                out_file = stdout
            sink = TarSink(out_file)
        try:
            with store.writing():
                self._write(picked, opts, sink)
            if out_file is not None and tmp_out is not None:
                out_file.flush()
                os.fsync(out_file.fileno())
                out_file.close()
                os.chmod(tmp_out, 0o644)
                os.replace(tmp_out, Path(opts.output or ""))
                tmp_out = None
        finally:
            if tmp_out is not None:
                with contextlib.suppress(OSError):
                    out_file.close()  # type: ignore[union-attr]
                tmp_out.unlink(missing_ok=True)

    def _write(self, picked: list[tuple[ImageRecord, list[str]]], opts: SaveOptions, sink: Sink) -> None:
        from skiff.transfer.copy import copy_image
        from skiff.transfer.docker_archive import DockerArchiveDestination
        from skiff.transfer.oci_layout import LayoutDestination, read_index
        from skiff.transfer.store import StoreSource

        dest: DockerArchiveDestination | LayoutDestination
        if opts.format == "docker-archive":
            dest = DockerArchiveDestination(sink, self.ctx.tmp)
        else:
            keep = []
            if opts.format == "oci-dir" and (Path(opts.output or "") / "index.json").exists():
                from skiff.transfer.bundle import DirBundle

                keep = list(read_index(DirBundle(Path(opts.output or ""))).manifests)
            dest = LayoutDestination(sink, keep)
        for rec, names in picked:
            copy_image(StoreSource(self.ctx.store, rec), dest, names=names)
        dest.close()

    def load(self, opts: LoadOptions, stdin: BinaryIO | None = None) -> LoadReport:

        with self.ctx.store.writing():
            return self._load(opts, stdin)

    def _load(self, opts: LoadOptions, stdin: BinaryIO | None) -> LoadReport:
        from skiff.transfer.copy import copy_image
        from skiff.transfer.formats import open_images
        from skiff.transfer.store import StoreDestination

        store = self.ctx.store
        spooled: Path | None = None
        label = opts.input
        if not opts.input or opts.input == "-":
            if stdin is None or (hasattr(stdin, "isatty") and stdin.isatty()):
                raise InvalidArgumentError("requested load from stdin, but stdin is empty")
            spooled = spool_stdin(self.ctx.tmp, stdin)
            path, label = spooled, "stdin"
        else:
            path = Path(opts.input)
        report = LoadReport()
        try:
            if spooled is not None and os.path.getsize(spooled) == 0:
                raise InvalidArgumentError("requested load from stdin, but stdin is empty")
            bundle, sources, report.format = open_images(path, self.ctx.tmp, label)
            try:
                for src in sources:
                    dst = StoreDestination(store)
                    try:
                        res = copy_image(src, dst)
                    except BaseException:
                        dst.discard()
                        raise
                    if res.names:
                        report.loaded += [reference.parse(n).familiar() for n in res.names]
                    else:
                        report.ids.append(res.image_id)
            finally:
                bundle.close()
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)
        return report

    def import_(self, opts: ImportOptions, stdin: BinaryIO | None = None) -> str:
        """A rootfs tarball (or "-") -> a one-layer image; --change applies Dockerfile-like edits."""
        with self.ctx.store.writing():
            return self._import(opts, stdin)

    def _import(self, opts: ImportOptions, stdin: BinaryIO | None) -> str:
        from skiff.engine.changes import apply_changes
        from skiff.engine.layer_image import commit_rootfs_image

        name = str(reference.parse(opts.reference)) if opts.reference else None
        config_edits = apply_changes(opts.changes)
        tmp = self.ctx.tmp
        tmp.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=tmp, prefix="import-"))
        try:
            rootfs = work / "rootfs"
            rootfs.mkdir()
            from skiff.archive import apply_layer

            if opts.source == "-":
                if stdin is None:
                    raise InvalidArgumentError("import from stdin, but there is no stdin")
                apply_layer(stdin, rootfs, what="imported tarball")
            else:
                try:
                    with open(opts.source, "rb") as f:
                        apply_layer(f, rootfs, what=f"imported tarball {opts.source}")
                except FileNotFoundError:
                    raise InvalidArgumentError(f"open {opts.source}: no such file or directory") from None
            arch, os_name = None, None
            if opts.platform:
                os_name, _, arch = opts.platform.partition("/")
            # moby's ImportImage: no CreatedBy, and "Imported from -" for what docker/cli uploads (a file or stdin)
            created_by = ""
            comment = opts.message or "Imported from -"
            return commit_rootfs_image(self.ctx, rootfs, work, names=[name] if name else [],
                                       edits=config_edits, created_by=created_by, comment=comment,
                                       architecture=arch or None, os_name=os_name or None)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def stdout_binary() -> BinaryIO:
    if sys.stdout.isatty():
        raise SkiffError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    return sys.stdout.buffer


