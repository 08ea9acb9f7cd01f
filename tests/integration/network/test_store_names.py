"""Every store's network commands work on that store's own bridge, veths and nftables table: `network prune`
and `system prune` of a store under another root once ran under the default store's names, took its bridge
(`skiff0`), veths and `inet skiff` table for strays of their own and removed them (found when a test's
`system prune` cut off the Flask demo running on the default store)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from netns_helpers import rand_tag  # type: ignore[import-not-found]

from skiff.engine.context import EngineContext
from skiff.engine.network_admin import NetworkAdmin
from skiff.network import links
from skiff.network.manager import NetworkManager
from skiff.network.names import host_names


def _table_exists(name: str) -> bool:
    return subprocess.run(["nft", "list", "table", "inet", name], capture_output=True).returncode == 0


def test_managers_of_a_root_use_its_own_names(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SKIFF_BRIDGE_PREFIX", raising=False)
    monkeypatch.delenv("SKIFF_NFT_TABLE", raising=False)
    root = tmp_path / "root"
    own = host_names(root)
    assert own[0] != "skiff" and own[1] != "skiff"
    mgr = NetworkManager(root, tmp_path / "run")
    assert (mgr.prefix, mgr.table) == own
    admin = NetworkAdmin(EngineContext(root, tmp_path / "run"))
    assert (admin.mgr.prefix, admin.mgr.table) == own
    assert host_names("/var/lib/skiff") == ("skiff", "skiff")


def test_prune_of_another_store_leaves_the_default_stores_things_alone(skiff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A decoy bridge and veth under the default store's names, as `skiff0` and its containers' veths would
    be, survive `network prune` and `system prune` of a store under another root."""
    monkeypatch.delenv("SKIFF_BRIDGE_PREFIX", raising=False)
    monkeypatch.delenv("SKIFF_NFT_TABLE", raising=False)
    tag = rand_tag(6)
    bridge, veth = f"skiff-{tag}", f"skiffv{tag}"
    table_before = _table_exists("skiff")
    try:
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "link", "add", veth, "type", "veth", "peer", "name", f"skp{tag}"], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKIFF_")}
        skiff("network", "create", "scratch", env=env)
        skiff("network", "prune", "-f", env=env)
        skiff("system", "prune", "-f", env=env)
        present = links.list_links()
        assert bridge in present and veth in present
        assert _table_exists("skiff") == table_before
    finally:
        for name in (bridge, veth):
            links.delete_link(name)
        prefix, table = host_names(skiff.root)
        for name in links.list_links():
            if name.startswith(prefix):
                links.delete_link(name)
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True)
