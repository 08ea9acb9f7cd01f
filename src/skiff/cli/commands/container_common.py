"""Shared pieces of the container commands: the engine, the run/create flags, and Docker's exit codes
(errors of commands other than run/create exit 1, as Docker's do; run/create keep 125/126/127)."""

from __future__ import annotations

from skiff.errors import SkiffError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (`run` starts the network helper first)
if TYPE_CHECKING:
    import argparse
    from typing import Any


def engine(opts: Any) -> Any:
    from skiff.engine.containers import ContainerEngine
    from skiff.engine.context import EngineContext

    return ContainerEngine(EngineContext.from_options(opts))


def verb(p: argparse.ArgumentParser) -> str:
    """The word the command was invoked with (one module serves several verbs)."""
    return p.prog.split()[-1]


def as_daemon_error(e: SkiffError) -> SkiffError:
    """Deprecated: ``skiff.cli.main.exit_code`` now turns 125 into 1 for every command but run/create."""
    if e.exit_code == 125:
        e.exit_code = 1
    return e


def check_tty(attach_stdin: bool, tty: bool) -> None:
    """docker/cli's CheckTty: a container's terminal (-t) cannot be fed from a stdin that is no terminal
    (-i with a pipe or a file), refused before anything is created (exit 1, as docker)."""
    import os

    if tty and attach_stdin and not os.isatty(0):
        raise SkiffError("the input device is not a TTY", exit_code=1)


class ClientError(SkiffError):
    """An error docker/cli finds itself, before asking the daemon (no "Error response from daemon: ")."""


def error_line(e: SkiffError) -> str:
    return f"Error: {e.message}" if isinstance(e, ClientError) else f"Error response from daemon: {e.message}"


def each(names: list[str], fn: Any) -> int:
    """docker/cli's loop over several containers: apply ``fn`` to every name and print what it returns (the
    name as typed, for most verbs); the errors follow on stderr, one line each, and make the exit code 1."""
    import sys

    errors = []
    for n in names:
        try:
            out = fn(n)
        except SkiffError as e:
            errors.append(error_line(e))
            continue
        if out is not None:
            print(out)
    if errors:
        sys.stdout.flush()
        print(*errors, sep="\n", file=sys.stderr)
    return 1 if errors else 0


