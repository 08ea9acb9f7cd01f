"""Builder rows 17, 18, 19, 20, 21, 22, 23, 24, 35 through `skiff build`: RUN --mount options that try to reach
host paths, a bind from a stage whose source is a link to /, images whose /etc/passwd is a FIFO or a link to a
host file, context symlinks, cache keys that must change with HEALTHCHECK/ONBUILD/FROM scratch."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from security.conftest import assert_one_line_error


def build(skiff: Any, ctx: Path, dockerfile: str, *args: str, check: bool = False, timeout: float = 120) -> Any:
    (ctx / "Dockerfile").write_text(dockerfile)
    return skiff("build", "-q", "--network", "none", *args, str(ctx), check=check, timeout=timeout)


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    d = tmp_path / "ctx"
    d.mkdir()
    return d


def test_rows22_23_mount_options_refused(bb: Any, ctx: Path, host: Path) -> None:
    up = "../" * 12 + str(host)[1:]
    for mount in (f"type=cache,id={up},target=/c", "type=cache,id=../x,target=/c",
                  f"type=cache,source={up},target=/c", "type=cache,id=x/../../y,target=/c",
                  "type=bind,target=/b,bind-propagation=rshared,suid", "type=bind,target=/b,bind-propagation=rw",
                  "type=bind,target=/b,bind-propagation=rprivate,bind-propagation=rw,z"):
        cp = build(bb, ctx, f"FROM busybox\nRUN --mount={mount} touch /c/pwned /b/pwned\n")
        assert cp.returncode != 0, mount
        assert cp.stderr.decode().startswith("Error: "), cp.stderr


def test_row23_bind_source_with_dotdot_is_clamped_to_the_context(bb: Any, ctx: Path, host: Path) -> None:
    """`source=../../host` is clamped into the context: nothing of the host is visible, nothing is written."""
    (ctx / "tmp").mkdir()
    df = f"FROM busybox\nRUN --mount=type=bind,target=/b,source={'../' * 12 + str(host)[1:]} ls /b\n"
    cp = build(bb, ctx, df)
    assert b"secret" not in cp.stdout


def test_row23_missing_bind_source_is_one_line_error(bb: Any, ctx: Path) -> None:
    cp = build(bb, ctx, "FROM busybox\nRUN --mount=type=bind,target=/b,source=../../nonexistent true\n")
    assert_one_line_error(cp, "nonexistent", code=None)


def test_row21_bind_from_stage_link_to_root_stays_in_stage(bb: Any, ctx: Path, host: Path) -> None:
    df = ("FROM busybox AS s\nRUN ln -s / /link && ln -s " + str(host) + " /hostlink && echo stage > /mark\n"
          "FROM busybox\n"
          "RUN --mount=type=bind,from=s,source=link,target=/m cat /m/mark && test ! -e /m" + str(host) +
          " && ! touch /m/pwned 2>/dev/null && echo ok-root > /res1\n"
          "RUN --mount=type=bind,from=s,source=hostlink,target=/h sh -c '! test -e /h/secret; ! touch /h/pwned' "
          "&& echo ok-host > /res2\n")
    cp = build(bb, ctx, df, "-t", "bindlink:1")
    if cp.returncode:  # refusing the link outright is fine too
        assert cp.stderr.decode().startswith("Error: "), cp.stderr
        return
    out = bb("run", "--rm", "--network", "none", "bindlink:1", "cat", "/res1", "/res2").stdout.split()
    assert out == [b"ok-root", b"ok-host"]


def test_row18_mount_stub_through_link_never_touches_host(bb: Any, ctx: Path, host: Path) -> None:
    df = (f"FROM busybox\nRUN ln -s {host} /a && ln -s {host}/sub /b\n"
          "RUN --mount=type=tmpfs,target=/a/stub --mount=type=cache,target=/b/cachestub true\n"
          "RUN --mount=type=bind,target=/a/bindstub true\n")
    cp = build(bb, ctx, df)
    assert cp.returncode in (0, 1, 125), cp.stderr


def test_row17_shared_cache_with_planted_link(bb: Any, ctx: Path, host: Path, tmp_path: Path) -> None:
    """One build plants links to host paths in a shared cache while another mounts sub-paths of it."""
    ctx2 = tmp_path / "ctx2"
    ctx2.mkdir()
    plant = (f"FROM busybox\nRUN --mount=type=cache,id=shared,target=/c sh -c 'for i in $(seq 200); do "
             f"rm -rf /c/sub; ln -s {host} /c/sub; rm /c/sub; mkdir /c/sub; done; ln -sfn {host} /c/sub2'\n")
    use = ("FROM busybox\nRUN --mount=type=cache,id=shared,target=/c,source=sub sh -c 'touch /c/pwned || true'\n"
           "RUN --mount=type=cache,id=shared,target=/c sh -c 'touch /c/sub2/pwned2 || true'\n")
    (ctx / "Dockerfile").write_text(plant)
    (ctx2 / "Dockerfile").write_text(use)
    from helpers.cli import skiff_cmd

    a = subprocess.Popen(skiff_cmd(bb.root, bb.runroot, "build", "-q", "--network", "none", "--no-cache",
                                   str(ctx)),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(3):
            bb("build", "-q", "--network", "none", "--no-cache", str(ctx2), check=False, timeout=120)
    finally:
        try:
            a.wait(timeout=120)
        finally:
            if a.poll() is None:
                a.kill()
                a.wait()
    bb("build", "-q", "--network", "none", "--no-cache", str(ctx2), check=False, timeout=120)


@pytest.fixture
def image_with(bb: Any, busybox_rootfs: Path, tmp_path: Path) -> Any:
    def make(name: str, mutate: Any) -> str:
        root = tmp_path / ("rootfs-" + name.replace(":", "-"))
        shutil.copytree(busybox_rootfs, root, symlinks=True)
        mutate(root)
        tar = tmp_path / (name.replace(":", "-") + ".tar")
        with tarfile.open(tar, "w") as t:
            t.add(root, arcname=".")
        bb("import", str(tar), name)
        return name

    return make


def test_row24_passwd_fifo_or_host_link_does_not_hang_or_leak(bb: Any, ctx: Path, host: Path,
                                                              image_with: Any) -> None:
    (host / "sub" / "keep").chmod(0o644)
    hostpw = host / "passwd-host"
    hostpw.write_text("hostonly:x:4242:4242::/:/bin/sh\n")

    def fifo(r: Path) -> None:
        (r / "etc" / "passwd").unlink()
        os.mkfifo(r / "etc" / "passwd")

    def hostlink(r: Path) -> None:
        (r / "etc" / "passwd").unlink()
        (r / "etc" / "passwd").symlink_to(str(hostpw))

    try:
        for name, mutate in (("pwfifo:1", fifo), ("pwlink:1", hostlink)):
            img = image_with(name, mutate)
            for user in ("hostonly", "app"):
                start = time.monotonic()
                cp = build(bb, ctx, f"FROM {img}\nUSER {user}\nRUN id -u > /uid\n", timeout=60)
                assert time.monotonic() - start < 60
                assert cp.returncode != 0, (name, user)
                assert_one_line_error(cp, user, code=None)
            cp = bb("run", "--rm", "--network", "none", "--user", "hostonly", img, "id", check=False, timeout=60)
            assert cp.returncode != 0 and b"4242" not in cp.stdout
    finally:
        hostpw.unlink()


def test_row35_context_symlinks_copied_as_links(bb: Any, ctx: Path) -> None:
    (ctx / "passwd").symlink_to("/etc/passwd")
    (ctx / "up").symlink_to("../../../../../..")
    (ctx / "f").write_text("in context\n")
    cp = build(bb, ctx, "FROM busybox\nCOPY ../../../../etc/hostname /h\n")
    assert_one_line_error(cp, "not found in the build context", code=None)  # clamped to the context
    df = ("FROM busybox\nCOPY passwd /p\nCOPY ../f ../../up/../f /clamped/\n"
          "RUN readlink /p > /res && ls /clamped >> /res\n")
    build(bb, ctx, df, "-t", "ctxlinks:1", check=True)
    out = bb("run", "--rm", "--network", "none", "ctxlinks:1", "cat", "/res").stdout.decode().split()
    assert out == ["/etc/passwd", "f"]


@pytest.mark.parametrize("df", [
    "FROM busybox\nCOPY up/etc/passwd /x\n",
    "FROM busybox\nADD up/etc/ /x/\n",
    "FROM busybox\nCOPY passwd/ /x/\n",
])
def test_row35_context_symlink_never_followed_outside(bb: Any, ctx: Path, df: str) -> None:
    (ctx / "passwd").symlink_to("/etc/passwd")
    (ctx / "up").symlink_to("../../../../../..")
    cp = build(bb, ctx, df, "-t", "ctxlinks:2")
    if cp.returncode == 0:
        got = bb("run", "--rm", "--network", "none", "ctxlinks:2", "sh", "-c",
                 "cat /x /x/* 2>/dev/null; true").stdout.decode(errors="replace")
        assert "root:x:0:0:root:/root:/bin/bash" not in got and "docker-registry" not in got, got


def _image_id(skiff: Any, ctx: Path, df: str) -> str:
    cp = build(skiff, ctx, df, check=True)
    return cp.stdout.decode().strip()


def test_row20_cache_key_covers_config_and_scratch(bb: Any, ctx: Path) -> None:
    base = "FROM busybox\n{x}\nRUN echo hi > /f\n"
    ids = {x: _image_id(bb, ctx, base.format(x=x)) for x in
           ("HEALTHCHECK CMD true", "HEALTHCHECK CMD false", "ONBUILD RUN true", "ONBUILD RUN false", "")}
    assert len(set(ids.values())) == len(ids), ids
    hc = bb("image", "inspect", "-f", "{{json .Config.Healthcheck}}", ids["HEALTHCHECK CMD false"]).stdout
    assert b"false" in hc
    (ctx / "a").write_text("one")
    one = _image_id(bb, ctx, "FROM scratch\nCOPY a /a\n")
    (ctx / "a").write_text("two")
    two = _image_id(bb, ctx, "FROM scratch\nCOPY a /a\n")
    assert one != two
    three = _image_id(bb, ctx, "FROM scratch\nCOPY a /a\nLABEL x=1\n")
    assert three not in (one, two)


def test_row19_insecure_run_needs_an_entitlement(bb: Any, ctx: Path) -> None:
    cp = build(bb, ctx, "FROM busybox\nRUN --security=insecure grep CapEff /proc/self/status > /caps\n",
               "-t", "insec:1")
    if cp.returncode:
        assert cp.stderr.decode().startswith("Error: ")
        return
    eff = bb("run", "--rm", "--network", "none", "insec:1", "cat", "/caps").stdout.split()[-1]
    assert not int(eff, 16) & (1 << 21), "RUN --security=insecure got CAP_SYS_ADMIN without an entitlement"


def test_row20_retagged_base_is_not_served_from_cache(bb: Any, ctx: Path, image_with: Any) -> None:
    """The base tag now names another image (as a pushed look-alike would): the steps on top rebuild."""
    df = "FROM busybox\nRUN ls / > /listing\n"
    first = _image_id(bb, ctx, df)
    image_with("busybox:latest", lambda r: (r / "marker").write_text("new base\n"))
    second = _image_id(bb, ctx, df)
    assert second != first
    assert b"marker" in bb("run", "--rm", "--network", "none", second, "cat", "/listing").stdout
