"""skiff pull [-q] [--platform P] REF (also `skiff image pull`)."""

from __future__ import annotations

import argparse
from typing import Any

from skiff.errors import InvalidArgumentError


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "1", "yes", "on"):
        return True
    if t in ("false", "0", "no", "off"):
        return False
    raise InvalidArgumentError(f"invalid boolean value {text!r}")


def add_registry_flags(p: argparse.ArgumentParser) -> None:
    """Flags every registry command shares."""
    p.add_argument("--tls-verify", type=parse_bool, nargs="?", const=True, default=None, metavar="BOOL",
                   help="Require HTTPS and verify certificates (default true; false also allows plain http)")
    p.add_argument("--authfile", help="Authentication file (default $REGISTRY_AUTH_FILE, "
                   "$XDG_RUNTIME_DIR/containers/auth.json)")


def registry_options(args: argparse.Namespace) -> Any:
    from skiff.engine.registry import RegistryOptions

    return RegistryOptions(tls_verify=args.tls_verify, authfile=args.authfile)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference")
    p.add_argument("--platform", help="os/arch[/variant] (default: the host's)")
    p.add_argument("--quiet", "-q", action="store_true", help="Print only the image reference")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    raise InvalidArgumentError("pull: not available yet")
