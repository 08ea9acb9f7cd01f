"""A stage's state while it builds: its layers, its image config, the cache key that led to it, and the
build args in scope."""

from __future__ import annotations

from skiff.build.builder.cache import LayerRef
from skiff.oci import image as oci
from skiff.records import dataclass, field, replace

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass
class StageState:
    """A stage's state between instructions: layers, image config, cache key, and build args in scope."""

    layers: list[LayerRef]
    config: oci.ImageConfig
    key: str
    args: dict[str, str] = field(default_factory=dict)   # ARGs declared in this stage, with values
    arg_order: list[str] = field(default_factory=list)   # every ARG name declared, in order (history)
    inherited_cmd: bool = True                            # CMD came from the base image (ENTRYPOINT resets it)

    @property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for kv in self.config.config.env:
            k, _, v = kv.partition("=")
            out[k] = v
        return out

    def expansion_env(self) -> dict[str, str]:
        """What ``$VAR`` sees: build args, overridden by ENV (Docker's precedence)."""
        return {**self.args, **self.env}

    def set_env(self, pairs: list[tuple[str, str]]) -> None:
        env = list(self.config.config.env)
        for k, v in pairs:
            env = [e for e in env if e.partition("=")[0] != k]
            env.append(f"{k}={v}")
        self.config = self.config.with_config(env=env)

    def add_history(self, created: str, created_by: str, empty: bool, comment: str | None = "buildkit.dockerfile.v0") -> None:
        h = oci.History(created=created, created_by=created_by, comment=comment, empty_layer=True if empty else None)
        self.config = replace(self.config, history=[*self.config.history, h], created=created)

    def add_layer(self, layer: LayerRef) -> None:
        self.layers.append(layer)
        self.config = replace(self.config, rootfs=oci.RootFS(diff_ids=[*self.config.rootfs.diff_ids, layer.diff_id]))

    def shell(self) -> list[str]:
        return list(self.config.config.shell) or list(DEFAULT_SHELL)

    def run_env(self, args: dict[str, str]) -> list[str]:
        """The environment of a RUN: ENV plus build args (``args``) not overridden by ENV, and a default PATH."""
        env = self.env
        out = [f"{k}={v}" for k, v in env.items()]
        out += [f"{k}={v}" for k, v in args.items() if k not in env]
        if "PATH" not in env:
            out.insert(0, f"PATH={DEFAULT_PATH}")
        return out

    def run_string(self, args: list[str]) -> str:
        """BuildKit's ``runCommandString``: ``|N K=V ... ARGS`` with the stage's build args (ENV wins)."""
        env = self.env
        pairs = [f"{k}={env[k] if k in env else self.args.get(k, '')}" for k in self.arg_order]
        return " ".join(([f"|{len(pairs)}", *pairs] if pairs else []) + args)
