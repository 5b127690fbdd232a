"""Durable commits from the event loop: the requests of one loop turn share one submission.

The engine's :class:`~capic.runtime.delivery.commit.GroupCommitter` already shares a
transaction between concurrent submitters. Submitting once per *request* would still cost a
cross-thread hand-off per request (a future resolved by the writer thread wakes the loop once
for each), and the loop thread, busy with the next requests, holds the GIL the writer needs.
Here every request that reaches its commit during one turn of the loop joins one list; at the
end of the turn the list is submitted as one group, and its single future resolves all of
their waiters in one wake-up. A failed group fails each of its requests with the same error:
nothing of it was stored (``append`` is all or nothing), so each may be retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capic.runtime.delivery.commit import GroupCommitter
    from capic.runtime.delivery.queue import QueueItem

__all__ = ["LoopCommitter"]

_Waiter = tuple[Sequence["QueueItem"], "asyncio.Future[None]"]


class LoopCommitter:
    """Owned by one event loop; :meth:`commit` is awaited by request handlers."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer
        self._pending: list[_Waiter] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def commit(self, items: Sequence[QueueItem]) -> None:
        """Return once ``items`` are durable; raise the producer's error otherwise."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            self._loop = loop
            loop.call_soon(self._submit)
        self._pending.append((items, waiter))
        await waiter

    def _submit(self) -> None:
        group, self._pending = self._pending, []
        items = [item for part, _ in group for item in part]
        try:
            done = self.committer.submit(items)
        except Exception as exc:  # closed: the service is stopping
            self._resolve(group, exc)
            return
        loop = self._loop
        assert loop is not None

        def finished(future: Future[None]) -> None:
            exc = future.exception()
            loop.call_soon_threadsafe(self._resolve, group, exc)

        done.add_done_callback(finished)

    @staticmethod
    def _resolve(group: list[_Waiter], exc: BaseException | None) -> None:
        for _, waiter in group:
            if waiter.done():  # the request was cancelled (its client went away)
                continue
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)
