"""A real CNCF distribution registry (Debian's docker-registry) on a free loopback port, for tests.

Optional htpasswd Basic auth, TLS with a test-made CA, and ``auth: token`` pointing at a test token server.
Started as a subprocess; stopped by pid (never by name).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RegistryServer:
    workdir: Path
    htpasswd: Path | None = None
    tls: tuple[Path, Path] | None = None  # (cert, key)
    ca_file: Path | None = None
    token: dict[str, str] | None = None  # realm, service, issuer, rootcertbundle
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def config_yaml(self) -> str:
        lines = ["version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: true",
                 "storage:", "  filesystem:", f"    rootdirectory: {self.workdir / 'data'}",
                 "  delete:", "    enabled: true",
                 "http:", f"  addr: 127.0.0.1:{self.port}", "  headers:", "    X-Content-Type-Options: [nosniff]"]
        if self.tls:
            lines += ["  tls:", f"    certificate: {self.tls[0]}", f"    key: {self.tls[1]}"]
        if self.htpasswd:
            lines += ["auth:", "  htpasswd:", "    realm: skiff-test", f"    path: {self.htpasswd}"]
        elif self.token:
            lines += ["auth:", "  token:"] + [f"    {k}: {v}" for k, v in self.token.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> RegistryServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "config.yml"
        cfg.write_text(self.config_yaml())
        log = open(self.workdir / "registry.log", "wb")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                     env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        log.close()
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.workdir / 'registry.log').read_text()}")
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=1, context=ctx)
                return self
            except urllib.error.HTTPError:
                return self  # 401: it answers
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("docker-registry did not answer /v2/ within 15s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
