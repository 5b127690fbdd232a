"""``capic run``'s side of group commit: input lines in chunks, one chunk in flight.

A chunk (``max_lines`` lines, or what ``max_age`` seconds brought, or whatever was read when the
input paused) is submitted to a :class:`~capic.runtime.delivery.commit.GroupCommitter` with the
input position after its last line. The next chunk is submitted only once the one before is
durable, so the recorded position never covers a line whose events are not stored, and no more
than two chunks are ever read but not durable. A full outbox (backlog limit, disk) makes the
reader wait and try the same chunk again: backpressure, never a dropped line.

While delivery keeps pace, the reader also waits when more than ``max_backlog`` events are
queued: the outbox stays small (cheap to write and read) and memory flat, and reading never
runs far ahead of what reaches Meta. When delivery stalls (a resting pixel, an outage), the
reader goes on after a second and the outbox absorbs the backlog, which is what it is for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from capic.runtime.delivery.commit import GroupCommitter
from capic.runtime.delivery.outbox import Outbox
from capic.runtime.delivery.queue import InputProgress, QueueFull, QueueItem
from capic.runtime.inputs import Input

__all__ = ["ChunkCommitter"]


class ChunkCommitter:
    def __init__(
        self,
        outbox: Outbox,
        source: Input,
        *,
        start: tuple[int, int],
        time_offset: int,
        max_lines: int,
        max_age: float,
        max_backlog: int | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._max_backlog = max_backlog
        self._unthrottled_until = 0.0
        self._source = source
        self._offset = time_offset
        self._max_lines = max_lines
        self._max_age = max_age
        self._warn = warn
        #: Lines of the input whose events are durable (counted from the input's start).
        self.committed_lines = start[1]
        if source.kind != "file":
            # A new stream: its count starts at 0 now, visible to `capic outbox status`.
            outbox.begin_input(self._mark(0, 0, False))
        self._committer = GroupCommitter(outbox, max_delay=0.0)
        self._items: list[QueueItem] = []
        self._lines = 0
        self._started = time.monotonic()
        self._inflight: tuple[Future[None], list[QueueItem], InputProgress] | None = None
        self._full_warned = False

    def _mark(self, position: int, lines: int, finished: bool) -> InputProgress:
        src = self._source
        return InputProgress(
            src.source, src.name, position, lines, finished, self._offset, src.kind
        )

    def add(self, items: Sequence[QueueItem], position: int, lines: int) -> None:
        """The items of one more line (``position``/``lines``: after that line)."""
        if items:
            self._items.extend(items)
        self._lines += 1
        if self._lines >= self._max_lines or time.monotonic() - self._started >= self._max_age:
            self._submit(position, lines, False)

    def flush(self, position: int, lines: int) -> None:
        """The input paused: make everything read so far durable before waiting for more."""
        if self._lines:
            self._submit(position, lines, False)
        self._wait()

    def finish(self, position: int, lines: int, *, finished: bool) -> None:
        """The last chunk; ``finished`` says the input was read to its end."""
        self._submit(position, lines, finished)
        self._wait()

    def close(self) -> None:
        """Stop the writer (a chunk in flight still completes). Never raises."""
        self._committer.close()
        if self._inflight is not None and self._inflight[0].done():
            if self._inflight[0].exception() is None:
                self.committed_lines = self._inflight[2].lines
            self._inflight = None

    def _submit(self, position: int, lines: int, finished: bool) -> None:
        self._wait()
        self._throttle()
        items, self._items = self._items, []
        self._lines = 0
        self._started = time.monotonic()
        mark = self._mark(position, lines, finished)
        self._inflight = (self._committer.submit(items, progress=mark), items, mark)

    def _throttle(self) -> None:
        limit = self._max_backlog
        if limit is None or time.monotonic() < self._unthrottled_until:
            return
        depth = self._outbox.depth()
        progress = time.monotonic()
        while depth > limit:
            time.sleep(0.005)
            now_depth = self._outbox.depth()
            if now_depth < depth:
                progress = time.monotonic()
            elif time.monotonic() - progress > 1.0:
                # Delivery is not draining: the outbox takes the backlog for a while.
                self._unthrottled_until = time.monotonic() + 10.0
                return
            depth = now_depth

    def _wait(self) -> None:
        while self._inflight is not None:
            future, items, mark = self._inflight
            try:
                future.result()
            except QueueFull as exc:
                if self._warn is not None and not self._full_warned:
                    self._warn(f"{exc}; waiting for delivery to make room")
                    self._full_warned = True
                time.sleep(exc.retry_after)
                self._inflight = (self._committer.submit(items, progress=mark), items, mark)
                continue
            self.committed_lines = mark.lines
            self._inflight = None
