"""The engine's defaults: Docker's capability set, mounts, masked and read-only paths, and skiff's own
seccomp allow-list (written from the facts in SECURITY.md 3a-3c).

The allow-list: every syscall an ordinary program needs is allowed; what is left out answers EPERM (the
default action). Left out on purpose: kernel modules (init_module, finit_module, delete_module), kexec,
reboot, swapon/swapoff, the keyring (add_key, request_key, keyctl), accounting (acct), clock setting,
quotactl, open_by_handle_at, bpf, perf_event_open, userfaultfd, the new mount API and mount/umount, pivot_root,
setns/unshare, ptrace on kernels before 4.8, NUMA policy calls, old/obsolete calls (uselib, ustat, sysfs,
_sysctl, vm86, nfsservctl...). Groups come back with the capability that makes them safe (CAP_SYS_ADMIN,
CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_SYS_TIME, CAP_SYS_NICE, CAP_SYS_PACCT, CAP_SYS_RAWIO,
CAP_SYSLOG...). ``clone`` may not create namespaces and ``clone3`` answers ENOSYS (glibc then falls back to
clone) unless CAP_SYS_ADMIN is granted; ``personality`` only accepts the usual personas; ``socket`` refuses
AF_VSOCK.
"""

from __future__ import annotations

import os

from skiff.oci.runtime import (
    Linux,
    LinuxCapabilities,
    LinuxIDMapping,
    LinuxNamespace,
    LinuxResources,
    LinuxSeccomp,
    LinuxSeccompArg,
    LinuxSyscall,
    Mount,
    POSIXRlimit,
    Process,
    Root,
    Spec,
    User,
)

DOCKER_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
               "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE")

MASKED_PATHS = ("/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
                "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware")
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
NOFILE_DEFAULT = 1024  # `skiff-runtime spec` (as `runc spec`); the engine passes inherited_nofile()
_RLIM_INFINITY_OCI = 2**64 - 1  # what an OCI bundle writes for RLIM_INFINITY


def inherited_nofile() -> tuple[int, int]:
    """This process's RLIMIT_NOFILE (soft, hard): what a Docker container inherits from dockerd (its spec has
    no RLIMIT_NOFILE) and Podman gives, written out so that skiff-runtime, crun and runc all apply it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def oci(v: int) -> int:
        return _RLIM_INFINITY_OCI if v == resource.RLIM_INFINITY or v < 0 else v

    return oci(soft), oci(hard)


def _within_hard_limit(soft: int, hard: int) -> tuple[int, int]:
    """(soft, hard) lowered to this process's hard limit: raising it needs CAP_SYS_RESOURCE."""
    try:
        import resource

        cur = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    except (ImportError, ValueError):
        return soft, hard
    if cur != resource.RLIM_INFINITY and cur >= 0:
        hard = min(hard, cur)
    return min(soft, hard), hard

_ALLOWED = """
accept accept4 access alarm arch_prctl bind brk cachestat capget capset chdir chmod chown chown32
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close
close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group
faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait
futex_waitv futex_wake futimesat get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid
getsockname getsockopt gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64
io_setup io_submit ioctl ioprio_get ioprio_set ipc kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr
lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir
mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat
openat2 pause pidfd_getfd pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64
pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction
rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity
sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget
semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list
set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups
setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32
setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs
statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64
ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev chroot
""".split()

# Groups allowed only with the capability that already grants their power.
_CAP_GATED = {
    "CAP_SYS_ADMIN": "bpf clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount "
                     "mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname "
                     "sethostname setns syslog umount umount2 unshare pivot_root",
    "CAP_SYS_BOOT": "reboot",
    "CAP_SYS_MODULE": "delete_module init_module finit_module",
    "CAP_SYS_PACCT": "acct",
    "CAP_SYS_PTRACE": "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
    "CAP_SYS_RAWIO": "iopl ioperm",
    "CAP_SYS_TIME": "settimeofday stime clock_settime clock_settime64 adjtimex clock_adjtime "
                    "clock_adjtime64",
    "CAP_SYS_NICE": "get_mempolicy mbind set_mempolicy set_mempolicy_home_node move_pages",
    "CAP_SYSLOG": "syslog",
}
_NS_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_PERSONAS = (0x0, 0x0008, 0x20000, 0x20008, 0xFFFFFFFF)
_AF_VSOCK = 40
_ENOSYS = 38


def kernel_at_least(major: int, minor: int, release: str | None = None) -> bool:
    rel = release or os.uname().release
    try:
        parts = [int(p) for p in rel.split("-")[0].split(".")[:2]]
    except ValueError:
        return True
    return (parts[0], parts[1]) >= (major, minor)


