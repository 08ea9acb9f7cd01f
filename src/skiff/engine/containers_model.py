"""Container records in Docker's shape: ``Config``, ``HostConfig``, ``MountPoint`` and the record itself.

Written to ``ROOT/containers/<id>/config.json``; its ``Image`` member is the image ID (``sha256:<hex>``),
which the store's ``image_in_use`` reads. Volatile state lives apart (:mod:`skiff.engine.containers_state`).
"""

from __future__ import annotations

from skiff.oci.codec import jextra, jfield
from skiff.oci.health import HealthConfig
from skiff.records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class RestartPolicy:
    """``--restart``: ``no``, ``always``, ``on-failure[:N]`` or ``unless-stopped`` (N: the retry limit)."""

    name: str = jfield("Name", default="no", keep_empty=True)
    maximum_retry_count: int = jfield("MaximumRetryCount", default=0, keep_empty=True)


@dataclass(frozen=True)
class Ulimit:
    """One ``--ulimit`` (``HostConfig.Ulimits``): a resource name with its soft and hard limits."""

    name: str = jfield("Name")
    soft: int = jfield("Soft", keep_empty=True)
    hard: int = jfield("Hard", keep_empty=True)


@dataclass(frozen=True)
class MountSpec:
    """One -v/--mount/--tmpfs request as given (HostConfig.Mounts)."""

    type: str = jfield("Type")
    target: str = jfield("Target")
    source: str = jfield("Source", default="", keep_empty=True)
    read_only: bool = jfield("ReadOnly", default=False)
    propagation: str | None = jfield("Propagation", default=None)
    options: list[str] = jfield("Options", default_factory=list)


@dataclass(frozen=True)
class DeviceMapping:
    """One ``--device`` (``HostConfig.Devices``): a host device node, where it appears in the container, and the
    cgroup access it gets (``rwm`` by default)."""

    path_on_host: str = jfield("PathOnHost")
    path_in_container: str = jfield("PathInContainer")
    cgroup_permissions: str = jfield("CgroupPermissions", default="rwm", keep_empty=True)


@dataclass(frozen=True)
class BlkioRate:
    """One ``--device-read-bps`` (and the like) or ``--blkio-weight-device``: a block device and its limit (a
    rate in bytes or operations a second, or a weight)."""

    path: str = jfield("Path")
    rate: int | None = jfield("Rate", default=None)
    weight: int | None = jfield("Weight", default=None)


@dataclass(frozen=True)
class LogConfig:
    """``--log-driver`` and ``--log-opt`` (``HostConfig.LogConfig``): ``json-file`` (with ``max-size`` and
    ``max-file``) or ``none``."""

    type: str = jfield("Type", default="json-file", keep_empty=True)
    config: dict[str, str] = jfield("Config", default_factory=dict, keep_empty=True)

    @property
    def max_size(self) -> int:
        """Bytes a log file may reach before it is rotated (0: no limit)."""
        from .containers_options import human_size

        v = self.config.get("max-size")
        return human_size(v) if v else 0

    @property
    def max_file(self) -> int:
        return int(self.config.get("max-file") or 1)


