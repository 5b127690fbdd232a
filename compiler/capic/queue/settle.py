"""Settling leases in Redis: ``ack`` (``XACK`` + ``XDEL`` in one ``MULTI`` per stream) and
``dead_letter`` (the entry and its reason appended to the namespace's dead stream, then acked),
for :class:`~capic.queue.consumer.RedisConsumer`.

While Redis is unreachable these writes wait for it (the engine keeps its batches meanwhile),
unless the consumer was interrupted: then they raise, and what they could not settle stays
pending, to be delivered again (same event_id) by this consumer's next start or a sweeper.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from capic.queue.codec import dead_fields
from capic.queue.connection import QueueUnavailable, redis_errors
from capic.queue.keys import by_stream, lease_id, split_id
from capic.runtime.delivery.queue import DeadLetterReason, Lease

if TYPE_CHECKING:
    from capic.queue.consumer import RedisConsumer

__all__ = ["Settler"]


class Settler:
    """The writing half of a consumer (used through its ``ack`` and ``dead_letter``)."""

    def __init__(self, consumer: RedisConsumer) -> None:
        self.consumer = consumer
        self.client = consumer.client
        self.group = consumer.group

    def ack(self, leases: Sequence[Lease]) -> None:
        for stream, group in by_stream(leases).items():
            ids = [split_id(lease.id)[1] for lease in group]
            self._until_done(functools.partial(self._ack_ids, stream, ids))
            self.consumer.drop(group)

    def _ack_ids(self, stream: str, ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(stream, self.group, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()

    def dead_letter(self, leases: Sequence[Lease], reason: DeadLetterReason) -> None:
        for stream, group in by_stream(leases).items():
            dead = self.consumer.dead_stream(stream)
            rows = [
                dead_fields(self.consumer.codec, x.item, reason, x.id, x.deliveries) for x in group
            ]
            move = functools.partial(self._move_dead, stream, dead, rows, group)
            self._until_done(move)
            self.consumer.drop(group)

    def _move_dead(
        self, stream: str, dead: str, rows: list[dict[Any, Any]], group: list[Lease]
    ) -> None:
        pipe = self.client.pipeline(transaction=False)
        for fields in rows:
            pipe.xadd(dead, fields)
        pipe.execute()
        # Written first, acked second: a crash in between gives a second dead letter of the
        # same event, never none.
        self._ack_ids(stream, [split_id(lease.id)[1] for lease in group])

    def unreadable(self, stream: str, entry_id: str, fields: Any, problem: str) -> None:
        """An entry no worker can deliver: straight to the dead stream, with the problem."""
        row = {bytes(k): bytes(v) for k, v in dict(fields).items()}
        row.update(
            {
                b"src": lease_id(stream, entry_id).encode(),
                b"message": f"unreadable queue entry: {problem}".encode(),
                b"at": f"{time.time():.3f}".encode(),
            }
        )
        with redis_errors(self.consumer.where):
            self.client.xadd(self.consumer.dead_stream(stream), row)
            self._ack_ids(stream, [entry_id])

    def _until_done(self, action: Callable[[], None]) -> None:
        """Run a Redis write, waiting for Redis while it is unreachable (until closed)."""
        wait = 0.2
        while True:
            try:
                with redis_errors(self.consumer.where):
                    action()
                self.consumer.healthy()
                return
            except QueueUnavailable as exc:
                self.consumer.down(exc)
                if self.consumer.stopping.wait(wait):
                    raise
                wait = min(wait * 2, 5.0)
