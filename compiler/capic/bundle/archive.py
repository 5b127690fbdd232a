"""Deterministic ``.tar.gz`` archives, and a careful reader for archives made by any tar tool.

Writing: entries sorted by path (UTF-8 bytes), regular files only (no directory entries),
mtime ``SOURCE_DATE_EPOCH`` or 0, uid/gid 0, empty user and group names, mode 0644 (0755 for
executables), PAX format, and a gzip header with mtime 0 and no file name. The same files give
the same bytes on every run.

Reading: accepts any tar (optionally compressed) whose members are regular files and
directories; a leading ``./`` is ignored and directory entries are skipped, so a bundle
extracted and repacked with ``tar czf`` reads back as the same file set. Links, devices,
absolute paths, ``..`` segments, duplicates and oversized content are refused.

Nothing is trusted before it is bounded: the compressed file is at most
:data:`MAX_ARCHIVE_SIZE` bytes, it is decompressed incrementally and refused as soon as it
grows beyond :data:`MAX_ARCHIVE_SIZE` (a gzip bomb), and every tar header is read by capic
first: an extended header (pax, GNU long name) larger than :data:`MAX_HEADER_SIZE` or a member
larger than :data:`MAX_MEMBER_SIZE` is refused before its data is read. Only then does
:mod:`tarfile` parse the (bounded) archive.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path, PurePosixPath

__all__ = [
    "MAX_ARCHIVE_SIZE",
    "MAX_ENTRIES",
    "MAX_HEADER_SIZE",
    "MAX_MEMBER_SIZE",
    "MAX_TOTAL_SIZE",
    "ArchiveError",
    "pack",
    "source_date_epoch",
    "unpack",
]

#: Limits for reading untrusted archives (a bundle is a few hundred kilobytes; a project of a
#: thousand rules a few megabytes).
MAX_ENTRIES = 10_000
#: The archive, compressed and decompressed (tar headers and padding included).
MAX_ARCHIVE_SIZE = 128 * 1024 * 1024
#: The content of all members together, and of one member.
MAX_TOTAL_SIZE = 96 * 1024 * 1024
MAX_MEMBER_SIZE = 64 * 1024 * 1024
#: One extended header (pax records, a GNU long name or link name).
MAX_HEADER_SIZE = 64 * 1024
_BLOCK = 512
_CHUNK = 1024 * 1024

_FILE_MODE = 0o644
_EXEC_MODE = 0o755


class ArchiveError(Exception):
    """The archive cannot be written or read as a bundle; the message says why."""


def source_date_epoch(environ: Mapping[str, str] | None = None) -> int | None:
    """``SOURCE_DATE_EPOCH`` as an integer, None when unset or empty.

    Raises :class:`ArchiveError` when it is set to something that is not a non-negative integer
    (https://reproducible-builds.org/specs/source-date-epoch/).
    """
    env = os.environ if environ is None else environ
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ArchiveError(f"SOURCE_DATE_EPOCH must be a non-negative integer, not {raw!r}")
    return int(raw)


def check_member_path(name: str) -> str:
    """The normalized relative path of an archive member, or :class:`ArchiveError`."""
    if "\\" in name or "\x00" in name:
        raise ArchiveError(f"{name!r}: invalid path in archive")
    path = name
    while path.startswith("./"):
        path = path[2:]
    path = path.rstrip("/")
    if not path or path == ".":
        return ""
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ArchiveError(f"{name}: absolute path in archive")
    parts = PurePosixPath(path).parts
    if any(p in {"..", "."} for p in parts) or "//" in path:
        raise ArchiveError(f"{name}: path with '.', '..' or empty segments in archive")
    return path


def pack(
    files: Mapping[str, bytes],
    *,
    mtime: int = 0,
    executable: Collection[str] = (),
) -> bytes:
    """A deterministic gzip-compressed tar holding ``files`` (path -> content)."""
    ordered = sorted(files, key=lambda p: p.encode("utf-8"))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ordered:
            if check_member_path(name) != name:
                raise ArchiveError(f"{name!r}: not a normalized relative path")
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = _EXEC_MODE if name in executable else _FILE_MODE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of names and build times.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def unpack(source: str | Path | bytes) -> dict[str, bytes]:
    """The regular files of a tar archive (plain, gzip, bzip2 or xz), by normalized path."""
    try:
        raw = _bounded_tar(_read_source(source))
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            return _read_members(tar)
    except FileNotFoundError:
        raise ArchiveError("no such file") from None
    except IsADirectoryError:
        raise ArchiveError("a directory, not a bundle file") from None
    except tarfile.ReadError:
        # tarfile lists every compression it tried, one per line; one line says it all.
        raise ArchiveError("not a bundle: not a (compressed) tar archive") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArchiveError(f"not a readable tar archive: {first}") from None


def _read_source(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        with open(Path(source), "rb") as handle:
            data = handle.read(MAX_ARCHIVE_SIZE + 1)
    if len(data) > MAX_ARCHIVE_SIZE:
        raise ArchiveError(f"larger than {MAX_ARCHIVE_SIZE} bytes: not a bundle")
    return data


def _decompressed(data: bytes) -> Iterator[bytes]:
    """The decompressed bytes of ``data`` in chunks of at most 1 MiB, produced on demand (a
    compressed bomb is never expanded beyond what the reader asks for)."""
    if data[:2] == b"\x1f\x8b":
        rest = data
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while not inflater.eof:
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                if chunk:
                    yield chunk
                elif not pending:
                    raise ArchiveError("not a readable tar archive: truncated gzip data")
            rest = inflater.unused_data
            if not rest.strip(b"\0"):
                return  # trailing zero padding after the last gzip member
        return
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor | None = None
    if data[:3] == b"BZh":
        decompressor = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00":
        decompressor = lzma.LZMADecompressor()
    if decompressor is None:
        for start in range(0, len(data), _CHUNK):
            yield data[start : start + _CHUNK]
        return
    pending = data
    while not decompressor.eof:
        if decompressor.needs_input and not pending:
            raise ArchiveError("not a readable tar archive: truncated compressed data")
        chunk = decompressor.decompress(pending, _CHUNK)
        pending = b""
        if chunk:
            yield chunk


class _Reader:
    """Exact reads from the decompressed stream, refusing more than MAX_ARCHIVE_SIZE."""

    def __init__(self, data: bytes) -> None:
        self._chunks = _decompressed(data)
        self._buffer = bytearray()
        self.consumed = 0

    def read(self, size: int) -> bytes:
        if self.consumed + size > MAX_ARCHIVE_SIZE:
            raise ArchiveError(
                f"decompresses to more than {MAX_ARCHIVE_SIZE} bytes: refused (a bundle is "
                "far smaller; this looks like a compression bomb)"
            )
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        self.consumed += len(out)
        return out


def _header_size(block: bytes) -> int:
    """The size field of a tar header: octal, or base-256 (GNU) when its first bit is set."""
    field = block[124:136]
    if field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise ArchiveError("not a readable tar archive: invalid header (size field)") from None


def _pax_size(records: bytes) -> int | None:
    """The ``size`` a pax header sets for the next member, if any."""
    size = None
    for line in records.split(b"\n"):
        _, _, record = line.partition(b" ")
        key, sep, value = record.partition(b"=")
        if sep and key == b"size":
            try:
                size = int(value)
            except ValueError:
                raise ArchiveError("not a readable tar archive: invalid pax size") from None
    return size


def _bounded_tar(data: bytes) -> bytes:
    """The decompressed tar of ``data``, each header's sizes checked before its data is read."""
    reader = _Reader(data)
    out = bytearray()
    override: int | None = None
    while True:
        block = reader.read(_BLOCK)
        out += block
        if len(block) < _BLOCK or block == bytes(_BLOCK):
            # End of archive (or a truncated one, which tarfile reports).
            return bytes(out)
        size = override if override is not None else _header_size(block)
        override = None
        kind = block[156:157]
        if size < 0:
            raise ArchiveError("not a readable tar archive: negative member size")
        if kind in {b"x", b"g", b"L", b"K"}:
            if size > MAX_HEADER_SIZE:
                raise ArchiveError(
                    f"a tar header of {size} bytes (limit {MAX_HEADER_SIZE}): refused"
                )
        elif size > MAX_MEMBER_SIZE:
            raise ArchiveError(f"a member of {size} bytes (limit {MAX_MEMBER_SIZE}): refused")
        padded = -(-size // _BLOCK) * _BLOCK
        content = reader.read(padded)
        out += content
        if kind == b"x":
            override = _pax_size(content[:size])


def _read_members(tar: tarfile.TarFile) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > MAX_ENTRIES:
            raise ArchiveError(f"more than {MAX_ENTRIES} entries in archive")
        path = check_member_path(member.name)
        if member.isdir():
            continue
        if not member.isfile():
            raise ArchiveError(
                f"{path or member.name}: not a regular file "
                "(bundles hold regular files only: no links or devices)"
            )
        if not path:
            raise ArchiveError(f"{member.name!r}: a file entry without a name")
        if path in files:
            raise ArchiveError(f"{path}: appears twice in archive")
        total += member.size
        if total > MAX_TOTAL_SIZE:
            raise ArchiveError(f"archive content exceeds {MAX_TOTAL_SIZE} bytes")
        handle = tar.extractfile(member)
        if handle is None:
            raise ArchiveError(f"{path}: cannot be read from archive")
        files[path] = handle.read()
    return files
