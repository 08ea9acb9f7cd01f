"""Registry use cases: login, logout, manifest inspect, pull, push, each tag of a repository (Options in,
Report out); search is in :mod:`skiff.engine.registry_search`.

Everything reaches the registry through one :class:`~skiff.registry.client.RegistryClient` built by
:func:`open_client` from ``registries.toml`` (``$SKIFF_REGISTRIES_CONF``, ``ROOT/registries.toml``,
``/etc/skiff/registries.toml``) and the auth files (``$REGISTRY_AUTH_FILE``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from skiff.errors import InvalidArgumentError, NotFoundError
from skiff.oci import reference
from skiff.records import dataclass, field
from skiff.registry.auth import AuthStore, Credentials, normalize_key
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig

_T = TypeVar("_T")

if TYPE_CHECKING:
    from skiff.store.store import ImageRecord, Store
    from skiff.transfer.registry import Events


@dataclass(frozen=True)
class RegistryOptions:
    """What every registry command shares: ``--tls-verify``, ``--authfile``."""

    tls_verify: bool | None = None
    authfile: str | None = None
    env: Mapping[str, str] | None = None  # defaults to os.environ (tests pass their own)
    transport: Any = None  # httpx transport (tests)
    retry: int | None = None  # retries after a 429/5xx/broken connection (default 3)
    retry_delay: float | None = None  # first backoff in seconds, doubled each time (default 0.5)


def auth_store(opts: RegistryOptions) -> AuthStore:
    env = dict(os.environ if opts.env is None else opts.env)
    if opts.authfile:
        env["REGISTRY_AUTH_FILE"] = opts.authfile
    return AuthStore.default(env)


def open_client(root: str | Path | None, opts: RegistryOptions, **kw: Any) -> RegistryClient:
    env = os.environ if opts.env is None else opts.env
    config = RegistriesConfig.find(root, env).with_tls_verify(opts.tls_verify)
    from skiff.registry.session import RetryPolicy

    default = RetryPolicy()
    retry = RetryPolicy(attempts=default.attempts if opts.retry is None else max(0, opts.retry) + 1,
                        backoff=default.backoff if opts.retry_delay is None else max(0.0, opts.retry_delay))
    return RegistryClient(config, auth_store(opts), transport=opts.transport, retry=retry, **kw)


def normalize_server(text: str | None) -> str:
    """``docker.io``, ``https://index.docker.io/v1/`` -> ``docker.io``; ``http://h:5000/`` -> ``h:5000``."""
    server = normalize_key(text or reference.DEFAULT_DOMAIN)
    if "/" in server or not reference.is_valid_domain(server):
        raise InvalidArgumentError(f"invalid registry server {text!r}: expected a host[:port]")
    return server


# ---- login / logout ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginOptions:
    """What `skiff login` was asked for: the server (default Docker Hub), credentials, registry options."""

    server: str | None
    username: str
    password: str = field(repr=False)
    registry: RegistryOptions = RegistryOptions()


@dataclass(frozen=True)
class LoginReport:
    """What `skiff login` did: the server and user whose credentials were checked and saved, the auth file."""

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
    """What `skiff logout` was asked for: one server (default Docker Hub) or ``all`` of them."""

    server: str | None = None
    all: bool = False
    registry: RegistryOptions = RegistryOptions()


@dataclass(frozen=True)
class LogoutReport:
    """What `skiff logout` did: servers whose credentials it removed, those it had none for, the auth file."""

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
    """What `skiff manifest inspect` fetched: the manifest or index bytes as served, media type, digest."""

    reference: str
    raw: bytes
    media_type: str
    digest: str


def manifest_inspect(root: str | Path | None, ref_text: str, o: RegistryOptions) -> ManifestReport:
    ref = reference.parse(ref_text)
    with open_client(root, o) as client:
        got = client.get_manifest(ref)
    return ManifestReport(str(ref), got.raw, got.media_type, str(got.digest))


# ---- pull ------------------------------------------------------------------------------------------------------
class HasStore(Protocol):
    """What the pull/push use cases need of the EngineContext."""

    @property
    def root(self) -> Path: ...

    @property
    def store(self) -> Store: ...


@dataclass(frozen=True)
class PullOptions:
    """What `skiff pull` was asked for: the reference, platform, registry options and parallel downloads."""

    reference: str
    platform: str | None = None
    registry: RegistryOptions = RegistryOptions()
    jobs: int = 4


