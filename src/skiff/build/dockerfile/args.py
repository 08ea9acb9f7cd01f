"""Build-arg scoping, Docker's rules.

- Global scope: the ``ARG``\\ s before the first ``FROM`` (meta args). Their values (a
  ``--build-arg`` override, else the default expanded with the global args declared before it and
  the automatic platform args) are what ``FROM`` lines can use. The automatic platform args
  (:data:`~skiff.build.dockerfile.instructions.PLATFORM_ARGS`) are always usable in ``FROM``.
- Stage scope starts empty: a stage sees an arg only after its own ``ARG NAME[=default]``. The
  value is the ``--build-arg`` if given, else the stage default (expanded with what the stage sees
  so far), else the global value, else the automatic platform value; otherwise the name is
  declared but unset.
- The proxy args (``HTTP_PROXY``...) are usable by RUN without an ``ARG`` when passed with
  ``--build-arg``, and are kept out of the image history.
- ``ENV`` wins over ``ARG`` of the same name when expanding: the builder expands with
  ``{**stage_args, **stage_env}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from skiff.build.dockerfile.commands import ArgCommand
from skiff.build.dockerfile.expand import expand
from skiff.build.dockerfile.instructions import PLATFORM_ARGS, PROXY_ARGS


class BuildArgs:
    """The ``--build-arg`` values, the global scope, and which build args were consumed."""

    def __init__(
        self,
        meta_args: Iterable[ArgCommand],
        build_args: Mapping[str, str] | None = None,
        *,
        platform: Mapping[str, str] | None = None,
        escape: str = "\\",
    ) -> None:
        self.build_args = dict(build_args or {})
        self.platform = dict(platform or {})
        self.escape = escape
        self.consumed: set[str] = set()
        self.globals: dict[str, str] = {}
        declared: dict[str, str] = dict(self.platform)
        for cmd in meta_args:
            cmd = expand(cmd, declared, escape=escape).command  # type: ignore[assignment]
            for arg in cmd.args:
                value = self._given(arg.key)
                if value is None:
                    value = arg.value
                if value is not None:
                    self.globals[arg.key] = value
                    declared[arg.key] = value

    def _given(self, key: str) -> str | None:
        if key in self.build_args:
            self.consumed.add(key)
            return self.build_args[key]
        return None

    def from_env(self) -> dict[str, str]:
        """What ``FROM`` lines (base name, ``--platform``) are expanded with."""
        return {**self.platform, **self.globals}

    def declare(self, cmd: ArgCommand, stage_args: dict[str, str], stage_env: Mapping[str, str]) -> None:
        """Apply a stage's ``ARG`` to ``stage_args`` in place (defaults see ARGs and ENV so far)."""
        for arg in cmd.args:
            key = expand(
                ArgCommand(keyword="ARG", args=(arg,)), {**stage_args, **stage_env}, escape=self.escape
            )
            declared = key.command.args[0]  # type: ignore[attr-defined]
            value = self._given(declared.key)
            if value is None and declared.value is not None:
                value = declared.value
            if value is None:
                value = self.globals.get(declared.key, self.platform.get(declared.key))
            if value is not None:
                stage_args[declared.key] = value
            else:
                stage_args.pop(declared.key, None)

    def run_env(self, stage_args: Mapping[str, str]) -> dict[str, str]:
        """The args a RUN sees: the declared stage args plus proxy args given on the command line."""
        out = dict(stage_args)
        for key in PROXY_ARGS:
            if key in self.build_args and key not in out:
                out[key] = self.build_args[key]
                self.consumed.add(key)
        return out

    def unconsumed(self) -> list[str]:
        """Build args never declared (Docker warns: "One or more build-args [...] were not consumed")."""
        return sorted(k for k in self.build_args if k not in self.consumed and k not in PROXY_ARGS)

    @staticmethod
    def is_platform_arg(name: str) -> bool:
        return name in PLATFORM_ARGS
