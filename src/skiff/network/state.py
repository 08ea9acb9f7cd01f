"""Network state under ROOT/networks: configs, IPAM allocations, one lock.

LOCK ORDER: a single exclusive lock, ROOT/networks/network.lock, guards every change to network configs,
allocations, host devices and firewall rules of this root. Readers need no lock (files are replaced by
rename). No other skiff lock is taken while it is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from skiff.network.model import IpamState, NetworkError, NetworkRecord
from skiff.oci import codec


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write whole and rename. ``durable`` fsyncs first; IPAM allocations skip it (see :meth:`put_ipam`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}"  # not tempfile: a cheaper import
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class NetworkStore:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "networks"
        self.ipam_dir = self.dir / "ipam"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.ipam_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "network.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.pwrite(fd, f"{os.getpid():>10}\n".encode(), 0)  # last writer, for debugging
            yield
        finally:
            os.close(fd)

    def _net_path(self, name: str) -> Path:
        return self.dir / f"{name}.json"

    def _ipam_path(self, name: str) -> Path:
        return self.ipam_dir / f"{name}.json"

    def networks(self) -> list[NetworkRecord]:
        if not self.dir.is_dir():
            return []
        out = []
        for p in sorted(self.dir.glob("*.json")):
            try:
                out.append(codec.loads(NetworkRecord, p.read_bytes(), str(p)))
            except FileNotFoundError:
                continue
            except codec.CodecError as e:
                raise NetworkError(f"corrupt network config {p}: {e}") from None
        return out

    def get(self, name: str) -> NetworkRecord | None:
        p = self._net_path(name)
        try:
            return codec.loads(NetworkRecord, p.read_bytes(), str(p))
        except FileNotFoundError:
            return None

    def put(self, rec: NetworkRecord) -> None:
        atomic_write(self._net_path(rec.name), codec.pretty(rec).encode())

    def delete(self, name: str) -> None:
        for p in (self._net_path(name), self._ipam_path(name)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def ipam(self, name: str) -> IpamState:
        p = self._ipam_path(name)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return IpamState(network=name)
        if not data.strip():  # written without fsync and lost in a crash of the machine: nothing runs now
            return IpamState(network=name)
        return codec.loads(IpamState, data, str(p))

    def put_ipam(self, st: IpamState) -> None:
        """Allocations are written without fsync (one per container start and stop): they describe running
        containers, which a crash of the machine ends; the rename keeps every version whole, and a file the
        crash left empty reads as no allocations."""
        atomic_write(self._ipam_path(st.network), codec.pretty(st).encode(), durable=False)
