"""skiff.network: bridge networks, IPAM, veth/netns plumbing, nftables, published ports, embedded DNS.

The engine's entry point is :class:`skiff.network.manager.NetworkManager` (imported from there, so that
``import skiff.network`` stays free; pyroute2 is imported only when a device is touched)::

    mgr = NetworkManager(root, runroot)   # bridge_prefix/table: $SKIFF_BRIDGE_PREFIX/$SKIFF_NFT_TABLE or "skiff"
    att = mgr.attach(cid, f"/proc/{pid}/ns/net", "bridge", name="web", aliases=["www"],
                     ports=parse_publish("127.0.0.1:8080:80"))
    write_etc_files(bundle_dir, "web", [att], extra_hosts=[...], dns=[...], dns_search=[...])
    mgr.release_all(cid)                                     # stop / rm
    mgr.gc(live_container_ids)                               # any command may repair after a crash

Modules: ``model`` (records), ``state`` (store files and the one lock), ``ports`` (``-p``/``-P``), ``links``
(devices), ``rtnl``/``rtnl_link`` (rtnetlink on pyroute2's message classes, without importing the whole
pyroute2 package), ``firewall`` (nft table), ``iptables`` (fallback), ``dns``/``dnsproc`` (responder),
``etcfiles``, ``manager``.

Tests and side-by-side installs set ``SKIFF_BRIDGE_PREFIX`` (1-8 lowercase letters/digits; bridges are
``<prefix>0`` and ``<prefix>-<id>``, veths ``<prefix>v...``) and ``SKIFF_NFT_TABLE`` (the ``inet`` table's
name), so that they never touch the host's skiff0 bridge or its ``inet skiff`` table. Every NetworkManager
built without explicit values reads them, including the one ``skiff run`` uses.
"""
