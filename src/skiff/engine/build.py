"""`skiff build`: the engine's side of the builder. It gives the builder its services: a StepRunner that runs
RUN steps with skiff's runtime (in-process, or crun/runc with the same bundle) and an ImageProvider that finds
or pulls FROM images."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from skiff.errors import SkiffError

if TYPE_CHECKING:
    from skiff.build.builder.options import BuildOptions, BuildReport, RunStep
    from skiff.engine.context import EngineContext
    from skiff.oci.runtime import Spec
    from skiff.store.images import ImageRecord


class RuntimeStepRunner:
    """Runs a RUN step as a container: a bundle whose root is the step's mounted overlay."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def spec(self, step: RunStep) -> Spec:
        from dataclasses import replace

        from skiff.oci.runtime import Mount
        from skiff.runtime.defaults import default_mounts, default_spec, inherited_nofile

        mounts = default_mounts()
        for m in step.mounts:
            if m.kind == "tmpfs":
                mounts.append(Mount(destination=m.target, type="tmpfs", source="tmpfs",
                                    options=["nosuid", "nodev", "mode=1777", *([f"size={m.size}"] if m.size else [])]))
            else:
                assert m.source is not None
                mounts.append(Mount(destination=m.target, type="bind", source=str(m.source),
                                    options=["rbind", "ro" if m.readonly else "rw"]))
        spec = default_spec(list(step.args), rootfs=str(step.rootfs), env=list(step.env), cwd=step.cwd,
                            uid=step.uid, gid=step.gid, additional_gids=list(step.additional_gids),
                            hostname=step.hostname, mounts=mounts, no_new_privileges=False,
                            nofile=inherited_nofile())  # BuildKit's RUN inherits the daemon's limits, as run does
        if step.network == "host" and spec.linux is not None:
            spec = replace(spec, linux=replace(spec.linux, namespaces=[
                n for n in spec.linux.namespaces if n.type != "network"]))
        return spec

    def run(self, step: RunStep) -> int:
        import shutil
        import subprocess
        import sys
        import tempfile
        import threading
        import uuid

        from skiff.oci.codec import canonical

        spec = self.spec(step)
        bundle = Path(tempfile.mkdtemp(prefix="build-bundle-", dir=self._tmp()))
        r, w = os.pipe()
        reader: threading.Thread | None = None
        try:
            (bundle / "config.json").write_bytes(canonical(spec))
            cid = "skiff-build-" + uuid.uuid4().hex[:16]

            def pump() -> None:
                buf = b""
                while True:
                    chunk = os.read(r, 65536)
                    if not chunk:
                        break
                    buf += chunk
                    if b"\n" in buf:
                        head, _, buf = buf.rpartition(b"\n")
                        step.output(head)
                if buf:
                    step.output(buf)

            devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if self.ctx.runtime in ("skiff", "") and threading.active_count() == 1:
                    from skiff.runtime import Runtime
                    from skiff.runtime.errors import ExecFailed

                    def started(_pid: int) -> None:
                        nonlocal reader
                        os.close(w)
                        reader = threading.Thread(target=pump, daemon=True)
                        reader.start()

                    try:
                        code = Runtime(self.ctx.runroot / "runtime").run(
                            cid, bundle, stdio=(devnull, w, w), on_started=started)
                    except ExecFailed as e:
                        step.output(str(e).encode())
                        code = e.exit_code
                    finally:
                        with contextlib.suppress(OSError):
                            os.close(w)
                else:
                    exe = self.ctx.runtime if self.ctx.runtime not in ("skiff", "") else "skiff-runtime"
                    binary = shutil.which(exe) or str(Path(sys.executable).parent / exe)
                    proc = subprocess.Popen([binary, "--root", str(self.ctx.runroot / exe), "run", "--bundle",
                                             str(bundle), cid], stdin=devnull, stdout=w, stderr=w)
                    os.close(w)
                    reader = threading.Thread(target=pump, daemon=True)
                    reader.start()
                    code = proc.wait()
            finally:
                os.close(devnull)
            if reader is not None:
                reader.join()
            return code
        finally:
            os.close(r)
            shutil.rmtree(bundle, ignore_errors=True)

    def _tmp(self) -> Path:
        d = self.ctx.runroot / "build"
        d.mkdir(parents=True, exist_ok=True)
        return d


