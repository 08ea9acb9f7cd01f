"""Credentials in the Docker/Podman ``auth.json`` format.

Written to ``$REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/auth.json``, else
``/run/containers/<uid>/auth.json``; also read from ``$DOCKER_CONFIG/config.json`` (``~/.docker/config.json``).
Keys are registry hosts (``docker.io``, ``localhost:5000``) or ``host/namespace`` for narrower credentials;
Docker's legacy ``https://index.docker.io/v1/`` key is understood as ``docker.io``.
Credential helpers (``credsStore``/``credHelpers``) are not run.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skiff.oci.reference import DEFAULT_DOMAIN
from skiff.records import dataclass, field
from skiff.registry.errors import RegistryConfigError

_DOCKER_HUB_KEYS = {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
                    "https://index.docker.io/v1", "https://registry-1.docker.io"}


@dataclass(frozen=True)
class Credentials:
    """A registry login: username and password, or an identity token (kept out of ``repr`` and ``str``)."""

    username: str
    password: str = field(repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:  # never the secret
        return f"Credentials(username={self.username!r})"


def normalize_key(key: str) -> str:
    """``https://index.docker.io/v1/`` -> ``docker.io``; ``https://host:5000/`` -> ``host:5000``."""
    k = key.strip()
    if k in _DOCKER_HUB_KEYS:
        return DEFAULT_DOMAIN
    for scheme in ("https://", "http://"):
        if k.startswith(scheme):
            k = k[len(scheme):]
    k = k.rstrip("/")
    if k.endswith("/v1") or k.endswith("/v2"):
        k = k[:-3]
    if k in ("index.docker.io", "registry-1.docker.io"):
        return DEFAULT_DOMAIN
    return k


def _decode(entry: Any, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken") or None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, pw = base64.b64decode(auth).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryConfigError(f"{where}: an 'auth' entry is not valid base64") from None
        if not sep:
            raise RegistryConfigError(f"{where}: an 'auth' entry has no 'user:password' form")
        return Credentials(user, pw, token)
    if token:
        return Credentials("<token>", "", token)
    return None


class AuthStore:
    """Reads credentials from several files (first match wins); writes to the first one only."""

    def __init__(self, write_path: Path, read_paths: list[Path] | None = None) -> None:
        self.path = write_path
        self.read_paths = read_paths if read_paths is not None else [write_path]

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> AuthStore:
        env = os.environ if env is None else env
        explicit = env.get("REGISTRY_AUTH_FILE")
        if explicit:
            write = Path(explicit)
        elif env.get("XDG_RUNTIME_DIR"):
            write = Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
        else:
            write = Path(f"/run/containers/{os.getuid()}/auth.json")
        reads = [write]
        docker_dir = env.get("DOCKER_CONFIG")
        if docker_dir:
            reads.append(Path(docker_dir) / "config.json")
        elif env.get("HOME"):
            reads.append(Path(env["HOME"]) / ".docker" / "config.json")
        return cls(write, reads)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            text = path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise RegistryConfigError(f"{path}: {e.strerror}") from None
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise RegistryConfigError(f"{path}: not valid JSON") from None
        if not isinstance(data, dict):
            raise RegistryConfigError(f"{path}: not a JSON object")
        return data

    def get(self, host: str, repository: str | None = None) -> Credentials | None:
        """Credentials for ``host`` (``host/repo/...`` keys win when they match ``repository``)."""
        for path in self.read_paths:
            auths = self._read(path).get("auths") or {}
            if not isinstance(auths, dict):
                continue
            table = {normalize_key(k): v for k, v in auths.items()}
            keys = [host]
            if repository:
                parts = repository.split("/")
                keys = [f"{host}/{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1)] + keys
            for k in keys:
                if k in table:
                    creds = _decode(table[k], str(path))
                    if creds is not None:
                        return creds
        return None

    def set(self, host: str, creds: Credentials) -> None:
        data = self._read(self.path)
        auths = data.setdefault("auths", {})
        if not isinstance(auths, dict):
            raise RegistryConfigError(f"{self.path}: 'auths' is not an object")
        for k in [k for k in auths if normalize_key(k) == host]:
            del auths[k]
        raw = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        auths[host] = {"auth": raw}
        self._write(data)

    def remove(self, host: str) -> bool:
        data = self._read(self.path)
        auths = data.get("auths")
        if not isinstance(auths, dict):
            return False
        keys = [k for k in auths if normalize_key(k) == host]
        for k in keys:
            del auths[k]
        if keys:
            self._write(data)
        return bool(keys)

    def hosts(self) -> list[str]:
        auths = self._read(self.path).get("auths") or {}
        return sorted(normalize_key(k) for k in auths) if isinstance(auths, dict) else []

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent="\t")
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
