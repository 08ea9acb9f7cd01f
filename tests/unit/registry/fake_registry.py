"""An in-memory distribution registry behind httpx.MockTransport, with knobs for failures (unit tests only)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeRegistry:
    host: str = "reg.test"
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # "repo:ref" -> (raw, media type)
    auth: str | None = None  # None | "basic" | "bearer"
    users: dict[str, str] = field(default_factory=dict)
    fail: list[int] = field(default_factory=list)  # statuses to answer first, one per request
    break_blob_at: int | None = None  # drop the connection after this many bytes (once)
    blob_override: dict[str, bytes] = field(default_factory=dict)
    redirect_blobs: bool = False
    ignore_range: bool = False
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    token_requests: int = 0
    uploads: dict[str, bytearray] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _authorized(self, req: httpx.Request) -> bool:
        h = req.headers.get("authorization", "")
        if self.auth is None:
            return True
        if self.auth == "basic" and h.startswith("Basic "):
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            return self.users.get(user) == pw
        return self.auth == "bearer" and h.startswith("Bearer tok-")

    def _challenge(self) -> httpx.Response:
        if self.auth == "basic":
            hdr = 'Basic realm="fake"'
        else:
            hdr = f'Bearer realm="https://auth.test/token",service="{self.host}"'
        return httpx.Response(401, headers={"WWW-Authenticate": hdr},
                              json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})

    def handle(self, req: httpx.Request) -> httpx.Response:
        self.log.append((req.method, str(req.url), dict(req.headers)))
        if req.url.host == "auth.test":
            return self._token(req)
        if req.url.host == "storage.test":
            return httpx.Response(200, content=self.blobs[req.url.path.strip("/")])
        if self.fail:
            return httpx.Response(self.fail.pop(0), headers={"Retry-After": "0"})
        if not self._authorized(req):
            return self._challenge()
        path = req.url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        parts = path[len("/v2/"):].split("/")
        if parts[-2] == "manifests":
            return self._manifest(req, "/".join(parts[:-2]), parts[-1])
        if parts[-2] == "blobs":
            return self._blob(req, parts[-1])
        if "uploads" in parts:
            return self._upload(req, "/".join(parts[:parts.index("blobs")]), parts[-1])
        return httpx.Response(404)

    def _token(self, req: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        h = req.headers.get("authorization")
        if h:
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            if self.users.get(user) != pw:
                return httpx.Response(401, json={"details": "bad"})
        return httpx.Response(200, json={"token": f"tok-{self.token_requests}", "expires_in": 300})

    def _manifest(self, req: httpx.Request, repo: str, ref: str) -> httpx.Response:
        key = f"{repo}:{ref}"
        if req.method == "PUT":
            raw = req.read()
            d = "sha256:" + hashlib.sha256(raw).hexdigest()
            self.manifests[key] = self.manifests[f"{repo}:{d}"] = (raw, req.headers["content-type"])
            return httpx.Response(201, headers={"Docker-Content-Digest": d})
        if key not in self.manifests:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        raw, mt = self.manifests[key]
        return httpx.Response(200, content=raw, headers={"Content-Type": mt})

    def _blob(self, req: httpx.Request, digest: str) -> httpx.Response:
        if digest not in self.blobs:
            return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]})
        if req.method == "HEAD":
            return httpx.Response(200, headers={"Content-Length": str(len(self.blobs[digest]))})
        if self.redirect_blobs:
            return httpx.Response(307, headers={"Location": f"https://storage.test/{digest}"})
        data = self.blob_override.get(digest, self.blobs[digest])
        start = 0
        rng = None if self.ignore_range else req.headers.get("range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
        body = data[start:]
        status = 206 if rng else 200
        if rng:
            return httpx.Response(206, content=body,
                                  headers={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        if self.break_blob_at is not None and not req.headers.get("range"):
            cut = self.break_blob_at
            self.break_blob_at = None
            return httpx.Response(status, stream=_Broken(body[:cut]))
        return httpx.Response(status, content=body)

    def _upload(self, req: httpx.Request, repo: str, uid: str) -> httpx.Response:
        if req.method == "POST":
            mount, frm = req.url.params.get("mount"), req.url.params.get("from")
            if mount and frm and mount in self.blobs:
                return httpx.Response(201, headers={"Location": f"/v2/{repo}/blobs/{mount}"})
            n = str(len(self.uploads))
            self.uploads[n] = bytearray()
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{n}?_state=s{n}"})
        buf = self.uploads[uid]
        buf += req.read()
        if req.method == "PATCH":
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{uid}?_state=p{len(buf)}"})
        if req.method == "PUT":
            d = req.url.params["digest"]
            if "sha256:" + hashlib.sha256(bytes(buf)).hexdigest() != d:
                return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID", "message": "bad"}]})
            self.blobs[d] = bytes(buf)
            return httpx.Response(201, headers={"Docker-Content-Digest": d})
        return httpx.Response(405)


class _Broken(httpx.SyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Any:
        yield self.data
        raise httpx.ReadError("connection reset by peer")


def put_image(reg: FakeRegistry, repo: str, tag: str, layers: list[bytes], arch: str = "amd64") -> str:
    """Store config + layers + manifest; returns the manifest digest."""
    def add(data: bytes) -> dict[str, Any]:
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        reg.blobs[d] = data
        return {"digest": d, "size": len(data)}

    cfg = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **add(cfg)},
         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **add(x)} for x in layers]}
    raw = json.dumps(m).encode()
    d = "sha256:" + hashlib.sha256(raw).hexdigest()
    reg.manifests[f"{repo}:{tag}"] = reg.manifests[f"{repo}:{d}"] = (raw, m["mediaType"])
    return d
