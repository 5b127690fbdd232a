"""Prometheus metrics of ``capic worker`` (``--metrics-port``; prometheus-client).

Counters kept by the delivery engine's observer hooks (delivered, retried, dead-lettered, per
pixel and reason), the claims of the sweeper, and, read from ``XINFO GROUPS`` when Prometheus
scrapes, the group's lag (entries not yet read) and pending entries (read, not yet acked) per
queue and partition: scale workers out on lag, look for stuck or dead workers on pending and
claims. Labels are bounded (pixels, Meta's error codes, queue names); no event contents, no
customer information, no secret is ever a label or a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from capic.metrics import DELIVERY_BUCKETS, DeliveryMetrics, ScrapeCollector
from capic.queue.ops import partition_status
from capic.runtime.delivery.queue import QueueError

if TYPE_CHECKING:
    from capic.queue.consumer import RedisConsumer

__all__ = ["WorkerMetrics"]


class WorkerMetrics(DeliveryMetrics):
    """The worker's registry; also the delivery engine's observer."""

    def __init__(self, consumer: RedisConsumer) -> None:
        super().__init__()
        r = self.registry
        self.delivered_events = Counter(
            "capic_worker_delivered_events",
            "Events Meta accepted, by pixel.",
            ["pixel"],
            registry=r,
        )
        self.retried_events = Counter(
            "capic_worker_retried_events",
            "Events sent again after a transient failure, by pixel.",
            ["pixel"],
            registry=r,
        )
        self.dead_lettered_events = Counter(
            "capic_worker_dead_lettered_events",
            "Events moved to the dead-letter stream, by pixel and reason.",
            ["pixel", "reason"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "capic_worker_delivery_duration_seconds",
            "Graph API request time, by pixel.",
            ["pixel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        r.register(_QueueCollector(consumer))


class _QueueCollector(ScrapeCollector):
    def __init__(self, consumer: RedisConsumer) -> None:
        self.consumer = consumer

    def collect(self) -> Iterator[Any]:
        c = self.consumer
        yield GaugeMetricFamily("capic_worker_up", "1 while Redis answers.", value=c.up)
        yield CounterMetricFamily(
            "capic_worker_claimed_entries",
            "Entries this worker claimed from other (dead or stuck) consumers.",
            value=c.claims.claimed,
        )
        lag = GaugeMetricFamily(
            "capic_queue_lag",
            "Entries the worker group has not read yet, per queue and partition.",
            labels=["queue", "partition"],
        )
        pending = GaugeMetricFamily(
            "capic_queue_pending",
            "Entries read by the group and not yet acked, per queue and partition.",
            labels=["queue", "partition"],
        )
        length = GaugeMetricFamily(
            "capic_queue_length",
            "Entries in the stream (not yet delivered), per queue and partition.",
            labels=["queue", "partition"],
        )
        try:
            for ns in list(c.namespaces):
                for part in partition_status(c.client, ns, c.where, consumers=False):
                    labels = [ns.name, str(part.partition)]
                    length.add_metric(labels, part.length)
                    for group in part.groups:
                        if group.name == c.group:
                            pending.add_metric(labels, group.pending)
                            if group.lag is not None:
                                lag.add_metric(labels, group.lag)
        except QueueError:
            pass  # Redis away: capic_worker_up says so
        yield lag
        yield pending
        yield length
