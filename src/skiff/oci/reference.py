"""Image references, parsed and normalised exactly as Docker's distribution/reference does.

``busybox`` -> ``docker.io/library/busybox:latest``; ``localhost:5000/a/b:tag``; ``name@sha256:...``.
Errors use Docker's wording (``invalid reference format``, ``... must be lowercase``).
"""

from __future__ import annotations

import re

from skiff.errors import InvalidArgumentError
from skiff.records import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANCHORED_ID = re.compile(r"^[a-f0-9]{64}$")
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG_RE = re.compile(rf"^{_TAG}$")


class ReferenceError(InvalidArgumentError):
    """An image reference that Docker would refuse."""


@dataclass(frozen=True)
class Reference:
    """A normalised reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def familiar_name(self) -> str:
        """The short form Docker prints: ``busybox``, ``user/app``, ``localhost:5000/a``."""
        if self.domain == DEFAULT_DOMAIN:
            if self.path.startswith(OFFICIAL_REPO_PREFIX) and self.path.count("/") == 1:
                return self.path[len(OFFICIAL_REPO_PREFIX):]
            return self.path
        return self.name

    def familiar(self) -> str:
        s = self.familiar_name()
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def with_tag(self, tag: str) -> Reference:
        if not _TAG_RE.match(tag):
            raise ReferenceError(f"invalid tag format: {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, self.tag, digest)

    def with_default_tag(self) -> Reference:
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, DEFAULT_TAG, None)
        return self


def _split_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, rest = DEFAULT_DOMAIN, name
    else:
        domain, rest = first, name[i + 1:]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_REPO_PREFIX + rest
    return domain, rest


def parse(text: str, *, default_tag: bool = True) -> Reference:
    """Parse a user-typed reference as Docker's ParseNormalizedNamed (plus ``:latest`` unless disabled)."""
    if not text:
        raise ReferenceError("invalid reference format: empty reference")
    if _ANCHORED_ID.match(text):
        raise ReferenceError(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    # Split the remote name off before checking case, like Docker, so that the message names the path.
    name_part = text.split("@", 1)[0]
    tag_sep = name_part.rfind(":")
    if tag_sep > name_part.rfind("/"):
        name_part = name_part[:tag_sep]
    domain, remote = _split_domain(name_part)
    if remote.lower() != remote:
        raise ReferenceError(f"invalid reference format: repository name ({remote}) must be lowercase")
    m = _REFERENCE.match(text)
    if not m:
        raise ReferenceError(f"invalid reference format: {text}")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(f"invalid reference format: repository name must not be more than "
                             f"{NAME_TOTAL_LENGTH_MAX} characters")
    domain, path = _split_domain(name)
    if digest is not None and not digest.startswith("sha256:"):
        raise ReferenceError(f"invalid reference format: unsupported digest algorithm in {text}")
    if digest is not None and len(digest) != len("sha256:") + 64:
        raise ReferenceError(f"invalid reference format: invalid checksum digest length in {text}")
    ref = Reference(domain, path, tag, digest)
    return ref.with_default_tag() if default_tag else ref


def is_valid_domain(domain: str) -> bool:
    return bool(_DOMAIN_RE.match(domain))


def is_valid_path(path: str) -> bool:
    return bool(_PATH_RE.match(path))


def looks_like_id(text: str) -> bool:
    """A full or short hex image/container ID (as `docker rmi 3f5a` accepts)."""
    t = text[len("sha256:"):] if text.startswith("sha256:") else text
    return 3 <= len(t) <= 64 and all(c in "0123456789abcdef" for c in t)
