"""Registry configuration (``registries.toml``) in the spirit of containers-registries.conf(5).

::

    unqualified-search-registries = ["docker.io"]

    [[registry]]
    prefix = "docker.io"            # matched against "domain/path" at a component boundary
    location = "docker.io"          # optional: where the prefix really lives
    insecure = false                # plain http allowed, TLS not verified
    blocked = false
    ca-file = "/etc/skiff/ca.pem"   # extra CA bundle for this registry

    [[registry.mirror]]             # tried in order before the location, for pulls only
    location = "127.0.0.1:5000/hub"
    insecure = true

Looked up at ``$SKIFF_REGISTRIES_CONF``, else ``ROOT/registries.toml``, else ``/etc/skiff/registries.toml``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skiff.oci.reference import DEFAULT_DOMAIN, Reference, is_valid_domain
from skiff.records import dataclass
from skiff.registry.errors import RegistryConfigError, RegistryError

DOCKER_HUB_API_HOST = "registry-1.docker.io"
SYSTEM_CONF = Path("/etc/skiff/registries.toml")


@dataclass(frozen=True)
class Mirror:
    """One ``[[registry.mirror]]``: a location tried, for pulls, before the registry's own."""

    location: str
    insecure: bool = False


@dataclass(frozen=True)
class RegistryEntry:
    """One ``[[registry]]`` of ``registries.toml``: the prefix it covers, where it lives, TLS, CA, mirrors."""

    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    ca_file: str | None = None
    mirrors: tuple[Mirror, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """Where one repository is served: ``host`` (as in the reference) and the repository ``path`` on it."""

    host: str
    path: str
    insecure: bool = False
    ca_file: str | None = None
    mirror: bool = False

    @property
    def api_host(self) -> str:
        """The host the HTTP requests go to (Docker Hub's API lives at registry-1.docker.io)."""
        return DOCKER_HUB_API_HOST if self.host == DEFAULT_DOMAIN else self.host

    def __str__(self) -> str:
        return f"{self.host}/{self.path}"


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _matches(prefix: str, name: str) -> bool:
    return name == prefix or name.startswith(prefix.rstrip("/") + "/")


def _split_location(location: str, what: str) -> tuple[str, str]:
    host, _, path = location.partition("/")
    if not is_valid_domain(host):
        raise RegistryConfigError(f"{what}: invalid registry location {location!r}")
    return host, path


@dataclass(frozen=True)
class RegistriesConfig:
    """``registries.toml`` as loaded (registries, unqualified search, file path), plus ``--tls-verify``."""

    registries: tuple[RegistryEntry, ...] = ()
    unqualified_search: tuple[str, ...] = (DEFAULT_DOMAIN,)
    source: str | None = None
    #: --tls-verify=false on the command line: every registry is treated as insecure.
    tls_verify: bool | None = None

    # -- loading ---------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None) -> RegistriesConfig:
        if path is None or not path.exists():
            return cls()
        import tomllib

        try:
            data = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise RegistryConfigError(f"{path}: {e}") from None
        return cls.from_mapping(data, str(path))

    @classmethod
    def find(cls, root: str | Path | None, env: Mapping[str, str] | None = None) -> RegistriesConfig:
        env = os.environ if env is None else env
        explicit = env.get("SKIFF_REGISTRIES_CONF")
        if explicit:
            p = Path(explicit)
            if not p.exists():
                raise RegistryConfigError(f"SKIFF_REGISTRIES_CONF: {p} does not exist")
            return cls.load(p)
        if root is not None and (Path(root) / "registries.toml").exists():
            return cls.load(Path(root) / "registries.toml")
        return cls.load(SYSTEM_CONF)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "registries.toml") -> RegistriesConfig:
        known = {"unqualified-search-registries", "registry"}
        for k in data:
            if k not in known:
                raise RegistryConfigError(f"{source}: unknown key {k!r}")
        search = data.get("unqualified-search-registries", [DEFAULT_DOMAIN])
        if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
            raise RegistryConfigError(f"{source}: unqualified-search-registries must be a list of strings")
        entries = []
        for i, reg in enumerate(data.get("registry", [])):
            entries.append(_entry(reg, f"{source}: registry[{i}]"))
        return cls(tuple(entries), tuple(search), source)

    def with_tls_verify(self, tls_verify: bool | None) -> RegistriesConfig:
        return RegistriesConfig(self.registries, self.unqualified_search, self.source, tls_verify)

    # -- lookups ---------------------------------------------------------------------------------------------
    def entry_for(self, name: str) -> RegistryEntry | None:
        """The entry with the longest prefix matching ``domain/path``."""
        best: RegistryEntry | None = None
        for e in self.registries:
            if _matches(e.prefix, name) and (best is None or len(e.prefix) > len(best.prefix)):
                best = e
        return best

    def _insecure(self, host: str, configured: bool) -> bool:
        if self.tls_verify is False:
            return True
        return configured

    def endpoints(self, ref: Reference, *, pull: bool = True) -> list[Endpoint]:
        """Mirrors first (pulls only), then the primary location; rewritten per the matching prefix."""
        name = ref.name
        e = self.entry_for(name)
        if e is None:
            return [Endpoint(ref.domain, ref.path, self._insecure(ref.domain, False))]
        if e.blocked:
            raise RegistryError(f"{ref}: registry {e.prefix} is blocked in {self.source}")
        rest = name[len(e.prefix.rstrip("/")):].lstrip("/")
        out: list[Endpoint] = []
        if pull:
            for m in e.mirrors:
                host, path = _split_location(m.location, self.source or "registries.toml")
                out.append(Endpoint(host, "/".join(p for p in (path, rest) if p),
                                    self._insecure(host, m.insecure), None, mirror=True))
        host, path = _split_location(e.location, self.source or "registries.toml")
        out.append(Endpoint(host, "/".join(p for p in (path, rest) if p),
                            self._insecure(host, e.insecure), e.ca_file))
        return out

    def host_settings(self, host: str) -> tuple[bool, str | None]:
        """(insecure, ca_file) for a bare registry host (login, logout)."""
        e = self.entry_for(host)
        if e is None or e.location.partition("/")[0] != host:
            return self._insecure(host, False), None
        return self._insecure(host, e.insecure), e.ca_file


