"""Read a bundle: config.json -> validated :class:`skiff.oci.runtime.Spec`, plus the rootfs path."""

from __future__ import annotations

import os

from skiff.oci.codec import CodecError, from_obj
from skiff.oci.runtime import Spec
from skiff.records import dataclass, field
from skiff.runtime.errors import BundleError
from skiff.runtime.paths import clean, read_bytes
from skiff.runtime.validate import validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _typeshed import StrPath


@dataclass(frozen=True)
class Bundle:
    """A bundle directory (an absolute path) and its validated config.json."""

    path: str
    spec: Spec
    raw: bytes = field(default=b"", repr=False, compare=False)  # config.json as read (copied to the state dir)

    @property
    def rootfs(self) -> str:
        assert self.spec.root is not None
        return clean(os.path.join(self.path, self.spec.root.path))  # an absolute root.path replaces the bundle


def parse_spec(raw: bytes, what: str = "config.json") -> Spec:
    import json

    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{what}: invalid JSON: {e}") from None
    if isinstance(data, dict) and "ociVersion" not in data:
        raise BundleError(f"{what}: ociVersion: required field is missing")
    try:
        return from_obj(Spec, data)
    except CodecError as e:
        raise BundleError(f"{what}: {str(e).removeprefix('$.')}") from None


def load(bundle: StrPath) -> Bundle:
    """Load and validate ``bundle``/config.json; raises BundleError naming the field at fault."""
    path = os.fspath(bundle)  # made absolute as Path.absolute() does: `..` is kept, it may follow a symlink
    path = clean(path if path.startswith("/") else os.path.join(os.getcwd(), path))
    cfg = os.path.join(path, "config.json")
    try:
        raw = read_bytes(cfg)
    except FileNotFoundError:
        raise BundleError(f"{cfg}: no config.json in the bundle") from None
    except OSError as e:
        raise BundleError(f"{cfg}: {e.strerror}") from None
    from skiff.oci.runtime import WRITTEN_CONFIGS

    known = WRITTEN_CONFIGS.get(cfg)
    spec = known[1] if known is not None and known[0] == raw else parse_spec(raw)
    validate(spec, path)
    return Bundle(path, spec, raw)
