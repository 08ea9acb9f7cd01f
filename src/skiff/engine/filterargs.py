"""Docker's ``--filter key=value`` arguments (moby's filters.Args), shared by ps, images, volume ls and
prune: values by key, one error line for a malformed argument or a key the command does not take."""

from __future__ import annotations

from skiff.errors import InvalidArgumentError

_BOOLS = ("true", "false", "1", "0")


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
        if key in booleans and value.lower() not in _BOOLS:
            raise InvalidArgumentError(f"invalid filter '{key}={value}'")
        out.setdefault(key, []).append(value)
    return out
