"""Local manifest lists as docker/cli keeps them (`docker manifest create/annotate/inspect/push/rm`).

Pure helpers, no I/O: the file-safe names of list and image references, Go's table of os/arch pairs,
an entry's file (docker/cli's ``types.ImageManifest`` JSON: ``Ref``, ``Descriptor``, ``Raw``, and the manifest
under ``SchemaV2Manifest`` or ``OCIManifest``), the list bytes docker/cli builds (distribution's manifestlist,
indented with three spaces, so the digest is the one Docker would push), and Go's ``json.Indent`` /
``json.MarshalIndent`` output shapes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from skiff.errors import InvalidArgumentError
from skiff.oci import docker
from skiff.oci.image import MT_OCI_INDEX, MT_OCI_MANIFEST, Platform
from skiff.records import dataclass, replace

# Go's valid GOOS/GOARCH pairs as docker/cli's manifest annotate knows them (cli/command/manifest/util.go).
VALID_OS_ARCH: frozenset[tuple[str, str]] = frozenset({
    ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm"), ("darwin", "arm64"),
    ("dragonfly", "amd64"),
    ("freebsd", "386"), ("freebsd", "amd64"), ("freebsd", "arm"),
    ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
    ("linux", "mips64"), ("linux", "mips64le"), ("linux", "riscv64"), ("linux", "s390x"),
    ("netbsd", "386"), ("netbsd", "amd64"), ("netbsd", "arm"),
    ("openbsd", "386"), ("openbsd", "amd64"), ("openbsd", "arm"),
    ("plan9", "386"), ("plan9", "amd64"),
    ("solaris", "amd64"),
    ("windows", "386"), ("windows", "amd64"),
})

FILE_SUFFIX = ".json"


def is_valid_os_arch(os_: str, arch: str) -> bool:
    return (os_, arch) in VALID_OS_ARCH


def safe_name(ref: str) -> str:
    """docker/cli's file-safe name of a reference: ``:`` -> ``%``, ``/`` -> ``#`` (neither can be in a ref)."""
    return ref.replace(":", "%").replace("/", "#")


def ref_from_safe_name(name: str) -> str:
    return name.removesuffix(FILE_SUFFIX).replace("%", ":").replace("#", "/")


def entry_filename(ref: str) -> str:
    return safe_name(ref) + FILE_SUFFIX


@dataclass(frozen=True)
class ListEntry:
    """One image of a local manifest list: its reference (normalised), the descriptor docker/cli records
    (media type, digest, size of the manifest as the registry served it; platform from its config or
    `annotate`), and those bytes."""

    ref: str
    media_type: str
    digest: str
    size: int
    raw: bytes
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def is_oci(self) -> bool:
        return self.media_type == MT_OCI_MANIFEST

    def manifest(self) -> dict[str, Any]:
        data = json.loads(self.raw)
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"{self.ref}: the stored manifest is not a JSON object")
        return data

    def blobs(self) -> list[dict[str, Any]]:
        """The descriptors of the config and layers (what docker/cli mounts into another repository)."""
        m = self.manifest()
        out = [m["config"]] if isinstance(m.get("config"), dict) else []
        out += [d for d in m.get("layers") or [] if isinstance(d, dict)]
        return out


def platform_from_config(config: dict[str, Any]) -> Platform:
    """The platform docker/cli reads from an image config (Go's json.Unmarshal into ocispec.Platform)."""
    feats = config.get("os.features")
    return Platform(architecture=str(config.get("architecture") or ""), os=str(config.get("os") or ""),
                    os_version=config.get("os.version") or None,
                    os_features=[str(f) for f in feats] if isinstance(feats, list) else [],
                    variant=config.get("variant") or None)


def annotate(entry: ListEntry, *, os_: str = "", arch: str = "", variant: str = "", os_version: str = "",
             os_features: list[str] | None = None) -> ListEntry:
    """`docker manifest annotate`: set what was given, append new os features; refuse an os/arch pair Go
    does not know (the message names the flags as given, as docker/cli's does)."""
    p = entry.platform or Platform(architecture="", os="")
    feats = list(p.os_features)
    for f in os_features or []:
        if f not in feats:
            feats.append(f)
    p = replace(p, os=os_ or p.os, architecture=arch or p.architecture, variant=variant or p.variant,
                os_version=os_version or p.os_version, os_features=feats)
    if not is_valid_os_arch(p.os, p.architecture):
        raise InvalidArgumentError(f"manifest entry for image has unsupported os/arch combination: {os_}/{arch}")
    return replace(entry, platform=p)


# ---- JSON as Go writes it --------------------------------------------------------------------------------------
def _platform_obj(p: Platform) -> dict[str, Any]:
    """ocispec.Platform (distribution's PlatformSpec has the same keys in the same order)."""
    out: dict[str, Any] = {"architecture": p.architecture, "os": p.os}
    if p.os_version:
        out["os.version"] = p.os_version
    if p.os_features:
        out["os.features"] = list(p.os_features)
    if p.variant:
        out["variant"] = p.variant
    return out


def _descriptor_obj(e: ListEntry) -> dict[str, Any]:
    """ocispec.Descriptor: mediaType, digest, size, urls, annotations, platform."""
    out: dict[str, Any] = {"mediaType": e.media_type, "digest": e.digest, "size": e.size}
    if e.urls:
        out["urls"] = list(e.urls)
    if e.annotations:
        out["annotations"] = dict(e.annotations)
    if e.platform is not None:
        out["platform"] = _platform_obj(e.platform)
    return out


