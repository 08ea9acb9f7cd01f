"""The tar wire format, read and written by hand (the stdlib tarfile costs too much per member).

Writing: ustar headers, plus a PAX extended header only when a field does not fit (long names, big numbers,
xattrs as ``SCHILY.xattr.NAME``), which is what Go's archive/tar (and so Docker and BuildKit) produce.
Reading: ustar, GNU (long names ``L``/``K``, base-256 numbers) and PAX (local ``x`` and global ``g``).
"""

from __future__ import annotations

from skiff.archive.errors import ArchiveError
from skiff.records import dataclass, field

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)

REG = b"0"
LNK = b"1"
SYM = b"2"
CHR = b"3"
BLK = b"4"
DIR = b"5"
FIFO = b"6"
_KNOWN = {REG, LNK, SYM, CHR, BLK, DIR, FIFO}


@dataclass(slots=True)
class Entry:
    """One member: ``name`` is the path as stored (``/`` separated, no trailing slash), text decoded
    as UTF-8 with surrogateescape so that any byte string survives."""

    name: str
    type: bytes = REG
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime: int = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""
    pax: dict[str, str] = field(default_factory=dict)


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _dec(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _pax_record(key: bytes, value: bytes) -> bytes:
    payload = b" " + key + b"=" + value + b"\n"
    n = len(payload)
    total = n + len(str(n))
    if len(str(total)) != len(str(n)):
        total = n + len(str(total))
    return b"%d" % total + payload


def padding(size: int) -> int:
    return -size % BLOCK


def _ustar(name: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, typ: bytes,
           linkname: bytes, uname: bytes, gname: bytes, devmajor: int, devminor: int) -> bytes:
    hdr = b"".join((
        name[:100].ljust(100, b"\0"), b"%07o\0" % mode, b"%07o\0" % uid, b"%07o\0" % gid,
        b"%011o\0" % size, b"%011o\0" % mtime, b"        ", typ, linkname[:100].ljust(100, b"\0"),
        b"ustar\x0000", uname[:32].ljust(32, b"\0"), gname[:32].ljust(32, b"\0"),
        b"%07o\0" % devmajor, b"%07o\0" % devminor, bytes(167)))
    return b"%s%06o\0 %s" % (hdr[:148], sum(hdr), hdr[156:])


def encode_header(e: Entry) -> bytes:
    """The header block(s) of ``e`` (PAX extended header first when needed); content and padding follow."""
    name = _enc(e.name)
    if e.type == DIR and not name.endswith(b"/"):
        name += b"/"
    link = _enc(e.linkname)
    uname, gname = _enc(e.uname), _enc(e.gname)
    recs: list[bytes] = []
    uid, gid, size, mtime = e.uid, e.gid, e.size, e.mtime
    if len(name) > 100:
        recs.append(_pax_record(b"path", name))
    if len(link) > 100:
        recs.append(_pax_record(b"linkpath", link))
    if not 0 <= uid < 0o7777777:
        recs.append(_pax_record(b"uid", b"%d" % uid))
        uid = 0
    if not 0 <= gid < 0o7777777:
        recs.append(_pax_record(b"gid", b"%d" % gid))
        gid = 0
    if not 0 <= size < 0o77777777777:
        recs.append(_pax_record(b"size", b"%d" % size))
        size = 0
    if not 0 <= mtime < 0o77777777777:
        recs.append(_pax_record(b"mtime", b"%d" % mtime))
        mtime = 0
    if len(uname) > 32:
        recs.append(_pax_record(b"uname", uname))
    if len(gname) > 32:
        recs.append(_pax_record(b"gname", gname))
    if e.xattrs:
        for k in sorted(e.xattrs):
            recs.append(_pax_record(b"SCHILY.xattr." + _enc(k), e.xattrs[k]))
    main = _ustar(name, e.mode & 0o7777, uid, gid, size, mtime, e.type, link, uname, gname,
                  e.devmajor, e.devminor)
    if not recs:
        return main
    data = b"".join(recs)
    pax = _ustar(b"PaxHeaders/" + name[-80:], 0o644, 0, 0, len(data), 0, b"x", b"", b"", b"", 0, 0)
    return pax + data + bytes(padding(len(data))) + main


def _num(field_: bytes, what: str, name: bytes) -> int:
    if field_ and field_[0] & 0x80:  # GNU base-256
        v = int.from_bytes(field_[1:], "big")
        if field_[0] & 0x40:
            v -= 1 << (8 * (len(field_) - 1) + 6)
        return v
    s = field_.split(b"\0", 1)[0].strip()
    if not s:
        return 0
    try:
        return int(s, 8)
    except ValueError:
        raise ArchiveError(f"tar entry {_dec(name)!r}: invalid {what} field {s!r}") from None


def parse_pax(data: bytes, name: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        sp = data.find(b" ", pos)
        try:
            length = int(data[pos:sp])
        except ValueError:
            raise ArchiveError(f"tar entry {name!r}: malformed PAX header") from None
        rec = data[sp + 1:pos + length]
        if length <= 0 or not rec.endswith(b"\n") or b"=" not in rec:
            raise ArchiveError(f"tar entry {name!r}: malformed PAX record")
        k, _, v = rec[:-1].partition(b"=")
        out[_dec(k)] = v
        pos += length
    return out


_NUL_TO_SPACE = bytes.maketrans(b"\0", b" ")


def decode_header(block: bytes) -> Entry:
    """A single 512-byte header block (no PAX/GNU merging: see :func:`apply_pax`)."""
    raw_name = block[:100].split(b"\0", 1)[0]
    nums = block[100:156].translate(_NUL_TO_SPACE)
    try:  # fast path: plain octal fields (what nearly every tar has)
        mode, uid, gid = int(nums[0:8], 8), int(nums[8:16], 8), int(nums[16:24], 8)
        size, mtime, chk = int(nums[24:36], 8), int(nums[36:48], 8), int(nums[48:56], 8)
    except ValueError:
        bad = f"tar header for {_dec(raw_name)!r}: bad checksum (not a tar archive, or corrupt)"
        try:
            chk = int(nums[48:56], 8)
        except ValueError:
            raise ArchiveError(bad) from None
        if chk != sum(block) - sum(block[148:156]) + 256:
            raise ArchiveError(bad) from None
        mode, uid, gid = (_num(block[100:108], "mode", raw_name), _num(block[108:116], "uid", raw_name),
                          _num(block[116:124], "gid", raw_name))
        size, mtime = _num(block[124:136], "size", raw_name), _num(block[136:148], "mtime", raw_name)
        chk = _num(block[148:156], "checksum", raw_name)
    if chk != sum(block) - sum(block[148:156]) + 256:
        raise ArchiveError(f"tar header for {_dec(raw_name)!r}: bad checksum (not a tar archive, or corrupt)")
    typ = block[156:157]
    if typ == b"\0" or typ == b"7":
        typ = REG
    if block[345] != 0 and block[257:263] == b"ustar\0":  # POSIX ustar prefix
        raw_name = block[345:500].split(b"\0", 1)[0] + b"/" + raw_name
    e = Entry(_dec(raw_name), typ, mode, uid, gid, size, mtime)
    if block[157] != 0:
        e.linkname = _dec(block[157:257].split(b"\0", 1)[0])
    if typ == CHR or typ == BLK:
        e.devmajor = _num(block[329:337], "devmajor", raw_name)
        e.devminor = _num(block[337:345], "devminor", raw_name)
    if block[265] != 0:
        e.uname = _dec(block[265:297].split(b"\0", 1)[0])
    if block[297] != 0:
        e.gname = _dec(block[297:329].split(b"\0", 1)[0])
    return e


def apply_pax(e: Entry, pax: dict[str, bytes]) -> None:
    for k, v in pax.items():
        if k == "path":
            e.name = _dec(v)
        elif k == "linkpath":
            e.linkname = _dec(v)
        elif k in ("uid", "gid", "size"):
            try:
                setattr(e, k, int(v))
            except ValueError:
                raise ArchiveError(f"tar entry {e.name!r}: invalid PAX {k} {v!r}") from None
        elif k == "mtime":
            try:
                e.mtime = int(float(v))
            except ValueError:
                raise ArchiveError(f"tar entry {e.name!r}: invalid PAX mtime {v!r}") from None
        elif k == "uname":
            e.uname = _dec(v)
        elif k == "gname":
            e.gname = _dec(v)
        elif k.startswith("SCHILY.xattr."):
            if e.xattrs is None:
                e.xattrs = {}
            e.xattrs[k[13:]] = v
        elif k.startswith("GNU.sparse."):
            raise ArchiveError(f"tar entry {e.name!r}: sparse files are not supported")
        else:
            e.pax[k] = _dec(v)


def check_type(e: Entry) -> None:
    if e.type not in _KNOWN:
        raise ArchiveError(f"tar entry {e.name!r}: unsupported entry type {e.type!r}")
