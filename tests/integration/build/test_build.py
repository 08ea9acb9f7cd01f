"""skiff build on the real runtime and store: instructions, stages, cache, reproducibility, bad input."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest


def _ctx(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, content in (files or {}).items():
        p = ctx / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return ctx


def _inspect(skiff, ref: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    out = json.loads(skiff("image", "inspect", ref).stdout)
    return out[0]  # type: ignore[no-any-return]


def _layers(skiff, ref: str, tmp_path: Path) -> list[list[tarfile.TarInfo]]:  # type: ignore[no-untyped-def]
    out = tmp_path / f"save-{ref.replace(':', '_')}.tar"
    skiff("save", "-o", str(out), ref)
    result = []
    with tarfile.open(out) as t:
        manifest = json.loads(t.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for layer in manifest[0]["Layers"]:
            f = t.extractfile(layer)
            assert f is not None
            with tarfile.open(fileobj=f) as lt:
                result.append(lt.getmembers())
    return result


def _files(skiff, ref: str, tmp_path: Path) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Every regular file of an image (top layer wins), read from `skiff save` output."""
    out = tmp_path / f"files-{ref.replace(':', '_')}.tar"
    skiff("save", "-o", str(out), ref)
    files: dict[str, bytes] = {}
    with tarfile.open(out) as t:
        manifest = json.loads(t.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for layer in manifest[0]["Layers"]:
            f = t.extractfile(layer)
            assert f is not None
            with tarfile.open(fileobj=f) as lt:
                for m in lt.getmembers():
                    name = m.name.removeprefix("./").lstrip("/")
                    base = os.path.basename(name)
                    if base.startswith(".wh."):
                        files.pop(os.path.join(os.path.dirname(name), base[4:]), None)
                    elif m.isfile():
                        files[name] = lt.extractfile(m).read()  # type: ignore[union-attr]
    return files


BASIC = """\
FROM busybox
ARG GREETING=hello
ENV APP=/app
WORKDIR $APP
COPY hello.txt .
RUN echo "$GREETING from run" > out.txt && cat hello.txt
USER app
RUN id -u > /tmp/uid
EXPOSE 8000
CMD ["cat", "/app/out.txt"]
"""


def test_build_instructions_and_config(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, BASIC, {"hello.txt": "hi there\n"})
    r = skiff("build", "-t", "app:1", "--build-arg", "GREETING=howdy", str(ctx))
    log = r.stderr.decode()
    assert "hi there" in log and "naming to docker.io/library/app:1 done" in log
    cfg = _inspect(skiff, "app:1")["Config"]
    assert cfg["Cmd"] == ["cat", "/app/out.txt"]
    assert cfg["WorkingDir"] == "/app" and cfg["User"] == "app"
    assert cfg["ExposedPorts"] == {"8000/tcp": {}}
    assert "APP=/app" in cfg["Env"] and not any(e.startswith("GREETING=") for e in cfg["Env"])
    files = _files(skiff, "app:1", tmp_path)
    assert files["app/out.txt"] == b"howdy from run\n"
    assert files["app/hello.txt"] == b"hi there\n"
    assert files["tmp/uid"] == b"1000\n"


def test_cache_hits_and_invalidation(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = "FROM busybox\nCOPY req.txt /r/\nRUN echo installed > /r/deps\nCOPY app.py /r/\nRUN cat /r/app.py\n"
    ctx = _ctx(tmp_path, df, {"req.txt": "flask\n", "app.py": "print(1)\n"})
    first = skiff("build", "-q", "-t", "c", str(ctx)).stdout.decode().strip()
    again = skiff("build", "-t", "c", str(ctx))
    assert again.stderr.decode().count("CACHED") == 4
    assert _inspect(skiff, "c")["Id"] == first
    (ctx / "app.py").write_text("print(2)\n")
    changed = skiff("build", "-t", "c", str(ctx)).stderr.decode()
    assert changed.count("CACHED") == 2  # the requirements COPY and the install RUN
    assert "print(2)" in changed
    (ctx / "req.txt").write_text("flask\nrequests\n")
    assert skiff("build", "-t", "c", str(ctx)).stderr.decode().count("CACHED") == 0
    nocache = skiff("build", "--no-cache", "-t", "c", str(ctx)).stderr.decode()
    assert "CACHED" not in nocache


def test_multistage_copy_from_target_and_arg_scope(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = """\
ARG BASE=busybox
ARG VERSION=1.0
FROM $BASE AS builder
ARG VERSION
RUN mkdir -p /out && echo "v$VERSION" > /out/version && echo unused > /out/junk
FROM busybox AS unused
RUN exit 3
FROM $BASE
COPY --from=builder /out/version /version
RUN test "x$VERSION" = "x" && cat /version
"""
    ctx = _ctx(tmp_path, df)
    log = skiff("build", "-t", "ms", "--build-arg", "VERSION=2.5", str(ctx)).stderr.decode()
    assert "exit 3" not in log  # the unused stage is skipped
    files = _files(skiff, "ms", tmp_path)
    assert files["version"] == b"v2.5\n" and "out/junk" not in files
    skiff("build", "-t", "onlybuilder", "--target", "builder", str(ctx))
    assert _files(skiff, "onlybuilder", tmp_path)["out/junk"] == b"unused\n"


def test_heredocs_dockerignore_and_chown(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = """\
FROM busybox
COPY <<EOF /etc/motd
welcome
EOF
RUN <<EOT
echo first > /h1
echo second >> /h1
EOT
COPY --chown=app:app --chmod=640 . /src/
"""
    ctx = _ctx(tmp_path, df, {"keep.txt": "k", "logs/a.log": "x", "logs/important.log": "y", "secret.env": "s"})
    (ctx / ".dockerignore").write_text("logs/*.log\n!logs/important.log\nsecret.env\n")
    skiff("build", "-t", "hd", str(ctx))
    files = _files(skiff, "hd", tmp_path)
    assert files["etc/motd"] == b"welcome\n"
    assert files["h1"] == b"first\nsecond\n"
    assert "src/keep.txt" in files and "src/logs/important.log" in files
    assert "src/logs/a.log" not in files and "src/secret.env" not in files
    top = {m.name.removeprefix("./"): m for m in _layers(skiff, "hd", tmp_path)[-1]}
    m = top["src/keep.txt"]
    assert (m.uid, m.gid, m.mode & 0o777) == (1000, 1000, 0o640)


def test_failing_run_reports_line_and_leaves_no_image(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN echo about to fail\nRUN echo oops >&2 && exit 7\n")
    r = skiff("build", "-t", "broken", str(ctx), check=False)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert "Dockerfile:3" in err and "exit code: 7" in err and "oops" in err
    assert b"broken" not in skiff("images").stdout
    # the cache is intact: the first RUN is reused
    assert "CACHED" in skiff("build", "-t", "broken", str(ctx), check=False).stderr.decode()


@pytest.mark.parametrize(("dockerfile", "needle"), [
    ("FROM busybox\nFROBNICATE x\n", "Dockerfile:2"),
    ("FROM busybox\nCOPY missing.txt /\n", "missing.txt"),
    ("FROM busybox\nCOPY ../../etc/passwd /\n", "not found"),
    ("FROM busybox\nRUN <<EOF\necho unterminated\n", "Dockerfile"),
    ("FROM busybox\nCOPY --from=nosuchstage /a /b\n", "nosuchstage"),
    ("FROM busybox\nEXPOSE 99999\n", "Dockerfile:2"),
])
def test_bad_input(skiff, busybox_image, tmp_path, dockerfile, needle) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, dockerfile)
    r = skiff("build", "-t", "bad", str(ctx), check=False)
    assert r.returncode == 1, r.stderr
    assert needle in r.stderr.decode()
    assert b"bad " not in skiff("images").stdout


def test_source_date_epoch_gives_one_digest(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nCOPY f /f\nRUN echo x > /y\nENV A=1\n", {"f": "data"})
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    a = skiff("build", "-q", "--no-cache", str(ctx), env=env).stdout.strip()
    b = skiff("build", "-q", "--no-cache", str(ctx), env=env).stdout.strip()
    assert a == b


def test_ca_bundle_visible_in_run_but_never_in_layers(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nTESTCA\n-----END CERTIFICATE-----\n")
    ctx = _ctx(tmp_path, "FROM busybox\nRUN cat $SSL_CERT_FILE && echo $PIP_CERT > /pipcert\n")
    log = skiff("build", "-t", "ca", "--ca-bundle", str(ca), str(ctx)).stderr.decode()
    assert "TESTCA" in log
    files = _files(skiff, "ca", tmp_path)
    assert files["pipcert"] == b"/etc/ssl/certs/ca-certificates.crt\n"
    cfg = _inspect(skiff, "ca")["Config"]
    assert not any("SSL_CERT_FILE" in e or "PIP_CERT" in e for e in cfg.get("Env") or [])
    names = [m.name for layer in _layers(skiff, "ca", tmp_path)[1:] for m in layer]
    assert not any("etc/ssl" in n for n in names), names


def test_no_mounts_left_behind(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN --mount=type=cache,target=/root/.cache/x touch /root/.cache/x/f\n")
    skiff("build", "-t", "m", str(ctx))
    skiff("build", "-t", "m2", str(ctx), "--no-cache")
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(skiff.root) not in mounts
    names = [m.name for layer in _layers(skiff, "m", tmp_path)[1:] for m in layer]
    assert not any(".cache" in n for n in names), names
