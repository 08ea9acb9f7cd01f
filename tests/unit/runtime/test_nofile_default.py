"""RLIMIT_NOFILE: the engine's containers get the engine's own limits (inherited_nofile); `skiff-runtime spec`
keeps runc's 1024; nothing goes above this process's hard limit."""

from __future__ import annotations

import resource

from skiff.runtime.defaults import NOFILE_DEFAULT, default_spec, inherited_nofile


def _nofile(**kw: object) -> tuple[int, int]:
    proc = default_spec(["sh"], **kw).process  # type: ignore[arg-type]
    assert proc is not None
    r = next(r for r in proc.rlimits if r.type == "RLIMIT_NOFILE")
    return r.soft, r.hard


def test_inherited_is_this_process_limits() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    inf = 2**64 - 1
    assert inherited_nofile() == (inf if soft == resource.RLIM_INFINITY else soft,
                                  inf if hard == resource.RLIM_INFINITY else hard)
    assert _nofile(nofile=inherited_nofile()) == inherited_nofile()


def test_never_above_the_hard_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        return
    assert _nofile(nofile=(hard + 10, hard + 100)) == (hard, hard)
    assert _nofile(nofile=hard + 5) == (hard, hard)
    assert _nofile(nofile=(10, 20)) == (10, 20)


def test_runtime_spec_default_is_runcs() -> None:
    assert _nofile() == (min(NOFILE_DEFAULT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]),) * 2
