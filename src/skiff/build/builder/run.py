"""RUN: one step in a container through the StepRunner, on an overlay of the stage's layers whose upper dir
becomes the new layer. ``--mount`` types: bind (context, stage, image or named context), cache (sharing
shared/locked/private, uid/gid/mode), tmpfs, secret."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from skiff.build.builder.layers import add_layer_from, dirs_of, mounted_layers, overlay_over, reader
from skiff.build.builder.options import RunStep, StepMount
from skiff.build.builder.rootview import RootView, resolve_user
from skiff.build.dockerfile import commands as c
from skiff.errors import SkiffError

if TYPE_CHECKING:
    from skiff.build.builder.executor import Builder
    from skiff.build.builder.state import StageState

CA_PATH = "/etc/ssl/certs/ca-certificates.crt"
_TAIL = 20


class RunError(SkiffError):
    exit_code = 1


PIPES = "/dev/pipes"


def _sole_heredoc(cmd: c.RunCommand) -> c.InlineFile | None:
    """The heredoc when it is the whole command (``RUN <<EOF``), BuildKit's rule."""
    from skiff.build.dockerfile.splitters import parse_heredoc_word

    line = cmd.cmd_line or ()
    if cmd.files and len(line) == 1 and parse_heredoc_word(line[0].strip()) is not None:
        return cmd.files[0]
    return None


def _data(f: c.InlineFile) -> str:
    from skiff.build.dockerfile.splitters import chomp_heredoc

    return chomp_heredoc(f.data) if f.chomp else f.data


def args_of(state: StageState, cmd: c.RunCommand) -> list[str]:
    """The process of a RUN, BuildKit's heredoc rules: a sole heredoc with a shebang runs as a file from
    /dev/pipes, a sole heredoc without one is the shell script, other heredocs are put back into the script."""
    if not cmd.prepend_shell:
        return list(cmd.cmd_line or ())
    script = " ".join(cmd.cmd_line or ())
    sole = _sole_heredoc(cmd)
    if sole is not None:
        if sole.data.startswith("#!"):
            return [f"{PIPES}/{sole.name}"]
        script = _data(sole)
    elif cmd.files:
        script += "".join("\n" + f.data + f.name for f in cmd.files)
    return [*state.shell(), script]


def _heredoc_mount(b: Builder, cmd: c.RunCommand, stack: contextlib.ExitStack) -> list[StepMount]:
    sole = _sole_heredoc(cmd)
    if sole is None or not sole.data.startswith("#!"):
        return []
    import shutil
    import tempfile

    from skiff.build.builder.layers import tmp_dir

    d = Path(tempfile.mkdtemp(dir=tmp_dir(b), prefix="pipes-"))
    stack.callback(shutil.rmtree, d, True)
    f = d / sole.name
    f.write_text(_data(sole))
    os.chmod(f, 0o755)
    os.chmod(d, 0o755)
    return [StepMount(PIPES, d, readonly=True)]


def network_of(b: Builder, cmd: c.RunCommand) -> str:
    net = cmd.network or b.opts.network
    if net in ("default", "", "bridge"):
        return "host"
    if net not in ("none", "host"):
        raise RunError(f"network mode {net!r} is not supported for RUN (none, host or default)")
    return net


def run_key(b: Builder, state: StageState, cmd: c.RunCommand) -> str:
    mounts = [(m.type, m.target, m.source, m.from_, m.cache_id, m.readonly, m.cache_sharing, m.uid, m.gid, m.mode)
              for m in cmd.mounts]
    src_sums = []
    for m in cmd.mounts:
        if m.type != "bind":
            continue
        if m.from_ and b.context_dir(m.from_) is not None:
            named = b.named_context(m.from_)
            src_sums.append("named:" + named.checksum(os.path.normpath("/" + m.source).lstrip("/")))
        elif m.from_:
            src_sums.append("from:" + b.source_key(m.from_))
        elif b.context.root is not None:
            src_sums += [b.context.checksum(rel) for rel in b.context.resolve(m.source or ".", where=cmd.location)]
    files = [f.data for f in cmd.files]
    key: list[object] = [args_of(state, cmd), mounts, src_sums, files, network_of(b, cmd)]
    if b.opts.add_hosts:  # BuildKit's ExecOp carries its extra hosts: they are part of the step
        key.append(list(b.opts.add_hosts))
    return json.dumps(key)