def _bool(reg: Mapping[str, Any], key: str, what: str) -> bool:
    v = reg.get(key, False)
    if not isinstance(v, bool):
        raise RegistryConfigError(f"{what}: {key} must be true or false")
    return v


def _entry(reg: Any, what: str) -> RegistryEntry:
    if not isinstance(reg, dict):
        raise RegistryConfigError(f"{what}: must be a table")
    allowed = {"prefix", "location", "insecure", "blocked", "ca-file", "mirror"}
    for k in reg:
        if k not in allowed:
            raise RegistryConfigError(f"{what}: unknown key {k!r}")
    location = reg.get("location") or reg.get("prefix")
    prefix = reg.get("prefix") or location
    if not isinstance(location, str) or not isinstance(prefix, str) or not location:
        raise RegistryConfigError(f"{what}: needs a location or a prefix")
    _split_location(location, what)
    ca = reg.get("ca-file")
    if ca is not None and (not isinstance(ca, str) or not Path(ca).is_file()):
        raise RegistryConfigError(f"{what}: ca-file {ca!r} is not a readable file")
    mirrors = []
    for j, m in enumerate(reg.get("mirror", [])):
        mw = f"{what}.mirror[{j}]"
        if not isinstance(m, dict) or not isinstance(m.get("location"), str):
            raise RegistryConfigError(f"{mw}: needs a location")
        for k in m:
            if k not in ("location", "insecure"):
                raise RegistryConfigError(f"{mw}: unknown key {k!r}")
        _split_location(m["location"], mw)
        mirrors.append(Mirror(m["location"], _bool(m, "insecure", mw)))
    return RegistryEntry(prefix, location, _bool(reg, "insecure", what), _bool(reg, "blocked", what), ca,
                         tuple(mirrors))


