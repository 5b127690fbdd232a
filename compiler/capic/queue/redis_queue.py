"""Both sides of the queue contract on one namespace: a producer and a consumer sharing a
connection pool (the contract tests, ``capic run --queue``'s own checks, small tools).

``capic serve`` uses only :class:`~capic.queue.producer.RedisProducer`, ``capic worker`` only
:class:`~capic.queue.consumer.RedisConsumer`.
"""

from __future__ import annotations

from collections.abc import Sequence

from capic.queue.codec import DeadLetterEntry
from capic.queue.connection import QueueURL, connect
from capic.queue.consumer import RedisConsumer
from capic.queue.keys import Namespace
from capic.queue.ops import read_dead_letters
from capic.queue.producer import RedisProducer, register
from capic.runtime.delivery.queue import DeadLetterReason, Lease, QueueItem

__all__ = ["RedisQueue"]


class RedisQueue:
    def __init__(
        self,
        url: QueueURL,
        namespace: Namespace,
        *,
        group: str = "capic",
        consumer: str = "capic",
        max_pending: int | None = None,
        claim_idle: float = 30.0,
        rest: float = 1.0,
    ) -> None:
        self.url = url
        self.namespace = namespace
        where = str(url)
        self.client = connect(url)
        register(self.client, namespace, where)
        self.producer = RedisProducer(self.client, namespace, where=where, max_pending=max_pending)
        self.consumer = RedisConsumer(
            self.client,
            [namespace],
            where=where,
            group=group,
            consumer=consumer,
            claim_idle=claim_idle,
            rest=rest,
        )

    def __repr__(self) -> str:
        return f"RedisQueue({str(self.url)!r}, {self.namespace.name!r})"

    def append(self, items: Sequence[QueueItem]) -> None:
        self.producer.append(items)

    def lease(self, limit: int, timeout: float) -> list[Lease]:
        return self.consumer.lease(limit, timeout)

    def ack(self, leases: Sequence[Lease]) -> None:
        self.consumer.ack(leases)

    def release(self, leases: Sequence[Lease], delay: float | None = None) -> None:
        self.consumer.release(leases, delay)

    def dead_letter(self, leases: Sequence[Lease], reason: DeadLetterReason) -> None:
        self.consumer.dead_letter(leases, reason)

    def depth(self) -> int:
        return self.producer.depth()

    def dead_letters(self, limit: int | None = None) -> list[DeadLetterEntry]:
        return read_dead_letters(self.client, self.namespace, str(self.url), limit)

    def close(self) -> None:
        self.consumer.close()
