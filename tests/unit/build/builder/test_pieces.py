"""Pure pieces of the builder: Go formatting of history values, the cache record writer, the context hash memo,
mount-stub cleanup in an upper dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skiff.build.builder.cache import BuildCache, CachedState, LayerRef
from skiff.build.builder.context import BuildContext
from skiff.build.builder.metadata import go_duration, go_q_list, go_v_list, healthcheck_string
from skiff.build.builder.rootview import RootView
from skiff.build.builder.run import remove_mount_stubs
from skiff.oci import image as oci


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (250_000_000, "250ms"), (1_500_000_000, "1.5s"),
    (30_000_000_000, "30s"), (300_000_000_000, "5m0s"), (3_600_000_000_000, "1h0m0s"), (3_661_000_000_000, "1h1m1s"),
])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_go_lists_and_healthcheck() -> None:
    assert go_q_list(["python", "app.py"]) == '["python" "app.py"]'
    assert go_q_list(['say "hi"']) == '["say \\"hi\\""]'
    assert go_v_list(["/bin/sh", "-c"]) == "[/bin/sh -c]"
    hc = oci.HealthConfig(test=["CMD", "curl"], interval=30_000_000_000, retries=3)
    assert healthcheck_string(hc) == 'HEALTHCHECK &{["CMD" "curl"] "30s" "0s" "0s" "0s" \'\\x03\'}'


def test_cache_record_not_rewritten_when_unchanged(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    st = CachedState(layers=(LayerRef("sha256:" + "a" * 64, "sha256:" + "b" * 64, "x", 3),), config="sha256:" + "c" * 64)
    cache.put("k", st)
    rec = cache.dir / "k.json"
    before = os.stat(rec)
    cache.put("k", st)
    assert os.stat(rec).st_ino == before.st_ino and os.stat(rec).st_mtime_ns == before.st_mtime_ns
    assert cache.get("k") == st
    assert cache.mount_dir("../../x").parent == cache.mounts


def test_context_memo_hashes_only_changed_files(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "a.txt").write_text("one")
    memo = tmp_path / "memo"
    first = BuildContext.open(root, None, memo_dir=memo).checksum("a.txt")
    ctx = BuildContext.open(root, None, memo_dir=memo)
    ctx.checksum("a.txt")
    ctx.save_memo()
    assert list((memo / "ctxmemo").iterdir())
    assert BuildContext.open(root, None, memo_dir=memo).checksum("a.txt") == first
    (root / "a.txt").write_text("two")
    assert BuildContext.open(root, None, memo_dir=memo).checksum("a.txt") != first


def test_stub_cleanup_stops_at_symlinks(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    victim = tmp_path / "victim"
    (victim / "x").mkdir(parents=True)
    (upper / "real" / "y").mkdir(parents=True)
    upper.joinpath("link").symlink_to(victim)
    (upper / "empty-file").touch()
    remove_mount_stubs(upper, ["/link/x", "/real/y", "/empty-file"], RootView([]))
    assert (victim / "x").is_dir() and (upper / "link").is_symlink()
    assert not (upper / "real").exists() and not (upper / "empty-file").exists()
