"""Deterministic ``.tar.gz`` archives, and a careful reader for archives made by any tar tool.

Writing: entries sorted by path (UTF-8 bytes), regular files only (no directory entries),
mtime ``SOURCE_DATE_EPOCH`` or 0, uid/gid 0, empty user and group names, mode 0644 (0755 for
executables), PAX format, and a gzip header with mtime 0 and no file name. The same files give
the same bytes on every run.

Reading: accepts any tar (optionally compressed) whose members are regular files and
directories; a leading ``./`` is ignored and directory entries are skipped, so a bundle
extracted and repacked with ``tar czf`` reads back as the same file set. Links, devices,
absolute paths, ``..`` segments, duplicates and oversized content are refused.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath

__all__ = [
    "MAX_ENTRIES",
    "MAX_TOTAL_SIZE",
    "ArchiveError",
    "pack",
    "source_date_epoch",
    "unpack",
]

#: Limits for reading untrusted archives (a bundle is a few hundred kilobytes).
MAX_ENTRIES = 10_000
MAX_TOTAL_SIZE = 256 * 1024 * 1024

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
    """The regular files of a tar archive (any compression tarfile reads), by normalized path."""
    try:
        with (
            tarfile.open(fileobj=io.BytesIO(source), mode="r:*")
            if isinstance(source, bytes)
            else tarfile.open(Path(source), mode="r:*")
        ) as tar:
            return _read_members(tar)
    except FileNotFoundError:
        raise ArchiveError("no such file") from None
    except IsADirectoryError:
        raise ArchiveError("a directory, not a bundle file") from None
    except tarfile.ReadError:
        # tarfile lists every compression it tried, one per line; one line says it all.
        raise ArchiveError("not a bundle: not a (compressed) tar archive") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArchiveError(f"not a readable tar archive: {first}") from None


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
