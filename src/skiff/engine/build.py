"""`skiff build`: the engine's side of the builder. It gives the builder its services: a StepRunner that runs
RUN steps with skiff's runtime (in-process, or crun/runc with the same bundle) and an ImageProvider that finds
or pulls FROM images."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from skiff.build.builder import BuildOptions, BuildReport, RunStep
from skiff.engine.context import EngineContext
from skiff.errors import SkiffError

if TYPE_CHECKING:
    from skiff.oci.runtime import Spec
    from skiff.store.images import ImageRecord


class RuntimeStepRunner:
    """Runs a RUN step as a container: a bundle whose root is the step's mounted overlay."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def spec(self, step: RunStep) -> Spec:
        from dataclasses import replace

        from skiff.oci.runtime import Mount
        from skiff.runtime.defaults import default_mounts, default_spec

        mounts = default_mounts()
        for m in step.mounts:
            if m.kind == "tmpfs":
                mounts.append(Mount(destination=m.target, type="tmpfs", source="tmpfs",
                                    options=["nosuid", "nodev", "mode=1777"]))
            else:
                assert m.source is not None
                mounts.append(Mount(destination=m.target, type="bind", source=str(m.source),
                                    options=["rbind", "ro" if m.readonly else "rw"]))
        spec = default_spec(list(step.args), rootfs=str(step.rootfs), env=list(step.env), cwd=step.cwd,
                            uid=step.uid, gid=step.gid, additional_gids=list(step.additional_gids),
                            hostname=step.hostname, mounts=mounts, no_new_privileges=False)
        if step.network == "host" and spec.linux is not None:
            spec = replace(spec, linux=replace(spec.linux, namespaces=[
                n for n in spec.linux.namespaces if n.type != "network"]))
        return spec

    def run(self, step: RunStep) -> int:
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
    import platform

    m = platform.machine()
    return "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def build(ctx: EngineContext, opts: BuildOptions, out: TextIO) -> BuildReport:
    from skiff.build.builder import Builder

    b = Builder(ctx.store, RuntimeStepRunner(ctx), StoreImageProvider(ctx), out, host_platform=host_platform())
    return b.build(opts)


def prune(ctx: EngineContext) -> tuple[int, int]:
    from skiff.build.builder.cache import BuildCache

    n = BuildCache(ctx.root).prune()
    ctx.store.gc()
    return n


_ = json