@dataclass(frozen=True)
class PullReport:
    """What `skiff pull` reports: the image, its digests, bytes downloaded and blobs already present."""

    reference: str  # normalised, as recorded
    image_id: str
    manifest_digest: str
    repo_digest: str
    downloaded: int
    skipped: int
    up_to_date: bool
    layers: list[str]


def _candidates(text: str, ref: reference.Reference, search: tuple[str, ...]) -> list[reference.Reference]:
    """``busybox`` tries each unqualified-search registry in order; a qualified name only itself."""
    first = text.split("/", 1)[0]
    qualified = "/" in text and ("." in first or ":" in first or first == "localhost")
    if qualified or not search or list(search) == [reference.DEFAULT_DOMAIN]:
        return [ref]
    out = []
    for reg in search:
        path = ref.path if reg == reference.DEFAULT_DOMAIN else ref.path.removeprefix(
            reference.OFFICIAL_REPO_PREFIX)
        out.append(reference.Reference(reg, path, ref.tag, ref.digest))
    return out


def pull(ctx: HasStore, o: PullOptions, events: Events | None = None) -> PullReport:
    """Download ``o.reference`` into the store (layers unpacked, ready to run)."""
    from skiff.registry.platforms import parse_platform
    from skiff.transfer.registry import pull_to_store

    ref = reference.parse(o.reference)
    platform = parse_platform(o.platform)
    with open_client(ctx.root, o.registry) as client:
        cands = _candidates(o.reference, ref, client.config.unqualified_search)
        cand, res = _first_found(cands, lambda c: pull_to_store(client, ctx.store, c, platform=platform,
                                                                 events=events or (lambda k, e, v: None),
                                                                 jobs=o.jobs))
        _event(ctx, "pull", cand.familiar(), cand.familiar_name())
        return _pull_report(cand, res)


def _first_found(cands: list[Any], fetch: Callable[[Any], _T]) -> tuple[Any, _T]:
    """The first of the unqualified-search candidates ``fetch`` finds, with what it got; a name that none
    has raises the last "not found" (with a single candidate, its own error)."""
    from skiff.registry.errors import RegistryError, RegistryNotFoundError

    last: RegistryError | None = None
    for cand in cands:
        try:
            return cand, fetch(cand)
        except RegistryNotFoundError as e:
            if len(cands) == 1:
                raise
            last = e
    assert last is not None
    raise last


def _pull_report(ref: Any, res: Any) -> PullReport:
    return PullReport(str(ref), res.image_id, res.manifest_digest, res.repo_digest, res.downloaded, res.skipped,
                      res.up_to_date, res.layers)


def _event(ctx: HasStore, action: str, ref: str, name: str) -> None:
    """moby logs pull and push with the familiar reference as the actor and its name as ``name``."""
    runroot = getattr(ctx, "runroot", None)
    if runroot is not None:
        from skiff.events import image_event

        image_event(runroot, action, ref, name)


def ensure_image(ctx: HasStore, text: str, *, platform: str | None = None, policy: str = "missing",
                 registry: RegistryOptions = RegistryOptions(), events: Events | None = None) -> ImageRecord:
    """The implicit pull of run/create/build FROM: the local image if present (``policy`` "missing"),
    else pulled; "always" pulls first, "never" only looks locally."""
    if policy != "always":
        try:
            return ctx.store.resolve_image(text)
        except NotFoundError:
            if policy == "never":
                raise
    report = pull(ctx, PullOptions(text, platform, registry), events)
    return ctx.store.get_image(report.image_id)


# ---- push ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushOptions:
    """What `skiff push` was asked for: the image, destination (default: its name), chunk size, jobs."""

    source: str
    destination: str | None = None
    registry: RegistryOptions = RegistryOptions()
    chunk_size: int | None = None
    jobs: int = 4


@dataclass(frozen=True)
class PushReport:
    """What `skiff push` did: the destination, the manifest's digest and size, and how each blob got there."""

    reference: str
    tag: str | None
    manifest_digest: str
    size: int
    pushed: int
    mounted: int
    existing: int


