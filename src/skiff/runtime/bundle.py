"""Read a bundle: config.json -> validated :class:`skiff.oci.runtime.Spec`, plus the rootfs path."""

from __future__ import annotations

from pathlib import Path

from skiff.oci.codec import CodecError, from_obj
from skiff.oci.runtime import Spec
from skiff.records import dataclass, field
from skiff.runtime.errors import BundleError
from skiff.runtime.validate import validate


@dataclass(frozen=True)
class Bundle:
    """A bundle directory and its validated config.json."""

    path: Path
    spec: Spec
    raw: bytes = field(default=b"", repr=False, compare=False)  # config.json as read (copied to the state dir)

    @property
    def rootfs(self) -> Path:
        assert self.spec.root is not None
        p = Path(self.spec.root.path)
        return p if p.is_absolute() else self.path / p


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


def load(bundle: Path) -> Bundle:
    """Load and validate ``bundle``/config.json; raises BundleError naming the field at fault."""
    bundle = bundle.absolute()
    cfg = bundle / "config.json"
    try:
        raw = cfg.read_bytes()
    except FileNotFoundError:
        raise BundleError(f"{cfg}: no config.json in the bundle") from None
    except OSError as e:
        raise BundleError(f"{cfg}: {e.strerror}") from None
    spec = parse_spec(raw)
    validate(spec, bundle)
    return Bundle(bundle, spec, raw)
