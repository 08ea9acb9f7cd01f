"""Docker's ``--filter key=value`` arguments (moby's filters.Args), shared by ps, images, volume ls and
prune: values by key, one error line for a malformed argument or a key the command does not take."""

from __future__ import annotations

from skiff.errors import InvalidArgumentError


def by_key(filters: list[str] | tuple[str, ...], accepted: tuple[str, ...] | frozenset[str],
           booleans: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """``filters`` as {key: [values]}; the keys in ``booleans`` take only true/false/1/0 (``dangling``)."""
    out: dict[str, list[str]] = {}
    for f in filters:
        key, eq, value = f.partition("=")
        if not eq:
            raise InvalidArgumentError(f"bad format of filter (expected name=value): {f}")
        if key not in accepted:
            raise InvalidArgumentError(f"invalid filter '{key}'")
        out.setdefault(key, []).append(value)
    for key in booleans:  # moby's GetBoolOrDefault: some true or some false value, not both; else all named
        given = {v.lower() for v in out.get(key, [])}
        if given and bool(given & {"true", "1"}) == bool(given & {"false", "0"}):
            raise InvalidArgumentError(f"invalid filter '{key}=[{' '.join(out[key])}]'")
    return out
