"""Checks on a Spec before anything is created: one function per rule, each error names the JSON path."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from skiff.oci.runtime import Spec
from skiff.runtime.capabilities import CAP_NUMBERS
from skiff.runtime.errors import BundleError
from skiff.runtime.paths import clean
from skiff.runtime.rlimits import RLIMITS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _typeshed import StrPath

NAMESPACES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
_ALWAYS_TYPES = {"bind", "rbind", "none"}
SECCOMP_ARCHES = ("SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                  "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
                  "SCMP_ARCH_SH", "SCMP_ARCH_SHEB")
SECCOMP_OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
               "SCMP_CMP_MASKED_EQ")
SECCOMP_ACTIONS = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                   "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY")


def _filesystems() -> set[str]:
    types = set(_ALWAYS_TYPES)
    try:
        with open("/proc/filesystems") as f:
            for line in f:
                types.add(line.split()[-1])
    except OSError:
        pass
    return types


def check_version(spec: Spec, bundle: StrPath) -> None:
    m = _VERSION.match(spec.oci_version)
    if not m:
        raise BundleError(f"config.json: ociVersion {spec.oci_version!r} is not a version")
    major, minor = int(m[1]), int(m[2])
    if major != 1 or minor > 3:
        raise BundleError(f"config.json: ociVersion {spec.oci_version!r} is not supported (1.0.0 to 1.3.x)")


def check_root(spec: Spec, bundle: StrPath) -> None:
    if spec.root is None:
        raise BundleError("config.json: root: required field is missing")
    rootfs = clean(os.path.join(bundle, spec.root.path))  # an absolute root.path replaces the bundle
    if not os.path.exists(rootfs):
        raise BundleError(f"config.json: root.path: rootfs {rootfs!r} does not exist")
    if not os.path.isdir(rootfs):
        raise BundleError(f"config.json: root.path: rootfs {rootfs!r} is not a directory")


def check_process(spec: Spec, bundle: StrPath) -> None:
    p = spec.process
    if p is None:
        raise BundleError("config.json: process: required field is missing")
    if not p.args:
        raise BundleError("config.json: process.args: must name a command")
    if not p.cwd.startswith("/"):
        raise BundleError(f"config.json: process.cwd: {p.cwd!r} is not an absolute path")
    for i, e in enumerate(p.env):
        if "=" not in e:
            raise BundleError(f"config.json: process.env[{i}]: {e!r} is not NAME=value")
    for i, r in enumerate(p.rlimits):
        if r.type not in RLIMITS:
            raise BundleError(f"config.json: process.rlimits[{i}].type: unknown rlimit {r.type!r}")
        if r.soft > r.hard:
            raise BundleError(f"config.json: process.rlimits[{i}]: soft limit is above the hard limit")


def check_capabilities(spec: Spec, bundle: StrPath) -> None:
    caps = spec.process.capabilities if spec.process else None
    if caps is None:
        return
    for set_name in ("bounding", "effective", "inheritable", "permitted", "ambient"):
        for i, name in enumerate(getattr(caps, set_name)):
            if name not in CAP_NUMBERS:
                raise BundleError(f"config.json: process.capabilities.{set_name}[{i}]: "
                                  f"unknown capability {name!r}")


def check_mounts(spec: Spec, bundle: StrPath) -> None:
    known: set[str] | None = None
    for i, m in enumerate(spec.mounts):
        if not m.destination.startswith("/"):
            raise BundleError(f"config.json: mounts[{i}].destination: {m.destination!r} is not absolute")
        if m.type and "bind" not in m.options and "rbind" not in m.options:
            known = known if known is not None else _filesystems()
            if m.type not in known:
                raise BundleError(f"config.json: mounts[{i}].type: unknown filesystem type {m.type!r}")


def check_linux(spec: Spec, bundle: StrPath) -> None:
    linux = spec.linux
    if linux is None:
        return
    seen: set[str] = set()
    for i, ns in enumerate(linux.namespaces):
        if ns.type not in NAMESPACES:
            raise BundleError(f"config.json: linux.namespaces[{i}].type: unknown namespace {ns.type!r}")
        if ns.type == "time" and not ns.path:
            raise BundleError(f"config.json: linux.namespaces[{i}]: a new time namespace is not supported")
        if ns.type in seen:
            raise BundleError(f"config.json: linux.namespaces[{i}]: namespace {ns.type!r} is listed twice")
        seen.add(ns.type)
    if "user" in seen and not linux.uid_mappings and not any(n.path for n in linux.namespaces
                                                              if n.type == "user"):
        raise BundleError("config.json: linux.uidMappings: required with a new user namespace")
    if linux.rootfs_propagation not in (None, "", "private", "rprivate", "slave", "rslave", "shared",
                                        "rshared", "unbindable", "runbindable"):
        raise BundleError(f"config.json: linux.rootfsPropagation: unknown value {linux.rootfs_propagation!r}")


def check_seccomp(spec: Spec, bundle: StrPath) -> None:
    sc = spec.linux.seccomp if spec.linux else None
    if sc is None:
        return
    if sc.default_action not in SECCOMP_ACTIONS:
        raise BundleError(f"config.json: linux.seccomp.defaultAction: unknown action {sc.default_action!r}")
    for i, arch in enumerate(sc.architectures):
        if arch not in SECCOMP_ARCHES:
            raise BundleError(f"config.json: linux.seccomp.architectures[{i}]: unknown architecture {arch!r}")
    for i, rule in enumerate(sc.syscalls):
        if rule.action not in SECCOMP_ACTIONS:
            raise BundleError(f"config.json: linux.seccomp.syscalls[{i}].action: unknown action {rule.action!r}")
        for j, a in enumerate(rule.args):
            if a.op not in SECCOMP_OPS:
                raise BundleError(f"config.json: linux.seccomp.syscalls[{i}].args[{j}].op: "
                                  f"unknown operator {a.op!r}")


def check_hooks(spec: Spec, bundle: StrPath) -> None:
    hooks = spec.hooks
    if hooks is None:
        return
    for stage in ("create_container", "start_container"):
        if getattr(hooks, stage):
            name = "createContainer" if stage == "create_container" else "startContainer"
            raise BundleError(f"config.json: hooks.{name}: hooks inside the container are not supported")
    for stage in ("prestart", "create_runtime", "poststart", "poststop"):
        for i, h in enumerate(getattr(hooks, stage)):
            if not h.path.startswith("/"):
                raise BundleError(f"config.json: hooks.{stage}[{i}].path: {h.path!r} is not absolute")


CHECKS: tuple[Callable[[Spec, StrPath], None], ...] = (
    check_version, check_root, check_process, check_capabilities, check_mounts, check_linux, check_seccomp, check_hooks)


def validate(spec: Spec, bundle: StrPath) -> None:
    for check in CHECKS:
        check(spec, bundle)
