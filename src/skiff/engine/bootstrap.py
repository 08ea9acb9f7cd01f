"""`skiff image bootstrap`: a Debian base image made with debootstrap (minbase), slimmed like the official
-slim images (no docs, man pages or apt lists), with no registry involved.

With python3 in --include the image behaves like the official python image for a Dockerfile: `python` and
`pip` on PATH (symlinks in /usr/local/bin), Cmd ["python3"], LANG=C.UTF-8, and `pip install` allowed into the
image: Debian's PEP 668 marker (/usr/lib/python3.*/EXTERNALLY-MANAGED) is REMOVED (nothing set in Env).
Suite, packages and mirror are recorded in labels (org.skiff.bootstrap.*) and in the history.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from skiff.engine.context import EngineContext
from skiff.errors import InvalidArgumentError, SkiffError
from skiff.oci import image as oci
from skiff.oci import reference
from skiff.records import dataclass, field

DEFAULT_MIRROR = "http://deb.debian.org/debian"
RECIPE_VERSION = 1  # bump when the image this module makes changes for the same inputs (test caches key on it)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PKG = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_SUITE = re.compile(r"^[a-z][a-z0-9-]*$")
DPKG_EXCLUDES = """# skiff image bootstrap: keep the image slim, as the official -slim images do
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
"""
APT_CLEAN = """# skiff image bootstrap: no package caches in the image
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
"""


@dataclass
class BootstrapOptions:
    """What `skiff image bootstrap` was asked for: name, Debian suite, extra packages, mirror, variant."""

    reference: str
    suite: str = "bookworm"
    include: list[str] = field(default_factory=list)
    mirror: str | None = None
    variant: str = "minbase"


def host_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The first Debian (non-security) mirror URL configured on this host, else deb.debian.org."""
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        urls = re.findall(r"^\s*URIs:\s*(\S+)", text, re.M) + re.findall(
            r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M)
        for u in urls:
            if "security" not in u and u.startswith(("http://", "https://", "file:/")):
                return str(u).rstrip("/")
    return DEFAULT_MIRROR


def _slim(rootfs: Path) -> None:
    """Drop what the official -slim images drop: docs (keeping copyright files), man/info pages, apt lists
    and caches, logs; and keep future apt runs from bringing them back (dpkg path-exclude, apt clean hook)."""
    for doc in glob.glob(str(rootfs / "usr/share/doc/*")):
        if os.path.isdir(doc) and not os.path.islink(doc):
            for entry in os.listdir(doc):
                if entry != "copyright":
                    p = os.path.join(doc, entry)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        else:
            os.unlink(doc)
    for pattern in ("usr/share/man/*", "usr/share/info/*", "usr/share/groff/*", "usr/share/lintian/*",
                    "var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/log/*.log",
                    "var/log/apt/*", "var/cache/debconf/*-old", "var/lib/dpkg/*-old"):
        for p in glob.glob(str(rootfs / pattern)):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            elif not p.endswith("/lock"):
                os.unlink(p)
    (rootfs / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/dpkg/dpkg.cfg.d/docker").write_text(DPKG_EXCLUDES)
    (rootfs / "etc/apt/apt.conf.d").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(APT_CLEAN)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    etc_hostname = rootfs / "etc/hostname"
    if etc_hostname.exists():
        etc_hostname.write_text("")


def _python_setup(rootfs: Path) -> bool:
    """python -> python3, pip -> pip3 in /usr/local/bin; drop the PEP 668 marker. True if python3 is there."""
    if not (rootfs / "usr/bin/python3").exists() and not (rootfs / "usr/bin/python3").is_symlink():
        return False
    local = rootfs / "usr/local/bin"
    local.mkdir(parents=True, exist_ok=True)
    for name, target in (("python", "/usr/bin/python3"), ("pip", "/usr/bin/pip3")):
        if os.path.lexists(rootfs / target.lstrip("/")) and not os.path.lexists(local / name):
            os.symlink(target, local / name)
    for marker in glob.glob(str(rootfs / "usr/lib/python3*/EXTERNALLY-MANAGED")):
        os.unlink(marker)
    return True


def _unmount_below(path: Path) -> None:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split(" ")[4] for line in f]
    for m in sorted((m for m in mounts if m.startswith(real + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)


def bootstrap(ctx: EngineContext, opts: BootstrapOptions) -> str:
    """Run debootstrap into a temp folder under ROOT/tmp and store the result as a one-layer image."""

    name = str(reference.parse(opts.reference))
    if not _SUITE.match(opts.suite):
        raise InvalidArgumentError(f"invalid --suite {opts.suite!r}")
    for p in opts.include:
        if not _PKG.match(p):
            raise InvalidArgumentError(f"invalid package name in --include: {p!r}")
    mirror = opts.mirror or host_mirror()
    if not re.match(r"^(https?|file)://\S+$", mirror):
        raise InvalidArgumentError(f"invalid --mirror {mirror!r} (want an http(s):// or file:// URL)")
    exe = shutil.which("debootstrap")
    if exe is None:
        raise SkiffError("debootstrap is not installed", hint="apt-get install debootstrap")
    with ctx.store.writing():  # gc leaves our folder under ROOT/tmp alone
        return _run(ctx, opts, name, mirror, exe)


def _run(ctx: EngineContext, opts: BootstrapOptions, name: str, mirror: str, exe: str) -> str:
    from skiff.engine.image_io import now_rfc3339
    from skiff.engine.layer_image import commit_rootfs_image

    ctx.tmp.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=ctx.tmp, prefix="bootstrap-"))
    rootfs = work / "rootfs"
    cmd = [exe, f"--variant={opts.variant}", "--force-check-gpg" if mirror.startswith("http") else "--no-check-gpg"]
    if opts.include:
        cmd.append("--include=" + ",".join(opts.include))
    cmd += [opts.suite, str(rootfs), mirror]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
        _unmount_below(rootfs)
        if r.returncode != 0:
            tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or ["(no output)"]
            raise SkiffError(f"debootstrap {opts.suite} from {mirror} failed: {tail[0]}")
        _slim(rootfs)
        has_python = _python_setup(rootfs)
        created = now_rfc3339()
        pkgs = ",".join(opts.include)
        labels = {"org.skiff.bootstrap.suite": opts.suite, "org.skiff.bootstrap.packages": pkgs,
                  "org.skiff.bootstrap.mirror": mirror, "org.skiff.bootstrap.variant": opts.variant}
        env = [f"PATH={PATH}", "LANG=C.UTF-8"]
        cmd_ = ["python3"] if has_python else ["bash"]
        history = [oci.History(created=created, created_by=" ".join(["debootstrap", *cmd[1:-3], opts.suite,
                                                                      mirror]),
                               comment=f"skiff image bootstrap: suite {opts.suite}, packages {pkgs or '-'}"),
                   oci.History(created=created, created_by=f"ENV {' '.join(env)}", empty_layer=True),
                   oci.History(created=created, created_by=f'CMD ["{cmd_[0]}"]', empty_layer=True)]

        def edit(c: oci.ContainerConfig) -> oci.ContainerConfig:
            return oci.ContainerConfig(env=env, cmd=cmd_, labels=labels)

        return commit_rootfs_image(ctx, rootfs, work, names=[name], edits=edit, created_by=history[0].created_by
                                   or "", created=created, history=history)
    finally:
        _unmount_below(rootfs)
        shutil.rmtree(work, ignore_errors=True)