def default_seccomp(capabilities: tuple[str, ...] | list[str] = DOCKER_CAPS, *,
                    kernel_release: str | None = None) -> LinuxSeccomp:
    """skiff's default profile (allow-list, EPERM otherwise) for a process with ``capabilities``."""
    caps = set(capabilities)
    allowed = list(_ALLOWED)
    if kernel_at_least(4, 8, kernel_release):  # ptrace could bypass seccomp before 4.8
        allowed.append("ptrace")
    for cap, names in _CAP_GATED.items():
        if cap in caps:
            allowed.extend(n for n in names.split() if n not in allowed)
    rules = [LinuxSyscall(names=sorted(set(allowed)), action="SCMP_ACT_ALLOW")]
    rules.extend(LinuxSyscall(names=["personality"], action="SCMP_ACT_ALLOW",
                              args=[LinuxSeccompArg(index=0, value=p, op="SCMP_CMP_EQ")])
                 for p in _PERSONAS)
    rules.append(LinuxSyscall(names=["socket"], action="SCMP_ACT_ALLOW",
                              args=[LinuxSeccompArg(index=0, value=_AF_VSOCK, op="SCMP_CMP_NE")]))
    if "CAP_SYS_ADMIN" not in caps:
        rules.append(LinuxSyscall(names=["clone"], action="SCMP_ACT_ALLOW",
                                  args=[LinuxSeccompArg(index=0, value=_NS_FLAGS, value_two=0,
                                                        op="SCMP_CMP_MASKED_EQ")]))
        rules.append(LinuxSyscall(names=["clone3"], action="SCMP_ACT_ERRNO", errno_ret=_ENOSYS))
    else:
        rules.append(LinuxSyscall(names=["clone"], action="SCMP_ACT_ALLOW"))
    return LinuxSeccomp(default_action="SCMP_ACT_ERRNO", default_errno_ret=1,
                        architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
                        if os.uname().machine == "x86_64" else ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
                        syscalls=rules)


def default_mounts() -> list[Mount]:
    return [
        Mount(destination="/proc", type="proc", source="proc", options=["nosuid", "noexec", "nodev"]),
        Mount(destination="/dev", type="tmpfs", source="tmpfs",
              options=["nosuid", "strictatime", "mode=755", "size=65536k"]),
        Mount(destination="/dev/pts", type="devpts", source="devpts",
              options=["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        Mount(destination="/dev/shm", type="tmpfs", source="shm",
              options=["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        Mount(destination="/dev/mqueue", type="mqueue", source="mqueue", options=["nosuid", "noexec", "nodev"]),
        Mount(destination="/sys", type="sysfs", source="sysfs", options=["nosuid", "noexec", "nodev", "ro"]),
        # the container's own cgroups, read-only (Docker's and `runc spec`'s; skiff.runtime.cgroupfs)
        Mount(destination="/sys/fs/cgroup", type="cgroup", source="cgroup",
              options=["ro", "nosuid", "noexec", "nodev"]),
    ]


def default_spec(args: list[str] | tuple[str, ...] = ("sh",), *, rootfs: str = "rootfs",
                 hostname: str | None = None, env: list[str] | None = None, cwd: str = "/",
                 terminal: bool = False, uid: int = 0, gid: int = 0, additional_gids: list[int] | None = None,
                 capabilities: tuple[str, ...] | list[str] = DOCKER_CAPS, no_new_privileges: bool = True,
                 seccomp: bool = True, nofile: int | tuple[int, int] = NOFILE_DEFAULT,
                 readonly_rootfs: bool = False,
                 network_namespace: str | None = None, userns_map: tuple[int, int] | None = None,
                 resources: LinuxResources | None = None, mounts: list[Mount] | None = None,
                 cgroups_path: str | None = None) -> Spec:
    """The engine's default Spec: Docker's 14 caps (inheritable and ambient empty), default mounts, masked and
    read-only paths, no-new-privileges on, skiff's seccomp profile, RLIMIT_NOFILE within the hard limit.

    ``network_namespace`` is a path to join (the engine's network setup), else a new empty netns;
    ``userns_map`` = (host_uid, size) adds a user namespace mapping container 0 to ``host_uid``;
    ``nofile``: RLIMIT_NOFILE as one value for both limits or (soft, hard), never above the hard limit.
    """
    caps = list(capabilities)
    ns = [LinuxNamespace(type=t) for t in ("pid", "ipc", "uts", "mount", "cgroup")]
    ns.append(LinuxNamespace(type="network", path=network_namespace))
    uid_maps: list[LinuxIDMapping] = []
    if userns_map is not None:
        ns.append(LinuxNamespace(type="user"))
        uid_maps = [LinuxIDMapping(container_id=0, host_id=userns_map[0], size=userns_map[1])]
    soft, hard = _within_hard_limit(*((nofile, nofile) if isinstance(nofile, int) else nofile))
    process = Process(
        args=list(args), cwd=cwd, env=list(env if env is not None else DEFAULT_ENV), terminal=terminal,
        user=User(uid=uid, gid=gid, additional_gids=list(additional_gids or [])),
        capabilities=LinuxCapabilities(bounding=caps, effective=caps, permitted=caps),
        rlimits=[POSIXRlimit(type="RLIMIT_NOFILE", hard=hard, soft=soft)],
        no_new_privileges=no_new_privileges)
    linux = Linux(namespaces=ns, uid_mappings=uid_maps, gid_mappings=list(uid_maps),
                  cgroups_path=cgroups_path, resources=resources,
                  seccomp=default_seccomp(caps) if seccomp else None,
                  masked_paths=list(MASKED_PATHS), readonly_paths=list(READONLY_PATHS))
    return Spec(oci_version="1.0.2", process=process, root=Root(path=rootfs, readonly=readonly_rootfs or None),
                hostname=hostname, mounts=list(mounts) if mounts is not None else default_mounts(), linux=linux)
