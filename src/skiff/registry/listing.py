"""Paginated listings of the distribution API: ``GET /v2/<name>/tags/list`` and ``GET /v2/_catalog``.

A registry answers one page at a time and names the next in an RFC 8288 ``Link`` header
(``</v2/_catalog?last=b&n=2>; rel="next"``); :func:`next_link` reads it and :func:`pages` follows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from skiff.registry.errors import RegistryProtocolError
from skiff.registry.session import status_error

if TYPE_CHECKING:
    from skiff.registry.config import Endpoint
    from skiff.registry.session import Session

MAX_PAGES = 10_000  # a registry whose Link never ends (or loops) is cut off here
MAX_PAGE_BYTES = 16 << 20

# one link-value: <target> then its ;-separated parameters (a quoted value may hold ; and ,)
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,="]+(?:\s*=\s*(?:"[^"]*"|[^;,"]*))?)*)')
_PARAM = re.compile(r';\s*([^;,="\s]+)\s*(?:=\s*("[^"]*"|[^;,"]*))?')


def next_link(header: str | None, current: str) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, resolved against ``current`` (the page's URL); None
    when there is no next page."""
    if not header:
        return None
    for m in _LINK.finditer(header):
        for pm in _PARAM.finditer(m.group(2)):
            if pm.group(1).lower() != "rel":
                continue
            rels = (pm.group(2) or "").strip().strip('"').lower().split()
            if "next" in rels:
                return str(urljoin(current, m.group(1).strip()))
    return None


def pages(session: Session, ep: Endpoint, path: str, key: str, *, scopes: list[str], what: str,
          page_size: int | None = None) -> Iterator[list[str]]:
    """Each page's ``key`` list (``tags``, ``repositories``) of ``GET path``, following ``Link`` headers;
    ``page_size`` asks for pages of that many entries (the ``n`` parameter)."""
    url = path
    params = {"n": str(page_size)} if page_size else None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        resp = session.request(ep, "GET", url, scopes=scopes, what=what, params=params)
        with closing(resp):
            if resp.status_code != 200:
                raise status_error(what, resp)
            body = resp.read()
            here = str(resp.url)
            link = resp.headers.get("link")
        if len(body) > MAX_PAGE_BYTES:
            raise RegistryProtocolError(f"{what}: the registry sent a page larger than {MAX_PAGE_BYTES} bytes")
        try:
            data = json.loads(body)
            items = data.get(key) or []
        except (ValueError, AttributeError):
            raise RegistryProtocolError(f"{what}: the registry sent a page that is not JSON") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise RegistryProtocolError(f"{what}: the registry's {key!r} is not a list of names")
        yield items
        nxt = next_link(link, here)
        if nxt is None or nxt in seen:
            return
        seen.add(nxt)
        url, params = nxt, None  # the next link carries n and last itself
    raise RegistryProtocolError(f"{what}: more than {MAX_PAGES} pages")
