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


def test_progress_modes(tmp_path: Path) -> None:
    import io

    from skiff.build.builder.progress import Plain, Quiet, Tty, make

    out = io.StringIO()
    assert type(make("plain", out)) is Plain and type(make("quiet", out)) is Quiet
    assert type(make("auto", out)) is Plain  # not a terminal
    p = make("plain", out)
    p.begin(1, "[1/2] RUN echo hi")
    p.log(1, "hi")
    p.done(1, 0.25)
    p.begin(2, "[2/2] COPY a b")
    p.cached(2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "#1 [1/2] RUN echo hi" and lines[1].startswith("#1 ") and lines[1].endswith(" hi")
    assert lines[2:] == ["#1 DONE 0.2s", "#2 [2/2] COPY a b", "#2 CACHED"]
    make("quiet", out).begin(3, "x")
    assert "x" not in out.getvalue().splitlines()[-1]
    tty = io.StringIO()
    t = Tty(tty)
    t.begin(1, "[1/2] RUN pip install")
    t.log(1, "Collecting flask")
    assert "Collecting flask" in t._render().plain  # a running step shows its last lines
    t.done(1, 1.5)
    t.begin(2, "[2/2] COPY . .")
    t.cached(2)
    t.close()
    shown = tty.getvalue()
    assert "RUN pip install  1.5s" in shown and "COPY . .  CACHED" in shown and "Collecting flask" not in shown


def test_heavy_modules_stay_lazy() -> None:
    import subprocess
    import sys

    code = ("import sys, skiff.cli.main, skiff.cli.commands.build, skiff.engine.build, skiff.build.builder.quick\n"
            "fast = {'skiff.build.builder.executor', 'skiff.build.dockerfile.commands'} & set(sys.modules)\n"
            "import skiff.build.builder.executor\n"
            "print(sorted(fast), sorted({'rich', 'httpx', 'skiff.pyapp'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []"


def test_cache_mount_sharing(tmp_path: Path) -> None:
    import contextlib
    import fcntl
    from types import SimpleNamespace

    from skiff.build.builder.run import _cache_dir
    from skiff.build.dockerfile.commands import Mount

    b = SimpleNamespace(cache=BuildCache(tmp_path))
    shared = Mount(type="cache", target="/c", cache_id="pip", uid=5, gid=6, mode=0o700)
    with contextlib.ExitStack() as stack:
        d = _cache_dir(b, shared, "/c", stack)  # type: ignore[arg-type]
        st = os.stat(d)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (5, 6, 0o700)
        assert b.cache.mounts in d.parents
    private = Mount(type="cache", target="/c", cache_id="pip", cache_sharing="private")
    with contextlib.ExitStack() as first, contextlib.ExitStack() as second:
        a = _cache_dir(b, private, "/c", first)  # type: ignore[arg-type]
        other = _cache_dir(b, private, "/c", second)  # type: ignore[arg-type]
        assert a == d and other != a  # the shared instance is busy: a fresh private one
    assert not other.exists()  # private instances go away after the step
    locked = Mount(type="cache", target="/c", cache_id="pip", cache_sharing="locked")
    with contextlib.ExitStack() as stack:
        _cache_dir(b, locked, "/c", stack)  # type: ignore[arg-type]
        fd = os.open(str(d.parent) + ".lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_prune_drops_records_memos_mounts_and_locks(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    cache.put("k", CachedState(layers=(), config="sha256:" + "c" * 64))
    d = cache.mount_dir("pip")
    (tmp_path / "buildcache" / "quick").mkdir()
    (tmp_path / "buildcache" / "quick" / "x.json").write_text("{}")
    open(str(d) + ".lock", "w").close()
    assert cache.prune() == (1, 1)
    assert os.listdir(cache.mounts) == [] and not (tmp_path / "buildcache" / "quick").exists()