class StoreImageProvider:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def ensure(self, reference: str, *, pull: bool, platform: str | None) -> ImageRecord:
        if not pull:  # present in the store: no registry code is loaded
            try:
                found: ImageRecord = self.ctx.store.resolve_image(reference)
                if platform is None or f"{found.os}/{found.architecture}" == platform:
                    return found
            except SkiffError:
                pass
        try:
            from skiff.engine.registry import ensure_image
        except ImportError:
            if pull:
                raise SkiffError(f"pulling {reference}: no registry support in this build", exit_code=1) from None
            return self.ctx.store.resolve_image(reference)
        rec: ImageRecord = ensure_image(self.ctx, reference, platform=platform,
                                        policy="always" if pull else "missing")
        return rec


def host_platform() -> str:
    m = os.uname().machine
    return "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def build(ctx: EngineContext, opts: BuildOptions, out: TextIO) -> BuildReport:
    """Build; with ``opts.output`` (``type=oci|docker,dest=FILE``) also write the image as an archive.
    A rebuild whose inputs did not change since the last build is answered from the build memo."""
    import time

    from skiff.build.builder.options import BuildReport
    from skiff.build.builder.quick import Memo

    t0 = time.monotonic()
    memo = Memo.prepare(ctx.root, opts)
    if memo is not None:
        image_id = memo.replay(ctx.root, opts, out)
        if image_id is not None:
            return BuildReport(image_id=image_id, tags=opts.tags, steps=0, cached=0, seconds=time.monotonic() - t0)
    from skiff.build.builder import Builder

    output = parse_output(opts.output) if opts.output else None
    b = Builder(ctx.store, RuntimeStepRunner(ctx), StoreImageProvider(ctx), out, host_platform=host_platform())
    report = b.build(opts)
    if memo is not None:
        memo.save(lines=b.transcript, images=b.images_used, records=b.keys_used, image_id=report.image_id,
                  manifest=b.manifest_digest, names=b.names)
    if output is not None:
        from skiff.engine.image_io import ImageIO, SaveOptions

        kind, dest = output
        names = [report.image_id]
        if opts.tags:
            names = [opts.tags[0]]
        ImageIO(ctx).save(SaveOptions(names=names, output=dest, format=f"{kind}-archive"))
    return report


def parse_output(spec: str) -> tuple[str, str]:
    """``type=oci|docker,dest=FILE`` (or a bare path: a docker archive) -> (kind, dest)."""
    fields = dict(part.partition("=")[::2] for part in spec.split(",")) if "=" in spec else {"dest": spec}
    kind = fields.get("type", "docker")
    dest = fields.get("dest", "")
    if kind not in ("oci", "docker"):
        raise SkiffError(f"--output type={kind}: not supported (oci or docker)", exit_code=1)
    if not dest or dest == "-":
        raise SkiffError(f"--output {spec}: give dest=FILE", exit_code=1)
    return kind, dest


@contextlib.contextmanager
def stdin_context(ctx: EngineContext, data: bytes):  # type: ignore[no-untyped-def]
    """``skiff build -``: stdin is either a Dockerfile (no context) or a tar context, maybe compressed, with
    the Dockerfile inside. Yields (context folder or None, Dockerfile text or None); the folder is removed."""
    import io

    head = data[:512]
    is_tar = head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")) or (len(head) >= 262 and head[257:262] == b"ustar")
    if not is_tar:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise SkiffError("the Dockerfile on stdin is not UTF-8 text", exit_code=1) from None
        yield None, text
        return
    import shutil
    import tempfile

    from skiff.archive import ArchiveError, apply_layer

    tmp = ctx.runroot / "build"
    tmp.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="context-", dir=tmp))
    try:
        try:
            apply_layer(io.BytesIO(data), d, what="build context on stdin")
        except ArchiveError as e:
            raise SkiffError(f"build context on stdin: {e.message}", exit_code=1) from None
        yield d, None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def prune(ctx: EngineContext) -> tuple[int, int]:
    from skiff.build.builder.cache import BuildCache

    n = BuildCache(ctx.root).prune()
    ctx.store.gc()
    return n

