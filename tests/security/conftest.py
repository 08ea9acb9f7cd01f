"""Shared pieces for the SECURITY.md regression suite: hostile archive builders, a host "canary" folder that
must never change, a static registry serving crafted content on loopback, and the one-line error check."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

TarEntry = tarfile.TarInfo | tuple[str, bytes]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def reg(name: str, data: bytes = b"x") -> tuple[str, bytes]:
    return (name, data)


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def dirent(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info


def fifo(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.FIFOTYPE, 0o644
    return info


def layer(entries: list[TarEntry]) -> bytes:
    """An uncompressed layer tar holding exactly ``entries`` in order (names are not sanitised)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                t.addfile(e)
            else:
                info = tarfile.TarInfo(e[0])
                info.size, info.mode = len(e[1]), 0o755
                t.addfile(info, io.BytesIO(e[1]))
    return buf.getvalue()


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


def image_config(diff_ids: list[str], config: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config or {},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def docker_archive(path: Path, layers: list[bytes], tag: str = "evil:1", *, config_name: str = "config.json",
                   layer_names: list[str] | None = None, diff_ids: list[str] | None = None,
                   compressed: list[bytes] | None = None) -> Path:
    """A `docker save` archive; ``compressed`` replaces the stored layer bytes (the config keeps the diff_ids)."""
    names = layer_names or [f"l{i}/layer.tar" for i in range(len(layers))]
    stored = compressed or layers
    with tarfile.open(path, "w") as t:
        _add(t, config_name, image_config(diff_ids or [sha(x) for x in layers]))
        for name, x in zip(names, stored, strict=True):
            _add(t, name, x)
        _add(t, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": names}]).encode())
    return path


def oci_archive(path: Path, layers: list[bytes], tag: str = "1", *, gzipped: bool = False,
                manifest_digest: str | None = None, config: dict[str, Any] | None = None) -> Path:
    """An OCI image-layout tar (`skiff save --format oci-archive` shape); ``manifest_digest`` overrides the
    digest index.json names (to feed hostile digests)."""
    blobs: dict[str, bytes] = {}
    descs = []
    diff_ids = []
    for x in layers:
        stored = gzip.compress(x, mtime=0) if gzipped else x
        blobs[sha(stored)] = stored
        diff_ids.append(sha(x))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzipped else ""),
                      "digest": sha(stored), "size": len(stored)})
    cfg = image_config(diff_ids, config)
    blobs[sha(cfg)] = cfg
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                                 "size": len(cfg)}, "layers": descs}).encode()
    blobs[sha(man)] = man
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest or sha(man),
         "size": len(man), "annotations": {"org.opencontainers.image.ref.name": tag}}]}).encode()
    with tarfile.open(path, "w") as t:
        _add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(t, "index.json", index)
        for d, b in blobs.items():
            _add(t, "blobs/sha256/" + d.split(":", 1)[1], b)
    return path


def assert_one_line_error(cp: Any, *patterns: str, code: int | None = 1) -> str:
    """The command failed with ``code`` and one stderr line ``Error: ...`` holding every pattern (then at most
    a ``Hint: ...`` line)."""
    lines = cp.stderr.decode(errors="replace").strip().splitlines()
    assert cp.returncode == code if code is not None else cp.returncode != 0, f"exit {cp.returncode}: {cp.stderr!r}"
    assert lines and lines[0].startswith("Error: "), lines
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Hint: ")), lines
    for p in patterns:
        assert p in lines[0], (p, lines[0])
    return lines[0]


def tree(path: Path) -> dict[str, tuple[int, bytes]]:
    """A snapshot of a folder: name -> (mode, content or link target); detects any write or new entry."""
    out: dict[str, tuple[int, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if os.path.islink(p):
                data = os.readlink(p).encode()
            elif os.path.isfile(p):
                data = Path(p).read_bytes()
            else:
                data = b""
            out[os.path.relpath(p, path)] = (st.st_mode, data)
    return out


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Path]:
    """A host folder outside the store with a secret file; each test asserts it never changes."""
    d = tmp_path / "host"
    d.mkdir()
    (d / "secret").write_text("host secret\n")
    (d / "sub").mkdir()
    (d / "sub" / "keep").write_text("keep\n")
    before = tree(d)
    yield d
    assert tree(d) == before, "a host folder outside the store changed"


@pytest.fixture
def bb(skiff: Any, busybox_image: str) -> Any:
    """The `skiff` runner with busybox:latest in its store."""
    return skiff


def run_detached(skiff: Any, *args: str) -> str:
    """`skiff run -d ARGS`; the store fixture removes the container (and its processes) afterwards."""
    cid = skiff("run", "-d", "--network", "none", *args).stdout.decode().strip()
    assert len(cid) == 64, cid
    return cid


# ---- a static registry on 127.0.0.1 serving crafted manifests and blobs ----

class StaticRegistry:
    """Distribution-API GETs answered from a dict: no validation at all, as a hostile registry would do."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                owner.requests.append(self.path)
                parts = self.path.split("?")[0].split("/")
                body, ctype, status = b"{}", "application/json", 404
                if self.path.rstrip("/") == "/v2":
                    status = 200
                elif len(parts) >= 5 and parts[-2] == "manifests":
                    hit = owner.manifests.get(("/".join(parts[2:-2]), parts[-1]))
                    if hit:
                        ctype, body = hit
                        status = 200
                elif len(parts) >= 5 and parts[-2] == "blobs" and parts[-1] in owner.blobs:
                    body, ctype, status = owner.blobs[parts[-1]], "application/octet-stream", 200
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 200 and "manifests" in parts:
                    self.send_header("Docker-Content-Digest", sha(body))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def add_image(self, repo: str, tag: str, layers: list[bytes], *, gzipped: bool = True,
                  layer_digests: list[str] | None = None) -> str:
        """Serves an OCI manifest for ``layers``; ``layer_digests`` overrides the digests it names."""
        descs, diff_ids = [], []
        for i, x in enumerate(layers):
            stored = gzip.compress(x, mtime=0) if gzipped else x
            d = layer_digests[i] if layer_digests else sha(stored)
            self.blobs[d] = stored
            diff_ids.append(sha(x))
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzipped else ""),
                          "digest": d, "size": len(stored)})
        cfg = image_config(diff_ids)
        self.blobs[sha(cfg)] = cfg
        man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg),
                                     "size": len(cfg)}, "layers": descs}).encode()
        self.manifests[(repo, tag)] = ("application/vnd.oci.image.manifest.v1+json", man)
        self.manifests[(repo, sha(man))] = self.manifests[(repo, tag)]
        return f"{self.host}/{repo}:{tag}"


@pytest.fixture
def static_registry() -> Iterator[StaticRegistry]:
    reg_ = StaticRegistry()
    reg_.thread.start()
    try:
        yield reg_
    finally:
        reg_.server.shutdown()
        reg_.server.server_close()
        reg_.thread.join(timeout=10)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Credential and registry config paths pointing at the test's own (empty) files."""
    d = tmp_path / "authdir"
    d.mkdir()
    (d / "registries.toml").write_text("")
    return {"REGISTRY_AUTH_FILE": str(d / "auth.json"), "DOCKER_CONFIG": str(d / "docker"),
            "XDG_RUNTIME_DIR": str(d / "xdg"), "HOME": str(d / "home"),
            "SKIFF_REGISTRIES_CONF": str(d / "registries.toml")}


@pytest.fixture(scope="session")
def bb_layer(busybox_rootfs: Path) -> bytes:
    """The busybox rootfs as one uncompressed layer tar (a base under hostile layers)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(busybox_rootfs, arcname=".")
    return buf.getvalue()
