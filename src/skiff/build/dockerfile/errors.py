"""The one error type of the Dockerfile front half."""

from __future__ import annotations

from skiff.errors import SkiffError


class DockerfileError(SkiffError):
    """A Dockerfile that cannot be parsed or typed.

    ``str(err)`` is ``FILE:LINE: what is wrong`` (``docker build`` exits 1 on these). ``line`` and
    ``end_line`` are 1-based physical lines (0 when the error is about the whole file) and
    ``source_line`` is the offending instruction text as written (joined continuation lines).
    """

    exit_code = 1

    def __init__(
        self,
        what: str,
        *,
        filename: str = "Dockerfile",
        line: int = 0,
        end_line: int | None = None,
        source_line: str = "",
        hint: str | None = None,
    ) -> None:
        self.what = what
        self.filename = filename
        self.line = line
        self.end_line = end_line if end_line is not None else line
        self.source_line = source_line
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {what}" if where else what, hint=hint, exit_code=1)


class ShellWordError(DockerfileError):
    """A word that the shell lexer cannot process (unbalanced quote, bad ``${...}``).

    Raised without a location by :mod:`lex`; callers that know the instruction re-raise it as a
    :class:`DockerfileError` at that instruction's line.
    """

    def __init__(self, what: str) -> None:
        super().__init__(what, filename="")
