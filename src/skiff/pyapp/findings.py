"""One finding of ``skiff check`` (or a warning of ``skiff build``/``skiff run``), with an id to --skip."""

from __future__ import annotations

from collections.abc import Iterable

from skiff.records import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem found: a stable id (for ``--skip``), the message, a suggested fix, and file and line."""

    id: str  # stable, lower-case, for --skip: "published-not-listening"
    message: str
    fix: str = ""
    file: str | None = None  # relative to the project ("Dockerfile", "app.py"); None for a container
    line: int = 0

    def render(self) -> str:
        """``Dockerfile:LINE: [ID] message (fix: ...)``."""
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}[{self.id}] {self.message}{fix}"


def without(findings: Iterable[Finding], skip: Iterable[str]) -> list[Finding]:
    skipped = {s.strip().lower() for s in skip}
    return [f for f in findings if f.id.lower() not in skipped]
