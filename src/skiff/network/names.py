"""Host-side names of a store's networking: its bridge prefix and nftables table."""

from __future__ import annotations

import os

DEFAULT_ROOT = "/var/lib/skiff"


def host_names(root: str | os.PathLike[str]) -> tuple[str, str]:
    """(bridge prefix, nft table) for a store root. The default store owns `skiff0` and table `skiff`; any
    other root (tests, a user's --root) gets names of its own, so two stores never share a bridge or rules.
    SKIFF_BRIDGE_PREFIX / SKIFF_NFT_TABLE override both."""
    from skiff.hashes import sha256

    if os.path.abspath(root) == DEFAULT_ROOT:
        prefix, table = "skiff", "skiff"
    else:
        h = sha256(os.path.abspath(root).encode()).hexdigest()[:5]
        prefix, table = f"sk{h}", f"skiff_{h}"
    return os.environ.get("SKIFF_BRIDGE_PREFIX", prefix), os.environ.get("SKIFF_NFT_TABLE", table)