def _manifest_key(e: ListEntry) -> str:
    return "OCIManifest" if e.is_oci else "SchemaV2Manifest"


def entry_obj(e: ListEntry) -> dict[str, Any]:
    """docker/cli's types.ImageManifest as json.Marshal writes it."""
    return {"Ref": e.ref, "Descriptor": _descriptor_obj(e), "Raw": base64.b64encode(e.raw).decode(),
            _manifest_key(e): json.loads(e.raw)}


def encode_entry(e: ListEntry) -> bytes:
    """The entry's file (compact, as docker/cli's json.Marshal)."""
    return go_json(entry_obj(e)).encode()


def decode_entry(data: bytes, what: str) -> ListEntry:
    """An entry's file, skiff's or docker/cli's (``Raw`` or, from older docker/cli, only the manifest)."""
    try:
        obj = json.loads(data)
        desc = obj["Descriptor"]
        ref = str(obj["Ref"])
        if obj.get("Raw"):
            raw = base64.b64decode(obj["Raw"])
        else:
            inner = obj.get("SchemaV2Manifest") or obj.get("OCIManifest")
            raw = go_json(inner).encode()
        plat = desc.get("platform")
        platform = None
        if isinstance(plat, dict):
            platform = Platform(architecture=str(plat.get("architecture") or ""), os=str(plat.get("os") or ""),
                                os_version=plat.get("os.version") or None,
                                os_features=list(plat.get("os.features") or []),
                                variant=plat.get("variant") or None)
        return ListEntry(ref, str(desc["mediaType"]), str(desc["digest"]), int(desc["size"]), raw, platform,
                         tuple(desc.get("urls") or ()), tuple(sorted((desc.get("annotations") or {}).items())))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InvalidArgumentError(f"invalid manifest file {what}: {e}") from None


def list_media_type(entries: list[ListEntry]) -> str:
    """distribution's FromDescriptors: an OCI index when the first entry is an OCI manifest, else Docker's
    manifest list."""
    return MT_OCI_INDEX if entries and entries[0].is_oci else docker.MT_MANIFEST_LIST


def _domain(ref: str) -> str:
    return ref.split("/", 1)[0]


def build_list(entries: list[ListEntry], target: str, *, for_push: bool = False) -> bytes:
    """The manifest list docker/cli builds for ``target`` (a normalised reference): entries in store order,
    every one from the target's registry (and, to push, with an os and architecture)."""
    descs = []
    for e in entries:
        if for_push and (e.platform is None or not e.platform.architecture or not e.platform.os):
            raise InvalidArgumentError(f"manifest {e.ref} must have an OS and Architecture to be pushed to a "
                                       f"registry")
        if _domain(e.ref) != _domain(target):
            raise InvalidArgumentError(f"cannot use source images from a different registry than the target "
                                       f"image: {_domain(e.ref)} != {_domain(target)}")
        d: dict[str, Any] = {"mediaType": e.media_type, "size": e.size, "digest": e.digest}
        if e.urls:
            d["urls"] = list(e.urls)
        if e.annotations:
            d["annotations"] = dict(e.annotations)
        d["platform"] = _platform_obj(e.platform or Platform(architecture="", os=""))
        descs.append(d)
    return go_json({"schemaVersion": 2, "mediaType": list_media_type(entries), "manifests": descs},
                   indent="   ").encode()


def verbose_list(entries: list[ListEntry]) -> bytes:
    """`docker manifest inspect -v LIST`: the entries as json.MarshalIndent(list, "", "\\t")."""
    return go_json([entry_obj(e) for e in entries], indent="\t").encode()


def verbose_entry(e: ListEntry) -> bytes:
    return go_json(entry_obj(e), indent="\t").encode()


def go_json(obj: Any, indent: str | None = None) -> str:
    """encoding/json's Marshal (compact) or MarshalIndent(obj, "", indent): UTF-8 kept, <, > and & escaped."""
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_indent(raw: bytes, indent: str = "\t") -> bytes:
    """encoding/json's Indent(dst, raw, "", indent): whitespace between tokens replaced, tokens (strings,
    numbers) copied as they are; an empty object or array stays ``{}`` / ``[]``."""
    out = bytearray()
    depth = 0
    i, n = 0, len(raw)
    pending = False  # an opening bracket whose newline waits for the next token

    def newline() -> None:
        out.extend(b"\n" + indent.encode() * depth)

    while i < n:
        c = raw[i:i + 1]
        if c in b" \t\r\n":
            i += 1
            continue
        if pending and c not in b"]}":
            newline()
        if c in b"{[":
            out += c
            depth += 1
            pending = True
            i += 1
            continue
        if c in b"]}":
            depth -= 1
            if not pending:
                newline()
            pending = False
            out += c
            i += 1
            continue
        pending = False
        if c == b",":
            out += c
            newline()
        elif c == b":":
            out += b": "
        elif c == b'"':
            j = i + 1
            while j < n and raw[j:j + 1] != b'"':
                j += 2 if raw[j:j + 1] == b"\\" else 1
            out += raw[i:j + 1]
            i = j + 1
            continue
        else:
            j = i
            while j < n and raw[j:j + 1] not in b" \t\r\n,:]}":
                j += 1
            out += raw[i:j]
            i = j
            continue
        i += 1
    return bytes(out)
