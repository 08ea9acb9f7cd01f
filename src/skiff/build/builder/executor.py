"""Runs a Dockerfile's stages: the ones the target needs, in order, each instruction through the cache."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from skiff.build.builder.cache import BuildCache, CachedState, LayerRef, step_key
from skiff.build.builder.context import BuildContext
from skiff.build.builder.options import BuildOptions, BuildReport, ImageProvider, StepRunner
from skiff.build.builder.state import StageState
from skiff.build.dockerfile import commands as c
from skiff.build.dockerfile import instructions, parser
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.expand import expand, expand_word
from skiff.errors import SkiffError
from skiff.oci import image as oci
from skiff.oci.digest import Digest

if TYPE_CHECKING:
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

    # -- output ------------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        if not self.opts.quiet:
            self.out.write(text + "\n")
            self.out.flush()

    # -- entry point -------------------------------------------------------------------------------------
    def build(self, opts: BuildOptions) -> BuildReport:
        self.opts = opts
        t0 = time.monotonic()
        self.created = _rfc3339(opts.source_date_epoch if opts.source_date_epoch is not None else time.time())
        text, fname = self._dockerfile(opts)
        result = parser.parse(text, filename=fname)
        self.escape = result.escape
        stages, meta = instructions.parse(result)
        if not stages:
            raise BuildError(f"{fname}: file with no instructions")
        self.context = BuildContext.open(opts.context, opts.dockerfile)
        self.global_args = dict(instructions.platform_args(self.host_platform, opts.platform))
        for a in meta:
            for d in a.args:
                val = opts.build_args.get(d.key)
                if val is None and d.value is not None:
                    val = expand_word(d.value, self.global_args, escape=self.escape).result
                self.global_args[d.key] = val if val is not None else ""
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
        final = self.built[target]
        image_id = self._commit(final, opts)
        if opts.iidfile:
            opts.iidfile.write_text(image_id)
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

    def _needed(self, target: int) -> set[int]:
        out: set[int] = set()
        todo = [target]
        while todo:
            i = todo.pop()
            if i in out:
                continue
            out.add(i)
            st = self.stages[i]
            base = expand_word(st.base_name, self.global_args, escape=self.escape).result
            deps = [base]
            for cmd in st.commands:
                if isinstance(cmd, c.CopyCommand) and cmd.from_:
                    deps.append(cmd.from_)
                if isinstance(cmd, c.RunCommand):
                    deps += [m.from_ for m in cmd.mounts if m.from_]
            for d in deps:
                j = self._stage_ref(d, i)
                if j is not None:
                    todo.append(j)
        return out

    # -- one stage ---------------------------------------------------------------------------------------
    def _begin(self, stage_name: str, text: str) -> int:
        self._step += 1
        label = f"{stage_name} " if stage_name else ""
        self.say(f"#{self._step} [{label}{self._step}/{self.total}] {text}")
        return self._step

    def _build_stage(self, i: int) -> StageState:
        st = self.stages[i]
        base = expand_word(st.base_name, self.global_args, escape=self.escape).result
        n = self._begin(st.name, f"FROM {base}" + (f" AS {st.name}" if st.name else ""))
        j = self._stage_ref(base, i)
        if j is not None:
            src = self.built[j]
            state = StageState(layers=list(src.layers), config=src.config, key=src.key)
        elif base.lower() == "scratch":
            arch = self.host_platform.split("/")[1]
            state = StageState(layers=[], config=oci.ImageConfig(architecture=arch, os="linux"),
                               key=step_key("scratch", self.host_platform))
        else:
            t = time.monotonic()
            rec = self.images.ensure(base, pull=self.opts.pull, platform=self.opts.platform)
            cfg = self.store.image_config(rec)
            layers = [LayerRef(d, b, mt, 0) for d, b, mt in zip(rec.diff_ids, rec.layer_blobs,
                                                              rec.layer_media_types, strict=True)]
            state = StageState(layers=layers, config=cfg, key=step_key("image", rec.id))
            self.say(f"#{n} DONE {time.monotonic() - t:.1f}s")
        state.args = {}
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
        from skiff.build.builder import steps

        for cmd in cmds:
            try:
                self._dispatch(st, state, cmd, steps)
            except DockerfileError:
                raise
            except SkiffError as e:
                if e.message.startswith(f"{cmd.filename}:"):
                    e.exit_code = 1
                    raise
                raise BuildError(f"{cmd.location}: {cmd.original.strip()}: {e.message}", hint=e.hint) from None
        return state

    def _dispatch(self, st: c.Stage, state: StageState, cmd: c.Command, steps: object) -> None:
        from skiff.build.builder import steps as S

        if isinstance(cmd, c.ArgCommand):
            ex = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(ex, c.ArgCommand)
            for d in ex.args:
                if d.key in self.opts.build_args:
                    state.args[d.key] = self.opts.build_args[d.key]
                elif d.value is not None:
                    state.args[d.key] = d.value
                elif d.key in self.global_args:
                    state.args[d.key] = self.global_args[d.key]
                else:
                    state.args.setdefault(d.key, "")
            self._begin(st.name, cmd.original.strip())
            self.cached += 0
            return
        n = self._begin(st.name, cmd.original.strip().replace("\n", " "))
        if isinstance(cmd, c.RunCommand):
            ex_run = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(ex_run, c.RunCommand)
            key = step_key(state.key, "RUN", S.run_key(self, state, ex_run),
                           json.dumps(sorted(state.args.items())))
            if self._restore(n, state, key):
                return
            S.run(self, n, state, ex_run)
        elif isinstance(cmd, (c.CopyCommand, c.AddCommand)):
            exc = expand(cmd, state.expansion_env(), escape=self.escape).command
            assert isinstance(exc, (c.CopyCommand, c.AddCommand))
            key = step_key(state.key, type(exc).__name__, S.copy_key(self, state, exc))
            if self._restore(n, state, key):
                return
            S.copy(self, n, state, exc)
        else:
            key = step_key(state.key, cmd.original, json.dumps(sorted(state.expansion_env().items())))
            if self._restore(n, state, key, quiet=True):
                return
            self._metadata(state, cmd)
        self._record(state, key)

    def _restore(self, n: int, state: StageState, key: str, *, quiet: bool = False) -> bool:
        if self.opts.no_cache:
            return False
        hit = self.cache.get(key)
        if hit is None or not all(self.store.has_blob(Digest(b)) for b in
                                  (hit.config, *(lr.blob for lr in hit.layers))):
            return False
        state.layers = list(hit.layers)
        state.config = oci.decode_config(self.store.get_blob(Digest(hit.config)))
        state.key = key
        self.cached += 1
        if not quiet:
            self.say(f"#{n} CACHED")
        return True

    def _record(self, state: StageState, key: str) -> None:
        raw = oci.encode(state.config)
        d = self.store.put_blob(raw, media_type=oci.MT_OCI_CONFIG, what="image config")
        self.cache.put(key, CachedState(layers=tuple(state.layers), config=d.digest))
        state.key = key

    # -- instructions without a layer ------------------------------------------------------------------
    def _metadata(self, state: StageState, cmd: c.Command) -> None:
        env = state.expansion_env()
        ex = expand(cmd, env, escape=self.escape).command if cmd.keyword.upper() in {
            "ENV", "LABEL", "EXPOSE", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"} else cmd
        cc = state.config.config
        created_by = ex.original.strip()
        if isinstance(ex, c.EnvCommand):
            state.set_env([(p.key, p.value) for p in ex.env])
            created_by = "ENV " + " ".join(f"{p.key}={p.value}" for p in ex.env)
        elif isinstance(ex, c.LabelCommand):
            state.config = state.config.with_config(labels={**cc.labels, **{p.key: p.value for p in ex.labels}})
            created_by = "LABEL " + " ".join(f"{p.key}={p.value}" for p in ex.labels)
        elif isinstance(ex, c.MaintainerCommand):
            state.config = replace(state.config, author=ex.maintainer)
        elif isinstance(ex, c.ExposeCommand):
            ports = dict(cc.exposed_ports)
            for p in ex.ports:
                for spec in _expand_port(p, cmd):
                    ports[spec] = {}
            state.config = state.config.with_config(exposed_ports=ports)
            created_by = "EXPOSE map[" + " ".join(f"{k}:{{}}" for k in sorted(ports)) + "]"
        elif isinstance(ex, c.UserCommand):
            state.config = state.config.with_config(user=ex.user)
        elif isinstance(ex, c.VolumeCommand):
            state.config = state.config.with_config(volumes={**cc.volumes, **{v: {} for v in ex.volumes}})
        elif isinstance(ex, c.WorkdirCommand):
            from skiff.build.builder import steps as S

            path = ex.path if ex.path.startswith("/") else os.path.join(cc.working_dir or "/", ex.path)
            path = os.path.normpath(path)
            state.config = state.config.with_config(working_dir=path)
            if S.ensure_dir(self, state, path):
                state.add_history(self.created, f"WORKDIR {path}", empty=False)
                return
            created_by = f"WORKDIR {path}"
        elif isinstance(ex, c.StopSignalCommand):
            state.config = state.config.with_config(stop_signal=ex.signal)
        elif isinstance(ex, c.ShellCommand):
            state.config = state.config.with_config(shell=list(ex.shell))
        elif isinstance(ex, (c.CmdCommand, c.EntrypointCommand)):
            args = list(ex.cmd_line or ())
            if ex.prepend_shell:
                args = [*state.shell(), " ".join(args)]
            if isinstance(ex, c.CmdCommand):
                state.config = state.config.with_config(cmd=args)
                state.inherited_cmd = False
                created_by = "CMD " + json.dumps(args)
            else:
                changes: dict[str, object] = {"entrypoint": args}
                if state.inherited_cmd:
                    changes["cmd"] = None
                state.config = state.config.with_config(**changes)
                created_by = "ENTRYPOINT " + json.dumps(args)
        elif isinstance(ex, c.HealthCheckCommand):
            h = ex.health
            if h.test and h.test[0] == "NONE":
                hc = oci.HealthConfig(test=["NONE"])
            else:
                hc = oci.HealthConfig(test=list(h.test), interval=h.interval or None, timeout=h.timeout or None,
                                      start_period=h.start_period or None,
                                      start_interval=h.start_interval or None, retries=h.retries or None)
            state.config = state.config.with_config(healthcheck=hc)
        elif isinstance(ex, c.OnbuildCommand):
            state.config = state.config.with_config(on_build=[*cc.on_build, ex.expression])
        else:
            raise BuildError(f"{cmd.location}: {cmd.keyword.upper()} is not supported")
        state.add_history(self.created, created_by, empty=True)

    # -- the image ---------------------------------------------------------------------------------------
    def _commit(self, state: StageState, opts: BuildOptions) -> str:
        from skiff.oci.reference import parse as parse_ref

        names = [str(parse_ref(t)) for t in opts.tags]
        config = state.config
        if opts.labels:
            config = config.with_config(labels={**config.config.labels, **opts.labels})
        raw_config = oci.encode(config)
        with self.store.writing():
            cdesc = self.store.put_blob(raw_config, media_type=oci.MT_OCI_CONFIG, what="image config")
            layers = []
            for lr in state.layers:
                size = lr.size or self.store.blobs.size(Digest(lr.blob))
                layers.append(oci.Descriptor(media_type=lr.media_type, digest=lr.blob, size=size))
            manifest = oci.Manifest(config=cdesc, layers=layers)
            rec = self.store.put_image(oci.encode(manifest), names=names)
        self.say(f"#{self._step + 1} writing image {rec.id} done")
        for nm in opts.tags:
            self.say(f"#{self._step + 1} naming to {parse_ref(nm)} done")
        return rec.id


def _expand_port(spec: str, cmd: c.Command) -> list[str]:
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise DockerfileError(f"invalid proto: {proto}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original)
    lo, _, hi = port.partition("-")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise DockerfileError(f"invalid containerPort: {port}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original) from None
    if not (0 < a <= b <= 65535):
        raise DockerfileError(f"invalid port range: {port}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original)
    return [f"{p}/{proto}" for p in range(a, b + 1)]