@dataclass(frozen=True)
class Config:
    """The container's ``Config`` (Docker's shape): the image's defaults with the run options applied."""

    hostname: str = jfield("Hostname", default="", keep_empty=True)
    domainname: str = jfield("Domainname", default="", keep_empty=True)
    user: str = jfield("User", default="", keep_empty=True)
    attach_stdin: bool = jfield("AttachStdin", default=False, keep_empty=True)
    attach_stdout: bool = jfield("AttachStdout", default=False, keep_empty=True)
    attach_stderr: bool = jfield("AttachStderr", default=False, keep_empty=True)
    exposed_ports: dict[str, dict[str, Any]] = jfield("ExposedPorts", default_factory=dict)
    tty: bool = jfield("Tty", default=False, keep_empty=True)
    open_stdin: bool = jfield("OpenStdin", default=False, keep_empty=True)
    stdin_once: bool = jfield("StdinOnce", default=False, keep_empty=True)
    env: list[str] = jfield("Env", default_factory=list, keep_empty=True)
    cmd: list[str] | None = jfield("Cmd", default=None, keep_empty=True)
    image: str = jfield("Image", default="", keep_empty=True)
    volumes: dict[str, dict[str, Any]] | None = jfield("Volumes", default=None, keep_empty=True)
    working_dir: str = jfield("WorkingDir", default="", keep_empty=True)
    entrypoint: list[str] | None = jfield("Entrypoint", default=None, keep_empty=True)
    labels: dict[str, str] = jfield("Labels", default_factory=dict, keep_empty=True)
    stop_signal: str | None = jfield("StopSignal", default=None)
    stop_timeout: int | None = jfield("StopTimeout", default=None)
    healthcheck: HealthConfig | None = jfield("Healthcheck", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class HostConfig:
    """The container's ``HostConfig`` (Docker's shape): binds, network, ports, restart, resource limits."""

    binds: list[str] = jfield("Binds", default_factory=list, keep_empty=True)
    network_mode: str = jfield("NetworkMode", default="bridge", keep_empty=True)
    port_bindings: dict[str, list[dict[str, str]]] = jfield("PortBindings", default_factory=dict,
                                                            keep_empty=True)
    restart_policy: RestartPolicy = jfield("RestartPolicy", default_factory=RestartPolicy)
    auto_remove: bool = jfield("AutoRemove", default=False, keep_empty=True)
    cap_add: list[str] = jfield("CapAdd", default_factory=list, keep_empty=True)
    cap_drop: list[str] = jfield("CapDrop", default_factory=list, keep_empty=True)
    dns: list[str] = jfield("Dns", default_factory=list, keep_empty=True)
    dns_search: list[str] = jfield("DnsSearch", default_factory=list, keep_empty=True)
    dns_options: list[str] = jfield("DnsOptions", default_factory=list, keep_empty=True)
    extra_hosts: list[str] = jfield("ExtraHosts", default_factory=list, keep_empty=True)
    links: list[str] | None = jfield("Links", default=None, keep_empty=True)  # "/db:/web/alias", as Docker's
    group_add: list[str] = jfield("GroupAdd", default_factory=list, keep_empty=True)
    privileged: bool = jfield("Privileged", default=False, keep_empty=True)
    publish_all_ports: bool = jfield("PublishAllPorts", default=False, keep_empty=True)
    readonly_rootfs: bool = jfield("ReadonlyRootfs", default=False, keep_empty=True)
    security_opt: list[str] = jfield("SecurityOpt", default_factory=list, keep_empty=True)
    tmpfs: dict[str, str] = jfield("Tmpfs", default_factory=dict, keep_empty=True)
    shm_size: int = jfield("ShmSize", default=67108864, keep_empty=True)
    runtime: str = jfield("Runtime", default="skiff", keep_empty=True)
    memory: int = jfield("Memory", default=0, keep_empty=True)
    memory_swap: int = jfield("MemorySwap", default=0, keep_empty=True)
    nano_cpus: int = jfield("NanoCpus", default=0, keep_empty=True)
    cpu_shares: int = jfield("CpuShares", default=0, keep_empty=True)
    cpuset_cpus: str = jfield("CpusetCpus", default="", keep_empty=True)
    pids_limit: int | None = jfield("PidsLimit", default=None, keep_empty=True)
    cpu_period: int = jfield("CpuPeriod", default=0, keep_empty=True)
    cpu_quota: int = jfield("CpuQuota", default=0, keep_empty=True)
    memory_reservation: int = jfield("MemoryReservation", default=0, keep_empty=True)
    memory_swappiness: int | None = jfield("MemorySwappiness", default=None, keep_empty=True)
    oom_kill_disable: bool = jfield("OomKillDisable", default=False, keep_empty=True)
    oom_score_adj: int = jfield("OomScoreAdj", default=0, keep_empty=True)
    sysctls: dict[str, str] = jfield("Sysctls", default_factory=dict)
    devices: list[DeviceMapping] = jfield("Devices", default_factory=list, keep_empty=True)
    volumes_from: list[str] | None = jfield("VolumesFrom", default=None, keep_empty=True)
    # namespaces: "" or "private" (its own), "host", or "container:<id>" (Docker's PidMode, IpcMode, UTSMode)
    pid_mode: str = jfield("PidMode", default="", keep_empty=True)
    ipc_mode: str = jfield("IpcMode", default="private", keep_empty=True)
    uts_mode: str = jfield("UTSMode", default="", keep_empty=True)
    userns_mode: str = jfield("UsernsMode", default="", keep_empty=True)
    volume_driver: str = jfield("VolumeDriver", default="", keep_empty=True)
    cgroupns_mode: str = jfield("CgroupnsMode", default="private", keep_empty=True)
    container_id_file: str = jfield("ContainerIDFile", default="", keep_empty=True)
    cpuset_mems: str = jfield("CpusetMems", default="", keep_empty=True)
    cgroup_parent: str = jfield("CgroupParent", default="", keep_empty=True)
    blkio_weight: int = jfield("BlkioWeight", default=0, keep_empty=True)
    blkio_weight_device: list[BlkioRate] = jfield("BlkioWeightDevice", default_factory=list, keep_empty=True)
    blkio_device_read_bps: list[BlkioRate] = jfield("BlkioDeviceReadBps", default_factory=list, keep_empty=True)
    blkio_device_write_bps: list[BlkioRate] = jfield("BlkioDeviceWriteBps", default_factory=list,
                                                      keep_empty=True)
    blkio_device_read_iops: list[BlkioRate] = jfield("BlkioDeviceReadIOps", default_factory=list,
                                                      keep_empty=True)
    blkio_device_write_iops: list[BlkioRate] = jfield("BlkioDeviceWriteIOps", default_factory=list,
                                                       keep_empty=True)
    device_cgroup_rules: list[str] | None = jfield("DeviceCgroupRules", default=None, keep_empty=True)
    annotations: dict[str, str] = jfield("Annotations", default_factory=dict)
    log_config: LogConfig = jfield("LogConfig", default_factory=LogConfig)
    ulimits: list[Ulimit] = jfield("Ulimits", default_factory=list, keep_empty=True)
    init: bool | None = jfield("Init", default=None)
    mounts: list[MountSpec] = jfield("Mounts", default_factory=list)
    kernel_memory: int = jfield("KernelMemory", default=0)
    cpu_realtime_period: int = jfield("CpuRealtimePeriod", default=0, keep_empty=True)
    cpu_realtime_runtime: int = jfield("CpuRealtimeRuntime", default=0, keep_empty=True)
    cpu_count: int = jfield("CpuCount", default=0, keep_empty=True)
    cpu_percent: int = jfield("CpuPercent", default=0, keep_empty=True)
    isolation: str = jfield("Isolation", default="", keep_empty=True)
    # --gpus: moby's DeviceRequest objects (Driver, Count, DeviceIDs, Capabilities, Options)
    device_requests: list[dict[str, Any]] | None = jfield("DeviceRequests", default=None, keep_empty=True)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class MountPoint:
    """A resolved mount as ``inspect`` shows it (``Mounts``)."""

    type: str = jfield("Type")
    destination: str = jfield("Destination")
    source: str = jfield("Source", default="", keep_empty=True)
    mode: str = jfield("Mode", default="", keep_empty=True)
    rw: bool = jfield("RW", default=True, keep_empty=True)
    propagation: str = jfield("Propagation", default="", keep_empty=True)
    name: str | None = jfield("Name", default=None)
    driver: str | None = jfield("Driver", default=None)


@dataclass(frozen=True)
class ContainerRecord:
    """A container as stored in ``config.json`` and shown by ``inspect``: ID, name, image, configs, mounts."""

    id: str = jfield("Id")
    created: str = jfield("Created")
    path: str = jfield("Path", default="", keep_empty=True)
    args: list[str] = jfield("Args", default_factory=list, keep_empty=True)
    image: str = jfield("Image", default="", keep_empty=True)
    name: str = jfield("Name", default="", keep_empty=True)
    driver: str = jfield("Driver", default="", keep_empty=True)
    platform: str = jfield("Platform", default="linux", keep_empty=True)
    config: Config = jfield("Config", default_factory=Config)
    host_config: HostConfig = jfield("HostConfig", default_factory=HostConfig)
    mounts: list[MountPoint] = jfield("Mounts", default_factory=list, keep_empty=True)
    # the endpoint asked for on its network: "Aliases", "IPv4Address", "MacAddress" (--network-alias, --ip,
    # --mac-address; Docker keeps them in NetworkSettings.Networks)
    endpoint: dict[str, Any] = jfield("EndpointConfig", default_factory=dict)
    extra: dict[str, Any] = jextra()

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def cgroup(self) -> str:
        """The container's cgroup, under each hierarchy: ``/skiff/ID``, or ``PARENT/ID`` with --cgroup-parent
        (Docker's cgroupfs driver)."""
        parent = self.host_config.cgroup_parent.strip("/")
        return f"/{parent}/{self.id}" if parent else f"/skiff/{self.id}"

    @property
    def bare_name(self) -> str:
        return self.name.lstrip("/")
