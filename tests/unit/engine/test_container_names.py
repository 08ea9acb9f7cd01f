"""Generated container names: a name another container holds is never handed out again."""

from __future__ import annotations

from skiff.engine.containers_create import _ADJ, _NOUN, random_name


def test_random_name_avoids_taken_names_even_when_all_plain_ones_are() -> None:
    plain = {f"{a}_{n}" for a in _ADJ for n in _NOUN}
    digits = {f"{p}{d}" for p in plain for d in range(10)}
    for _ in range(50):
        assert random_name(set()) in plain
        got = random_name(plain)
        assert got not in plain and got[-1].isdigit()
        assert random_name(plain | digits) not in plain | digits
