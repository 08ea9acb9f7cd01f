from __future__ import annotations

import pytest

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError
from skiff.store.images import ImageRecord, add_record, familiar, find

A = "sha256:" + "a" * 63 + "1"
B = "sha256:" + "a" * 62 + "22"
M = "sha256:" + "c" * 64


def rec(i: str, names: list[str], digests: list[str] | None = None) -> ImageRecord:
    return ImageRecord(id=i, manifest=M, manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                       names=names, digests=digests or [])


def test_add_record_moves_names_and_merges() -> None:
    rs = add_record([], rec(A, ["docker.io/library/busybox:latest"]))
    rs = add_record(rs, rec(B, ["docker.io/library/busybox:latest", "docker.io/me/x:1"]))
    by = {r.id: r for r in rs}
    assert by[A].names == [] and by[A].dangling
    rs = add_record(rs, rec(A, ["docker.io/library/a:b"]))
    by = {r.id: r for r in rs}
    assert by[A].names == ["docker.io/library/a:b"] and len(rs) == 2


def test_roundtrip_json() -> None:
    r = rec(A, ["docker.io/library/busybox:latest"], ["docker.io/library/busybox@" + M])
    assert ImageRecord.from_json(r.to_json(), "$") == r
    with pytest.raises(Exception, match=r"\$.id: invalid image ID"):
        ImageRecord.from_json({**r.to_json(), "id": "../../etc"}, "$")


@pytest.mark.parametrize(("text", "want"), [
    ("busybox", A), ("busybox:latest", A), ("docker.io/library/busybox:latest", A), ("me/x:1", B),
    (A, A), (A[7:], A), (A[7:19], None), ("a" * 62 + "22", B), ("sha256:" + "a" * 62 + "2", B),
    ("busybox@" + M, A),
])
def test_find(text: str, want: str | None) -> None:
    rs = [rec(A, ["docker.io/library/busybox:latest"], ["docker.io/library/busybox@" + M]),
          rec(B, ["docker.io/me/x:1"])]
    if want is None:
        with pytest.raises(ConflictError, match="ambiguous"):
            find(rs, text)
    else:
        assert find(rs, text)[0].id == want


def test_find_errors() -> None:
    rs = [rec(A, ["docker.io/library/busybox:latest"])]
    with pytest.raises(NotFoundError, match=r"^No such image: nothere:latest$"):
        find(rs, "nothere")
    with pytest.raises(InvalidArgumentError, match="invalid reference format"):
        find(rs, "Bad::Ref")
    with pytest.raises(NotFoundError):
        find(rs, "sha256:" + "f" * 64)


def test_familiar() -> None:
    assert familiar("docker.io/library/busybox:latest") == ("busybox", "latest")
    assert familiar("docker.io/me/app:1") == ("me/app", "1")
    assert familiar("localhost:5000/a/b:t") == ("localhost:5000/a/b", "t")


def test_sidecar_follows_the_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The marshal sidecar is used only while it matches the JSON byte for byte; a stale, foreign or corrupt
    one is ignored (and rewritten), and the JSON's own errors still surface."""
    import json
    import os

    from skiff.errors import SkiffError
    from skiff.store.images import ImageIndex

    idx = ImageIndex(str(tmp_path))
    os.makedirs(tmp_path / "images")
    idx._save([rec(A, ["docker.io/library/busybox:latest"])])
    side = tmp_path / "images" / "images.json.marshal"
    assert side.exists()
    assert [r.id for r in ImageIndex(str(tmp_path)).load()] == [A]
    assert ImageIndex(str(tmp_path)).load() == [rec(A, ["docker.io/library/busybox:latest"])]  # every field
    # the JSON replaced behind the sidecar's back (another writer, or a hand edit): the JSON wins
    (tmp_path / "images" / "images.json").write_text(json.dumps({"version": 1, "images": [rec(B, []).to_json()]}))
    assert [r.id for r in ImageIndex(str(tmp_path)).load()] == [B]
    assert [r.id for r in ImageIndex(str(tmp_path)).load()] == [B]  # from the rewritten sidecar
    side.write_bytes(b"\x00garbage")
    assert [r.id for r in ImageIndex(str(tmp_path)).load()] == [B]
    (tmp_path / "images" / "images.json").write_text("{not json")
    with pytest.raises(SkiffError, match="invalid JSON"):
        ImageIndex(str(tmp_path)).load()
    bad = json.dumps({"version": 1, "images": [{"id": "../x"}]})
    (tmp_path / "images" / "images.json").write_text(bad)
    for _ in range(2):  # an index that fails the checks never gets a sidecar that would skip them
        with pytest.raises(SkiffError, match="required field is missing"):
            ImageIndex(str(tmp_path)).load()
    # a sidecar of the first format (written before the checks) is not trusted
    import marshal

    side.write_bytes(marshal.dumps((1, ImageIndex._stamp(bad.encode()), [{"id": "../x"}])))
    with pytest.raises(SkiffError, match="required field is missing"):
        ImageIndex(str(tmp_path)).load()
    assert not [p for p in os.listdir(tmp_path / "images") if p.endswith(".tmp")]


