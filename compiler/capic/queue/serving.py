"""``capic serve --queue URL`` and ``capic run --queue URL``: the producer side put together.

:func:`open_producer` connects (Redis unreachable at start: one line, the process does not
start), checks the persistence settings (warnings; ``--queue-strict`` refuses to start),
registers the namespace with its partitions, and returns a :class:`QueueSide`: the producer
the group committer writes to (Redis, spilling to the local outbox while Redis is away), the
forwarder that replays the outbox into Redis, and a Prometheus collector of both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from capic.metrics import ScrapeCollector
from capic.queue.checks import check_persistence, read_persistence
from capic.queue.connection import QueueUnavailable, QueueURL, call, connect
from capic.queue.enhance import RedisEnhancementStore
from capic.queue.keys import Namespace
from capic.queue.producer import RedisProducer, register
from capic.queue.spill import Forwarder, Link, SpillingProducer
from capic.runtime.delivery.outbox import Outbox
from capic.runtime.delivery.queue import QueueError

__all__ = ["QueueSide", "enhancement_stores", "open_producer", "run_deliverer"]

#: Enhancement runs on the request path: its commands wait at most this long.
_ENHANCEMENT_TIMEOUT = 0.25


@dataclass
class QueueSide:
    url: QueueURL
    namespace: Namespace
    producer: SpillingProducer
    forwarder: Forwarder
    link: Link
    client: Any

    def degraded(self) -> list[str]:
        """Why the node is degraded (it still accepts: events go to the local outbox)."""
        if self.link.up:
            return []
        return [
            f"queue: {self.link.problem or 'Redis is unavailable'}; events are kept in the "
            "local outbox and replayed when it is back"
        ]

    def collector(self) -> Any:
        return _Collector(self)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def open_producer(
    url_text: str,
    *,
    project: str,
    environment: str | None,
    partitions: int,
    strict: bool,
    spill: Outbox,
    max_pending: int | None,
    log: Callable[[str], None],
    give_up_after: float | None = None,
) -> QueueSide:
    """Raises QueueError (one line) when the queue cannot be used."""
    url = QueueURL.parse(url_text)
    where = str(url)
    client = connect(url)
    try:
        try:
            call(where, client.ping)
        except QueueUnavailable as exc:
            raise QueueError(f"cannot reach Redis: {exc}") from None
        for warning in check_persistence(read_persistence(client, where), where, strict=strict):
            log(warning)
        namespace = Namespace.of(project, environment, partitions)
        register(client, namespace, where)
    except BaseException:
        client.close()
        raise
    primary = RedisProducer(client, namespace, where=where, max_pending=max_pending)
    link = Link(where, log)
    return QueueSide(
        url,
        namespace,
        SpillingProducer(primary, spill, link),
        Forwarder(spill, primary, link, give_up_after=give_up_after),
        link,
        client,
    )


def run_deliverer(
    url_text: str,
    *,
    project: str,
    environment: str | None,
    partitions: int,
    strict: bool,
    log: Callable[[str], None],
    give_up_after: float = 30.0,
) -> Callable[[Outbox], Forwarder]:
    """What ``capic run --queue`` delivers with: the forwarder of its outbox into Redis (the
    run reads, commits to the outbox with its checkpoints as always, and forwards)."""
    from capic.runtime.destinations import RunConfigError

    def make(outbox: Outbox) -> Forwarder:
        try:
            side = open_producer(
                url_text,
                project=project,
                environment=environment,
                partitions=partitions,
                strict=strict,
                spill=outbox,
                max_pending=None,
                log=log,
                give_up_after=give_up_after,
            )
        except QueueError as exc:
            raise RunConfigError(str(exc)) from None
        side.forwarder.on_stop = side.close
        return side.forwarder

    return make


def enhancement_stores(url_text: str) -> Callable[[str], RedisEnhancementStore]:
    """A factory of shared enhancement stores by project (its own connections, with short
    timeouts: a slow Redis must not hold requests up)."""
    url = QueueURL.parse(url_text)

    def make(project: str) -> RedisEnhancementStore:
        return RedisEnhancementStore(connect(url, timeout=_ENHANCEMENT_TIMEOUT), project)

    return make


class _Collector(ScrapeCollector):
    """The queue's counters, read when Prometheus scrapes (nothing on the request path)."""

    def __init__(self, side: QueueSide) -> None:
        self.side = side

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        side = self.side
        yield GaugeMetricFamily(
            "capic_queue_up", "1 while Redis answers, 0 while events spill.", value=side.link.up
        )
        yield CounterMetricFamily(
            "capic_queue_appended_events",
            "Server events appended to the Redis streams.",
            value=side.producer.primary.appended,
        )
        yield CounterMetricFamily(
            "capic_queue_spilled_events",
            "Server events kept in the local outbox because Redis was unavailable.",
            value=side.producer.spilled,
        )
        yield CounterMetricFamily(
            "capic_queue_replayed_events",
            "Server events moved from the local outbox into Redis.",
            value=side.forwarder.forwarded,
        )
