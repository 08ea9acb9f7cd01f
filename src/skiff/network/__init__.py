"""skiff.network: bridge networks, IPAM, veth/netns plumbing, nftables, published ports, embedded DNS.

The engine's entry point is :class:`skiff.network.manager.NetworkManager` (imported from there, so that
``import skiff.network`` stays free; pyroute2 is imported only when a device is touched)::

    mgr = NetworkManager(root, runroot)                      # bridge_prefix="skiff", table="skiff"
    att = mgr.attach(cid, f"/proc/{pid}/ns/net", "bridge", name="web", aliases=["www"],
                     ports=parse_publish("127.0.0.1:8080:80"))
    write_etc_files(bundle_dir, "web", [att], extra_hosts=[...], dns=[...], dns_search=[...])
    mgr.release_all(cid)                                     # stop / rm
    mgr.gc(live_container_ids)                               # any command may repair after a crash

Modules: ``model`` (records), ``state`` (store files and the one lock), ``ports`` (``-p``/``-P``), ``links``
(pyroute2), ``firewall`` (nft table), ``dns``/``dnsproc`` (responder), ``etcfiles``, ``manager``.
"""
