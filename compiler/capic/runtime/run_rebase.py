"""``--rebase-time``: the offset that moves an input's newest server event to now, found by
running the rules over the input once without sending anything.

A file is read again for the real pass; a stream (a pipe) is copied to a temporary file while
it is probed, and the real pass reads the copy. Used by :mod:`capic.runtime.runner`, which
re-exports :func:`probe_time_offset`.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import IO

from capic.runtime.context import Context
from capic.runtime.inputs import Input, parse_line, read_lines

__all__ = ["probe_time_offset", "spool_input"]


def probe_time_offset(
    module: ModuleType, lines: Iterable[bytes | str | None], *, now: Callable[[], float] = time.time
) -> int:
    """``floor(now()) - newest event_time`` over every server event the rules send for
    ``lines`` (0 when none has one). Malformed lines are skipped (the real pass reports them)."""
    ctx = Context(now=now, probe=True, validate=False)
    process = module.process
    for raw in lines:
        if raw is None or not raw.strip():
            continue
        event, request, problem = parse_line(raw)
        if problem is not None:
            continue
        with contextlib.suppress(Exception):
            process(event, request, context=ctx)
    newest = ctx.stats.max_event_time
    return 0 if newest is None else int(now()) - newest


def spool_input(module: ModuleType, source: Input) -> tuple[int, IO[bytes]]:
    """The offset, and the stream for the real pass: the file again, or a copy of a stream."""
    if source.regular:
        offset = probe_time_offset(module, read_lines(source.stream))
        source.stream.seek(0)
        return offset, source.stream
    spool = tempfile.TemporaryFile(prefix="capic-run-")  # noqa: SIM115 - returned

    def copy() -> Iterator[bytes]:
        for line in read_lines(source.stream):
            if line is not None:
                spool.write(line)
                yield line

    offset = probe_time_offset(module, copy())
    spool.flush()
    spool.seek(0)
    return offset, spool
