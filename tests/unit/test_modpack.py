"""skiff.modpack: modules served from one pack file, each only while its source is unchanged; packages keep
their folder for what the pack lacks; a damaged pack, or one made with other optimisation flags, is ignored."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiff import modpack

SRC = str(Path(modpack.__file__).resolve().parent.parent)


def _py(code: str, *flags: str, cwd: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, *flags, "-S", "-c", f"import sys; sys.path[0:0] = [{SRC!r}, '.']\n{code}"],
                         capture_output=True, text=True, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


PROBE = """
import json, inspect
from skiff.modpack import install
finder = install(sys.argv[-1] if len(sys.argv) > 1 else 'pack')
import pkg.mod, pkg.sub.leaf
try:
    import pkg.extra
    extra = pkg.extra.VALUE
except ImportError:
    extra = None
def kind(m):
    return type(m.__spec__.loader).__name__
print(json.dumps({"installed": finder is not None, "mod": kind(pkg.mod), "leaf": kind(pkg.sub.leaf),
                  "pkg": kind(pkg), "value": pkg.mod.f(), "file": pkg.mod.__file__, "path": pkg.__path__,
                  "leaf_value": pkg.sub.leaf.LEAF, "source": inspect.getsource(pkg.mod.f).strip(),
                  "extra": extra, "cached": pkg.mod.__cached__}))
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    return 'packed'\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "leaf.py").write_text("LEAF = 42\n")
    _py("import json, pkg.mod, pkg.sub.leaf\nfrom skiff import modpack\n"
        f"n = modpack.write({str(tmp_path / 'pack')!r}, {{k: v for k, v in sys.modules.items() if k.startswith('pkg')}})\n"
        "print(json.dumps(n))", cwd=tmp_path)
    return tmp_path


def test_modules_come_from_the_pack_with_their_usual_attributes(tree: Path) -> None:
    got = _py(PROBE, cwd=tree)
    assert got["installed"] is True
    assert (got["pkg"], got["mod"], got["leaf"]) == ("PackFinder", "PackFinder", "PackFinder")
    assert got["value"] == "packed" and got["leaf_value"] == 42
    assert got["file"] == str(tree / "pkg" / "mod.py")
    assert got["path"] == [str(tree / "pkg")]
    assert got["source"] == "def f():\n    return 'packed'"
    assert str(got["cached"]).endswith(".pyc")
    assert got["extra"] is None


def test_a_changed_source_or_a_new_module_is_imported_the_usual_way(tree: Path) -> None:
    (tree / "pkg" / "mod.py").write_text("def f():\n    return 'edited since'\n")
    (tree / "pkg" / "extra.py").write_text("VALUE = 'not in the pack'\n")
    got = _py(PROBE, cwd=tree)
    assert got["mod"] == "SourceFileLoader" and got["value"] == "edited since"
    assert got["leaf"] == "PackFinder"  # the others still come from the pack
    assert got["extra"] == "not in the pack"  # found in the packed package's folder


@pytest.mark.parametrize("damage", ["empty", "cut", "garbage", "other-header"])
def test_a_damaged_pack_is_not_used(tree: Path, damage: str) -> None:
    data = (tree / "pack").read_bytes()
    bad = {"empty": b"", "cut": data[:len(data) // 2], "garbage": os.urandom(len(data)),
           "other-header": data.replace(b"skiff.modpack 1", b"skiff.modpack 9", 1)}[damage]
    (tree / "pack").write_bytes(bad)
    got = _py(PROBE, cwd=tree)
    if damage == "cut":  # the index is whole: the modules past the cut fail over to the usual import
        assert got["value"] == "packed"
    else:
        assert got["installed"] is False and got["mod"] == "SourceFileLoader" and got["value"] == "packed"


def test_a_pack_made_without_optimisation_is_not_used_under_O(tree: Path) -> None:
    got = _py(PROBE, "-O", cwd=tree)
    assert got["installed"] is False and got["mod"] == "SourceFileLoader"


def test_the_setup_pack_holds_what_the_usual_import_compiles() -> None:
    """The pack written by `python -m skiff.records`: each skiff module whose source is unchanged holds the
    same code object as its .pyc (code objects compare by value)."""
    if not os.path.exists(modpack.CACHE):
        pytest.skip("no pack written yet (scripts/setup.sh writes it)")
    from importlib.machinery import SourceFileLoader

    fd = os.open(modpack.CACHE, os.O_RDONLY)
    try:
        got = modpack._read_index(fd)
        assert got is not None
        base, index = got
        checked = 0
        for name, (off, n, is_pkg, origin, mtime, size) in index.items():
            if not name.startswith("skiff"):
                continue
            st = os.stat(origin)
            if (st.st_mtime_ns, st.st_size) != (mtime, size):
                continue  # edited since set-up: the pack is not used for it
            assert marshal.loads(os.pread(fd, n, base + off)) == SourceFileLoader(name, origin).get_code(name), name
            assert is_pkg == origin.endswith("__init__.py")
            checked += 1
        assert checked > 100
    finally:
        os.close(fd)
