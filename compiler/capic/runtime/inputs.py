"""The input of ``capic run``: JSON Lines from a file or a stream, and what identifies a file.

Each line is either a bare event, or an envelope ``{"event": {...}, "request": {...}}`` (an
object whose keys are ``event`` and optionally ``request``, nothing else). Blank lines are
skipped. A line that is not JSON, not an object, or an envelope whose ``event`` is not an
object is *malformed*: reported with its line number and counted; the run goes on.

A file is identified by its device, inode, size, modification time and the hash of its first
64 KiB: a checkpoint recorded for a file (how far a run committed it) applies to that very
file only, never to another file at the same path or to the same file after it changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import select
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

__all__ = ["Input", "InputError", "open_input", "parse_line", "read_lines"]

_READ_CHUNK = 1 << 16
#: How long a blocking read waits before the loop looks at its stop flag and the batch ages.
_IDLE_POLL = 0.25
_HEAD = 1 << 16


class InputError(Exception):
    """The input cannot be read. One line."""


@dataclass
class Input:
    """An opened input. ``source`` keys its checkpoint (``stdin`` for a stream)."""

    stream: IO[bytes]
    name: str
    #: "file" (a regular file: checkpoints), "stdin" or "stream" (a pipe given by path: counts).
    kind: str
    source: str
    #: Bytes in a regular file (for the progress bar); None for streams.
    size: int | None
    regular: bool

    def close(self) -> None:
        if self.kind != "stdin":
            self.stream.close()


def _identity(stream: IO[bytes], st: os.stat_result) -> str:
    head = os.pread(stream.fileno(), _HEAD, 0)
    digest = hashlib.sha256()
    digest.update(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:".encode())
    digest.update(head)
    return "file:" + digest.hexdigest()


def open_input(events: str) -> Input:
    """Open ``events`` (a path, or ``-`` for standard input)."""
    if events == "-":
        stdin: Any = sys.stdin
        stream = getattr(stdin, "buffer", None) if stdin is not None else None
        if stream is None:  # closed before capic started: an empty input, not a crash
            stream = io.BytesIO(b"")
        return Input(stream, "standard input", "stdin", "stdin", None, False)
    try:
        stream = open(events, "rb")  # noqa: SIM115 - closed by Input.close
    except OSError as exc:
        raise InputError(f"cannot read {events}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(stream.fileno())
        regular = stat.S_ISREG(st.st_mode)
        source = _identity(stream, st) if regular else f"stream:{events}"
    except OSError as exc:
        stream.close()
        raise InputError(f"cannot read {events}: {exc.strerror or exc}") from None
    kind = "file" if regular else "stream"
    return Input(stream, events, kind, source, st.st_size if regular else None, regular)


def read_lines(stream: IO[bytes], *, idle: float | None = None) -> Iterator[bytes | None]:
    """The lines of a binary stream (with their newline). For pipes and terminals, ``None`` is
    yielded whenever no input arrived for ``idle`` seconds (so that batches do not wait for
    the next line, and what was read gets committed)."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        fd, mode = -1, 0
    if fd < 0 or stat.S_ISREG(mode) or idle is None or os.name == "nt":
        try:
            yield from stream
        except (OSError, ValueError):  # a stream closed under us ends the input
            return
        return
    timeout = min(idle, _IDLE_POLL) if idle > 0 else _IDLE_POLL
    pending: list[bytes] = []
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            chunk = os.read(fd, _READ_CHUNK) if ready else None
        except (OSError, ValueError):
            break
        if chunk is None:
            yield None
            continue
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                pending.append(chunk[start:])
                break
            if pending:
                pending.append(chunk[start : end + 1])
                yield b"".join(pending)
                pending.clear()
            else:
                yield chunk[start : end + 1]
            start = end + 1
    if pending:
        tail = b"".join(pending)
        if tail:
            yield tail


def parse_line(raw: bytes | str) -> tuple[Any, Any, str | None]:
    """(event, request, problem) of one non-blank line."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, None, f"not valid JSON ({exc})"
    if type(obj) is not dict:
        return None, None, "not a JSON object"
    if "event" in obj and len(obj) <= 2 and (len(obj) == 1 or "request" in obj):
        event = obj["event"]
        if type(event) is not dict:
            return None, None, 'the envelope\'s "event" is not an object'
        return event, obj.get("request"), None
    return obj, None, None
