"""skiff: a daemonless, Docker-compatible container engine."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

__version__ = "0.1.0"


def _quote_from_bytes(*args: Any, **kwargs: Any) -> str:
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(*args, **kwargs)


class _UrllibParseOnDemand:
    """Stands in for ``urllib.parse`` while pathlib executes: pathlib imports it (and through it ipaddress,
    ~3-4 ms here) for ``Path.as_uri`` alone, which skiff never calls. Its one name imports the real module
    when called."""

    __spec__ = None  # what the import system looks at when the stand-in is in sys.modules
    quote_from_bytes = staticmethod(_quote_from_bytes)


class _PathlibLoader:
    """pathlib's own loader, with the stand-in above in sys.modules while the module executes."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:  # get_code, get_source, ...: the real loader's
        return getattr(self._real, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._real.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        stand_in: Any = _UrllibParseOnDemand()
        sys.modules["urllib.parse"] = stand_in
        try:
            self._real.exec_module(module)
        finally:
            if sys.modules.get("urllib.parse") is stand_in:
                del sys.modules["urllib.parse"]  # any other importer gets the real module


class _PathlibFinder:
    """Asked first about every import until pathlib's: gives pathlib's own spec with the loader above."""

    @classmethod
    def find_spec(cls, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) \
            -> ModuleSpec | None:
        if name != "pathlib":
            return None
        sys.meta_path.remove(cls)
        if "urllib.parse" in sys.modules:
            return None
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    spec.loader = _PathlibLoader(spec.loader)  # type: ignore[assignment]
                return spec
        return None


if "pathlib" not in sys.modules and "urllib.parse" not in sys.modules:
    sys.meta_path.insert(0, _PathlibFinder)
