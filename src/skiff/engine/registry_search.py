"""`skiff search`: Docker Hub's search API for a term without a registry host, and for any other registry
podman's rule: the repositories of ``GET /v2/_catalog`` (every page) whose name contains the term.

Docker's bounds for ``--limit`` and its filters (``stars``, ``is-official``, ``is-automated``) apply to both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skiff.engine.filterargs import by_key
from skiff.engine.registry import RegistryOptions, open_client
from skiff.errors import InvalidArgumentError
from skiff.oci import reference
from skiff.records import dataclass
from skiff.registry.client import RegistryClient

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
HUB_INDEX = "docker.io"
HUB_SEARCH_HOST = "index.docker.io"
FILTERS = ("stars", "is-automated", "is-official")


@dataclass(frozen=True)
class SearchOptions:
    """What `skiff search` was asked for: the term (``[REGISTRY/]TERM``), the limit, filters, registry options."""

    term: str
    limit: int = DEFAULT_LIMIT
    filters: tuple[str, ...] = ()
    registry: RegistryOptions = RegistryOptions()


@dataclass(frozen=True)
class SearchResult:
    """One repository found (moby's registry.SearchResult): a catalog's entries have only a name."""

    name: str
    description: str = ""
    star_count: int = 0
    is_official: bool = False
    is_automated: bool = False


@dataclass(frozen=True)
class _Filters:
    """The --filter values as moby reads them: the highest ``stars``, ``is-official`` if given, ``is-automated``."""

    stars: int = 0
    official: bool | None = None
    automated: bool = False


def _filters(given: tuple[str, ...]) -> _Filters:
    """moby's registry.Service.Search checks: known keys, booleans, ``stars`` an integer (the highest wins)."""
    by = by_key(given, FILTERS, booleans=("is-automated", "is-official"))
    stars = 0
    for v in by.get("stars", []):
        try:
            stars = max(stars, int(v))
        except ValueError:
            raise InvalidArgumentError(f"invalid filter 'stars={v}'") from None

    def flag(key: str) -> bool | None:
        values = {v.lower() for v in by.get(key, [])}
        return bool(values & {"true", "1"}) if values else None

    return _Filters(stars, flag("is-official"), bool(flag("is-automated")))


def split_term(term: str) -> tuple[str | None, str]:
    """Docker's splitReposSearchTerm: ``host[:port]/rest`` names a registry (the first part has a dot or a
    colon, or is ``localhost``); anything else is a term for the default registries. (None, term) then."""
    first, slash, rest = term.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        index = reference.DEFAULT_DOMAIN if first in (HUB_INDEX, HUB_SEARCH_HOST, reference.LEGACY_DEFAULT_DOMAIN) \
            else first
        return index, rest
    return None, term


def search(root: str | Path | None, o: SearchOptions) -> list[SearchResult]:
    """The repositories matching ``o.term``: on its registry, else on each unqualified-search registry of
    ``registries.toml`` (Docker Hub by default), ``o.limit`` per registry before the filters, as Docker and
    podman count."""
    f = _filters(o.filters)  # moby's order: the filters, is-automated, then the limit
    if f.automated:  # moby 25+: is-automated is deprecated, and "true" finds nothing
        return []
    if not 1 <= o.limit <= MAX_LIMIT:
        raise InvalidArgumentError(f"limit {o.limit} is outside the range of [1, {MAX_LIMIT}]")
    index, term = split_term(o.term)
    out: list[SearchResult] = []
    with open_client(root, o.registry) as client:
        for host in [index] if index else list(client.config.unqualified_search):
            found = _hub(client, term, o.limit) if host == HUB_INDEX else _catalog(client, host, term, o.limit)
            out += [r for r in found if r.star_count >= f.stars and
                    (f.official is None or r.is_official == f.official)]
    return out


def _check_blocked(client: RegistryClient, host: str) -> None:
    from skiff.registry.errors import RegistryError

    entry = client.config.entry_for(host)
    if entry is not None and entry.blocked and entry.prefix.rstrip("/") == host:
        raise RegistryError(f"registry {host} is blocked in {client.config.source}")


def _catalog(client: RegistryClient, host: str, term: str, limit: int) -> list[SearchResult]:
    """containers/image's SearchRegistry for a v2 registry: catalog names containing ``term`` until ``limit``;
    an exact match is listed first."""
    _check_blocked(client, host)
    found: list[SearchResult] = []
    for page in client.catalog(host):
        for repo in page:
            if len(found) == limit:
                return found
            if term in repo:
                found.insert(0 if repo == term else len(found), SearchResult(f"{host}/{repo}"))
    return found


def _hub(client: RegistryClient, term: str, limit: int) -> list[SearchResult]:
    """Docker Hub's search API (``GET https://index.docker.io/v1/search?q=TERM&n=LIMIT``)."""
    _check_blocked(client, HUB_INDEX)
    data = client.get_json(HUB_SEARCH_HOST, "/v1/search", {"q": term, "n": str(limit)},
                           f"searching {HUB_INDEX} for {term!r}")
    results: list[Any] = (data.get("results") or []) if isinstance(data, dict) else []
    out = []
    for r in results[:limit]:
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            continue
        out.append(SearchResult(r["name"], str(r.get("description") or ""), int(r.get("star_count") or 0),
                                bool(r.get("is_official")), bool(r.get("is_automated"))))
    return out