def test_rewrites_encode_only_new_records(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The index written from each record's kept text is byte for byte what json.dumps writes; after a load,
    a rewrite encodes only the records that changed (the sidecar keeps the others' text)."""
    import json
    import os

    from skiff.store import images as mod
    from skiff.store.images import ImageIndex

    os.makedirs(tmp_path / "images")
    many = [rec(f"sha256:{i:064x}", [f"docker.io/library/r{i}:latest"] if i % 3 else []) for i in range(40)]
    many[5] = many[5].replace(created="2026-01-01T00:00:00Z", parent=many[4].id, size=12345)
    ImageIndex(str(tmp_path))._save(many)
    raw = (tmp_path / "images" / "images.json").read_bytes()
    want = {"version": 1, "images": [r.to_json() for r in many]}
    assert raw == json.dumps(want, separators=(",", ":")).encode()
    calls = []
    real = json.dumps
    monkeypatch.setattr(json, "dumps", lambda *a, **k: calls.append(a) or real(*a, **k))
    idx = ImageIndex(str(tmp_path))
    loaded = idx.load()
    assert loaded == many and calls == []
    changed = [*loaded[:10], loaded[10].replace(names=["docker.io/library/new:1"]), *loaded[11:]]
    idx._save(changed)
    assert len(calls) == 1  # the one changed record
    monkeypatch.setattr(json, "dumps", real)
    raw = (tmp_path / "images" / "images.json").read_bytes()
    assert raw == json.dumps({"version": 1, "images": [r.to_json() for r in changed]}, separators=(",", ":")).encode()
    assert ImageIndex(str(tmp_path)).load() == changed
    # a sidecar of the second format (no texts) is not used: the JSON is read and the sidecar rewritten
    import marshal

    side = tmp_path / "images" / "images.json.marshal"
    side.write_bytes(marshal.dumps((2, ImageIndex._stamp(raw), [{"id": "sha256:" + "e" * 64}])))
    assert ImageIndex(str(tmp_path)).load() == changed
    assert marshal.loads(side.read_bytes())[0] == mod.SIDECAR_FORMAT


def test_sidecar_records_are_the_json_records(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """_checked (the sidecar's fast constructor) gives the record from_json gives, defaults and empty values
    included."""
    import os

    from skiff.store.images import _FIELDS, ImageIndex, ImageRecord

    os.makedirs(tmp_path / "images")
    odd = rec(A, []).replace(architecture="", os="", config_media_type="", created=None, size=0, loaded=1.5,
                             layer_media_types=["x"])
    ImageIndex(str(tmp_path))._save([odd, rec(B, ["docker.io/library/b:1"])])
    got = ImageIndex(str(tmp_path)).load()
    want = [ImageRecord.from_json(r.to_json(), "$") for r in (odd, rec(B, ["docker.io/library/b:1"]))]
    assert got == want and [getattr(got[0], f) for f, _, _ in _FIELDS] == [getattr(odd, f) for f, _, _ in _FIELDS]
