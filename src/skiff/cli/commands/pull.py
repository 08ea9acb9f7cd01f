"""skiff pull [-q] [--platform P] REF (also `skiff image pull`)."""

from __future__ import annotations

from typing import Any

from skiff.errors import InvalidArgumentError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("true", "1", "yes", "on"):
        return True
    if t in ("false", "0", "no", "off"):
        return False
    raise InvalidArgumentError(f"invalid boolean value {text!r}")


def add_registry_flags(p: argparse.ArgumentParser) -> None:
    """Flags every registry command shares."""
    p.add_argument("--tls-verify", type=parse_bool, nargs="?", const=True, default=None, metavar="BOOL",
                   help="Require HTTPS and verify certificates (default true; false also allows plain http)")
    p.add_argument("--authfile", help="Authentication file (default $REGISTRY_AUTH_FILE, "
                   "$XDG_RUNTIME_DIR/containers/auth.json)")
    p.add_argument("--retry", type=int, default=None, help="Retries after 429/5xx/broken connections (default 3)")
    p.add_argument("--retry-delay", type=float, default=None, metavar="SECONDS",
                   help="First delay between retries, doubled each time (default 0.5)")


def registry_options(args: argparse.Namespace) -> Any:
    from skiff.engine.registry import RegistryOptions

    return RegistryOptions(tls_verify=args.tls_verify, authfile=args.authfile,
                           retry=getattr(args, "retry", None), retry_delay=getattr(args, "retry_delay", None))


class LayerProgress:
    """Per-layer progress: rich bars (size, speed) on a terminal, plain lines otherwise, nothing with -q.

    Called from the engine's download threads; everything here is thread-safe."""

    LABELS = {"exists": "Already exists", "downloaded": "Download complete", "extracting": "Extracting",
              "done": "Pull complete", "pushed": "Pushed", "mounted": "Mounted from another repository",
              "start": "Downloading"}

    def __init__(self, quiet: bool, verb: str = "Downloading", stream: Any = None) -> None:
        import sys
        import threading

        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verb = verb
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) and not quiet
        self._lock = threading.Lock()
        self._tasks: dict[str, Any] = {}
        self._progress: Any = None
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(TextColumn("{task.fields[short]}: {task.description:<18}"), BarColumn(),
                                      DownloadColumn(), TransferSpeedColumn(),
                                      console=Console(file=self.stream), transient=False)

    def __enter__(self) -> LayerProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def line(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(text, highlight=False, markup=False)
            else:
                print(text, file=self.stream, flush=True)

    def __call__(self, key: str, event: str, value: int) -> None:
        if self.quiet:
            return
        short = key.split(":", 1)[-1][:12]
        label = self.verb if event == "start" else self.LABELS.get(event, event)
        if self._progress is None:
            if event != "progress":
                size = f" ({_size(value)})" if event == "start" else ""
                self.line(f"{short}: {label}{size}")
            return
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._progress.add_task(label, total=value or None, short=short)
                self._tasks[key] = task
        if event == "progress":
            self._progress.update(task, advance=value)
        elif event in ("exists", "done", "pushed", "mounted", "downloaded"):
            self._progress.update(task, description=label, completed=value, total=value or 1)
        else:
            self._progress.update(task, description=label)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n}B"


def engine_context(opts: Any) -> Any:
    from skiff.engine.context import EngineContext

    return EngineContext.from_options(opts)


def add_content_trust_flag(p: argparse.ArgumentParser, what: str) -> None:
    """docker's --disable-content-trust: a pflag boolean, default true; skiff has no Notary, so it changes nothing."""
    p.add_argument("--disable-content-trust", action="store_true", default=True,
                   help=f"Skip image {what} (default true; skiff has no content trust)")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference")
    p.add_argument("--all-tags", "-a", action="store_true", help="Download all tagged images in the repository")
    p.add_argument("--platform", help="os/arch[/variant] (default: the host's)")
    p.add_argument("--quiet", "-q", action="store_true", help="Print only the image reference")
    add_content_trust_flag(p, "verification")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry import PullOptions, pull
    from skiff.oci import reference

    if args.all_tags:
        return _pull_all_tags(args, opts)
    ref = reference.parse(args.reference)
    progress = LayerProgress(args.quiet)
    if ":" not in args.reference.rsplit("/", 1)[-1] and "@" not in args.reference:
        progress.line("Using default tag: latest")
    progress.line(f"{ref.tag or ref.digest}: Pulling from {ref.familiar_name()}")
    with progress:
        report = pull(engine_context(opts), PullOptions(args.reference, args.platform, registry_options(args)),
                      progress)
    if not args.quiet:
        print(f"Digest: {report.repo_digest.split('@', 1)[1]}")
        shown = reference.parse(report.reference).familiar()
        status = "Image is up to date for" if report.up_to_date else "Downloaded newer image for"
        print(f"Status: {status} {shown}")
    print(report.reference)
    return 0


def _pull_all_tags(args: argparse.Namespace, opts: Any) -> int:
    """moby's pull of a repository: each tag's "TAG: Pulling from NAME", layers and digest, then one status
    line for the repository and its name."""
    from skiff.engine.registry import PullOptions, pull_all_tags, repository_only
    from skiff.oci import reference

    repository_only(args.reference)  # the error before any output
    progress = LayerProgress(args.quiet)

    def starting(ref: reference.Reference) -> None:
        progress.line(f"{ref.tag}: Pulling from {ref.familiar_name()}")

    def pulled(report: Any) -> None:
        if not args.quiet:
            print(f"Digest: {report.repo_digest.split('@', 1)[1]}", flush=True)

    with progress:
        report = pull_all_tags(engine_context(opts), PullOptions(args.reference, args.platform,
                                                                 registry_options(args)),
                               progress, starting, pulled)
    if not args.quiet:
        shown = reference.parse(report.repository, default_tag=False).familiar_name()
        status = "Image is up to date for" if report.up_to_date else "Downloaded newer image for"
        print(f"Status: {status} {shown}")
    print(report.repository)
    return 0
