"""The builder against SECURITY.md rows 17, 18, 21, 22, 23 and 35, on the real runtime and store."""

from __future__ import annotations

import os
from pathlib import Path

from test_build import _ctx, _files, _layers


def test_cache_id_and_mount_options_cannot_reach_host_paths(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # rows 17 and 23: a cache id with ../ is refused; an absolute id is only a name, its folder lives inside
    # ROOT/buildcache/mounts
    escape = tmp_path / "escape"
    (tmp_path / "bad").mkdir()
    bad = _ctx(tmp_path / "bad", f"FROM busybox\nRUN --mount=type=cache,id=../../../..{escape},target=/c true\n")
    r = skiff("build", str(bad), check=False)
    assert r.returncode == 1 and b"must not contain '..'" in r.stderr
    ctx = _ctx(tmp_path, f"FROM busybox\nRUN --mount=type=cache,id={escape},target=/c touch /c/planted\n"
                         "RUN --mount=type=cache,id=/etc,target=/c2 touch /c2/planted2\n")
    skiff("build", "-t", "cache", str(ctx))
    assert not escape.exists() and not Path("/etc/planted2").exists()
    mounts = Path(skiff.root) / "buildcache" / "mounts"
    found = list(mounts.rglob("planted*"))
    assert {p.name for p in found} == {"planted", "planted2"}
    assert all(mounts in p.parents for p in found)
    # row 22: bind-propagation takes only the documented values, nothing becomes a mount option
    (tmp_path / "two").mkdir()
    ctx2 = _ctx(tmp_path / "two", "FROM busybox\nRUN --mount=type=bind,target=/x,bind-propagation=rw,suid true\n")
    r = skiff("build", str(ctx2), check=False)
    assert r.returncode == 1 and b"bind-propagation" in r.stderr


def test_mount_stub_cleanup_never_follows_a_planted_symlink(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # row 18: the step moves the stub's parent away and plants a symlink to a host folder holding a folder
    # with the stub's name; cleaning the stub must not remove the host folder's entry
    victim = tmp_path / "victim"
    (victim / "x").mkdir(parents=True)
    df = (f"FROM busybox\nRUN --mount=type=tmpfs,target=/stub/x "
          f"sh -c 'mv /stub /moved && ln -s {victim} /stub'\n")
    ctx = _ctx(tmp_path, df)
    skiff("build", "-t", "stub", str(ctx))
    assert (victim / "x").is_dir()
    names = {m.name.removeprefix("./") for m in _layers(skiff, "stub", tmp_path)[-1]}
    assert "stub" in names  # the planted link is the step's own change, kept as a link


def test_bind_from_stage_symlink_resolves_inside_the_stage(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # row 21: source=link where link -> / (or ../../..) is the stage's root, never the host's
    marker = tmp_path / "host-marker"
    marker.write_text("host")
    df = (f"FROM busybox AS s\nRUN ln -s / /up && ln -s ../../../../{tmp_path} /deep\n"
          f"FROM busybox\n"
          f"RUN --mount=type=bind,from=s,source=up,target=/m,rw sh -c 'ls /m > /seen; touch /m/written || true'\n")
    ctx = _ctx(tmp_path, df)
    skiff("build", "-t", "linkmount", str(ctx))
    files = _files(skiff, "linkmount", tmp_path)
    assert "bin" in files["seen"].decode().split() and "up" in files["seen"].decode().split()
    assert not Path("/written").exists()
    # ../../ out of the stage root is clamped to it: the host folder is not found there
    (ctx / "Dockerfile").write_text(df + "RUN --mount=type=bind,from=s,source=deep,target=/d ls /d\n")
    r = skiff("build", str(ctx), check=False)
    assert r.returncode == 1 and b"not found in 's'" in r.stderr and b"host-marker" not in r.stderr


def test_copy_keeps_symlinks_and_clamps_dotdot(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # row 35: a context symlink is copied as a link (never its target), and ../ stays in the context
    ctx = _ctx(tmp_path, "FROM busybox\nCOPY passwd-link /copied-link\nCOPY ../../inside.txt /clamped.txt\n"
                         "COPY dir/ /d/\n", {"inside.txt": "in the context\n", "dir/keep": "k"})
    os.symlink("/etc/shadow", ctx / "passwd-link")
    os.symlink("../../../../../../etc/shadow", ctx / "dir" / "rel-link")
    skiff("build", "-t", "links", str(ctx))
    members = {m.name.removeprefix("./"): m for layer in _layers(skiff, "links", tmp_path) for m in layer}
    assert members["copied-link"].issym() and members["copied-link"].linkname == "/etc/shadow"
    assert members["d/rel-link"].issym()
    assert _files(skiff, "links", tmp_path)["clamped.txt"] == b"in the context\n"
