"""Group commit: one writer thread makes concurrent submissions durable in shared transactions.

``capic serve`` answers 202 only once a request's events are durable, and ``capic run`` reads
no further than a bounded window past what is durable. A commit (an fsync) per request or line
would cap both at a few hundred per second; here every submission waiting when the writer
comes round goes into one ``append``, and each submitter waits on its own future::

    committer = GroupCommitter(outbox)
    committer.submit(items).result()        # durable now, or QueueFull / the producer's error
    committer.close()

A failed ``append`` fails every submission of that group with the same exception: nothing of
the group was stored (``append`` is all or nothing), so each submitter may try again. A future
is never resolved before the data is durable, and never resolved as success when it is not.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future

from capic.runtime.delivery.queue import InputProgress, Producer, ProgressProducer, QueueItem

__all__ = ["CommitterClosed", "GroupCommitter"]


class CommitterClosed(RuntimeError):
    """``submit`` after ``close``."""


class _Pending:
    __slots__ = ("future", "items", "progress")

    def __init__(self, items: Sequence[QueueItem], progress: InputProgress | None) -> None:
        self.items = items
        self.progress = progress
        self.future: Future[None] = Future()


class GroupCommitter:
    """Thread-safe; one per producer.

    The writer takes everything submitted so far; after the first submission of a group it
    waits up to ``max_delay`` seconds for more, unless ``max_items`` are already waiting.
    ``submit(..., progress=...)`` records how far an input was read in the same transaction
    (the producer must be a :class:`~capic.runtime.delivery.queue.ProgressProducer`).
    """

    def __init__(
        self, producer: Producer, *, max_delay: float = 0.002, max_items: int = 5000
    ) -> None:
        if max_delay < 0 or max_items < 1:
            raise ValueError("max_delay must not be negative and max_items must be positive")
        self._producer = producer
        self._marks = producer if isinstance(producer, ProgressProducer) else None
        self.max_delay = max_delay
        self.max_items = max_items
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._waiting = 0
        self._closed = False
        #: Transactions committed (for tests and metrics).
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="capic-commit", daemon=True)
        self._thread.start()

    def submit(
        self, items: Sequence[QueueItem], *, progress: InputProgress | None = None
    ) -> Future[None]:
        """Queue ``items`` for the next commit; the future resolves once they are durable."""
        if progress is not None and self._marks is None:
            raise TypeError(f"{type(self._producer).__name__} does not record input progress")
        pending = _Pending(items, progress)
        with self._cond:
            if self._closed:
                raise CommitterClosed("the committer is closed")
            self._queue.append(pending)
            self._waiting += len(items)
            self._cond.notify_all()
        return pending.future

    def close(self) -> None:
        """Commit what was submitted, then stop the writer. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer -------------------------------------------------------------------------

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            if self.max_delay and not self._closed and self._waiting < self.max_items:
                # Let concurrent submitters join this transaction.
                end = time.monotonic() + self.max_delay
                while self._waiting < self.max_items and not self._closed:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            group: list[_Pending] = []
            count = 0
            while self._queue and (
                not group or count + len(self._queue[0].items) <= self.max_items
            ):
                pending = self._queue.popleft()
                group.append(pending)
                count += len(pending.items)
            self._waiting -= count
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            if group is None:
                return
            items: list[QueueItem] = []
            marks: dict[str, InputProgress] = {}
            for pending in group:
                items.extend(pending.items)
                if pending.progress is not None:
                    marks[pending.progress.source] = pending.progress  # the latest wins
            try:
                if marks and self._marks is not None:
                    self._marks.append_at(items, list(marks.values()))
                elif items:
                    self._producer.append(items)
            except BaseException as exc:  # every waiter learns why; the writer carries on
                for pending in group:
                    pending.future.set_exception(exc)
                continue
            self.commits += 1
            for pending in group:
                pending.future.set_result(None)
