"""Paginated listings (Link headers), search terms and filters, and search's rows, without a network."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from skiff.engine.registry_search import SearchResult, _filters, split_term
from skiff.errors import InvalidArgumentError
from skiff.oci import reference
from skiff.registry.auth import AuthStore
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.registry.errors import RegistryProtocolError
from skiff.registry.listing import next_link
from skiff.registry.session import RetryPolicy

PAGE = "https://reg.test/v2/_catalog?n=2"


@pytest.mark.parametrize(("header", "want"), [
    (None, None),
    ("", None),
    ('</v2/_catalog?last=b&n=2>; rel="next"', "https://reg.test/v2/_catalog?last=b&n=2"),
    ("</v2/_catalog?last=b&n=2>; rel=next", "https://reg.test/v2/_catalog?last=b&n=2"),
    ('<https://other.test/v2/x/tags/list?last=9>; rel="next"', "https://other.test/v2/x/tags/list?last=9"),
    ('<?last=c>; rel="next"', "https://reg.test/v2/_catalog?last=c"),
    ('</v2/_catalog?last=a>; rel="prev", </v2/_catalog?last=z>; rel="next"', "https://reg.test/v2/_catalog?last=z"),
    ('</v2/_catalog?last=a>; rel="prev"', None),
    ('</v2/_catalog?last=q>; title="a; b, c"; rel="last next"', "https://reg.test/v2/_catalog?last=q"),
    ('</v2/_catalog?last=q>; REL="Next"', "https://reg.test/v2/_catalog?last=q"),
    ("garbage", None),
])
def test_next_link(header: str | None, want: str | None) -> None:
    assert next_link(header, PAGE) == want


class Paged:
    """A registry's catalog and tags/list in pages of ``n`` (its default 2), linking the next page."""

    def __init__(self, names: list[str], *, default_n: int = 2, loop: bool = False, body: bytes | None = None):
        self.names = names
        self.default_n = default_n
        self.loop = loop
        self.body = body
        self.requests: list[str] = []

    def handle(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(str(req.url))
        if req.url.path == "/v2/":
            return httpx.Response(200)
        q = parse_qs(req.url.query.decode())
        n = int(q.get("n", [self.default_n])[0])
        last = q.get("last", [""])[0]
        rest = [x for x in self.names if x > last]
        page, more = rest[:n], len(rest) > n
        key = "repositories" if req.url.path == "/v2/_catalog" else "tags"
        headers = {}
        if more or self.loop:
            headers["Link"] = f'<{req.url.path}?last={"" if self.loop else page[-1]}&n={n}>; rel="next"'
        if self.body is not None:
            return httpx.Response(200, content=self.body, headers=headers)
        return httpx.Response(200, json={key: page}, headers=headers)


def _client(reg: Paged, tmp_path: Path) -> RegistryClient:
    return RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "auth.json"),
                          transport=httpx.MockTransport(reg.handle), retry=RetryPolicy(attempts=1))


def test_catalog_and_tags_follow_links(tmp_path: Path) -> None:
    names = ["a/x", "b/y", "c/z", "d/w", "e/v"]
    reg = Paged(names)
    with _client(reg, tmp_path) as c:
        assert list(c.catalog("reg.test")) == [names[0:2], names[2:4], names[4:]]
        assert list(c.catalog("reg.test", page_size=3)) == [names[0:3], names[3:]]
        assert c.list_tags(reference.parse("reg.test/lib/app"), page_size=4) == names
    asked = [u for u in reg.requests if "/v2/_catalog" in u]
    assert asked[:3] == ["https://reg.test/v2/_catalog", "https://reg.test/v2/_catalog?last=b/y&n=2",
                         "https://reg.test/v2/_catalog?last=d/w&n=2"]
    assert asked[3] == "https://reg.test/v2/_catalog?n=3"
    assert "https://reg.test/v2/lib/app/tags/list?n=4" in reg.requests


def test_listing_stops_on_a_loop_and_refuses_garbage(tmp_path: Path) -> None:
    loop = Paged(["a", "b"], loop=True)
    with _client(loop, tmp_path) as c:
        pages = list(c.catalog("reg.test"))
    assert len(pages) == 2  # the first page, then the linked one once: a link seen before ends the listing
    for body in (b"not json", json.dumps({"repositories": [1, 2]}).encode(), b"[]"):
        with _client(Paged(["a"], body=body), tmp_path) as c, pytest.raises(RegistryProtocolError):
            list(c.catalog("reg.test"))


@pytest.mark.parametrize(("term", "want"), [
    ("busybox", (None, "busybox")),
    ("user/app", (None, "user/app")),
    ("127.0.0.1:5000/app", ("127.0.0.1:5000", "app")),
    ("127.0.0.1:5000/", ("127.0.0.1:5000", "")),
    ("localhost/team/app", ("localhost", "team/app")),
    ("quay.io/x", ("quay.io", "x")),
    ("docker.io/library/busybox", ("docker.io", "library/busybox")),
    ("index.docker.io/busybox", ("docker.io", "busybox")),
])
def test_split_term(term: str, want: tuple[str | None, str]) -> None:
    assert split_term(term) == want


def test_filters() -> None:
    f = _filters(("stars=3", "stars=10", "is-official=true"))
    assert (f.stars, f.official, f.automated) == (10, True, False)
    assert _filters(("is-automated=1",)).automated
    assert _filters(()).official is None
    for bad, msg in (("stars=x", "invalid filter 'stars=x'"), ("nope=1", "invalid filter 'nope'"),
                     ("is-official=yes", "invalid filter 'is-official=[yes]'"),
                     ("stars", "bad format of filter (expected name=value): stars")):
        with pytest.raises(InvalidArgumentError, match=re.escape(msg)):
            _filters((bad,))


def test_search_rows_truncate_and_json() -> None:
    from skiff.cli.commands._fmt import render
    from skiff.cli.commands.search import DEFAULT_FORMAT, HEADERS, rows

    long = SearchResult("team/app", "A description\nthat is much longer than forty-five characters", 12, True)
    table = render(DEFAULT_FORMAT, rows([long], no_trunc=False), HEADERS, go_type="*registry.searchContext")
    assert table.splitlines() == ["NAME       DESCRIPTION                                     STARS     OFFICIAL",
                                  "team/app   A description that is much longer than forty…   12        [OK]"]
    full = render("{{.Description}}", rows([long], no_trunc=True), HEADERS)
    assert full == "A description that is much longer than forty-five characters"
    js = json.loads(render("json", rows([long], no_trunc=True), HEADERS))
    assert js == {"Name": "team/app", "Description": "A description that is much longer than forty-five characters",
                  "StarCount": "12", "IsOfficial": "true", "IsAutomated": "false"}
