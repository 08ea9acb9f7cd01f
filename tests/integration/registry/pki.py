"""Test-made keys and certificates (cryptography), bcrypt htpasswd files, and a JWT token server
speaking the Docker token protocol (``auth: token`` in the registry's config)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

USERS = {"alice": "wonderland-42"}


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))


def _cert(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Certificate | None, issuer_key: rsa.RSAPrivateKey,
          *, ca: bool, ip: str | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    b = (x509.CertificateBuilder().subject_name(name)
         .issuer_name(issuer.subject if issuer else name).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip)),
                                                         x509.DNSName("localhost")]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def make_tls(dirpath: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server cert, server key) for 127.0.0.1."""
    dirpath.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = _cert("skiff test CA", ca_key, None, ca_key, ca=True)
    key = _key()
    cert = _cert("127.0.0.1", key, ca, ca_key, ca=False, ip="127.0.0.1")
    (dirpath / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (dirpath / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, dirpath / "server.key")
    return dirpath / "ca.pem", dirpath / "server.pem", dirpath / "server.key"


def make_htpasswd(path: Path, users: dict[str, str]) -> Path:
    import bcrypt

    path.write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
                            for u, p in users.items()))
    return path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(key: rsa.RSAPublicKey) -> str:
    """The key ID distribution matches a JWT's ``kid`` against (libtrust: base32 of sha256(DER)[:30])."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


class TokenServer:
    """GET /token?service=...&scope=... with optional Basic auth -> a signed JWT granting what was asked."""

    def __init__(self, workdir: Path, users: dict[str, str], *, issuer: str = "skiff-test-issuer",
                 service: str = "skiff-test-registry", anonymous_pull: bool = True) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = _key()
        cert = _cert("token signer", self.key, None, self.key, ca=True)
        self.bundle = workdir / "token-bundle.pem"
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.users, self.issuer, self.service, self.anonymous_pull = users, issuer, service, anonymous_pull
        self.requests: list[dict[str, list[str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/token"

    def registry_config(self) -> dict[str, str]:
        return {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                "rootcertbundle": str(self.bundle)}

    def start(self) -> TokenServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        q = parse_qs(urlparse(h.path).query)
        self.requests.append(q)
        user = None
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if self.users.get(u) != p:
                h.send_response(401)
                h.end_headers()
                return
            user = u
        access = []
        for scope in q.get("scope", []):
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = actions.split(",") if user else [a for a in actions.split(",") if a == "pull"]
            if not self.anonymous_pull and not user:
                granted = []
            access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        header = {"typ": "JWT", "alg": "RS256", "kid": libtrust_key_id(self.key.public_key())}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        body = json.dumps({"token": f"{signing}.{_b64(sig)}", "expires_in": 300}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
