"""Registry use cases: login, logout, manifest inspect, pull, push (Options in, Report out).

Everything reaches the registry through one :class:`~skiff.registry.client.RegistryClient` built by
:func:`open_client` from ``registries.toml`` (``$SKIFF_REGISTRIES_CONF``, ``ROOT/registries.toml``,
``/etc/skiff/registries.toml``) and the auth files (``$REGISTRY_AUTH_FILE``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiff.errors import InvalidArgumentError
from skiff.oci import reference
from skiff.registry.auth import AuthStore, Credentials, normalize_key
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig


@dataclass(frozen=True)
class RegistryOptions:
    """What every registry command shares: ``--tls-verify``, ``--authfile``."""

    tls_verify: bool | None = None
    authfile: str | None = None
    env: Mapping[str, str] | None = None  # defaults to os.environ (tests pass their own)
    transport: Any = None  # httpx transport (tests)


def auth_store(opts: RegistryOptions) -> AuthStore:
    env = dict(os.environ if opts.env is None else opts.env)
    if opts.authfile:
        env["REGISTRY_AUTH_FILE"] = opts.authfile
    return AuthStore.default(env)


def open_client(root: str | Path | None, opts: RegistryOptions, **kw: Any) -> RegistryClient:
    env = os.environ if opts.env is None else opts.env
    config = RegistriesConfig.find(root, env).with_tls_verify(opts.tls_verify)
    return RegistryClient(config, auth_store(opts), transport=opts.transport, **kw)


def normalize_server(text: str | None) -> str:
    """``docker.io``, ``https://index.docker.io/v1/`` -> ``docker.io``; ``http://h:5000/`` -> ``h:5000``."""
    server = normalize_key(text or reference.DEFAULT_DOMAIN)
    if "/" in server or not reference.is_valid_domain(server):
        raise InvalidArgumentError(f"invalid registry server {text!r}: expected a host[:port]")
    return server


# ---- login / logout ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginOptions:
    server: str | None
    username: str
    password: str = field(repr=False)
    registry: RegistryOptions = RegistryOptions()


@dataclass(frozen=True)
class LoginReport:
    server: str
    username: str
    authfile: str


def login(root: str | Path | None, o: LoginOptions) -> LoginReport:
    server = normalize_server(o.server)
    if not o.username:
        raise InvalidArgumentError("login: a username is required (-u)")
    if not o.password:
        raise InvalidArgumentError("login: a password is required (-p or --password-stdin)")
    creds = Credentials(o.username, o.password)
    with open_client(root, o.registry) as client:
        client.login(server, creds)
    store = auth_store(o.registry)
    store.set(server, creds)
    return LoginReport(server, o.username, str(store.path))


@dataclass(frozen=True)
class LogoutOptions:
    server: str | None = None
    all: bool = False
    registry: RegistryOptions = RegistryOptions()


@dataclass(frozen=True)
class LogoutReport:
    removed: list[str]
    not_logged_in: list[str]
    authfile: str


def logout(o: LogoutOptions) -> LogoutReport:
    store = auth_store(o.registry)
    if o.all:
        hosts = store.hosts()
        for h in hosts:
            store.remove(h)
        return LogoutReport(hosts, [], str(store.path))
    server = normalize_server(o.server)
    if store.remove(server):
        return LogoutReport([server], [], str(store.path))
    return LogoutReport([], [server], str(store.path))


# ---- manifest inspect ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestReport:
    reference: str
    raw: bytes
    media_type: str
    digest: str


def manifest_inspect(root: str | Path | None, ref_text: str, o: RegistryOptions) -> ManifestReport:
    ref = reference.parse(ref_text)
    with open_client(root, o) as client:
        got = client.get_manifest(ref)
    return ManifestReport(str(ref), got.raw, got.media_type, str(got.digest))
