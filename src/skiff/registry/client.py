"""The distribution-spec client: manifests (with platform selection), blobs (parallel-safe, resumed,
verified), uploads (monolithic or chunked, cross-repository mounts), manifest pushes.

Every method takes a normalised :class:`~skiff.oci.reference.Reference`; mirrors from ``registries.toml`` are
tried first for pulls, and blobs come from the endpoint that served the manifest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from skiff.errors import DigestMismatchError
from skiff.oci import docker
from skiff.oci.digest import Digest
from skiff.oci.image import INDEX_TYPES, MANIFEST_TYPES, Descriptor, Platform, decode_index, sniff_media_type
from skiff.oci.reference import Reference
from skiff.records import dataclass
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.blobreader import BlobReader
from skiff.registry.config import Endpoint, RegistriesConfig
from skiff.registry.errors import RegistryError, RegistryProtocolError
from skiff.registry.platforms import choose, host_platform
from skiff.registry.session import RetryPolicy, Session, status_error

if TYPE_CHECKING:
    import httpx

MAX_MANIFEST = 4 << 20
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", docker.MT_MANIFEST_LIST,
    "application/vnd.oci.image.manifest.v1+json", docker.MT_MANIFEST,
])
Progress = Callable[[int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class ResolvedManifest:
    """A manifest as the registry served it; ``index`` is the list it was chosen from, if any.

    Unpacks as ``raw, media_type, digest = client.resolve(ref)``.
    """

    raw: bytes
    media_type: str
    digest: Digest
    endpoint: Endpoint
    index: tuple[bytes, str, Digest] | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.raw, self.media_type, self.digest))


def _scope(path: str, actions: str = "pull") -> str:
    return f"repository:{path}:{actions}"


class RegistryClient:
    def __init__(self, config: RegistriesConfig, auth: AuthStore, *, transport: Any = None,
                 retry: RetryPolicy | None = None, timeout: float = 60.0, chunk_size: int | None = None) -> None:
        self.config = config
        self.session = Session(config, auth, transport=transport, retry=retry, timeout=timeout)
        self.chunk_size = chunk_size
        self._served: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- login -------------------------------------------------------------------------------------------------
    def login(self, host: str, creds: Credentials) -> None:
        """Check ``creds`` against ``host`` (raises RegistryAuthError when refused); stores nothing."""
        insecure, ca = self.config.host_settings(host)
        ep = Endpoint(host, "", insecure, ca)
        self.session.use_credentials(ep.api_host, creds)
        self.session.use_credentials(host, creds)
        self.session.check_login(ep, host)

    def ping(self, host: str) -> None:
        insecure, ca = self.config.host_settings(host)
        self.session.base_url(Endpoint(host, "", insecure, ca), host)

    # -- manifests ---------------------------------------------------------------------------------------------
    def get_manifest(self, ref: Reference, *, digest: str | None = None) -> ResolvedManifest:
        """The manifest or index ``ref`` (or ``digest`` in its repository) names, as served, verified."""
        return self._from_endpoints(ref, lambda ep: self._get_manifest(ep, ref, digest))

    def _from_endpoints(self, ref: Reference, fetch: Callable[[Endpoint], _T]) -> _T:
        """``fetch`` from the endpoints serving ``ref`` (mirrors first): a mirror's error moves on to the next;
        the endpoint that answered serves the repository's later requests (blobs) too."""
        last: RegistryError | None = None
        eps = self.config.endpoints(ref)
        for i, ep in enumerate(eps):
            try:
                got = fetch(ep)
            except RegistryError as e:
                if not ep.mirror or i + 1 == len(eps):
                    raise
                last = e
                continue
            with self._lock:
                self._served[ref.name] = ep
            return got
        assert last is not None
        raise last

    def _get_manifest(self, ep: Endpoint, ref: Reference, digest: str | None) -> ResolvedManifest:
        what = str(ref)
        target = digest or ref.digest or ref.tag or "latest"
        resp = self.session.request(ep, "GET", f"/v2/{ep.path}/manifests/{target}", scopes=[_scope(ep.path)],
                                    what=what, headers={"Accept": ACCEPT}, stream=True)
        with closing(resp):
            if resp.status_code != 200:
                raise status_error(what, resp)
            raw = _read_limited(resp, MAX_MANIFEST, what)
            header_type = resp.headers.get("content-type", "").split(";")[0].strip()
        media_type = header_type
        if media_type not in MANIFEST_TYPES | INDEX_TYPES:
            media_type = sniff_media_type(raw) or header_type
        if media_type in (docker.MT_SCHEMA1, docker.MT_SCHEMA1_SIGNED):
            raise RegistryProtocolError(f"{what}: Docker schema 1 manifests are not supported")
        if media_type not in MANIFEST_TYPES | INDEX_TYPES:
            raise RegistryProtocolError(f"{what}: unsupported manifest media type {media_type or 'none'!r}")
        got = Digest.of(raw)
        want = digest or ref.digest
        if want and got.value != want:
            raise DigestMismatchError(f"{what}: the registry sent a manifest with digest {got}, not {want}")
        return ResolvedManifest(raw, media_type, got, ep)

    def resolve(self, ref: Reference, platform: Platform | None = None) -> ResolvedManifest:
        """The image manifest for ``ref`` on ``platform`` (default: the host's), choosing from an index."""
        top = self.get_manifest(ref)
        if top.media_type not in INDEX_TYPES:
            return top
        index = decode_index(top.raw, f"{ref}: manifest list")
        desc = choose(index, platform or host_platform(), str(ref))
        child = self._get_manifest(top.endpoint, ref, desc.digest)
        if child.media_type not in MANIFEST_TYPES:
            raise RegistryProtocolError(f"{ref}: the manifest list points at a {child.media_type!r}, "
                                        f"not an image manifest")
        return ResolvedManifest(child.raw, child.media_type, child.digest, top.endpoint,
                                (top.raw, top.media_type, top.digest))

    def put_manifest(self, ref: Reference, raw: bytes, media_type: str, *, tag: str | None = None) -> Digest:
        """PUT ``raw`` under ``tag`` (default ``ref``'s tag, else its digest); returns the digest of ``raw``."""
        ep = self._push_endpoint(ref)
        dgst = Digest.of(raw)
        target = tag or ref.tag or str(dgst)
        resp = self.session.request(ep, "PUT", f"/v2/{ep.path}/manifests/{target}",
                                    scopes=[_scope(ep.path, "pull,push")], what=str(ref),
                                    headers={"Content-Type": media_type}, body=raw)
        with closing(resp):
            if resp.status_code not in (200, 201):
                raise status_error(f"{ref}: pushing the manifest", resp)
            echoed = resp.headers.get("docker-content-digest")
        if echoed and echoed != dgst.value:
            raise DigestMismatchError(f"{ref}: the registry stored the manifest as {echoed}, not {dgst}")
        return dgst

    # -- listings ----------------------------------------------------------------------------------------------
    def list_tags(self, ref: Reference, *, page_size: int | None = None) -> list[str]:
        """Every tag of ``ref``'s repository (``GET /v2/<name>/tags/list``, all pages), in the registry's order;
        mirrors first, as for pulls."""
        from skiff.registry.listing import pages

        return self._from_endpoints(ref, lambda ep: [
            t for page in pages(self.session, ep, f"/v2/{ep.path}/tags/list", "tags", scopes=[_scope(ep.path)],
                                what=f"{ref.name}: listing tags", page_size=page_size) for t in page])

    def catalog(self, host: str, *, page_size: int | None = None) -> Iterator[list[str]]:
        """The repositories of registry ``host`` a page at a time (``GET /v2/_catalog``, following ``Link``)."""
        from skiff.registry.listing import pages

        insecure, ca = self.config.host_settings(host)
        return pages(self.session, Endpoint(host, "", insecure, ca), "/v2/_catalog", "repositories",
                     scopes=["registry:catalog:*"], what=f"{host}: listing repositories", page_size=page_size)

    def get_json(self, host: str, path: str, params: dict[str, str], what: str) -> Any:
        """``GET path`` on ``host`` (anonymous unless credentials are stored for it), decoded from JSON."""
        import json

        insecure, ca = self.config.host_settings(host)
        resp = self.session.request(Endpoint(host, "", insecure, ca), "GET", path, scopes=[], what=what,
                                    params=params)
        with closing(resp):
            if resp.status_code != 200:
                raise status_error(what, resp)
            body = resp.read()
        try:
            return json.loads(body)
        except ValueError:
            raise RegistryProtocolError(f"{what}: the registry's answer is not JSON") from None

    # -- blobs -------------------------------------------------------------------------------------------------
    def _pull_endpoints(self, ref: Reference) -> list[Endpoint]:
        with self._lock:
            served = self._served.get(ref.name)
        eps = self.config.endpoints(ref)
        if served is not None:
            eps = [served] + [e for e in eps if e != served]
        return eps

    def _push_endpoint(self, ref: Reference) -> Endpoint:
        return self.config.endpoints(ref, pull=False)[-1]

    def blob_exists(self, ref: Reference, digest: str) -> bool:
        ep = self._push_endpoint(ref)
        resp = self.session.request(ep, "HEAD", f"/v2/{ep.path}/blobs/{digest}",
                                    scopes=[_scope(ep.path, "pull,push")], what=str(ref))
        with closing(resp):
            if resp.status_code == 200:
                return True
            if resp.status_code == 404:
                return False
            raise status_error(f"{ref}: blob {digest}", resp)

    def get_blob(self, ref: Reference, desc: Descriptor, dest: BinaryIO, progress: Progress | None = None) -> None:
        """Stream blob ``desc`` into ``dest`` (truncated first), resuming with Range after a broken
        connection, and verify size and digest; on failure ``dest`` holds garbage for the caller to drop."""
        last: RegistryError | None = None
        eps = self._pull_endpoints(ref)
        for i, ep in enumerate(eps):
            try:
                self._get_blob(ep, ref, desc, dest, progress)
                return
            except RegistryError as e:
                if not ep.mirror or i + 1 == len(eps):
                    raise
                last = e
        assert last is not None
        raise last

    def _get_blob(self, ep: Endpoint, ref: Reference, desc: Descriptor, dest: BinaryIO,
                  progress: Progress | None) -> None:
        dest.seek(0)
        dest.truncate()
        with BlobReader(self.session, ep, f"{ref}: blob {desc.digest}", desc, progress) as reader:
            while chunk := reader.read_chunk():
                dest.write(chunk)
        dest.flush()

    def open_blob(self, ref: Reference, desc: Descriptor, progress: Progress | None = None) -> BlobReader:
        """A readable stream of blob ``desc`` (resumed after breaks, verified at its end)."""
        last: RegistryError | None = None
        eps = self._pull_endpoints(ref)
        for i, ep in enumerate(eps):
            try:
                return BlobReader(self.session, ep, f"{ref}: blob {desc.digest}", desc, progress)
            except RegistryError as e:
                if not ep.mirror or i + 1 == len(eps):
                    raise
                last = e
        assert last is not None
        raise last

    def get_blob_bytes(self, ref: Reference, desc: Descriptor, limit: int = 64 << 20) -> bytes:
        """A small blob (an image config) in memory, verified."""
        import io

        if desc.size > limit:
            raise RegistryProtocolError(f"{ref}: blob {desc.digest} is larger than {limit} bytes")
        buf = io.BytesIO()
        self.get_blob(ref, desc, buf)
        return buf.getvalue()

    def mount_blob(self, ref: Reference, digest: str, from_path: str) -> bool:
        """Ask the registry to link ``digest`` from repository ``from_path`` (same registry); False if not."""
        ep = self._push_endpoint(ref)
        resp = self.session.request(ep, "POST", f"/v2/{ep.path}/blobs/uploads/",
                                    scopes=[_scope(ep.path, "pull,push"), _scope(from_path)], what=str(ref),
                                    params={"mount": digest, "from": from_path})
        with closing(resp):
            if resp.status_code == 201:
                return True
            if resp.status_code == 202:
                loc = resp.headers.get("location")
                if loc:
                    self.session.request(ep, "DELETE", str(resp.url.join(loc)),
                                         scopes=[_scope(ep.path, "pull,push")], what=str(ref)).close()
                return False
            if resp.status_code in (401, 403, 404):
                return False
            raise status_error(f"{ref}: mounting blob {digest}", resp)

    def push_blob(self, ref: Reference, desc: Descriptor, src: BinaryIO, progress: Progress | None = None) -> None:
        """Upload ``desc`` from ``src`` (seekable; read from its start): one PUT, or PATCH chunks of
        ``chunk_size`` then PUT. The registry's echoed digest must match."""
        ep = self._push_endpoint(ref)
        what = f"{ref}: uploading blob {desc.digest}"
        scopes = [_scope(ep.path, "pull,push")]
        resp = self.session.request(ep, "POST", f"/v2/{ep.path}/blobs/uploads/", scopes=scopes, what=what)
        with closing(resp):
            if resp.status_code != 202:
                raise status_error(what, resp)
            loc = _location(resp, what)
        size = desc.size
        octet = {"Content-Type": "application/octet-stream"}
        if self.chunk_size and size > self.chunk_size:
            offset = 0
            while offset < size:
                n = min(self.chunk_size, size - offset)
                hdrs = {**octet, "Content-Range": f"{offset}-{offset + n - 1}", "Content-Length": str(n)}
                resp = self.session.request(ep, "PATCH", loc, scopes=scopes, what=what, headers=hdrs,
                                            body=_reader(src, offset, n, progress))
                with closing(resp):
                    if resp.status_code != 202:
                        raise status_error(what, resp)
                    loc = _location(resp, what)
                offset += n
            resp = self.session.request(ep, "PUT", loc, scopes=scopes, what=what, params={"digest": desc.digest},
                                        headers={"Content-Length": "0"}, body=b"")
        else:
            resp = self.session.request(ep, "PUT", loc, scopes=scopes, what=what, params={"digest": desc.digest},
                                        headers={**octet, "Content-Length": str(size)},
                                        body=_reader(src, 0, size, progress))
        with closing(resp):
            if resp.status_code != 201:
                raise status_error(what, resp)
            echoed = resp.headers.get("docker-content-digest")
        if echoed and echoed != desc.digest:
            raise DigestMismatchError(f"{what}: the registry stored it as {echoed}")


def _location(resp: httpx.Response, what: str) -> str:
    loc = resp.headers.get("location")
    if not loc:
        raise RegistryProtocolError(f"{what}: the registry sent no upload location")
    return str(resp.url.join(loc))


def _reader(src: BinaryIO, offset: int, size: int, progress: Progress | None) -> Callable[[], Iterator[bytes]]:
    """A body factory: each call (a retry) re-reads ``size`` bytes from ``offset``."""

    def gen() -> Iterator[bytes]:
        src.seek(offset)
        left = size
        while left > 0:
            data = src.read(min(1 << 20, left))
            if not data:
                raise RegistryProtocolError(f"local blob shorter than its descriptor ({size - left} of {size})")
            left -= len(data)
            if progress:
                progress(len(data))
            yield data

    return gen


def _read_limited(resp: httpx.Response, limit: int, what: str) -> bytes:
    out = bytearray()
    for chunk in resp.iter_bytes():
        out += chunk
        if len(out) > limit:
            raise RegistryProtocolError(f"{what}: manifest larger than {limit} bytes")
    return bytes(out)
