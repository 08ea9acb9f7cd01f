"""The restart policy's back-off (moby's restartmanager): 100 ms, doubled per restart up to a minute, back to
100 ms once the container ran for 10 s."""

from __future__ import annotations

from skiff.engine.containers import restart_backoff_ms
from skiff.engine.containers_state import State


def _st(ran_s: float, prev_ms: int) -> State:
    ns = int(ran_s * 1e9)
    end = f"2024-01-01T00:00:{10 + ns // 10**9:02d}.{ns % 10**9:09d}Z"
    return State(status="exited", started_at="2024-01-01T00:00:10.000000000Z", finished_at=end,
                 restart_delay_ms=prev_ms)


def test_backoff_doubles_from_100ms_and_caps_at_a_minute() -> None:
    delays = []
    prev = 0
    for _ in range(12):
        prev = restart_backoff_ms(_st(0.01, prev))
        delays.append(prev)
    assert delays[:5] == [100, 200, 400, 800, 1600]
    assert delays[-1] == 60_000 and max(delays) == 60_000


def test_backoff_resets_after_ten_seconds_of_running() -> None:
    assert restart_backoff_ms(_st(9.9, 3200)) == 6400
    assert restart_backoff_ms(_st(10.0, 3200)) == 100
    assert restart_backoff_ms(State(restart_delay_ms=400)) == 800  # unparsable times: no reset


def test_state_keeps_the_delay() -> None:
    import json

    from skiff.oci.codec import from_obj, to_obj

    st = State(status="restarting", restart_count=3, restart_delay_ms=800)
    obj = json.loads(json.dumps(to_obj(st)))
    assert obj["RestartDelayMs"] == 800 and from_obj(State, obj, "state") == st
