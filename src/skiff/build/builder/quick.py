"""The no-op rebuild fast path: a memo of a whole build's inputs -> its result.

A build is a function of the Dockerfile, the options, the context's files, the images its FROM/--from names
resolve to and the cache records it used. After a successful build the memo records all of them (the context
as a stat signature of every file: path, type, mode, size, mtime_ns, inode, ctime_ns). When the next build has
the same inputs, the image it would produce is the one recorded; the memo replays the step lines
(``#N CACHED``) instead of parsing and dispatching. Anything changed, missing or unusual (--no-cache, --pull,
--output, no context, named contexts) takes the full path. This module imports only the stdlib (and skiff.hashes,
which imports nothing) so that the fast path stays fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from skiff.hashes import sha256

if TYPE_CHECKING:
    from skiff.build.builder.options import BuildOptions

VERSION = "1"


def _signature(root: Path, h: Any) -> None:
    base = os.fspath(root)
    stack = [""]
    while stack:
        rel = stack.pop()
        full = os.path.join(base, rel) if rel else base
        try:
            entries = sorted(os.scandir(full), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            r = f"{rel}/{e.name}" if rel else e.name
            st = e.stat(follow_symlinks=False)
            h.update(f"{r}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\n".encode(
                errors="surrogateescape"))
            if e.is_dir(follow_symlinks=False):
                stack.append(r)


class Memo:
    def __init__(self, path: Path, signature: str) -> None:
        self.path = path
        self.signature = signature

    @classmethod
    def prepare(cls, root: Path, opts: BuildOptions) -> Memo | None:
        """The memo slot for these options (None when the fast path does not apply)."""
        if (opts.context is None or opts.no_cache or opts.pull or opts.output or opts.build_contexts
                or opts.dockerfile_text is not None):
            return None
        df = opts.dockerfile or opts.context / "Dockerfile"
        try:
            text = df.read_bytes()
        except OSError:
            return None
        try:  # an ignore file next to a Dockerfile outside the context is an input too
            text += b"\0" + (df.parent / (df.name + ".dockerignore")).read_bytes()
        except OSError:
            pass
        key = sha256(json.dumps([
            VERSION, os.fspath(opts.context), os.fspath(df), sorted(opts.tags), sorted(opts.build_args.items()),
            sorted(opts.labels.items()), opts.target, opts.network, sorted(opts.no_cache_filter), opts.platform,
            opts.source_date_epoch, sorted((k, os.fspath(v)) for k, v in opts.secrets.items()),
            os.fspath(opts.ca_bundle) if opts.ca_bundle else None, list(opts.add_hosts), sorted(opts.ssh),
        ]).encode() + b"\0" + text).hexdigest()
        h = sha256()
        _signature(opts.context, h)
        return cls(root / "buildcache" / "quick" / f"{key}.json", h.hexdigest())

    def replay(self, root: Path, opts: BuildOptions, out: TextIO) -> str | None:
        """The image ID when nothing changed since the recorded build (its lines printed), else None."""
        try:
            rec = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return None
        if rec.get("signature") != self.signature:
            return None
        records = root / "buildcache" / "records"
        if not all(os.path.exists(records / f"{k}.json") for k in rec["records"]):
            return None
        from skiff.store.images import ImageIndex, find

        images = ImageIndex(os.fspath(root)).load()
        by_id = {r.id: r for r in images}
        final = by_id.get(rec["image_id"])
        if final is None or final.manifest != rec["manifest"]:
            return None
        for ref, image_id in rec["images"].items():
            try:
                if find(images, ref)[0].id != image_id:
                    return None
            except Exception:
                return None
        if not all(n in final.names for n in rec["names"]):
            return None
        if not opts.quiet:
            out.write("".join(line + "\n" for line in rec["lines"]))
            out.flush()
        if opts.iidfile:
            opts.iidfile.write_text(rec["image_id"])
        return str(rec["image_id"])

    def save(self, *, lines: list[str], images: dict[str, str], records: list[str], image_id: str,
             manifest: str, names: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"signature": self.signature, "lines": lines, "images": images, "records": records,
                           "image_id": image_id, "manifest": manifest, "names": names})
        from skiff.lightfs import replace_cache

        replace_cache(self.path, data.encode())

