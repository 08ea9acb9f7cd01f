"""HTTP to registries: scheme discovery (https, http for insecure/loopback), auth challenges with a token
cache, Basic auth, and retries with backoff on 429/5xx and broken connections.

httpx is imported lazily; ``transport`` (e.g. ``httpx.MockTransport``) replaces the network in unit tests.
Credentials go only into ``Authorization`` headers: no message, log line or exception text carries them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from typing import TYPE_CHECKING, Any

from skiff import __version__
from skiff.records import dataclass
from skiff.registry import challenge as chal
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.config import Endpoint, RegistriesConfig, is_loopback
from skiff.registry.errors import (
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryProtocolError,
    RegistryUnreachableError,
)

if TYPE_CHECKING:
    import httpx

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
Body = bytes | Callable[[], Any] | None


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets after a 429/5xx or broken connection, and the backoff between them."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_backoff)
        return float(min(self.backoff * (2 ** attempt), self.max_backoff))


@dataclass
class _Token:
    """A cached bearer token and when to stop using it (``time.monotonic()``, with a margin)."""

    value: str
    expires: float


def registry_message(resp: httpx.Response) -> str:
    """The first error of a distribution-spec error body, else the HTTP reason."""
    try:
        data = json.loads(resp.read()[:65536])
        err = data["errors"][0]
        msg = str(err.get("message") or err.get("code") or "").strip()
        if msg:
            return msg
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        pass
    except Exception:  # a stream that broke while reading the error body
        pass
    return resp.reason_phrase.lower() or "error"


def status_error(what: str, resp: httpx.Response, attempts: int = 1) -> RegistryError:
    code = resp.status_code
    msg = registry_message(resp)
    after = f" after {attempts} attempts" if attempts > 1 else ""
    if code == 401:
        return RegistryAuthError(f"{what}: unauthorized: {msg} (401)",
                                 hint="log in with 'skiff login' or check the credentials")
    if code == 403:
        return RegistryAuthError(f"{what}: access denied: {msg} (403)")
    if code == 404:
        return RegistryNotFoundError(f"{what}: not found: {msg} (404)")
    if code == 429:
        return RegistryError(f"{what}: too many requests (429){after}")
    return RegistryError(f"{what}: registry answered {code} {msg}{after}")


class Session:
    """One per command; thread-safe (blob downloads run in a thread pool)."""

    def __init__(self, config: RegistriesConfig, auth: AuthStore, *, transport: Any = None,
                 retry: RetryPolicy | None = None, timeout: float = 60.0) -> None:
        self.config = config
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._transport = transport
        self._lock = threading.RLock()
        self._clients: dict[tuple[bool, str | None], httpx.Client] = {}
        self._schemes: dict[str, str] = {}
        self._challenges: dict[str, chal.Challenge | None] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._creds_override: dict[str, Credentials] = {}

    # -- plumbing --------------------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            for c in self._clients.values():
                c.close()
            self._clients.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client(self, ep: Endpoint) -> httpx.Client:
        import httpx

        verify_tls = not ep.insecure
        key = (verify_tls, ep.ca_file if verify_tls else None)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                verify: Any = verify_tls
                if verify_tls and ep.ca_file:
                    import ssl

                    verify = ssl.create_default_context(cafile=ep.ca_file)
                kw: dict[str, Any] = {"verify": verify}
                if self._transport is not None:
                    kw = {"transport": self._transport}
                c = httpx.Client(follow_redirects=True, timeout=httpx.Timeout(self.timeout, connect=10.0),
                                 headers={"User-Agent": f"skiff/{__version__}"},
                                 limits=httpx.Limits(max_connections=32, max_keepalive_connections=16), **kw)
                self._clients[key] = c
            return c

    def credentials(self, host: str, repository: str | None = None) -> Credentials | None:
        if host in self._creds_override:
            return self._creds_override[host]
        key = "docker.io" if host == "registry-1.docker.io" else host
        return self.auth.get(key, repository)

    def use_credentials(self, host: str, creds: Credentials) -> None:
        """Credentials for this session only (login checks them before they are stored)."""
        with self._lock:
            self._creds_override[host] = creds
            self._tokens = {k: v for k, v in self._tokens.items() if k[0] != host}

    # -- scheme discovery and ping ----------------------------------------------------------------------------
    def base_url(self, ep: Endpoint, what: str) -> str:
        host = ep.api_host
        with self._lock:
            scheme = self._schemes.get(host)
        if scheme is None:
            scheme = self._ping(ep, what)
        return f"{scheme}://{host}"

    def _ping(self, ep: Endpoint, what: str) -> str:
        host = ep.api_host
        allow_http = ep.insecure or is_loopback(host)
        last: RegistryUnreachableError | None = None
        for scheme in ("https", "http") if allow_http else ("https",):
            try:
                resp = self._send_retrying(ep, "GET", f"{scheme}://{host}/v2/", {}, None, what)
            except RegistryUnreachableError as e:
                last = e
                if "certificate" in str(e).lower() and not ep.insecure:
                    raise
                continue
            with closing(resp):
                if resp.status_code not in (200, 401):
                    if scheme == "https" and allow_http and resp.status_code == 400:
                        continue  # an http server answering our TLS-less probe
                    raise status_error(what, resp)
                ch = self._pick_challenge(resp)
            with self._lock:
                self._schemes[host] = scheme
                self._challenges[host] = ch
            return scheme
        assert last is not None
        raise last

    @staticmethod
    def _pick_challenge(resp: httpx.Response) -> chal.Challenge | None:
        if resp.status_code != 401:
            return None
        found = chal.parse(resp.headers.get("www-authenticate", ""))
        for want in ("bearer", "basic"):
            for c in found:
                if c.scheme == want:
                    return c
        return None

    # -- auth ------------------------------------------------------------------------------------------------
    def _auth_header(self, ep: Endpoint, scopes: Iterable[str], what: str, *, refresh: bool = False
                     ) -> str | None:
        host = ep.api_host
        with self._lock:
            ch = self._challenges.get(host)
        if ch is None:
            return None
        creds = self.credentials(ep.host, ep.path)
        if ch.scheme == "basic":
            if creds is None:
                return None
            raw = f"{creds.username}:{creds.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if ch.scheme != "bearer" or not ch.realm:
            return None
        scope_list = sorted(set(scopes) | ({ch.params["scope"]} if "scope" in ch.params else set()))
        key = (host, " ".join(scope_list))
        with self._lock:
            tok = self._tokens.get(key)
            if tok is not None and not refresh and tok.expires > time.monotonic():
                return "Bearer " + tok.value
        token = self._fetch_token(ep, ch, scope_list, creds, what)
        with self._lock:
            self._tokens[key] = token
        return "Bearer " + token.value

    def _fetch_token(self, ep: Endpoint, ch: chal.Challenge, scopes: list[str], creds: Credentials | None,
                     what: str) -> _Token:
        import httpx

        params: list[tuple[str, Any]] = []
        if ch.params.get("service"):
            params.append(("service", ch.params["service"]))
        params += [("scope", s) for s in scopes]
        headers = {}
        if creds is not None:
            params.append(("account", creds.username))
            raw = f"{creds.username}:{creds.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        realm = ch.realm or ""
        try:
            url = httpx.URL(realm).copy_merge_params(params)
        except (httpx.InvalidURL, TypeError):
            raise RegistryProtocolError(f"{what}: the registry's token realm is not a URL") from None
        if url.scheme not in ("http", "https"):
            raise RegistryProtocolError(f"{what}: the registry's token realm is not an http(s) URL")
        resp = self._send_retrying(ep, "GET", url, headers, None, what)
        with closing(resp):
            if resp.status_code in (401, 403):
                if creds is not None:
                    raise RegistryAuthError(f"{what}: the token service refused the credentials for "
                                            f"{creds.username!r} ({resp.status_code})")
                raise RegistryAuthError(f"{what}: the token service refused anonymous access "
                                        f"({resp.status_code})", hint="log in with 'skiff login'")
            if resp.status_code != 200:
                raise status_error(f"{what}: token service", resp)
            try:
                data = json.loads(resp.read())
                value = data.get("token") or data.get("access_token")
                ttl = float(data.get("expires_in") or 60)
            except (ValueError, AttributeError, TypeError):
                raise RegistryProtocolError(f"{what}: the token service sent no usable token") from None
        if not isinstance(value, str) or not value:
            raise RegistryProtocolError(f"{what}: the token service sent no usable token")
        return _Token(value, time.monotonic() + max(ttl - 10, ttl / 2))

    # -- requests ----------------------------------------------------------------------------------------------
    def request(self, ep: Endpoint, method: str, path: str, *, scopes: Iterable[str], what: str,
                headers: dict[str, str] | None = None, body: Body = None, stream: bool = False,
                params: dict[str, str] | None = None) -> httpx.Response:
        """One authenticated request; ``path`` is ``/v2/...`` or an absolute URL (upload locations).

        Returns the response (streamed if asked: the caller closes it). Retries 429/5xx; answers 401 once
        by fetching a fresh token. Non-2xx/3xx answers are returned for the caller to judge.
        """
        import httpx

        scopes = list(scopes)
        base = self.base_url(ep, what)
        url = httpx.URL(path if "://" in path else base + path)
        if params:
            url = url.copy_merge_params(params)
        hdrs = dict(headers or {})
        for attempt in range(2):
            auth = self._auth_header(ep, scopes, what, refresh=attempt > 0)
            if auth and url.host == httpx.URL(base).host:
                hdrs["Authorization"] = auth
            resp = self._send_retrying(ep, method, url, hdrs, body, what, stream=stream)
            if resp.status_code != 401 or attempt == 1:
                return resp
            ch = self._pick_challenge(resp)
            if ch is None:
                return resp  # a 401 without a challenge: nothing to answer it with
            resp.close()
            with self._lock:
                known = self._challenges.get(ep.api_host)
                self._challenges[ep.api_host] = ch
            if ch.scheme == "basic" and known is not None and known.scheme == "basic":
                creds = self.credentials(ep.host, ep.path)
                if creds is None:
                    raise RegistryAuthError(f"{what}: authentication required (401)",
                                            hint="log in with 'skiff login'")
                raise RegistryAuthError(f"{what}: the registry refused the credentials for "
                                        f"{creds.username!r} (401)")
        raise AssertionError("unreachable")

    def check_login(self, ep: Endpoint, what: str) -> None:
        """Verify this session's credentials for ``ep``'s registry: a scope-less token (Bearer) or
        ``GET /v2/`` (Basic). Raises RegistryAuthError when refused."""
        self.base_url(ep, what)
        with self._lock:
            ch = self._challenges.get(ep.api_host)
        if ch is None:
            return  # the registry needs no credentials; Docker stores them anyway
        if ch.scheme == "bearer":
            self._auth_header(ep, [], what, refresh=True)
            return
        resp = self.request(ep, "GET", "/v2/", scopes=[], what=what)
        with closing(resp):
            if resp.status_code != 200:
                raise status_error(what, resp)

    def _send_retrying(self, ep: Endpoint, method: str, url: Any, headers: dict[str, str], body: Body,
                       what: str, *, stream: bool = False) -> httpx.Response:
        import httpx

        client = self.client(ep)
        url = httpx.URL(url)
        attempts = self.retry.attempts  # bodies are bytes or factories: every request can be replayed
        for attempt in range(attempts):
            content = body() if callable(body) else body
            try:
                req = client.build_request(method, url, headers=headers, content=content)
                resp = client.send(req, stream=stream)
            except httpx.ConnectError as e:
                raise RegistryUnreachableError(
                    f"{what}: cannot connect to {url.host}{_port(url)}: {_reason(e)}") from None
            except (httpx.TimeoutException, httpx.ReadError, httpx.WriteError,
                    httpx.RemoteProtocolError) as e:
                if attempt + 1 >= attempts:
                    raise RegistryUnreachableError(f"{what}: connection to {ep.api_host} failed: "
                                                   f"{_reason(e)} after {attempts} attempts") from None
                time.sleep(self.retry.delay(attempt))
                continue
            if resp.status_code in RETRY_STATUS and attempt + 1 < attempts:
                retry_after = resp.headers.get("retry-after")
                resp.close()
                time.sleep(self.retry.delay(attempt, retry_after))
                continue
            if resp.status_code in RETRY_STATUS:
                try:
                    raise status_error(what, resp, attempts)
                finally:
                    resp.close()
            return resp
        raise AssertionError("unreachable")


def _port(url: httpx.URL) -> str:
    return f":{url.port}" if url.port else ""


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    low = text.lower()
    if "connection refused" in low or "errno 111" in low:
        return "connection refused"
    if "certificate verify failed" in low:
        return "TLS certificate verification failed (use a ca-file in registries.toml or --tls-verify=false)"
    if "name or service not known" in low or "temporary failure in name resolution" in low:
        return "host name not found"
    return text.splitlines()[0][:200]
