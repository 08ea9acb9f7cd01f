"""skiff build features beyond the basics: RUN mounts (bind from a stage, cache sharing/owner, network none),
named build contexts, stdin Dockerfiles and tar contexts, --output archives, ADD of archives, ONBUILD,
history strings as BuildKit writes them, ARG scoping, warnings and --no-cache-filter."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from test_build import _ctx, _files, _inspect, _layers


def test_run_mounts_bind_from_stage_cache_owner_and_network_none(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = """\
FROM busybox AS data
RUN mkdir -p /payload && echo staged > /payload/f && ln -s / /payload/rootlink
FROM busybox
RUN --mount=type=bind,from=data,source=/payload,target=/m cat /m/f > /from-stage
RUN --mount=type=bind,from=data,source=/payload/rootlink,target=/r ls /r > /rootlink-listing
RUN --mount=type=cache,target=/c,uid=1000,gid=1000,mode=0750,sharing=locked stat -c '%u:%g:%a' /c > /cache-owner
RUN --mount=type=cache,target=/c2,sharing=private touch /c2/x && ls /c2 > /private-listing
RUN --network=none sh -c 'ip link 2>/dev/null | grep -c "^[0-9]" > /links; cat /proc/net/dev | wc -l > /netdev'
RUN --mount=type=bind,target=/ctx,rw sh -c 'echo scribble > /ctx/new.txt; cat /ctx/input.txt > /bound'
RUN --mount=type=bind,source=input.txt,target=/f,rw sh -c 'echo changed > /f'
RUN --mount=type=tmpfs,target=/t,size=1m sh -c 'df -k /t | tail -1 | tr -s " " | cut -d" " -f2 > /tsize'
"""
    ctx = _ctx(tmp_path, df, {"input.txt": "from context\n"})
    skiff("build", "-t", "mounts", str(ctx))
    files = _files(skiff, "mounts", tmp_path)
    assert files["from-stage"] == b"staged\n"
    # the link resolves inside the stage's root (its /), never to the host's /
    listing = files["rootlink-listing"].decode().split()
    assert "payload" in listing and "work" not in listing
    assert files["cache-owner"] == b"1000:1000:750\n"
    assert files["private-listing"] == b"x\n"
    assert int(files["netdev"]) == 3  # header lines + lo only: no host interfaces
    assert files["bound"] == b"from context\n"
    assert not (ctx / "new.txt").exists()  # a rw bind of the context discards writes
    assert (ctx / "input.txt").read_text() == "from context\n"
    assert files["tsize"] == b"1024\n"
    assert not any(k.startswith(("m/", "r/", "c/", "c2/", "ctx/")) for k in files)


def test_copy_from_a_stage_hard_links_store_files(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """COPY --from a stage links the stage's immutable layer files instead of copying them when the copy's
    metadata is the same; --chown/--chmod still copy. The image content is what a copy gives."""
    ctx = _ctx(tmp_path, "FROM busybox AS b\nRUN mkdir -p /out/sub && echo one > /out/a && echo two > /out/sub/b "
                         "&& chmod 751 /out/a && ln -s a /out/l\n"
                         "FROM busybox\nCOPY --from=b /out /linked\nCOPY --from=b --chown=1000:1000 /out /owned\n"
                         "COPY --from=b --chmod=600 /out/a /moded\n")
    skiff("build", "-t", "linkcopy", str(ctx))
    files = _files(skiff, "linkcopy", tmp_path)
    assert (files["linked/a"], files["linked/sub/b"], files["owned/a"], files["moded"]) == (
        b"one\n", b"two\n", b"one\n", b"one\n")
    out = skiff("run", "--rm", "--network", "none", "linkcopy", "sh", "-c",
                "stat -c '%n %a %u' /linked/a /linked/sub/b /owned/a /moded; readlink /linked/l").stdout.decode().split("\n")
    assert out[:5] == ["/linked/a 751 0", "/linked/sub/b 644 0", "/owned/a 751 1000", "/moded 600 0", "a"]
    # In the store, the stage's file and the final image's copy are one inode (2 links); --chown copied.
    diffs = list(Path(skiff.root, "overlay").glob("*/diff"))
    a_files = [d / "out" / "a" for d in diffs if (d / "out" / "a").is_file()]
    linked = [d / "linked" / "a" for d in diffs if (d / "linked" / "a").is_file()]
    owned = [d / "owned" / "a" for d in diffs if (d / "owned" / "a").is_file()]
    assert len(a_files) == 1 and len(linked) == 1 and len(owned) == 1
    assert linked[0].stat().st_ino == a_files[0].stat().st_ino and a_files[0].stat().st_nlink == 2
    assert owned[0].stat().st_ino != a_files[0].stat().st_ino


def test_run_steps_have_home_from_passwd(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """As under BuildKit (runc sets it): pip's cache, git and friends find ~ in RUN steps."""
    ctx = _ctx(tmp_path, "FROM busybox\nRUN echo $HOME > /root-home\nUSER 1000\nRUN echo $HOME > /tmp/h\n"
                         "USER 0\nRUN cp /tmp/h /user-home\nENV HOME=/data\nRUN echo $HOME > /env-home\n")
    skiff("build", "-t", "home", str(ctx))
    files = _files(skiff, "home", tmp_path)
    assert (files["root-home"], files["env-home"]) == (b"/root\n", b"/data\n")
    assert files["user-home"] in (b"/home/app\n", b"/\n")  # uid 1000's entry in the busybox image, if any


