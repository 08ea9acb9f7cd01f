"""Runs a Dockerfile's stages: the ones the target needs, in order, each instruction through the cache."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, TextIO

from skiff.build.builder.cache import BuildCache, CachedState, LayerRef, step_key
from skiff.build.builder.context import BuildContext
from skiff.build.builder.options import BuildOptions, BuildReport, ImageProvider, StepRunner
from skiff.build.builder.state import StageState
from skiff.build.dockerfile import commands as c
from skiff.build.dockerfile import instructions, parser
from skiff.build.dockerfile.args import BuildArgs
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.expand import expand, expand_word
from skiff.errors import SkiffError
from skiff.oci import image as oci
from skiff.oci.digest import Digest

if TYPE_CHECKING:
    from pathlib import Path

    from skiff.build.builder.progress import Plain
    from skiff.store.images import ImageRecord
    from skiff.store.store import Store


class BuildError(SkiffError):
    """A build that failed; ``docker build`` exits 1."""

    exit_code = 1


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Builder:
    def __init__(self, store: Store, runner: StepRunner, images: ImageProvider, out: TextIO, *,
                 host_platform: str = "linux/amd64") -> None:
        self.store = store
        self.runner = runner
        self.images = images
        self.out = out
        self.cache = BuildCache(store.root)
        self.host_platform = host_platform
        self._step = 0
        self._named: dict[str, BuildContext] = {}
        # what a no-op rebuild replays and checks (see quick.py)
        self.transcript: list[str] = []
        self.images_used: dict[str, str] = {}
        self.keys_used: list[str] = []
        self.manifest_digest = ""

    # -- entry point -------------------------------------------------------------------------------------
    def build(self, opts: BuildOptions) -> BuildReport:
        from skiff.build.builder.progress import make

        self.opts = opts
        self.progress: Plain = make("quiet" if opts.quiet else opts.progress, self.out)
        try:
            # gc leaves the build's blobs alone, and the blob folder is fsynced once for all of them
            with self.store.writing():
                return self._build(opts)
        finally:
            self.progress.close()

    def _build(self, opts: BuildOptions) -> BuildReport:
        t0 = time.monotonic()
        self.created = _rfc3339(opts.source_date_epoch if opts.source_date_epoch is not None else time.time())
        text, fname = self._dockerfile(opts)
        result = parser.parse(text, filename=fname)
        self.escape = result.escape
        stages, meta = instructions.parse(result)
        if not stages:
            raise BuildError(f"{fname}: file with no instructions")
        self.context = BuildContext.open(opts.context, opts.dockerfile, memo_dir=self.cache.dir.parent)
        self.args = BuildArgs(meta, opts.build_args, escape=self.escape,
                              platform=instructions.platform_args(self.host_platform, opts.platform))
        self.global_args = self.args.from_env()
        if not opts.quiet and opts.context is not None:
            self._warnings(text, result, fname)
        target = len(stages) - 1
        if opts.target:
            names = [s.name for s in stages]
            if opts.target.lower() not in names:
                raise BuildError(f"target stage {opts.target!r} could not be found")
            target = names.index(opts.target.lower())
        self.stages = stages
        needed = self._needed(target)
        self.total = sum(1 + len(stages[i].commands) for i in needed)
        self.built: dict[int, StageState] = {}
        self.cached = 0
        for i in sorted(needed):
            self.built[i] = self._build_stage(i)
        unused = self.args.unconsumed()
        if unused:
            self.progress.warn(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
            self.transcript.append(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        final = self.built[target]
        image_id = self._commit(final, opts)
        if opts.iidfile:
            opts.iidfile.write_text(image_id)
        self.context.save_memo()
        return BuildReport(image_id=image_id, tags=opts.tags, steps=self._step, cached=self.cached,
                           seconds=time.monotonic() - t0)

    def _dockerfile(self, opts: BuildOptions) -> tuple[str, str]:
        if opts.dockerfile_text is not None:
            return opts.dockerfile_text, "Dockerfile"
        path = opts.dockerfile or (opts.context / "Dockerfile" if opts.context else None)
        if path is None:
            raise BuildError("no Dockerfile given")
        try:
            return path.read_text(), path.name
        except FileNotFoundError:
            raise BuildError(f"failed to read dockerfile: open {path}: no such file or directory") from None
        except UnicodeDecodeError:
            raise BuildError(f"failed to read dockerfile {path}: not UTF-8 text") from None

    def _warnings(self, text: str, result: parser.ParseResult, fname: str) -> None:
        """skiff.pyapp's checks (Dockerfile habits, app binds) as ``WARNING: FILE:LINE: [ID] message``;
        ``# check=skip=ID`` silences one."""
        from skiff.build.dockerfile.checks import skipped_by_directive
        from skiff.pyapp.checks import check_dockerfile

        assert self.opts.context is not None
        skip = {s.lower() for s in skipped_by_directive(result)}
        try:
            found = check_dockerfile(text, self.opts.context, filename=fname)
        except (SkiffError, OSError, ValueError, SyntaxError):
            return
        for f in found:
            if "all" not in skip and f.id.lower() not in skip:
                self.progress.warn("WARNING: " + f.render())
                self.transcript.append("WARNING: " + f.render())

    # -- stage graph -------------------------------------------------------------------------------------
    def _stage_ref(self, name: str, before: int) -> int | None:
        """The index of stage ``name`` (a name or a number) defined before ``before``, else None."""
        if name.isdigit():
            i = int(name)
            return i if i < before else None
        for i, s in enumerate(self.stages[:before]):
            if s.name and s.name == name.lower():
                return i
        return None

    def _base(self, st: c.Stage) -> str:
        return expand_word(st.base_name, self.global_args, escape=self.escape).result

    def _needed(self, target: int) -> set[int]:
        out: set[int] = set()
        todo = [target]
        while todo:
            i = todo.pop()
            if i in out:
                continue
            out.add(i)
            st = self.stages[i]
            deps = [self._base(st)]
            for cmd in st.commands:
                if isinstance(cmd, c.CopyCommand) and cmd.from_:
                    deps.append(cmd.from_)
                if isinstance(cmd, c.RunCommand):
                    deps += [m.from_ for m in cmd.mounts if m.from_]
            for d in deps:
                j = self._stage_ref(d, i)
                if j is not None and self.context_dir(d) is None:
                    todo.append(j)
        return out

    # -- sources named by from= ----------------------------------------------------------------------------
    def context_dir(self, name: str) -> Path | None:
        """The folder of ``--build-context name=PATH`` (None for none, or for a ``docker-image://`` one)."""
        p = self.opts.build_contexts.get(name)
        return None if p is None or str(p).startswith("docker-image:/") else p

    def named_context(self, name: str) -> BuildContext:
        if name not in self._named:
            self._named[name] = BuildContext.open(self.opts.build_contexts[name], None)
        return self._named[name]

    def _image_ref(self, name: str) -> str:
        named = self.opts.build_contexts.get(name)
        if named is not None and str(named).startswith("docker-image:/"):
            return str(named).split(":", 1)[1].lstrip("/")
        return name

    def ensure_image(self, ref: str, *, pull: bool) -> ImageRecord:
        rec = self.images.ensure(ref, pull=pull, platform=self.opts.platform)
        self.images_used[ref] = rec.id
        return rec

    def layers_of(self, from_: str) -> list[LayerRef]:
        """The layers of a stage built earlier (by name or index), else of an image (pulled if missing)."""
        j = self._stage_ref(from_, len(self.stages))
        if j is not None and j in self.built:
            return list(self.built[j].layers)
        rec = self.ensure_image(self._image_ref(from_), pull=self.opts.pull)
        return [LayerRef(d, b, mt, 0) for d, b, mt in zip(rec.diff_ids, rec.layer_blobs, rec.layer_media_types,
                                                           strict=True)]

    def source_key(self, from_: str) -> str:
        """What a ``from=`` source contributes to a cache key: the stage's key, or the image ID."""
        j = self._stage_ref(from_, len(self.stages))
        if j is not None and j in self.built:
            return self.built[j].key
        return self.ensure_image(self._image_ref(from_), pull=False).id

    # -- one stage ---------------------------------------------------------------------------------------
    def _begin(self, stage_name: str, text: str) -> int:
        self._step += 1
        label = f"{stage_name} " if stage_name else ""
        self.progress.begin(self._step, f"[{label}{self._step}/{self.total}] {text}")
        self.transcript.append(f"#{self._step} [{label}{self._step}/{self.total}] {text}")
        return self._step

    def _build_stage(self, i: int) -> StageState:
        st = self.stages[i]
        base = self._base(st)
        self.no_cache = self.opts.no_cache or bool({st.name, str(i)} & set(self.opts.no_cache_filter))
        n = self._begin(st.name, f"FROM {base}" + (f" AS {st.name}" if st.name else ""))
        j = self._stage_ref(base, i)
        if j is not None:
            src = self.built[j]
            state = StageState(layers=list(src.layers), config=src.config, key=src.key, args=dict(src.args),
                               arg_order=list(src.arg_order))
        elif base.lower() == "scratch":
            arch = self.host_platform.split("/")[1]
            state = StageState(layers=[], config=oci.ImageConfig(architecture=arch, os="linux"),
                               key=step_key("scratch", self.host_platform))
        else:
            t = time.monotonic()
            rec = self.ensure_image(self._image_ref(base), pull=self.opts.pull)
            cfg = self.store.image_config(rec)
            layers = [LayerRef(d, b, mt, 0) for d, b, mt in zip(rec.diff_ids, rec.layer_blobs,
                                                              rec.layer_media_types, strict=True)]
            state = StageState(layers=layers, config=cfg, key=step_key("image", rec.id))
            self.progress.done(n, time.monotonic() - t)
            self.transcript.append(f"#{n} DONE 0.0s")
        state.inherited_cmd = True
        triggers = list(state.config.config.on_build)
        if triggers:
            state.config = state.config.with_config(on_build=[])
        cmds: list[c.Command] = []
        for trig in triggers:
            res = parser.parse(trig + "\n", filename=f"ONBUILD in {base}")
            for node in res.nodes:
                cmds.append(instructions.parse_instruction(node, filename=f"ONBUILD in {base}"))
        cmds += list(st.commands)
        for cmd in cmds:
            try:
                self._dispatch(st, state, cmd)
            except DockerfileError:
                raise
            except SkiffError as e:
                if e.message.startswith(f"{cmd.filename}:"):
                    e.exit_code = 1
                    raise
                raise BuildError(f"{cmd.location}: {cmd.original.strip()}: {e.message}", hint=e.hint) from None
        return state

    def _dispatch(self, st: c.Stage, state: StageState, cmd: c.Command) -> None:
        from skiff.build.builder import copy as cp
        from skiff.build.builder import metadata
        from skiff.build.builder import run as rn

        if isinstance(cmd, c.ArgCommand):
            self._begin(st.name, cmd.original.strip())
            self.args.declare(cmd, state.args, state.env)
            ex = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(ex, c.ArgCommand)
            for d in ex.args:
                if d.key not in state.arg_order:
                    state.arg_order.append(d.key)
            state.add_history(self.created, "ARG " + " ".join(
                d.key + (f"={d.value}" if d.value is not None else "") for d in ex.args), empty=True)
            # the values join the chain: a config restored later carries this ARG's history, not another's
            state.key = step_key(state.key, "ARG", cmd.original,
                                 json.dumps([[k, state.args.get(k)] for k in state.arg_order]))
            return
        n = self._begin(st.name, cmd.original.strip().replace("\n", " "))
        if isinstance(cmd, c.RunCommand):
            ex_run = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(ex_run, c.RunCommand)
            key = step_key(state.key, "RUN", rn.run_key(self, state, ex_run),
                           json.dumps(sorted(self.args.run_env(state.args).items())),
                           state.run_string(rn.args_of(state, ex_run)))
            self.transcript.append(f"#{n} CACHED")
            if self._restore(n, state, key):
                return
            rn.run(self, n, state, ex_run)
        elif isinstance(cmd, (c.CopyCommand, c.AddCommand)):
            exc = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(exc, (c.CopyCommand, c.AddCommand))
            key = step_key(state.key, type(exc).__name__, cp.copy_key(self, state, exc))
            self.transcript.append(f"#{n} CACHED")
            if self._restore(n, state, key):
                return
            cp.copy(self, n, state, exc)
        else:
            key = step_key(state.key, cmd.original, json.dumps(sorted(state.expansion_env().items())))
            workdir = isinstance(cmd, c.WorkdirCommand)  # a file operation in BuildKit: shown CACHED
            if workdir:
                self.transcript.append(f"#{n} CACHED")
            if self._restore(n, state, key, quiet=not workdir):
                return
            metadata.apply(self, state, cmd)
        self._record(state, key)

    def _restore(self, n: int, state: StageState, key: str, *, quiet: bool = False) -> bool:
        self.keys_used.append(key)
        if self.no_cache:
            return False
        hit = self.cache.get(key)
        if hit is None or not all(self.store.has_blob(Digest(lr.blob)) for lr in hit.layers):
            return False
        raw = hit.config_json.encode()
        if not raw or str(Digest.of(raw)) != hit.config:
            return False
        state.layers = list(hit.layers)
        state.config = oci.decode_config(raw)
        state.key = key
        self.cached += 1
        if not quiet:
            self.progress.cached(n)
        return True

    def _record(self, state: StageState, key: str) -> None:
        raw = oci.encode(state.config)
        self.cache.put(key, CachedState(layers=tuple(state.layers), config=str(Digest.of(raw)),
                                        config_json=raw.decode()))
        state.key = key

    # -- the image ---------------------------------------------------------------------------------------
    def _commit(self, state: StageState, opts: BuildOptions) -> str:
        from skiff.oci.reference import parse as parse_ref

        names = [str(parse_ref(t)) for t in opts.tags]
        config = state.config
        if opts.labels:
            config = config.with_config(labels={**config.config.labels, **opts.labels})
        raw_config = oci.encode(config)
        n = self._step + 1
        with self.store.writing():
            cdesc = self.store.put_blob(raw_config, Digest.of(raw_config), media_type=oci.MT_OCI_CONFIG,
                                        what="image config")
            layers = []
            for lr in state.layers:
                size = lr.size or self.store.blobs.size(Digest(lr.blob))
                layers.append(oci.Descriptor(media_type=lr.media_type, digest=lr.blob, size=size))
            manifest = oci.Manifest(config=cdesc, layers=layers)
            rec = self._put_image(oci.encode(manifest), names)
        self.progress.info(n, f"writing image {rec} done")
        self.transcript.append(f"#{n} writing image {rec} done")
        for nm in opts.tags:
            self.progress.info(n, f"naming to {parse_ref(nm)} done")
            self.transcript.append(f"#{n} naming to {parse_ref(nm)} done")
        self.names = names
        return rec

    def _put_image(self, manifest: bytes, names: list[str]) -> str:
        """Record the image; when the store already has it under every name (a no-op rebuild), skip the
        store's full check-and-unpack pass."""
        m = oci.decode_manifest(manifest)
        image_id = m.config.digest
        self.manifest_digest = str(Digest.of(manifest))
        for r in self.store.list_images():
            if r.id == image_id and r.manifest == str(Digest.of(manifest)) and all(x in r.names for x in names):
                return image_id
        return self.store.put_image(manifest, names=names).id
