"""Platforms: the host's (as Go's GOARCH names it), parsing ``--platform``, choosing from an index."""

from __future__ import annotations

import os

from skiff.oci.image import Descriptor, Index, Platform
from skiff.registry.errors import RegistryConfigError, RegistryNotFoundError

_ARCH = {"x86_64": ("amd64", None), "amd64": ("amd64", None), "aarch64": ("arm64", "v8"),
         "arm64": ("arm64", "v8"), "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "i386": ("386", None),
         "i686": ("386", None), "ppc64le": ("ppc64le", None), "s390x": ("s390x", None),
         "riscv64": ("riscv64", None)}


def host_platform() -> Platform:
    arch, variant = _ARCH.get(os.uname().machine.lower(), (os.uname().machine.lower(), None))
    return Platform(architecture=arch, os="linux", variant=variant)


def parse_platform(text: str | None) -> Platform:
    """``linux/amd64``, ``linux/arm64/v8``, ``arm64`` (os linux) -> Platform; None -> the host's."""
    if not text:
        return host_platform()
    parts = text.strip().lower().split("/")
    if len(parts) == 1:
        parts = ["linux", *parts]
    if len(parts) > 3 or not all(parts):
        raise RegistryConfigError(f"invalid platform {text!r}: expected os/arch[/variant]")
    os_, arch = parts[0], _ARCH.get(parts[1], (parts[1], None))[0]
    variant = parts[2] if len(parts) == 3 else None
    return Platform(architecture=arch, os=os_, variant=variant)


def _variant_ok(want: Platform, got: Platform) -> bool:
    if want.variant is None:
        return True
    if got.variant == want.variant:
        return True
    # arm64 images usually omit the "v8" variant.
    return want.architecture == "arm64" and want.variant == "v8" and got.variant is None


def choose(index: Index, want: Platform, what: str) -> Descriptor:
    """The first manifest of ``index`` for ``want`` (os, arch, variant), as containerd's matcher does."""
    candidates = [d for d in index.manifests if d.platform is not None
                  and d.platform.os == want.os and d.platform.architecture == want.architecture
                  and _variant_ok(want, d.platform)]
    if not candidates:
        have = ", ".join(sorted({str(d.platform) for d in index.manifests if d.platform})) or "none"
        raise RegistryNotFoundError(f"{what}: no image for platform {want} in the manifest list "
                                    f"(available: {have})")
    exact = [d for d in candidates if d.platform and d.platform.variant == want.variant]
    return (exact or candidates)[0]
