"""Path strings and whole-file reads and writes without pathlib: importing it (with urllib.parse and ipaddress)
costs every ``skiff-runtime`` start a few milliseconds, so the runtime works with ``str`` paths throughout."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `state` and `kill` never import typing
if TYPE_CHECKING:
    from _typeshed import StrPath


def clean(path: str) -> str:
    """``path`` spelled as ``str(PurePosixPath(path))``: repeated and trailing slashes and ``.`` components go,
    ``..`` stays (it may lead through a symlink), a lone leading ``//`` stays (POSIX leaves it to the system)."""
    root = "//" if path.startswith("//") and not path.startswith("///") else "/" if path.startswith("/") else ""
    return root + "/".join(p for p in path.split("/") if p and p != ".") or "."


def read_bytes(path: StrPath) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path: StrPath, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
