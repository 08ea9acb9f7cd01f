"""RegistrySource / RegistryDestination through the transfer layer's generic copy (registry to registry)."""

from __future__ import annotations

from pathlib import Path

from fake_registry import FakeRegistry, put_image

from skiff.oci import reference
from skiff.registry.auth import AuthStore
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.registry.session import RetryPolicy
from skiff.transfer.copy import copy_image
from skiff.transfer.registry import RegistryDestination, RegistrySource


def test_copy_between_repositories(tmp_path: Path) -> None:
    reg = FakeRegistry()
    d = put_image(reg, "lib/app", "1", [b"one", b"two"])
    with RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "a.json"), transport=reg.transport(),
                        retry=RetryPolicy(backoff=0)) as c:
        src = RegistrySource(c, reference.parse("reg.test/lib/app:1"))
        dst = RegistryDestination(c, reference.parse("reg.test/copy/app:2"))
        res = copy_image(src, dst)
        assert res.manifest_digest == d and res.blobs_skipped == 3  # same registry: blobs already there
        assert res.image_id == d and src.names() == ["reg.test/lib/app:1"]
    assert reg.manifests["copy/app:2"] == reg.manifests["lib/app:1"]