def test_secrets_as_files_and_env(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "token.txt"
    secret.write_text("s3cr3t\n")
    ctx = _ctx(tmp_path, "FROM busybox\n"
                         "RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /file-len\n"
                         "RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'echo ${#TOKEN} > /env-len; "
                         "test ! -e /run/secrets/tok'\n")
    skiff("build", "-t", "sec", "--secret", f"id=tok,src={secret}", str(ctx))
    files = _files(skiff, "sec", tmp_path)
    assert (files["file-len"], files["env-len"]) == (b"7\n", b"6\n")
    assert not any(b"s3cr3t" in v for v in files.values())
    assert b"s3cr3t" not in skiff("image", "inspect", "sec").stdout


def test_named_context_stdin_and_output(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "lib.txt").write_text("named context\n")
    # a Dockerfile outside the context, a named context used by COPY --from and RUN --mount from
    df = tmp_path / "elsewhere" / "Build.df"
    df.parent.mkdir()
    df.write_text("FROM busybox\nCOPY --from=extra lib.txt /lib.txt\n"
                  "RUN --mount=type=bind,from=extra,target=/e cat /e/lib.txt > /again\n")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    out = tmp_path / "image.tar"
    skiff("build", "-f", str(df), "--build-context", f"extra={extra}", "-t", "named",
          "--output", f"type=docker,dest={out}", str(ctx))
    files = _files(skiff, "named", tmp_path)
    assert files["lib.txt"] == b"named context\n" and files["again"] == b"named context\n"
    with tarfile.open(out) as t:
        manifest = json.loads(t.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["named:latest"]
    oci_out = tmp_path / "image-oci.tar"
    skiff("build", "-q", "-f", str(df), "--build-context", f"extra={extra}", "--output",
          f"type=oci,dest={oci_out}", str(ctx))
    with tarfile.open(oci_out) as t:
        assert "index.json" in t.getnames() and "oci-layout" in t.getnames()

    # `skiff build -`: a Dockerfile on stdin (no context) ...
    r = skiff("build", "-q", "-", input=b"FROM busybox\nRUN echo piped > /p\n")
    image_id = r.stdout.decode().strip()
    assert image_id.startswith("sha256:")
    # ... or a tar context with its Dockerfile inside
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY hello /hello\n"), ("hello", b"tarred\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    skiff("build", "-t", "fromtar", "-", input=buf.getvalue())
    assert _files(skiff, "fromtar", tmp_path)["hello"] == b"tarred\n"


def test_add_archive_onbuild_history_and_args(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, """\
FROM busybox
ONBUILD RUN echo triggered > /onbuild
""")
    skiff("build", "-t", "parent", str(ctx))
    arc = io.BytesIO()
    with tarfile.open(fileobj=arc, mode="w:gz") as t:
        info = tarfile.TarInfo("pkg/inside.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"in\n"))
    df = """\
ARG BASE=parent
FROM $BASE
ARG VERSION=1
ARG UNSET
ENV E=env
WORKDIR /app
ADD bundle.tar.gz /opt/
COPY plain.txt ./
RUN echo "$VERSION" > /version
USER 1234:5678
RUN id -u > /tmp/u && id -g > /tmp/g
SHELL ["/bin/sh", "-ec"]
EXPOSE 8000 53/udp
VOLUME /data
HEALTHCHECK --interval=30s --retries=3 CMD true
ENTRYPOINT ["/bin/echo"]
CMD python app.py
"""
    (ctx / "Dockerfile").write_text(df)
    (ctx / "bundle.tar.gz").write_bytes(arc.getvalue())
    (ctx / "plain.txt").write_text("p")
    log = skiff("build", "-t", "child", "--build-arg", "VERSION=7", "--build-arg", "NOBODY=1",
                str(ctx)).stderr.decode()
    assert "[Warning] One or more build-args [NOBODY] were not consumed" in log
    files = _files(skiff, "child", tmp_path)
    assert files["onbuild"] == b"triggered\n"
    assert files["opt/pkg/inside.txt"] == b"in\n" and "opt/bundle.tar.gz" not in files
    assert files["version"] == b"7\n"
    assert (files["tmp/u"], files["tmp/g"]) == (b"1234\n", b"5678\n")
    info = _inspect(skiff, "child")
    assert info["Config"]["Cmd"] == ["/bin/sh", "-ec", "python app.py"]
    assert info["Config"]["Entrypoint"] == ["/bin/echo"]
    assert not info["Config"].get("OnBuild")
    hist = _history(skiff, tmp_path, "child")
    by = [h["created_by"] for h in hist]
    want = [
        "ARG VERSION=1", "ARG UNSET", "ENV E=env", "WORKDIR /app", "ADD bundle.tar.gz /opt/ # buildkit",
        "COPY plain.txt ./ # buildkit", "RUN |2 VERSION=7 UNSET= /bin/sh -c echo \"$VERSION\" > /version # buildkit",
        "USER 1234:5678", "RUN |2 VERSION=7 UNSET= /bin/sh -c id -u > /tmp/u && id -g > /tmp/g # buildkit",
        "SHELL [/bin/sh -ec]", "EXPOSE map[53/udp:{} 8000/tcp:{}]", "VOLUME [/data]",
        "HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"30s\" \"0s\" \"0s\" \"0s\" '\\x03'}",
        "ENTRYPOINT [\"/bin/echo\"]", "CMD [\"/bin/sh\" \"-ec\" \"python app.py\"]",
    ]
    assert by[-len(want):] == want, by
    empties = {h["created_by"]: h.get("empty_layer", False) for h in hist}
    assert empties["ENV E=env"] is True and empties["COPY plain.txt ./ # buildkit"] is False
    assert empties["WORKDIR /app"] is False  # /app was missing: a layer


def _history(skiff, tmp_path: Path, ref: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    out = tmp_path / f"hist-{ref}.tar"
    skiff("save", "-o", str(out), ref)
    with tarfile.open(out) as t:
        manifest = json.loads(t.extractfile("manifest.json").read())  # type: ignore[union-attr]
        cfg = json.loads(t.extractfile(manifest[0]["Config"]).read())  # type: ignore[union-attr]
    return cfg["history"]  # type: ignore[no-any-return]


def test_warnings_skip_directive_and_no_cache_filter(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = "FROM busybox AS one\nRUN echo a > /a\nFROM one\nRUN echo b > /b\nCMD python app.py\n"
    ctx = _ctx(tmp_path, df)
    log = skiff("build", "-t", "w", str(ctx)).stderr.decode()
    assert "WARNING: Dockerfile:5: [JSONArgsRecommended]" in log
    assert "WARNING: Dockerfile:1: [UnpinnedBaseImage]" in log
    assert log.index("WARNING:") < log.index("#1 ")
    assert "WARNING" not in skiff("build", "-q", "-t", "w", str(ctx)).stderr.decode()
    (ctx / "Dockerfile").write_text("# check=skip=JSONArgsRecommended,UnpinnedBaseImage\n" + df)
    log = skiff("build", "-t", "w", str(ctx)).stderr.decode()
    assert "JSONArgsRecommended" not in log and "UnpinnedBaseImage" not in log
    # only the second stage is rebuilt
    log = skiff("build", "-t", "w", "--no-cache-filter", "1", str(ctx)).stderr.decode()
    assert log.count("CACHED") == 1, log


def test_noop_rebuild_memo_checks_its_inputs(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n", {"a.txt": "one\n"})
    first = skiff("build", "-q", "-t", "memo", str(ctx)).stdout.decode().strip()
    replay = skiff("build", "-t", "memo", str(ctx)).stderr.decode()
    assert replay.count("CACHED") == 2 and f"writing image {first} done" in replay
    # a new tag is a new memo entry (answered by the cache)
    assert skiff("build", "-q", "-t", "memo2", str(ctx)).stdout.decode().strip() == first
    # the image is gone: the memo does not answer
    skiff("rmi", "memo", "memo2")
    skiff("build", "-t", "memo", str(ctx))
    assert _inspect(skiff, "memo")["Id"].startswith("sha256:")
    # a changed file is a real rebuild
    (ctx / "a.txt").write_text("two\n")
    changed = skiff("build", "-t", "memo", str(ctx)).stderr.decode()
    assert "CACHED" not in changed
    assert _files(skiff, "memo", tmp_path)["b.txt"] == b"two\n"
    # the same base tag now names another image: the memo does not answer
    skiff("tag", "memo", "busybox:latest")
    log = skiff("build", "-t", "memo", str(ctx)).stderr.decode()
    assert log.count("CACHED") == 0


def test_add_url_with_checksum(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    (served / "tool.txt").write_bytes(b"downloaded\n")
    good = "sha256:" + hashlib.sha256(b"downloaded\n").hexdigest()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(served), **kw)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tool.txt"
        ctx = _ctx(tmp_path, f"FROM busybox\nADD --checksum={good} {url} /opt/\n")
        skiff("build", "-t", "url", str(ctx))
        assert _files(skiff, "url", tmp_path)["opt/tool.txt"] == b"downloaded\n"
        (ctx / "Dockerfile").write_text(f"FROM busybox\nADD --checksum=sha256:{'0' * 64} {url} /opt/\n")
        r = skiff("build", str(ctx), check=False)
        assert r.returncode == 1 and b"digest mismatch" in r.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_heredocs_chmod_wildcards_and_insecure(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = """\
FROM busybox AS src
RUN mkdir /out && echo 1 > /out/a.txt && echo 2 > /out/b.txt && echo 3 > /out/c.log
FROM busybox
COPY --from=src /out/*.txt /got/
COPY --chmod=u+x,go-w plain.sh /plain.sh
RUN <<EOF
#!/bin/sh
echo "shebang $0" > /shebang
EOF
RUN cat <<A > /embedded && cat <<-B >> /embedded
first
A
	second
	B
"""
    ctx = _ctx(tmp_path, df, {"plain.sh": "echo hi\n"})
    os.chmod(ctx / "plain.sh", 0o666)
    skiff("build", "-t", "hd2", str(ctx))
    files = _files(skiff, "hd2", tmp_path)
    assert sorted(k for k in files if k.startswith("got/")) == ["got/a.txt", "got/b.txt"]
    assert files["shebang"] == b"shebang /dev/pipes/EOF\n"
    assert files["embedded"] == b"first\nsecond\n"
    top = {m.name.removeprefix("./"): m for layer in _layers(skiff, "hd2", tmp_path) for m in layer}
    assert top["plain.sh"].mode & 0o777 == 0o744
    assert not any(k.startswith("dev/pipes") for k in top)
    # ENTRYPOINT drops the CMD inherited from the base (busybox's ["sh"]), keeps one set in the stage
    (ctx / "Dockerfile").write_text('FROM busybox\nENTRYPOINT ["/bin/echo"]\n')
    skiff("build", "-t", "ep", str(ctx))
    assert not _inspect(skiff, "ep")["Config"].get("Cmd")
    (ctx / "Dockerfile").write_text('FROM busybox\nCMD ["x"]\nENTRYPOINT ["/bin/echo"]\n')
    skiff("build", "-t", "ep", str(ctx))
    assert _inspect(skiff, "ep")["Config"]["Cmd"] == ["x"]
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN --security=insecure true\n")
    r = skiff("build", str(ctx), check=False)
    assert r.returncode == 1 and b"security.insecure" in r.stderr


def test_run_steps_inherit_the_open_files_limit(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """RUN gets the engine's own RLIMIT_NOFILE, as BuildKit's steps get the daemon's (not runc's 1024)."""
    import resource

    df = "FROM busybox\nRUN sh -c 'ulimit -n > /soft; ulimit -Hn > /hard'\n"
    skiff("build", "--no-cache", "-t", "nofile", str(_ctx(tmp_path, df, {})))
    files = _files(skiff, "nofile", tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert (int(files["soft"]), int(files["hard"])) == (soft, hard)
