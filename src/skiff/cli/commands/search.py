"""skiff search [OPTIONS] [REGISTRY/]TERM: Docker's columns (NAME, DESCRIPTION, STARS, OFFICIAL), --limit,
--filter, --format, --no-trunc. A registry other than Docker Hub is searched through its catalog (podman's rule)."""

from __future__ import annotations

from typing import Any

from skiff.cli.commands.pull import add_registry_flags, registry_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse

# docker/cli's searchContext headers (formatter.NameHeader, DescriptionHeader; STARS, OFFICIAL, AUTOMATED)
HEADERS = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL",
           "IsAutomated": "AUTOMATED"}
DEFAULT_FORMAT = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
DESCRIPTION_WIDTH = 45
AUTOMATED_WARNING = ('WARNING: the "is-automated" filter is deprecated, and searching for "is-automated=true" '
                     "will not yield any results in future.")


def _limit(v: str) -> int:
    import argparse

    try:
        return int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f'invalid argument "{v}" for "--limit" flag: strconv.ParseInt: '
                                         f'parsing "{v}": invalid syntax') from None


def configure(p: argparse.ArgumentParser) -> None:
    from skiff.engine.registry_search import DEFAULT_LIMIT

    p.add_argument("term", metavar="TERM", help="[REGISTRY/]TERM: a registry host first searches that registry")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided (stars=N, is-official=BOOL)")
    p.add_argument("--format", help="Pretty-print search using a Go template")
    p.add_argument("--limit", type=_limit, default=DEFAULT_LIMIT, help="Max number of search results (default 25)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    add_registry_flags(p)


def _bool(value: bool, json: bool) -> str:
    """docker/cli's searchContext.formatBool: "[OK]" or "" in a table, "true"/"false" in JSON."""
    if json:
        return "true" if value else "false"
    return "[OK]" if value else ""


def rows(results: list[Any], *, no_trunc: bool) -> list[dict[str, Any]]:
    """docker/cli's searchContext of each result: the description on one line (cut at 45 unless
    ``no_trunc``), stars as text, "[OK]" for true; its JSON has "true"/"false" instead."""
    from skiff.cli.commands._fmt import ellipsis

    out = []
    for r in results:
        desc = r.description.replace("\n", " ").replace("\r", " ")
        fields = {"Name": r.name, "Description": desc if no_trunc else ellipsis(desc, DESCRIPTION_WIDTH),
                  "StarCount": str(r.star_count)}
        out.append({**fields, "IsOfficial": _bool(r.is_official, False),
                    "IsAutomated": _bool(r.is_automated, False),
                    "_json": {**fields, "IsOfficial": _bool(r.is_official, True),
                              "IsAutomated": _bool(r.is_automated, True)}})
    return out


def run(args: argparse.Namespace, opts: Any) -> int:
    import sys

    from skiff.cli.commands._fmt import render
    from skiff.engine.registry_search import SearchOptions, search

    if any(f.partition("=")[0] == "is-automated" for f in args.filter):
        print(AUTOMATED_WARNING, file=sys.stderr)
    results = search(opts.root, SearchOptions(args.term, args.limit, tuple(args.filter), registry_options(args)))
    fmt = args.format if args.format and args.format != "table" else DEFAULT_FORMAT
    out = render(fmt, rows(results, no_trunc=args.no_trunc), HEADERS, go_type="*registry.searchContext")
    if out:
        print(out)
    return 0
