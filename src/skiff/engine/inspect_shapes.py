"""Docker's full key sets for `inspect`: the fields Docker's Go structs always marshal, in their order.

Docker's container and image JSON carry every field of ``container.Config``, ``container.HostConfig`` and
``NetworkSettings`` (nil slices and maps as ``null``), so templates such as ``{{.HostConfig.PidMode}}`` or
``{{.Config.Entrypoint}}`` always find their key. :func:`complete` lays a record's own keys over these
defaults; keys Docker marks ``omitempty`` are kept only when the record has them.
"""

from __future__ import annotations

from typing import Any

_OMIT = object()  # omitempty: present only when the record has a value

# moby api/types/container/config.go, Config
CONFIG: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""), ("Domainname", ""), ("User", ""), ("AttachStdin", False), ("AttachStdout", False),
    ("AttachStderr", False), ("ExposedPorts", _OMIT), ("Tty", False), ("OpenStdin", False), ("StdinOnce", False),
    ("Env", None), ("Cmd", None), ("Healthcheck", _OMIT), ("ArgsEscaped", _OMIT), ("Image", ""),
    ("Volumes", None), ("WorkingDir", ""), ("Entrypoint", None), ("NetworkDisabled", _OMIT),
    ("MacAddress", _OMIT), ("OnBuild", None), ("Labels", None), ("StopSignal", _OMIT),
    ("StopTimeout", _OMIT), ("Shell", _OMIT),
)

# moby api/types/container/hostconfig.go, HostConfig (with Resources inlined). Every skiff container has IPC and
# cgroup namespaces of its own: Docker's daemon records that as "private" (its default-ipc-mode, and the cgroupns
# mode it uses on cgroup v2 hosts; on v1 it shares the host's).
HOST_CONFIG: tuple[tuple[str, Any], ...] = (
    ("Binds", None), ("ContainerIDFile", ""), ("LogConfig", {"Type": "json-file", "Config": {}}),
    ("NetworkMode", "bridge"), ("PortBindings", {}), ("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0}),
    ("AutoRemove", False), ("VolumeDriver", ""), ("VolumesFrom", None), ("ConsoleSize", [0, 0]),
    ("Annotations", _OMIT), ("CapAdd", None), ("CapDrop", None), ("CgroupnsMode", "private"), ("Dns", []),
    ("DnsOptions", []), ("DnsSearch", []), ("ExtraHosts", None), ("GroupAdd", None), ("IpcMode", "private"),
    ("Cgroup", ""), ("Links", None), ("OomScoreAdj", 0), ("PidMode", ""), ("Privileged", False),
    ("PublishAllPorts", False), ("ReadonlyRootfs", False), ("SecurityOpt", None), ("StorageOpt", _OMIT),
    ("Tmpfs", _OMIT), ("UTSMode", ""), ("UsernsMode", ""), ("ShmSize", 67108864), ("Sysctls", _OMIT),
    ("Runtime", ""), ("Isolation", ""), ("CpuShares", 0), ("Memory", 0), ("NanoCpus", 0), ("CgroupParent", ""),
    ("BlkioWeight", 0), ("BlkioWeightDevice", []), ("BlkioDeviceReadBps", []), ("BlkioDeviceWriteBps", []),
    ("BlkioDeviceReadIOps", []), ("BlkioDeviceWriteIOps", []), ("CpuPeriod", 0), ("CpuQuota", 0),
    ("CpuRealtimePeriod", 0), ("CpuRealtimeRuntime", 0), ("CpusetCpus", ""), ("CpusetMems", ""),
    ("Devices", []), ("DeviceCgroupRules", None), ("DeviceRequests", None), ("MemoryReservation", 0),
    ("MemorySwap", 0), ("MemorySwappiness", None), ("OomKillDisable", None), ("PidsLimit", None),
    ("Ulimits", None), ("CpuCount", 0), ("CpuPercent", 0), ("IOMaximumIOps", 0), ("IOMaximumBandwidth", 0),
    ("MaskedPaths", None), ("ReadonlyPaths", None),
)

# moby api/types/container/network_settings.go (NetworkSettingsBase + DefaultNetworkSettings)
NETWORK_SETTINGS: tuple[tuple[str, Any], ...] = (
    ("Bridge", ""), ("SandboxID", ""), ("SandboxKey", ""), ("Ports", {}), ("HairpinMode", False),
    ("LinkLocalIPv6Address", ""), ("LinkLocalIPv6PrefixLen", 0), ("SecondaryIPAddresses", None),
    ("SecondaryIPv6Addresses", None), ("EndpointID", ""), ("Gateway", ""), ("GlobalIPv6Address", ""),
    ("GlobalIPv6PrefixLen", 0), ("IPAddress", ""), ("IPPrefixLen", 0), ("IPv6Gateway", ""), ("MacAddress", ""),
    ("Networks", {}),
)

# moby api/types/network/endpoint.go, EndpointSettings
ENDPOINT: tuple[tuple[str, Any], ...] = (
    ("IPAMConfig", None), ("Links", None), ("Aliases", None), ("MacAddress", ""), ("DriverOpts", None),
    ("NetworkID", ""), ("EndpointID", ""), ("Gateway", ""), ("IPAddress", ""), ("IPPrefixLen", 0),
    ("IPv6Gateway", ""), ("GlobalIPv6Address", ""), ("GlobalIPv6PrefixLen", 0), ("DNSNames", None),
)

# moby api/types/types.go MountPoint
MOUNT: tuple[tuple[str, Any], ...] = (
    ("Type", _OMIT), ("Name", _OMIT), ("Source", ""), ("Destination", ""), ("Driver", _OMIT), ("Mode", ""),
    ("RW", True), ("Propagation", ""),
)


def complete(obj: dict[str, Any] | None, shape: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """``obj``'s keys laid over Docker's ``shape``: Docker's order first, then any key skiff adds."""
    import copy

    src = dict(obj or {})
    out: dict[str, Any] = {}
    for key, default in shape:
        if key in src:
            out[key] = src.pop(key)
        elif default is not _OMIT:
            out[key] = copy.deepcopy(default)
    out.update(src)
    return out


def bind_modes(binds: list[str] | None) -> dict[str, str]:
    """Destination -> the mode text of a ``-v SRC:DST:MODE`` bind (``ro``, ``rw``, ``ro,z``...), which Docker
    shows as the mount's ``Mode``."""
    out: dict[str, str] = {}
    for spec in binds or []:
        parts = spec.split(":")
        if len(parts) >= 3:
            out[parts[1]] = parts[2]
    return out


def container(obj: dict[str, Any]) -> dict[str, Any]:
    """A container's inspect object with Docker's full Config, HostConfig, NetworkSettings and Mounts."""
    obj["Config"] = complete(obj.get("Config"), CONFIG)
    hc = obj["HostConfig"] = complete(obj.get("HostConfig"), HOST_CONFIG)
    modes = bind_modes(hc.get("Binds"))
    mounts = []
    for m in obj.get("Mounts") or []:
        m = complete(m, MOUNT)
        if not m.get("Mode") and m.get("Type") == "bind" and m.get("Destination") in modes:
            m["Mode"] = modes[m["Destination"]]
        mounts.append(m)
    obj["Mounts"] = mounts
    ns = obj["NetworkSettings"] = complete(obj.get("NetworkSettings"), NETWORK_SETTINGS)
    ns["Networks"] = {k: complete(v, ENDPOINT) for k, v in (ns.get("Networks") or {}).items()}
    return obj


def image_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """An image's ``Config`` as Docker shows it: every field of ``container.Config``."""
    return complete(cfg, CONFIG)
