"""Prometheus plumbing shared by ``capic serve`` and ``capic worker`` (prometheus-client).

One registry per process, a cache of labelled children, the exposition, and the delivery
engine's observer hooks. Each owner (:mod:`capic.serve.metrics`, :mod:`capic.queue.metrics`)
declares its own metrics: names and help texts are its public contract and differ between the
two (``capic_delivered_events`` vs ``capic_worker_delivered_events``), so only what is the
same logic lives here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from capic.runtime.delivery.destination import Destination

__all__ = [
    "CONTENT_TYPE",
    "DELIVERY_BUCKETS",
    "DeliveryMetrics",
    "MetricSet",
    "ScrapeCollector",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Graph API request times: tens of milliseconds to the 30 s transport timeout.
DELIVERY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MetricSet:
    """A process's own registry (never the global one: tests and embedders run several)."""

    def __init__(self) -> None:
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once (the label lookup is a measurable part
        of a small request)."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DeliveryMetrics(MetricSet):
    """The delivery engine's observer hooks (``delivered``, ``retried``, ``dead_lettered``)
    over four metrics the subclass declares, in its own order, on :attr:`registry`."""

    delivered_events: Counter
    retried_events: Counter
    dead_lettered_events: Counter
    delivery_seconds: Histogram

    def delivered(self, dest: Destination, count: int, seconds: float) -> None:
        self.delivered_events.labels(dest.pixel_id).inc(count)
        self.delivery_seconds.labels(dest.pixel_id).observe(seconds)

    def retried(self, dest: Destination, count: int) -> None:
        self.retried_events.labels(dest.pixel_id).inc(count)

    def dead_lettered(self, dest: Destination, count: int, reason: str) -> None:
        self.dead_lettered_events.labels(dest.pixel_id, reason).inc(count)


class ScrapeCollector(ABC):
    """A custom collector read when Prometheus scrapes; it describes nothing up front, so
    registering it does not run a (Redis) collection. Subclasses say what a scrape reads."""

    def describe(self) -> Iterator[Any]:
        return iter(())

    @abstractmethod
    def collect(self) -> Iterator[Any]: ...
