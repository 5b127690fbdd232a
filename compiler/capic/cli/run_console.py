"""What ``capic run`` shows on stderr while it runs, and how it reacts to signals.

A progress line only on a terminal; warnings always, one line each. The first SIGINT/SIGTERM
stops reading (what was read is committed and delivered), the second aborts.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from capic.runtime.summary import RunSummary

__all__ = ["Console", "Signals"]


class Console:
    """stderr: warnings, and a progress line that only a terminal gets."""

    def __init__(self, total_bytes: int | None = None) -> None:
        self.tty = sys.stderr is not None and sys.stderr.isatty()
        self.total = total_bytes
        self.read = 0
        self._drawn = False
        self._last = 0.0

    def warn(self, message: str) -> None:
        self._clear()
        click.echo(f"capic run: {message}", err=True)

    def _clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._drawn = False

    def progress(self, summary: RunSummary) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        rate = summary.events / summary.duration if summary.duration > 0 else 0.0
        rejected = sum(summary.rejected.values())
        parts = [
            f"{summary.events:,} events",
            f"{summary.sent:,} sent",
            f"{rejected:,} rejected",
            f"{rate:,.0f}/s",
        ]
        head = ""
        if self.total:
            share = min(1.0, self.read / self.total)
            width = 24
            filled = int(share * width)
            head = f"[{'#' * filled}{'.' * (width - filled)}] {share:6.1%}  "
        line = head + " · ".join(parts)
        columns = shutil.get_terminal_size((100, 20)).columns
        sys.stderr.write("\r\x1b[K" + line[: max(10, columns - 1)])
        sys.stderr.flush()
        self._drawn = True

    def done(self) -> None:
        self._clear()

    def count(self, lines: Iterator[bytes | None]) -> Iterator[bytes | None]:
        """Pass ``lines`` through, counting bytes for the progress bar."""
        if not self.tty or not self.total:
            yield from lines
            return
        for line in lines:
            if line is not None:
                self.read += len(line)
            yield line


class Signals:
    """First SIGINT/SIGTERM: stop reading and flush. Second: abort without flushing."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):  # not the main thread
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        from capic.runtime.runner import RunAborted

        name = signal.Signals(signum).name
        if self.received is not None:
            raise RunAborted()
        self.received = name
        click.echo(
            f"capic run: {name}: stopping; committing what was read and delivering it "
            "(again to abort)",
            err=True,
        )

    def stop(self) -> bool:
        return self.received is not None
