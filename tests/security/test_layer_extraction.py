"""Rows 1, 2, 32, 33, 34: hostile layer tars through `skiff load` (docker-archive and OCI archive) and through
`skiff pull` from a registry. Each is refused with one line and exit 1, or (for links that only point
outside) resolved inside the layer; nothing outside the store is ever written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from security.conftest import (
    StaticRegistry,
    assert_one_line_error,
    dirent,
    docker_archive,
    layer,
    link,
    oci_archive,
    reg,
)


def hostile_cases(host: Path) -> list[tuple[str, list[Any], str | None]]:
    """(case, layer entries, pattern of the refusal or None when the layer may load but stay inside)."""
    up = "../" * 12
    return [
        ("dotdot", [reg(up + str(host)[1:] + "/secret", b"pwned")], "secret"),
        ("dotdot-middle", [dirent("a"), reg("a/../../" + up + str(host)[1:] + "/new", b"pwned")], "new"),
        ("abs-symlink-dir", [link("esc", str(host)), reg("esc/secret", b"pwned"), reg("esc/new", b"pwned")], None),
        ("abs-symlink-root", [link("root", "/"), reg("root" + str(host) + "/secret", b"pwned")], None),
        ("rel-symlink", [link("up", up.rstrip("/")), reg("up" + str(host) + "/new", b"pwned")], None),
        ("symlink-then-file", [link("f", str(host / "secret")), reg("f", b"pwned")], None),
        ("hardlink-dotdot", [link("hl", up + str(host)[1:] + "/secret", b"1")], "hl"),
        ("hardlink-abs", [link("hl", str(host / "secret"), b"1"), reg("hl", b"pwned")], "hl"),
        ("hardlink-via-symlink", [link("s", str(host)), link("hl", "s/secret", b"1"), reg("hl", b"pwned")], "hl"),
        ("bare-whiteout", [dirent("keep"), reg("keep/.wh.", b"")], ".wh."),
        ("root-bare-whiteout", [reg(".wh.", b"")], ".wh."),
        ("whiteout-dotdot", [dirent("etc"), reg("etc/.wh..", b"")], ".wh."),
        ("whiteout-dotdotdot", [reg(".wh...", b"")], ".wh."),
        ("whiteout-traversal", [reg("etc/.wh.x/" + up + str(host)[1:] + "/secret", b"")], "secret"),
        ("whiteout-through-symlink", [link("h", str(host)), reg("h/.wh.secret", b"")], None),
        ("opaque-through-symlink", [link("h", str(host)), reg("h/.wh..wh..opq", b"")], None),
    ]


CASE_NAMES = [c[0] for c in hostile_cases(Path("/x"))]


def _check(cp: Any, pattern: str | None, skiff: Any, host: Path) -> None:
    if pattern is None:
        assert cp.returncode in (0, 1), cp.stderr
        if cp.returncode:
            assert_one_line_error(cp)
    else:
        assert_one_line_error(cp, pattern)
        assert skiff("images", "-q").stdout == b""
    assert sorted(os.listdir(host)) == ["secret", "sub"] and (host / "secret").read_text() == "host secret\n"


@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_layer_via_docker_archive(skiff: Any, host: Path, tmp_path: Path, case: str) -> None:
    entries, pattern = next((e, p) for n, e, p in hostile_cases(host) if n == case)
    arch = docker_archive(tmp_path / "evil.tar", [layer(entries)])
    _check(skiff("load", "-i", str(arch), check=False), pattern, skiff, host)


@pytest.mark.parametrize("case", ["dotdot", "abs-symlink-dir", "hardlink-abs", "bare-whiteout", "whiteout-dotdot",
                                  "whiteout-through-symlink"])
def test_hostile_layer_via_oci_archive(skiff: Any, host: Path, tmp_path: Path, case: str) -> None:
    entries, pattern = next((e, p) for n, e, p in hostile_cases(host) if n == case)
    arch = oci_archive(tmp_path / "evil-oci.tar", [layer(entries)], gzipped=True)
    _check(skiff("load", "-i", str(arch), check=False), pattern, skiff, host)


@pytest.mark.parametrize("case", ["dotdot", "abs-symlink-root", "hardlink-dotdot", "bare-whiteout",
                                  "whiteout-traversal", "opaque-through-symlink"])
def test_hostile_layer_via_pull(skiff: Any, host: Path, static_registry: StaticRegistry,
                                isolated_env: dict[str, str], case: str) -> None:
    entries, pattern = next((e, p) for n, e, p in hostile_cases(host) if n == case)
    ref = static_registry.add_image("evil", "1", [layer(entries)])
    cp = skiff("pull", "-q", "--tls-verify=false", ref, check=False, env=isolated_env, timeout=60)
    _check(cp, pattern, skiff, host)
    assert any("/blobs/" in r for r in static_registry.requests), static_registry.requests


def test_symlinked_parent_writes_land_inside_the_image(skiff: Any, host: Path, tmp_path: Path,
                                                       bb_layer: bytes) -> None:
    """Row 2: an absolute symlink in one layer and a file through it in the next: the file is in the image."""
    l1 = layer([link("esc", str(host))])
    l2 = layer([reg("esc/planted", b"inside")])
    arch = docker_archive(tmp_path / "two.tar", [bb_layer, l1, l2], tag="two:1")
    cp = skiff("load", "-i", str(arch), check=False)
    if cp.returncode == 0:
        # each layer is unpacked on its own: the upper layer's `esc/` is a folder over the lower symlink
        out = skiff("run", "--rm", "--network", "none", "two:1", "sh", "-c", f"cat /esc/planted; ls {host} || true").stdout.decode()
        assert out.split() == ["inside"]
    else:
        assert_one_line_error(cp, "esc")


def test_opaque_whiteout_hides_lower_layer_before_own_entries(skiff: Any, tmp_path: Path, bb_layer: bytes) -> None:
    """Row 34: the opaque marker comes after the layer's own files in tar order; only the lower files go."""
    l1 = layer([dirent("d"), reg("d/old", b"old"), dirent("d/sub"), reg("d/sub/deep", b"old")])
    l2 = layer([dirent("d"), reg("d/new", b"new"), dirent("d/sub2"), reg("d/sub2/x", b"x"),
                reg("d/.wh..wh..opq", b""), reg("other/.wh..wh..opq", b"")])
    arch = docker_archive(tmp_path / "opq.tar", [bb_layer, l1, l2], tag="opq:1")
    skiff("load", "-i", str(arch))
    out = skiff("run", "--rm", "--network", "none", "opq:1", "sh", "-c", "cd /d && find . | sort; ls -a /other").stdout.decode()
    assert out.split() == [".", "./new", "./sub2", "./sub2/x", ".", ".."]


def test_whiteout_removes_only_inside_the_image(skiff: Any, host: Path, tmp_path: Path, bb_layer: bytes) -> None:
    """Row 33: `.wh.` entries act on the image's lower layers only (a named file, never a host path)."""
    l1 = layer([dirent("etc"), reg("etc/gone", b"x"), reg("etc/stays", b"y"), link("hostdir", str(host))])
    l2 = layer([reg("etc/.wh.gone", b""), reg("hostdir/.wh.secret", b"")])
    arch = docker_archive(tmp_path / "wh.tar", [bb_layer, l1, l2], tag="wh:1")
    cp = skiff("load", "-i", str(arch), check=False)
    if cp.returncode:
        assert_one_line_error(cp, "hostdir")
        return
    out = skiff("run", "--rm", "--network", "none", "wh:1", "ls", "/etc").stdout.decode().split()
    assert "stays" in out and "gone" not in out
