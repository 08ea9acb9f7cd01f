"""`run` does not import typing (~2 ms): the modules on its path import typing's names for type checkers only,
and the codec reads an annotation ``Any`` without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import skiff

SRC = str(Path(skiff.__file__).resolve().parent.parent)

RUN_PATH = ["skiff.cli.main", "skiff.cli.commands.container_run", "skiff.engine.containers",
            "skiff.engine.containers_foreground", "skiff.engine.containers_create", "skiff.engine.bundles",
            "skiff.runtime.container", "skiff.runtime.process", "skiff.runtime.init", "skiff.store.drivers.overlay",
            "skiff.engine.containers_launch", "skiff.engine.networks"]

PROBE = f"""
import sys, json
sys.path[0:0] = [{SRC!r}]
import importlib
for m in {RUN_PATH!r}:
    importlib.import_module(m)
loaded = 'typing' in sys.modules
from skiff.oci.codec import from_obj, to_obj
from skiff.oci.runtime import Spec
from skiff.engine.containers_model import ContainerRecord
spec = from_obj(Spec, {{"ociVersion": "1.0.2", "process": {{"args": ["true"], "cwd": "/", "x-extra": {{"a": [1, 2]}}}},
                       "annotations": {{"k": "v"}}, "x-top": {{"n": 1}}}})
rec = from_obj(ContainerRecord, {{"Id": "a" * 64, "Created": "2026-11-28T00:00:00Z", "Config": {{"Labels": {{"l": "1"}}}},
                                 "Unknown": {{"kept": True}}}})
print(json.dumps({{"typing": loaded, "spec": to_obj(spec), "rec": to_obj(rec), "after": 'typing' in sys.modules}}))
"""


def test_the_run_path_leaves_typing_unloaded_and_the_codec_keeps_any_values() -> None:
    out = subprocess.run([sys.executable, "-S", "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["typing"] is False, "a module on run's path imports typing at run time"
    assert got["spec"]["process"]["x-extra"] == {"a": [1, 2]} and got["spec"]["x-top"] == {"n": 1}
    assert got["spec"]["annotations"] == {"k": "v"}
    assert got["rec"]["Unknown"] == {"kept": True} and got["rec"]["Config"]["Labels"] == {"l": "1"}
    assert got["after"] is False