def _cache_dir(b: Builder, m: c.Mount, target: str, stack: contextlib.ExitStack) -> Path:
    """The host folder of a cache mount. Its name is a hash of the id (SECURITY.md #23: ``../`` in an id
    cannot leave the cache root); ``sharing=locked`` holds a lock for the step, ``private`` takes a fresh
    instance when another build holds the shared one."""
    cache_id = m.cache_id or target
    base = b.cache.mount_dir(cache_id)
    if m.cache_sharing in ("locked", "private"):
        lock = os.open(str(base) + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        stack.callback(os.close, lock)
        if m.cache_sharing == "locked":
            fcntl.flock(lock, fcntl.LOCK_EX)
        else:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                base = b.cache.mount_dir(cache_id + "\0private\0" + os.urandom(16).hex())
                import shutil

                stack.callback(shutil.rmtree, base, True)
    data = base / "data"
    if not data.is_dir():
        data.mkdir(mode=0o755)
        os.chown(data, m.uid or 0, m.gid or 0)
        os.chmod(data, m.mode if m.mode is not None else 0o755)
    return data


def _from_root(b: Builder, from_: str, stack: contextlib.ExitStack) -> Path:
    """The root a ``from=`` refers to: a named build context folder, or a stage/image mounted for the step."""
    named = b.context_dir(from_)
    if named is not None:
        return named
    layers = b.layers_of(from_)
    _, root = stack.enter_context(mounted_layers(b, layers))
    return root


def _explicit_target(m: c.Mount) -> bool:
    """Whether the --mount text names a target (the parser fills in /run/secrets/ID for secrets)."""
    import csv

    fields = next(csv.reader([m.spec]), []) if m.spec else []
    return any(f.partition("=")[0].strip().lower() in ("target", "dst", "destination") for f in fields)


def _secret_env(b: Builder, cmd: c.RunCommand) -> list[str]:
    """``--mount=type=secret,env=VAR``: the secret in the step's environment (never in the image)."""
    out = []
    for m in cmd.mounts:
        if m.type == "secret" and m.env:
            src = b.opts.secrets.get(m.cache_id or os.path.basename(m.target or ""))
            if src is not None:
                out.append(f"{m.env}={src.read_text().rstrip(chr(10))}")
    return out


def ssh_mounts(b: Builder, cmd: c.RunCommand, cwd: str) -> list[tuple[int, tuple[str, Path]]]:
    """``--mount=type=ssh``: (index in cmd.mounts, (target, agent socket)) for each one forwarded with
    ``--ssh ID=SOCKET``. BuildKit's rules: the Nth ssh mount (counting from 0) defaults to
    /run/buildkit/ssh_agent.N; an id the build was not given is skipped, or fails when ``required``."""
    out = []
    n = 0
    for i, m in enumerate(cmd.mounts):
        if m.type != "ssh":
            continue
        sid = m.cache_id or "default"
        target = m.target or f"/run/buildkit/ssh_agent.{n}"
        n += 1
        sock = b.opts.ssh.get(sid)
        if sock is None:
            if m.required:
                raise RunError(f"no SSH key {sid!r} forwarded from the client (pass --ssh {sid}=SOCKET)")
            continue
        if not target.startswith("/"):
            target = os.path.join(cwd, target)
        out.append((i, (target, sock)))
    return out


def _ssh_env(b: Builder, cmd: c.RunCommand, cwd: str, env: list[str]) -> list[str]:
    """SSH_AUTH_SOCK names the first forwarded agent unless the step's environment sets it (BuildKit's)."""
    mounts = ssh_mounts(b, cmd, cwd)
    if not mounts or any(e.startswith("SSH_AUTH_SOCK=") for e in env):
        return []
    return [f"SSH_AUTH_SOCK={mounts[0][1][0]}"]


def _hosts_file(b: Builder, stack: contextlib.ExitStack) -> Path:
    """``--add-host``: the step's /etc/hosts as BuildKit writes it (its sandbox's names, then each entry)."""
    import shutil
    import tempfile

    from skiff.build.builder.layers import tmp_dir

    d = Path(tempfile.mkdtemp(dir=tmp_dir(b), prefix="hosts-"))
    stack.callback(shutil.rmtree, d, True)
    lines = ["127.0.0.1\tlocalhost buildkitsandbox", "::1\tlocalhost ip6-localhost ip6-loopback"]
    for entry in b.opts.add_hosts:
        name, _, ip = entry.partition(":")
        lines.append(f"{ip}\t{name}")
    f = d / "hosts"
    f.write_text("\n".join(lines) + "\n")
    os.chmod(f, 0o644)
    os.chmod(d, 0o755)
    return f


def _writable_copy(b: Builder, src: Path, stack: contextlib.ExitStack) -> Path:
    """A throw-away writable view of a host folder (an overlay) or file (a copy)."""
    if src.is_dir() and not src.is_symlink():
        return stack.enter_context(overlay_over(b, src))
    import shutil
    import tempfile

    from skiff.build.builder.layers import tmp_dir

    d = Path(tempfile.mkdtemp(dir=tmp_dir(b), prefix="bindfile-"))
    stack.callback(shutil.rmtree, d, True)
    dst = d / src.name
    shutil.copy2(src, dst, follow_symlinks=False)
    return dst


def step_mounts(b: Builder, state: StageState, cmd: c.RunCommand, stack: contextlib.ExitStack) -> list[StepMount]:
    from skiff.archive import safe_join

    out: list[StepMount] = []
    cwd = state.config.config.working_dir or "/"
    ssh = dict(ssh_mounts(b, cmd, cwd))
    for i, m in enumerate(cmd.mounts):
        if m.type == "ssh":
            if i in ssh:
                out.append(StepMount(ssh[i][0], ssh[i][1], readonly=False))
            continue
        target = m.target if m.target.startswith("/") else os.path.join(cwd, m.target)
        if m.type == "cache":
            out.append(StepMount(target, _cache_dir(b, m, target, stack), readonly=m.readonly))
        elif m.type == "tmpfs":
            out.append(StepMount(target, None, readonly=False, kind="tmpfs", size=m.size))
        elif m.type == "secret":
            sid = m.cache_id or os.path.basename(m.target or "")
            src = b.opts.secrets.get(sid)
            if src is None:
                if m.required:
                    raise RunError(f"secret {sid} not found (pass --secret id={sid},src=FILE)")
                continue
            if m.env is None or _explicit_target(m):  # env= alone puts the secret only in the environment
                out.append(StepMount(m.target or f"/run/secrets/{sid}", src, readonly=True))
        elif m.type == "bind":
            if m.from_:
                root = _from_root(b, m.from_, stack)
            elif b.context.root is not None:
                root = b.context.root
            else:
                raise RunError("RUN --mount=type=bind needs a build context")
            # symlinks in ``source`` resolve inside the source root, never on the host (SECURITY.md #21)
            src = safe_join(root, m.source or ".")
            if not os.path.lexists(src):
                raise RunError(f"--mount=type=bind: source {m.source!r} not found"
                               + (f" in {m.from_!r}" if m.from_ else " in the build context"))
            if not m.readonly and (not m.from_ or b.context_dir(m.from_) is not None):
                src = _writable_copy(b, src, stack)  # writes are discarded, the host folder never changes
            out.append(StepMount(target, src, readonly=m.readonly))
        else:
            raise RunError(f"RUN --mount=type={m.type} is not supported")
    return out


def run(b: Builder, n: int, state: StageState, cmd: c.RunCommand) -> None:
    args = args_of(state, cmd)
    t0 = time.monotonic()

    def output(data: bytes) -> None:
        for line in data.splitlines():
            b.progress.log(n, line.decode(errors="replace"))

    env = state.run_env(b.args.run_env(state.args)) + _secret_env(b, cmd)
    env += _ssh_env(b, cmd, state.config.config.working_dir or "/", env)
    network = network_of(b, cmd)
    if cmd.security == "insecure":  # SECURITY.md #19: no privileged step without an entitlement
        raise RunError("RUN --security=insecure is not allowed (skiff grants no security.insecure entitlement)")
    with contextlib.ExitStack() as stack:
        mounts = step_mounts(b, state, cmd, stack) + _heredoc_mount(b, cmd, stack)
        if b.opts.add_hosts:  # first: a --mount at /etc/hosts in the step still wins
            mounts.insert(0, StepMount("/etc/hosts", _hosts_file(b, stack), readonly=False))
        ca = b.opts.ca_bundle
        if ca is not None:
            mounts.append(StepMount(CA_PATH, ca, readonly=True))
            env += [f"SSL_CERT_FILE={CA_PATH}", f"REQUESTS_CA_BUNDLE={CA_PATH}", f"PIP_CERT={CA_PATH}"]
        if network == "host" and Path("/etc/resolv.conf").is_file():
            mounts.append(StepMount("/etc/resolv.conf", Path("/etc/resolv.conf").resolve(), readonly=True))
        drv = b.store.driver
        cid = "build-" + os.urandom(10).hex()
        drv.create_rw(cid, dirs_of(b, state.layers), volatile=True)
        try:
            root = drv.mount(cid)
            try:
                view = RootView(drv.lower_dirs(cid))
                created = [m.target for m in mounts if not view.exists(m.target)]
                uid, gid, extra = resolve_user(reader(root), state.config.config.user or "root",
                                               where=f"{cmd.location}: USER")
                cwd = state.config.config.working_dir or "/"
                step = RunStep(rootfs=root, args=tuple(args), env=tuple(env), cwd=cwd, uid=uid, gid=gid,
                               additional_gids=extra, mounts=tuple(mounts), network=network,
                               hostname="buildkitsandbox", output=output)
                code = b.runner.run(step)
            finally:
                drv.unmount(cid)
            if code != 0:
                shown = " ".join(json.dumps(a) if " " in a else a for a in args)
                raise RunError(f"{cmd.location}: {cmd.original.strip()}: process \"{shown}\" did not complete "
                               f"successfully: exit code: {code}")
            upper = drv.upper_dir(cid)
            remove_mount_stubs(upper, created, view)
            add_layer_from(b, state, upper, "overlay-upper")
        finally:
            drv.remove(cid)
    b.progress.done(n, time.monotonic() - t0)
    state.add_history(b.created, "RUN " + state.run_string(args) + " # buildkit", empty=False)


def remove_mount_stubs(upper: Path, targets: list[str], view: RootView) -> None:
    """Mount points the runtime had to create for a step's mounts leave no trace in its layer.

    The upper dir is container-controlled: every component is opened relative to its parent with
    O_NOFOLLOW|O_DIRECTORY, so a symlink the step planted is never followed (SECURITY.md #18)."""
    for t in targets:
        parts = [p for p in t.strip("/").split("/") if p and p != "."]
        if not parts or ".." in parts:
            continue
        first = 0  # the first missing component is where the runtime started creating
        while first < len(parts) and view.exists("/".join(parts[: first + 1])):
            first += 1
        fds = [os.open(upper, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)]
        try:
            for part in parts[:-1]:
                try:
                    fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                       dir_fd=fds[-1]))
                except OSError:
                    break
            # fds[i] is the folder holding parts[i]; remove from the deepest reached up to ``first``
            for depth in range(len(fds) - 1, first - 1, -1):
                name = parts[depth]
                try:
                    st = os.stat(name, dir_fd=fds[depth], follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    with contextlib.suppress(OSError):
                        os.rmdir(name, dir_fd=fds[depth])  # only when empty
                elif stat.S_ISREG(st.st_mode) and st.st_size == 0 and depth == len(parts) - 1:
                    os.unlink(name, dir_fd=fds[depth])
        finally:
            for fd in fds:
                os.close(fd)

