# ruff: noqa: RUF009  (jfield() returns a dataclasses.field; the call is the codec's declaration)
"""OCI runtime-spec 1.x types (config.json) and the container State, as frozen dataclasses.

Field names follow the spec's JSON names through :func:`skiff.oci.codec.jfield`; unknown members are kept in
``extra`` and written back, so a config.json written by another tool round-trips. Optional scalars are
``None`` when absent, so absence and ``false``/``0`` stay distinct.

Every type takes ``__eq__``/``__hash__``/``__repr__`` from :class:`skiff.oci.codec.JSONRecord` (``eq=False,
repr=False`` below only stops dataclasses from compiling the same methods again): ``skiff-runtime`` creates these
classes on every start.
"""

from skiff.oci.codec import JSONRecord, jextra, jfield
from skiff.records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any
else:  # this module's annotations are evaluated: the codec's own name for a value it does not convert
    from skiff.oci.codec import AnyValue as Any

SPEC_VERSION = "1.2.0"
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.2.0", "1.2.1", "1.3.0")


@dataclass(frozen=True, eq=False, repr=False)
class Box(JSONRecord):
    """process.consoleSize."""

    height: int = jfield("height", default=0)
    width: int = jfield("width", default=0)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class User(JSONRecord):
    """process.user."""

    uid: int = jfield("uid", default=0, keep_empty=True)
    gid: int = jfield("gid", default=0, keep_empty=True)
    umask: int | None = jfield("umask", default=None)
    additional_gids: list[int] = jfield("additionalGids", default_factory=list)
    username: str | None = jfield("username", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxCapabilities(JSONRecord):
    """process.capabilities (five sets)."""

    bounding: list[str] = jfield("bounding", default_factory=list)
    effective: list[str] = jfield("effective", default_factory=list)
    inheritable: list[str] = jfield("inheritable", default_factory=list)
    permitted: list[str] = jfield("permitted", default_factory=list)
    ambient: list[str] = jfield("ambient", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class POSIXRlimit(JSONRecord):
    """one entry of process.rlimits."""

    type: str = jfield("type")
    hard: int = jfield("hard", keep_empty=True)
    soft: int = jfield("soft", keep_empty=True)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Process(JSONRecord):
    """the container process (config.json process)."""

    args: list[str] = jfield("args", default_factory=list)
    cwd: str = jfield("cwd", default="/")
    env: list[str] = jfield("env", default_factory=list)
    terminal: bool | None = jfield("terminal", default=None)
    console_size: Box | None = jfield("consoleSize", default=None)
    user: User = jfield("user", default_factory=User)
    capabilities: LinuxCapabilities | None = jfield("capabilities", default=None)
    rlimits: list[POSIXRlimit] = jfield("rlimits", default_factory=list)
    no_new_privileges: bool | None = jfield("noNewPrivileges", default=None)
    apparmor_profile: str | None = jfield("apparmorProfile", default=None)
    oom_score_adj: int | None = jfield("oomScoreAdj", default=None)
    selinux_label: str | None = jfield("selinuxLabel", default=None)
    command_line: str | None = jfield("commandLine", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Root(JSONRecord):
    """root: the rootfs path and whether it is read-only."""

    path: str = jfield("path")
    readonly: bool | None = jfield("readonly", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxIDMapping(JSONRecord):
    """a uid/gid mapping range."""

    container_id: int = jfield("containerID", keep_empty=True)
    host_id: int = jfield("hostID", keep_empty=True)
    size: int = jfield("size", keep_empty=True)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Mount(JSONRecord):
    """one entry of mounts."""

    destination: str = jfield("destination")
    type: str | None = jfield("type", default=None)
    source: str | None = jfield("source", default=None)
    options: list[str] = jfield("options", default_factory=list)
    uid_mappings: list[LinuxIDMapping] = jfield("uidMappings", default_factory=list)
    gid_mappings: list[LinuxIDMapping] = jfield("gidMappings", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Hook(JSONRecord):
    """one lifecycle hook."""

    path: str = jfield("path")
    args: list[str] = jfield("args", default_factory=list)
    env: list[str] = jfield("env", default_factory=list)
    timeout: int | None = jfield("timeout", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Hooks(JSONRecord):
    """hooks by lifecycle stage."""

    prestart: list[Hook] = jfield("prestart", default_factory=list)
    create_runtime: list[Hook] = jfield("createRuntime", default_factory=list)
    create_container: list[Hook] = jfield("createContainer", default_factory=list)
    start_container: list[Hook] = jfield("startContainer", default_factory=list)
    poststart: list[Hook] = jfield("poststart", default_factory=list)
    poststop: list[Hook] = jfield("poststop", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxNamespace(JSONRecord):
    """one entry of linux.namespaces (a path joins an existing one)."""

    type: str = jfield("type")
    path: str | None = jfield("path", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxDevice(JSONRecord):
    """one entry of linux.devices."""

    path: str = jfield("path")
    type: str = jfield("type")
    major: int | None = jfield("major", default=None)
    minor: int | None = jfield("minor", default=None)
    file_mode: int | None = jfield("fileMode", default=None)
    uid: int | None = jfield("uid", default=None)
    gid: int | None = jfield("gid", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxDeviceCgroup(JSONRecord):
    """one device cgroup rule."""

    allow: bool = jfield("allow", keep_empty=True)
    type: str | None = jfield("type", default=None)
    major: int | None = jfield("major", default=None)
    minor: int | None = jfield("minor", default=None)
    access: str | None = jfield("access", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxMemory(JSONRecord):
    """linux.resources.memory."""

    limit: int | None = jfield("limit", default=None)
    reservation: int | None = jfield("reservation", default=None)
    swap: int | None = jfield("swap", default=None)
    kernel: int | None = jfield("kernel", default=None)
    kernel_tcp: int | None = jfield("kernelTCP", default=None)
    swappiness: int | None = jfield("swappiness", default=None)
    disable_oom_killer: bool | None = jfield("disableOOMKiller", default=None)
    use_hierarchy: bool | None = jfield("useHierarchy", default=None)
    check_before_update: bool | None = jfield("checkBeforeUpdate", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxCPU(JSONRecord):
    """linux.resources.cpu."""

    shares: int | None = jfield("shares", default=None)
    quota: int | None = jfield("quota", default=None)
    burst: int | None = jfield("burst", default=None)
    period: int | None = jfield("period", default=None)
    realtime_runtime: int | None = jfield("realtimeRuntime", default=None)
    realtime_period: int | None = jfield("realtimePeriod", default=None)
    cpus: str | None = jfield("cpus", default=None)
    mems: str | None = jfield("mems", default=None)
    idle: int | None = jfield("idle", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxPids(JSONRecord):
    """linux.resources.pids."""

    limit: int = jfield("limit", keep_empty=True)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxWeightDevice(JSONRecord):
    """a per-device blkio weight."""

    major: int = jfield("major", keep_empty=True)
    minor: int = jfield("minor", keep_empty=True)
    weight: int | None = jfield("weight", default=None)
    leaf_weight: int | None = jfield("leafWeight", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxThrottleDevice(JSONRecord):
    """a per-device blkio throttle."""

    major: int = jfield("major", keep_empty=True)
    minor: int = jfield("minor", keep_empty=True)
    rate: int = jfield("rate", keep_empty=True)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxBlockIO(JSONRecord):
    """linux.resources.blockIO."""

    weight: int | None = jfield("weight", default=None)
    leaf_weight: int | None = jfield("leafWeight", default=None)
    weight_device: list[LinuxWeightDevice] = jfield("weightDevice", default_factory=list)
    throttle_read_bps_device: list[LinuxThrottleDevice] = jfield("throttleReadBpsDevice", default_factory=list)
    throttle_write_bps_device: list[LinuxThrottleDevice] = jfield("throttleWriteBpsDevice",
                                                                  default_factory=list)
    throttle_read_iops_device: list[LinuxThrottleDevice] = jfield("throttleReadIOPSDevice",
                                                                  default_factory=list)
    throttle_write_iops_device: list[LinuxThrottleDevice] = jfield("throttleWriteIOPSDevice",
                                                                   default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxResources(JSONRecord):
    """linux.resources (cgroup settings)."""

    devices: list[LinuxDeviceCgroup] = jfield("devices", default_factory=list)
    memory: LinuxMemory | None = jfield("memory", default=None)
    cpu: LinuxCPU | None = jfield("cpu", default=None)
    pids: LinuxPids | None = jfield("pids", default=None)
    block_io: LinuxBlockIO | None = jfield("blockIO", default=None)
    unified: dict[str, str] = jfield("unified", default_factory=dict)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxSeccompArg(JSONRecord):
    """a seccomp argument comparison."""

    index: int = jfield("index", keep_empty=True)
    value: int = jfield("value", keep_empty=True)
    op: str = jfield("op")
    value_two: int | None = jfield("valueTwo", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxSyscall(JSONRecord):
    """one seccomp rule: names, action, argument filters."""

    names: list[str] = jfield("names")
    action: str = jfield("action")
    errno_ret: int | None = jfield("errnoRet", default=None)
    args: list[LinuxSeccompArg] = jfield("args", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class LinuxSeccomp(JSONRecord):
    """linux.seccomp."""

    default_action: str = jfield("defaultAction")
    default_errno_ret: int | None = jfield("defaultErrnoRet", default=None)
    architectures: list[str] = jfield("architectures", default_factory=list)
    flags: list[str] = jfield("flags", default_factory=list)
    listener_path: str | None = jfield("listenerPath", default=None)
    listener_metadata: str | None = jfield("listenerMetadata", default=None)
    syscalls: list[LinuxSyscall] = jfield("syscalls", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Linux(JSONRecord):
    """the linux section of config.json."""

    namespaces: list[LinuxNamespace] = jfield("namespaces", default_factory=list)
    uid_mappings: list[LinuxIDMapping] = jfield("uidMappings", default_factory=list)
    gid_mappings: list[LinuxIDMapping] = jfield("gidMappings", default_factory=list)
    devices: list[LinuxDevice] = jfield("devices", default_factory=list)
    cgroups_path: str | None = jfield("cgroupsPath", default=None)
    resources: LinuxResources | None = jfield("resources", default=None)
    rootfs_propagation: str | None = jfield("rootfsPropagation", default=None)
    seccomp: LinuxSeccomp | None = jfield("seccomp", default=None)
    masked_paths: list[str] = jfield("maskedPaths", default_factory=list)
    readonly_paths: list[str] = jfield("readonlyPaths", default_factory=list)
    mount_label: str | None = jfield("mountLabel", default=None)
    sysctl: dict[str, str] = jfield("sysctl", default_factory=dict)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class Spec(JSONRecord):
    """config.json of an OCI bundle (runtime-spec 1.x)."""

    oci_version: str = jfield("ociVersion")
    process: Process | None = jfield("process", default=None)
    root: Root | None = jfield("root", default=None)
    hostname: str | None = jfield("hostname", default=None)
    domainname: str | None = jfield("domainname", default=None)
    mounts: list[Mount] = jfield("mounts", default_factory=list)
    hooks: Hooks | None = jfield("hooks", default=None)
    annotations: dict[str, str] = jfield("annotations", default_factory=dict)
    linux: Linux | None = jfield("linux", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True, eq=False, repr=False)
class State(JSONRecord):
    """The runtime-spec state of a container (what `state` prints, plus runc's extra members)."""

    oci_version: str = jfield("ociVersion")
    id: str = jfield("id")
    status: str = jfield("status")
    pid: int = jfield("pid", default=0, keep_empty=True)
    bundle: str = jfield("bundle", default="")
    annotations: dict[str, str] = jfield("annotations", default_factory=dict)
    extra: dict[str, Any] = jextra()


# config.json files this process wrote, by path: their bytes and the Spec they encode. A runtime in the same
# process (skiff's, on the engine's fast path) that reads the same bytes back takes that Spec instead of
# decoding them again (the bytes are compared whole, so a file changed since is decoded as usual).
WRITTEN_CONFIGS: dict[str, tuple[bytes, Spec]] = {}

