"""The producer side: appending server events to a namespace's partition streams.

:meth:`RedisProducer.append` sends one ``MULTI`` with an ``XADD`` per event, each to the
partition of its pixel and event_id: on one Redis server all of them are stored or none
("accepted" means that ``EXEC`` was answered). What that survives depends on the server's
persistence (``appendfsync``; see :mod:`capic.queue.checks` and docs/scale-out.md).

The namespace is registered in ``capic:queues`` with its partition count, which is how the
workers find the streams; a producer configured with another count than the registered one
refuses to start (the partition of an event must not depend on which node accepted it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from capic.queue.codec import Codec
from capic.queue.connection import call, redis_errors
from capic.queue.keys import REGISTRY, Namespace
from capic.runtime.delivery.queue import QueueError, QueueFull, QueueItem

if TYPE_CHECKING:
    import redis

__all__ = ["RedisProducer", "register"]

#: How long a measured backlog is trusted before it is measured again.
_DEPTH_TTL = 0.5


def register(client: redis.Redis, namespace: Namespace, where: str) -> None:
    """Record the namespace and its partition count, or check it against the recorded one."""
    with redis_errors(where):
        client.hsetnx(REGISTRY, namespace.name, str(namespace.partitions))
        stored = client.hget(REGISTRY, namespace.name)
    if stored is None:
        return
    if not stored.isdigit():  # written by something else: the partitions are unknown
        text = stored.decode(errors="replace") if isinstance(stored, bytes) else str(stored)
        raise QueueError(
            f"the queue {namespace.name} on {where} is registered in {REGISTRY} with "
            f"{text[:40]!r}, not a partition count: fix or delete that field"
        )
    if int(stored) != namespace.partitions:
        raise QueueError(
            f"the queue {namespace.name} on {where} has {int(stored)} partitions, not "
            f"{namespace.partitions}: give every node the same --partitions (or a new project "
            "or environment name)"
        )


class RedisProducer:
    """Appends to one namespace. Thread-safe (the group committer calls it from its thread).

    ``max_pending`` bounds the backlog (events in the streams, delivered or not yet acked):
    beyond it :class:`QueueFull`. Across several producers the bound is approximate: each
    measures the streams at most every half second and adds what it appended since.
    """

    def __init__(
        self,
        client: redis.Redis,
        namespace: Namespace,
        *,
        where: str,
        max_pending: int | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.where = where
        self.max_pending = max_pending
        self.codec = Codec()
        self._lock = threading.Lock()
        self._depth = 0
        self._measured = 0.0
        #: Events appended by this producer (for metrics).
        self.appended = 0

    def __repr__(self) -> str:
        return f"RedisProducer({self.where!r}, {self.namespace.name!r})"

    def append(self, items: Sequence[QueueItem]) -> None:
        if not items:
            return
        if self.max_pending is not None:
            self._check_room(len(items))
        ns = self.namespace
        fields = self.codec.fields
        pipe = self.client.pipeline(transaction=True)
        for item in items:
            pipe.xadd(ns.stream_for(item.destination.pixel_id, item.event_id), fields(item))
        with redis_errors(self.where):
            pipe.execute()
        with self._lock:
            self._depth += len(items)
            self.appended += len(items)

    def _check_room(self, count: int) -> None:
        assert self.max_pending is not None
        now = time.monotonic()
        with self._lock:
            stale = now - self._measured > _DEPTH_TTL
        if stale:
            depth = self.depth()
            with self._lock:
                self._depth, self._measured = depth, now
        with self._lock:
            depth = self._depth
        if depth + count > self.max_pending:
            raise QueueFull(
                f"the queue {self.namespace.name} holds {depth:,} undelivered events "
                f"(limit {self.max_pending:,})",
                retry_after=1.0,
            )

    def depth(self) -> int:
        """Events in the namespace's partition streams (not yet acked)."""
        pipe = self.client.pipeline(transaction=False)
        for stream in self.namespace.streams:
            pipe.xlen(stream)
        return sum(int(n) for n in call(self.where, pipe.execute))

    def ping(self) -> None:
        call(self.where, self.client.ping)

    def close(self) -> None:
        self.client.close()
