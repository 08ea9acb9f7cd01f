"""skiff push [-a] [-q] SOURCE [DESTINATION] (also `skiff image push`)."""

from __future__ import annotations

from typing import Any

from skiff.cli.commands.pull import (
    LayerProgress,
    add_content_trust_flag,
    add_registry_flags,
    engine_context,
    registry_options,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def _size_arg(text: str) -> int:
    from skiff.errors import InvalidArgumentError

    t = text.strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(t[-1:], 1)
    try:
        n = int(t[:-1] if t[-1:] in "kmg" else t) * mult
    except ValueError:
        raise InvalidArgumentError(f"invalid size {text!r}") from None
    if n <= 0:
        raise InvalidArgumentError(f"invalid size {text!r}")
    return n


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="Image in the store (name or ID)")
    p.add_argument("destination", nargs="?", help="Registry reference (default: the source's name)")
    p.add_argument("--all-tags", "-a", action="store_true", help="Push all tags of an image to the repository")
    p.add_argument("--quiet", "-q", action="store_true", help="Suppress progress output")
    p.add_argument("--chunk-size", type=_size_arg, default=None,
                   help="Upload blobs in chunks of this size (e.g. 5m); default one request per blob")
    add_content_trust_flag(p, "signing")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry import PushOptions, push, push_all_tags, repository_only
    from skiff.oci import reference

    text = args.destination or args.source
    progress = LayerProgress(args.quiet, verb="Pushing")
    options = PushOptions(args.source, args.destination, registry_options(args), args.chunk_size)

    def pushed(report: Any) -> None:
        if not args.quiet:
            print(f"{report.tag or 'latest'}: digest: {report.manifest_digest} size: {report.size}", flush=True)

    if args.all_tags:
        repository_only(args.source)
        target = repository_only(text)
        progress.line(f"The push refers to repository [{target.name}]")
        with progress:
            push_all_tags(engine_context(opts), options, progress, pushed)
        return 0
    target = reference.parse(text)
    if not reference.looks_like_id(text) and reference.parse(text, default_tag=False).tag is None \
            and target.digest is None:
        progress.line(f"Using default tag: {target.tag}")  # docker/cli's words for a name without a tag
    progress.line(f"The push refers to repository [{target.name}]")
    with progress:
        report = push(engine_context(opts), options, progress)
    pushed(report)
    return 0
