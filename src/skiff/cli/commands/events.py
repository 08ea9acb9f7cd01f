"""skiff events / system events: Docker's real-time events, read from the run-state root's event log
(skiff.engine.events), with --since, --until, --filter and --format."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.gotemplate_funcs import GoMap, GoStruct

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse

POLL = 0.05  # seconds between looks at the log while following it


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output based on conditions provided")
    p.add_argument("--format", help="Format the output using the given Go template")
    p.add_argument("--since", help="Show all events created since timestamp")
    p.add_argument("--until", help="Stream events until this timestamp")


def _time(value: str | None, now: Any) -> int | None:
    """docker/cli turns --since/--until into Unix time before asking the daemon (timetypes.GetTimestamp)."""
    if not value:
        return None
    from skiff.engine.timetypes import get_timestamp, parse_timestamps
    from skiff.errors import InvalidArgumentError

    try:
        sec, nsec = parse_timestamps(get_timestamp(value, now))
    except ValueError as e:
        raise InvalidArgumentError(str(e)) from None
    return sec * 1_000_000_000 + nsec


def run(args: argparse.Namespace, opts: object) -> int:
    import datetime as dt
    import time

    from skiff import events
    from skiff.engine.filterargs import by_key
    from skiff.errors import InvalidArgumentError

    f = by_key(args.filter, events.FILTER_KEYS)
    now = dt.datetime.now().astimezone()
    since, until = _time(args.since, now), _time(args.until, now)
    if until is not None and since is not None and until < since:
        raise InvalidArgumentError(f"`since` time ({args.since}) cannot be after `until` time ({args.until})")
    show = _printer(args.format)
    runroot = opts.runroot  # type: ignore[attr-defined]
    past, follower = events.read_all(runroot)
    try:
        if since is not None or until is not None:  # the daemon replays its buffer only when asked a time
            for m in events.select(past, f, since or 0, until):
                show(m)
        if until is not None and until < time.time_ns():
            return 0
        while until is None or time.time_ns() <= until:
            for m in events.select(follower.read(), f, None, until):
                show(m)
            time.sleep(POLL if until is None else max(0.0, min(POLL, (until - time.time_ns()) / 1e9)))
        for m in events.select(follower.read(), f, None, until):  # those written up to the end
            show(m)
    finally:
        follower.close()
    return 0


def _printer(fmt: str | None) -> Any:
    from skiff.events import pretty

    out = sys.stdout
    if not fmt:
        def show(m: dict[str, object]) -> None:
            out.write(pretty(m) + "\n")
            out.flush()

        return show
    from skiff.cli.render import render_template

    template = "{{json .}}" if fmt == "json" else fmt
    render_template(template, _Message({}))  # a template that cannot parse fails before any event

    def show_formatted(m: dict[str, object]) -> None:
        out.write(render_template(template, _Message(m), unescape=True) + "\n")
        out.flush()

    return show_formatted


class _Message(GoStruct):
    """An event for --format: its JSON keys (what ``{{json .}}`` prints) reached by the Go struct's field names
    (``.Status``, ``.ID``, ``.From``, ``.Type``, ``.Action``, ``.Actor.ID``, ``.Actor.Attributes``, ``.Scope``,
    ``.Time``, ``.TimeNano``); a field the event leaves out (omitempty) is its zero value."""

    FIELDS = {"Status": ("status", ""), "ID": ("id", ""), "From": ("from", ""), "Type": ("Type", ""),
              "Action": ("Action", ""), "Actor": ("Actor", None), "Scope": ("scope", ""), "Time": ("time", 0),
              "TimeNano": ("timeNano", 0)}

    def __init__(self, msg: dict[str, object]) -> None:
        actor = msg.get("Actor") or {}
        assert isinstance(actor, dict)
        data = dict(msg)
        data["Actor"] = GoStruct({"ID": actor.get("ID", ""), "Attributes": GoMap(actor.get("Attributes") or {})},
                                 go_type="events.Actor")
        super().__init__(data, go_type="events.Message")

    def __contains__(self, name: object) -> bool:
        return name in self.FIELDS

    def __getitem__(self, name: str) -> Any:
        key, zero = self.FIELDS[name]
        return dict.get(self, key, zero)