def push(ctx: HasStore, o: PushOptions, events: Events | None = None) -> PushReport:
    rec = ctx.store.resolve_image(o.source)
    target = o.destination or o.source
    if reference.looks_like_id(target) and not o.destination:
        raise InvalidArgumentError(f"push: {o.source} is an image ID; give a destination reference")
    dest = reference.parse(target)
    with open_client(ctx.root, o.registry, chunk_size=o.chunk_size) as client:
        return _push_one(ctx, client, rec, dest, o, events)


def _push_one(ctx: HasStore, client: RegistryClient, rec: ImageRecord, dest: reference.Reference, o: PushOptions,
              events: Events | None) -> PushReport:
    from skiff.transfer.registry import push_from_store

    res = push_from_store(client, ctx.store, rec, dest, events=events or (lambda k, e, v: None), jobs=o.jobs)
    _event(ctx, "push", dest.familiar(), dest.familiar_name())
    return PushReport(str(dest), dest.tag, res.manifest_digest, res.size, res.pushed, res.mounted, res.existing)


# ---- every tag of a repository (pull -a, push -a) ----------------------------------------------------------
ALL_TAGS_WITH_TAG = "tag can't be used with --all-tags/-a"


def repository_only(text: str) -> reference.Reference:
    """``text`` as a repository name for ``--all-tags``: docker/cli refuses a tag or digest in it."""
    ref = reference.parse(text, default_tag=False)
    if ref.tag or ref.digest:
        raise InvalidArgumentError(ALL_TAGS_WITH_TAG)
    return ref


def local_tags(store: Store, repo: reference.Reference) -> list[str]:
    """The tags of ``repo`` held in the store, in the order moby's reference store lists them (lexical)."""
    tags: set[str] = set()
    for rec in store.list_images():
        for name in rec.names:
            r = reference.parse(name, default_tag=False)
            if r.name == repo.name and r.tag and not r.digest:
                tags.add(r.tag)
    return sorted(tags)


def push_all_tags(ctx: HasStore, o: PushOptions, events: Events | None = None,
                  pushed: Callable[[PushReport], None] | None = None) -> list[PushReport]:
    """Push every tag of repository ``o.source`` held in the store (to repository ``o.destination`` if given),
    one after the other as moby does; ``pushed`` hears of each as it is done."""
    src = repository_only(o.source)
    dest = repository_only(o.destination) if o.destination else src
    tags = local_tags(ctx.store, src)
    if not tags:
        raise NotFoundError(f"An image does not exist locally with the tag: {src.familiar_name()}")
    out = []
    with open_client(ctx.root, o.registry, chunk_size=o.chunk_size) as client:
        for tag in tags:
            rec = ctx.store.resolve_image(str(src.with_tag(tag)))
            report = _push_one(ctx, client, rec, dest.with_tag(tag), o, events)
            out.append(report)
            if pushed is not None:
                pushed(report)
    return out


@dataclass(frozen=True)
class PullAllReport:
    """What `skiff pull --all-tags` did: the repository (normalised, no tag) and each tag's pull."""

    repository: str
    tags: list[PullReport]

    @property
    def up_to_date(self) -> bool:
        return all(t.up_to_date for t in self.tags)


def pull_all_tags(ctx: HasStore, o: PullOptions, events: Events | None = None,
                  starting: Callable[[reference.Reference], None] | None = None,
                  pulled: Callable[[PullReport], None] | None = None) -> PullAllReport:
    """Pull every tag the registry lists for repository ``o.reference`` (``GET /v2/<name>/tags/list``, all
    pages), in the registry's order; ``starting``/``pulled`` hear of each tag before and after its pull."""
    from skiff.registry.platforms import parse_platform
    from skiff.transfer.registry import pull_to_store

    repo = repository_only(o.reference)
    platform = parse_platform(o.platform)
    with open_client(ctx.root, o.registry) as client:
        cands = _candidates(o.reference, repo, client.config.unqualified_search)
        cand, tags = _first_found(cands, client.list_tags)
        reports = []
        for tag in tags:
            ref = cand.with_tag(tag)
            if starting is not None:
                starting(ref)
            report = _pull_report(ref, pull_to_store(client, ctx.store, ref, platform=platform,
                                                     events=events or (lambda k, e, v: None), jobs=o.jobs))
            reports.append(report)
            if pulled is not None:
                pulled(report)
        _event(ctx, "pull", cand.familiar_name(), cand.familiar_name())
        return PullAllReport(cand.name, reports)
