"""The name index: one symbolic link per name under ROOT/containers/names, claimed and dropped with the
container, converted once from the older names.json, and never a way out of the folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skiff.engine.containers_model import ContainerRecord, HostConfig
from skiff.engine.containers_state import ContainerStore
from skiff.errors import ConflictError, NotFoundError, SkiffError


def _rec(n: int, name: str, *, auto_remove: bool = False) -> ContainerRecord:
    return ContainerRecord(id=f"{n:064x}", created="2026-11-28T00:00:00Z", name="/" + name,
                           host_config=HostConfig(auto_remove=auto_remove))


@pytest.fixture
def cs(tmp_path: Path) -> ContainerStore:
    return ContainerStore(tmp_path / "root", tmp_path / "run")


def _add(cs: ContainerStore, rec: ContainerRecord) -> None:
    with cs.names_lock():
        cs.add(rec)


def test_add_claims_a_link_and_resolve_follows_it(cs: ContainerStore) -> None:
    a = _rec(1, "web")
    _add(cs, a)
    assert os.readlink(cs.dir / "names" / "web") == a.id
    assert cs.resolve("web") == cs.resolve("/web") == a.id
    assert cs.name_owner("web") == a.id
    with cs.names_lock():
        assert cs.taken_names() == {"web"}


def test_a_name_in_use_is_refused_and_nothing_is_written(cs: ContainerStore) -> None:
    _add(cs, _rec(1, "web"))
    with pytest.raises(ConflictError, match='name "/web" is already in use'):
        _add(cs, _rec(2, "web"))
    assert not cs.cdir(f"{2:064x}").exists()


def test_remove_drops_the_link_and_frees_the_name(cs: ContainerStore) -> None:
    a = _rec(1, "web")
    _add(cs, a)
    cs.remove_files(a)
    assert not os.path.lexists(cs.dir / "names" / "web")
    with pytest.raises(NotFoundError):
        cs.resolve("web")
    _add(cs, _rec(2, "web"))
    assert cs.resolve("web") == f"{2:064x}"


def test_a_link_whose_container_is_gone_is_a_free_name(cs: ContainerStore) -> None:
    # a crash of the machine after the link, before the folder was journaled, or a folder removed by hand
    (cs.dir / "names").mkdir(parents=True)
    os.symlink(f"{9:064x}", cs.dir / "names" / "web")
    assert cs.name_owner("web") is None
    with cs.names_lock():
        assert cs.taken_names() == set()
    _add(cs, _rec(1, "web"))
    assert cs.resolve("web") == f"{1:064x}"


def test_rename_moves_the_link(cs: ContainerStore) -> None:
    a = _rec(1, "web")
    _add(cs, a)
    _add(cs, _rec(2, "db"))
    with pytest.raises(ConflictError):
        cs.rename(a.id, "db")
    assert cs.resolve("web") == a.id
    cs.rename(a.id, "front")
    assert cs.resolve("front") == a.id
    assert cs.record(a.id).name == "/front"
    assert not os.path.lexists(cs.dir / "names" / "web")


@pytest.mark.parametrize("text", ["../x", "names/../x", ".", "..", "a/b", ""])
def test_user_text_never_reads_a_link_outside_the_index(cs: ContainerStore, text: str, tmp_path: Path) -> None:
    _add(cs, _rec(1, "web"))
    outside = tmp_path / "root" / "containers" / "x"
    os.symlink(str(tmp_path), outside)  # a link that a path out of names/ would find
    assert cs.name_owner(text) is None
    with pytest.raises(NotFoundError):
        cs.resolve(text)


def test_a_store_with_names_json_is_converted_once(cs: ContainerStore) -> None:
    a, gone = _rec(1, "web"), f"{7:064x}"
    cs.cdir(a.id).mkdir(parents=True)
    cs.write_record(a)
    (cs.dir / "names.json").write_text(json.dumps({"web": a.id, "old": gone, "../evil": a.id}))
    assert cs.resolve("web") == a.id  # a reader converts it (under the names lock)
    assert not (cs.dir / "names.json").exists()
    assert sorted(os.listdir(cs.dir / "names")) == ["web"]
    with pytest.raises(ConflictError):
        _add(cs, _rec(2, "web"))


def test_records_of_rm_containers_are_not_fsynced(cs: ContainerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    r = _rec(1, "tmp", auto_remove=True)
    _add(cs, r)
    cs.write_record(r)
    assert synced == []
    d = _rec(2, "kept")
    _add(cs, d)
    assert synced == []  # the first write; the one after the storage is made is durable
    cs.write_record(d)
    assert len(synced) == 1


def test_a_record_cut_short_is_an_error_not_a_traceback(cs: ContainerStore) -> None:
    a = _rec(1, "web")
    _add(cs, a)
    (cs.cdir(a.id) / "config.json").write_bytes(b"")
    with pytest.raises(SkiffError, match=r"unreadable config\.json"):
        cs.record(a.id)


def test_a_64_character_path_is_not_taken_for_an_id(cs: ContainerStore, tmp_path: Path) -> None:
    """User text of an ID's length that is a path (absolute, or with ..) names no folder outside the store."""
    _add(cs, _rec(1, "web"))
    outside = tmp_path / "o"
    outside = outside.with_name("o" * (64 - len(str(outside)) + 1))
    outside.mkdir()
    assert len(str(outside)) == 64
    with pytest.raises(NotFoundError):
        cs.resolve(str(outside))
    dotted = ("../" * 22)[:63] + "."  # 64 characters of .. and /
    assert len(dotted) == 64
    with pytest.raises(NotFoundError):
        cs.resolve(dotted)