def add_create_flags(p: argparse.ArgumentParser) -> None:
    import argparse

    a = p.add_argument
    a("image", help="The image to run")
    a("command", nargs=argparse.REMAINDER, help="Command and arguments")
    a("-d", "--detach", action="store_true", help="Run container in background and print container ID")
    a("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    a("--rm", action="store_true", help="Automatically remove the container when it exits")
    a("--name", help="Assign a name to the container")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("--env-file", action="append", default=[], help="Read in a file of environment variables")
    a("-w", "--workdir", help="Working directory inside the container")
    a("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    a("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    a("-h", "--hostname", help="Container host name")
    a("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    a("--mount", action="append", default=[], help="Attach a filesystem mount to the container")
    a("--tmpfs", action="append", default=[], help="Mount a tmpfs directory")
    a("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    a("--cap-add", action="append", default=[], help="Add Linux capabilities")
    a("--cap-drop", action="append", default=[], help="Drop Linux capabilities")
    a("--privileged", action="store_true", help="Give extended privileges to this container")
    a("--security-opt", action="append", default=[], help="Security Options")
    a("-m", "--memory", help="Memory limit")
    a("--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    a("--cpus", help="Number of CPUs")
    a("-c", "--cpu-shares", type=_int("--cpu-shares"), help="CPU shares (relative weight)")
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--pids-limit", type=_int("--pids-limit"), help="Tune container pids limit (set -1 for unlimited)")
    a("--ulimit", action="append", default=[], help="Ulimit options")
    a("--init", action="store_true", help="Run an init inside the container that forwards signals and reaps "
                                          "processes")
    a("--stop-signal", help="Signal to stop the container")
    a("--stop-timeout", type=_int("--stop-timeout"), help="Timeout (in seconds) to stop a container")
    a("--restart", default="no", help="Restart policy to apply when a container exits")
    a("-l", "--label", action="append", default=[], help="Set meta data on a container")
    a("--label-file", action="append", default=[], help="Read in a line delimited file of labels")
    a("--group-add", action="append", default=[], help="Add additional groups to join")
    a("--shm-size", help="Size of /dev/shm")
    a("--add-host", action="append", default=[], help="Add a custom host-to-IP mapping (host:ip or host=ip)")
    a("--dns", action="append", default=[], help="Set custom DNS servers")
    a("--dns-search", action="append", default=[], help="Set custom DNS search domains")
    a("--dns-option", action="append", default=[], help="Set DNS options")
    a("--network", "--net", default="bridge", help="Connect a container to a network")
    a("-p", "--publish", action="append", default=[], help="Publish a container's port(s) to the host")
    a("-P", "--publish-all", action="store_true", help="Publish all exposed ports to random ports")
    a("--expose", action="append", default=[], help="Expose a port or a range of ports")
    a("--pull", default="missing", help='Pull image before running ("always", "missing", "never")')
    a("--platform", help="Set platform if server is multi-platform capable")
    a("--runtime", help="Runtime to use for this container")
    a("-q", "--quiet", action="store_true", help="Suppress the pull output (skiff's run and create show none)")
    a("--sysctl", action="append", default=[], help="Sysctl options")
    a("--oom-score-adj", type=_int("--oom-score-adj"), help="Tune host's OOM preferences (-1000 to 1000)")
    a("--oom-kill-disable", action="store_true", help="Disable OOM Killer")
    a("--cpu-period", type=_int("--cpu-period"), help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=_int("--cpu-quota"), help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("--memory-reservation", help="Memory soft limit")
    a("--memory-swappiness", type=_int("--memory-swappiness"), default=-1,
      help="Tune container memory swappiness (0 to 100)")
    a("--domainname", help="Container NIS domain name")
    a("--pid", help="PID namespace to use")
    a("--ipc", help="IPC mode to use")
    a("--uts", help="UTS namespace to use")
    a("--userns", help="User namespace to use (host: the host's, as without a daemon's userns-remap)")
    a("--storage-opt", action="append", default=[], help="Storage driver options for the container")
    a("--link", action="append", default=[], help="Add link to another container")
    a("--volume-driver", help="Optional volume driver for the container (local)")
    a("--cgroupns", help='Cgroup namespace to use (host|private)')
    a("--device", action="append", default=[], help="Add a host device to the container")
    a("--volumes-from", action="append", default=[], help="Mount volumes from the specified container(s)")
    a("--cidfile", help="Write the container ID to the file")
    a("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    a("--blkio-weight", type=_int("--blkio-weight"), help="Block IO (relative weight), between 10 and 1000, or 0 "
                                                           "to disable (default 0)")
    a("--blkio-weight-device", action="append", default=[], help="Block IO weight (relative device weight)")
    a("--device-read-bps", action="append", default=[], help="Limit read rate (bytes per second) from a device")
    a("--device-write-bps", action="append", default=[], help="Limit write rate (bytes per second) to a device")
    a("--device-read-iops", action="append", default=[], help="Limit read rate (IO per second) from a device")
    a("--device-write-iops", action="append", default=[], help="Limit write rate (IO per second) to a device")
    a("--device-cgroup-rule", action="append", default=[], help="Add a rule to the cgroup allowed devices list")
    a("--annotation", action="append", default=[], help="Add an annotation to the container (passed through to "
                                                        "the OCI runtime)")
    a("--log-driver", help="Logging driver for the container (json-file or none)")
    a("--log-opt", action="append", default=[], help="Log driver options (max-size, max-file)")
    a("--health-cmd", help="Command to run to check health")
    a("--health-interval", help="Time between running the check (ms|s|m|h) (default 0s)")
    a("--health-timeout", help="Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
    a("--health-start-period", help="Start period for the container to initialize before starting health-retries "
                                    "countdown (ms|s|m|h) (default 0s)")
    a("--health-start-interval", help="Time between running the check during the start period (ms|s|m|h) "
                                      "(default 0s)")
    a("--health-retries", type=_int("--health-retries"), help="Consecutive failures needed to report unhealthy")
    a("--no-healthcheck", action="store_true", help="Disable any container-specified HEALTHCHECK")
    a("--network-alias", action="append", default=[], help="Add network-scoped alias for the container")
    a("-a", "--attach", action="append", default=[], help="Attach to STDIN, STDOUT or STDERR")
    a("--cgroup-parent", help="Optional parent cgroup for the container")
    a("--ip", help="IPv4 address (e.g., 172.30.100.104)")
    a("--mac-address", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)")
    a("--ip6", help="IPv6 address (e.g., 2001:db8::33)")
    a("--link-local-ip", action="append", default=[], help="Container IPv4/IPv6 link-local addresses")
    a("--cpu-count", type=_int("--cpu-count"), help="CPU count (Windows only)")
    a("--cpu-percent", type=_int("--cpu-percent"), help="CPU percent (Windows only)")
    a("--cpu-rt-period", type=_int("--cpu-rt-period"), help="Limit CPU real-time period in microseconds")
    a("--cpu-rt-runtime", type=_int("--cpu-rt-runtime"), help="Limit CPU real-time runtime in microseconds")
    a("--kernel-memory", help="Kernel memory limit")
    a("--io-maxbandwidth", help="Maximum IO bandwidth limit for the system drive (Windows only)")
    a("--io-maxiops", type=_uint("--io-maxiops"), help="Maximum IOps limit for the system drive (Windows only)")
    a("--isolation", help="Container isolation technology")
    a("--gpus", action="append", default=[], help="GPU devices to add to the container ('all' to pass all GPUs)")
    a("--disable-content-trust", action="store_true", default=True,  # a pflag boolean; skiff has no Notary
      help="Skip image verification (default true)")


def _int(flag: str) -> Any:
    def conv(v: str) -> int:
        import argparse

        try:
            return int(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid argument \"{v}\" for \"{flag}\" flag: strconv.ParseInt: "
                                             f"parsing \"{v}\": invalid syntax") from None
    conv.__name__ = flag
    return conv


def _uint(flag: str) -> Any:
    def conv(v: str) -> int:
        import argparse

        if not v.isdigit():
            raise argparse.ArgumentTypeError(f"invalid argument \"{v}\" for \"{flag}\" flag: strconv.ParseUint: "
                                             f"parsing \"{v}\": invalid syntax") from None
        return int(v)
    conv.__name__ = flag
    return conv


def create_options(args: argparse.Namespace) -> Any:
    from skiff.engine.containers_options import CreateOptions

    return CreateOptions(
        image=args.image, command=list(args.command), name=args.name, detach=args.detach,
        interactive=args.interactive, tty=args.tty, auto_remove=args.rm, env=args.env, env_files=args.env_file,
        workdir=args.workdir, user=args.user, entrypoint=args.entrypoint, hostname=args.hostname,
        volumes=args.volume, mounts=args.mount, tmpfs=args.tmpfs, read_only=args.read_only,
        cap_add=args.cap_add, cap_drop=args.cap_drop, privileged=args.privileged,
        security_opt=args.security_opt, memory=args.memory, memory_swap=args.memory_swap, cpus=args.cpus,
        cpu_shares=args.cpu_shares, cpuset_cpus=args.cpuset_cpus, pids_limit=args.pids_limit,
        ulimits=args.ulimit, init=args.init, stop_signal=args.stop_signal, stop_timeout=args.stop_timeout,
        restart=args.restart, labels=args.label, label_files=args.label_file, group_add=args.group_add, shm_size=args.shm_size,
        add_hosts=args.add_host, dns=args.dns, dns_search=args.dns_search, dns_options=args.dns_option,
        network=args.network, publish=args.publish, publish_all=args.publish_all, expose=args.expose,
        pull=args.pull, platform=args.platform, runtime=args.runtime, sysctls=args.sysctl,
        oom_score_adj=args.oom_score_adj, oom_kill_disable=args.oom_kill_disable, cpu_period=args.cpu_period,
        cpu_quota=args.cpu_quota, memory_reservation=args.memory_reservation,
        memory_swappiness=None if args.memory_swappiness == -1 else args.memory_swappiness,
        domainname=args.domainname, pid=args.pid, ipc=args.ipc, uts=args.uts, userns=args.userns,
        cgroupns=args.cgroupns, storage_opt=args.storage_opt, volume_driver=args.volume_driver, links=args.link,
        devices=args.device, volumes_from=args.volumes_from, cidfile=args.cidfile, cpuset_mems=args.cpuset_mems,
        blkio_weight=args.blkio_weight, blkio_weight_device=args.blkio_weight_device,
        device_read_bps=args.device_read_bps, device_write_bps=args.device_write_bps,
        device_read_iops=args.device_read_iops, device_write_iops=args.device_write_iops,
        device_cgroup_rules=args.device_cgroup_rule, annotations=args.annotation, log_driver=args.log_driver,
        log_opts=args.log_opt, health_cmd=args.health_cmd, health_interval=args.health_interval,
        health_timeout=args.health_timeout, health_start_period=args.health_start_period,
        health_start_interval=args.health_start_interval, health_retries=args.health_retries,
        no_healthcheck=args.no_healthcheck, network_aliases=args.network_alias, ip=args.ip, attach=args.attach,
        mac_address=args.mac_address, cgroup_parent=args.cgroup_parent, ip6=args.ip6,
        link_local_ips=args.link_local_ip, cpu_count=args.cpu_count, cpu_percent=args.cpu_percent,
        cpu_rt_period=args.cpu_rt_period, cpu_rt_runtime=args.cpu_rt_runtime, kernel_memory=args.kernel_memory,
        io_max_bandwidth=args.io_maxbandwidth, io_max_iops=args.io_maxiops, isolation=args.isolation,
        gpus=args.gpus)
