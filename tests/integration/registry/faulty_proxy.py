"""An HTTP proxy in front of a real registry that can break things on purpose: cut a blob mid-way once,
corrupt or truncate blobs, answer a fixed status, rewrite a manifest's media type. Counts requests."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Faults:
    cut_blob_after: int | None = None  # first blob GET: send this many bytes, then drop the connection
    corrupt_blobs: bool = False  # flip a byte of every layer blob (same length)
    truncate_blobs: bool = False  # send half of every blob, honestly framed (Content-Length = half)
    status: int | None = None  # answer every /v2/<name>/... request with this status
    manifest_type: str | None = None  # Content-Type for manifests
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, range)


class FaultyProxy:
    def __init__(self, upstream: str, faults: Faults | None = None) -> None:
        self.upstream = upstream  # "127.0.0.1:port" (plain http)
        self.faults = faults or Faults()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.lock = threading.Lock()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FaultyProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def blob_gets(self) -> list[tuple[str, str, str]]:
        return [x for x in self.faults.log if x[0] == "GET" and "/blobs/sha256:" in x[1]]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        f = self.faults
        with self.lock:
            f.log.append((h.command, h.path, h.headers.get("Range", "")))
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        if f.status is not None and h.path.startswith("/v2/") and h.path != "/v2/":
            payload = b'{"errors":[{"code":"X","message":"injected failure"}]}'
            h.send_response(f.status)
            h.send_header("Content-Length", str(len(payload)))
            h.send_header("Content-Type", "application/json")
            h.end_headers()
            h.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(h.command, h.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        is_blob = h.command == "GET" and "/blobs/sha256:" in h.path and resp.status in (200, 206)
        if f.manifest_type and "/manifests/" in h.path and h.command == "GET" and resp.status == 200:
            import json

            doc = json.loads(data)
            doc["mediaType"] = f.manifest_type
            data = json.dumps(doc).encode()
        cut = None
        if is_blob:
            with self.lock:
                if f.cut_blob_after is not None and len(data) > f.cut_blob_after:
                    cut, f.cut_blob_after = f.cut_blob_after, None
            if f.corrupt_blobs and len(data) > 1000:
                data = data[:500] + bytes([data[500] ^ 0xFF]) + data[501:]
            if f.truncate_blobs:
                data = data[: len(data) // 2]
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            if k.lower() == "content-type" and f.manifest_type and "/manifests/" in h.path:
                v = f.manifest_type
            if k.lower() == "location" and v.startswith(f"http://{self.upstream}"):
                v = v.replace(self.upstream, self.host)
            h.send_header(k, v)
        length = resp.getheader("Content-Length") or "0" if h.command == "HEAD" else str(len(data))
        h.send_header("Content-Length", length)
        h.end_headers()
        if h.command == "HEAD":
            conn.close()
            return
        if cut is not None:
            h.wfile.write(data[:cut])
            h.wfile.flush()
            h.close_connection = True
            import socket

            h.connection.shutdown(socket.SHUT_RDWR)
        else:
            h.wfile.write(data)
        conn.close()
