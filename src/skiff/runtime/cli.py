"""skiff-runtime: a runc-compatible CLI over skiff.runtime (filled in by the runtime work)."""

from __future__ import annotations

import sys


def main() -> None:
    print("skiff-runtime: not built yet", file=sys.stderr)
    raise SystemExit(1)
