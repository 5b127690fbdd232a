"""Prometheus metrics of ``capic serve`` (served on the admin port, ``GET /metrics``).

Every label is bounded: routes and statuses are the service's own, reasons are the runtime's
fixed rejection reasons or Meta's error codes, rules and pixels come from the bundle. No label
or value ever holds event contents, customer information or a token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from capic.metrics import CONTENT_TYPE, DELIVERY_BUCKETS, DeliveryMetrics

if TYPE_CHECKING:
    from capic.runtime.delivery.destination import Destination

__all__ = ["CONTENT_TYPE", "Metrics"]

_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics(DeliveryMetrics):
    """The service's registry; also the delivery engine's observer (``delivered``,
    ``retried``, ``dead_lettered``, ``version_signal``)."""

    def __init__(self) -> None:
        super().__init__()
        r = self.registry
        self.requests = Counter(
            "capic_http_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "capic_http_request_duration_seconds",
            "Time to answer a request (durable commit included), by route.",
            ["route"],
            buckets=_LATENCY,
            registry=r,
        )
        self.events = Counter(
            "capic_events",
            "Input events by outcome (accepted, unmatched, rejected).",
            ["outcome"],
            registry=r,
        )
        self.rejected = Counter(
            "capic_events_rejected", "Rejected input events by reason.", ["reason"], registry=r
        )
        self.matches = Counter(
            "capic_rule_matches",
            "Events whose rule condition held, by rule.",
            ["rule"],
            registry=r,
        )
        self.delivered_events = Counter(
            "capic_delivered_events",
            "Server events Meta accepted, by pixel.",
            ["pixel"],
            registry=r,
        )
        self.retried_events = Counter(
            "capic_retried_events",
            "Server events sent again after a transient failure.",
            ["pixel"],
            registry=r,
        )
        self.dead_lettered_events = Counter(
            "capic_dead_lettered_events",
            "Server events given up, by pixel and reason.",
            ["pixel", "reason"],
            registry=r,
        )
        self.version_signals = Counter(
            "capic_graph_api_version_signals",
            "Graph API answers saying a version is deprecated (#2635) or was upgraded "
            "(X-Ad-Api-Version-Warning), by pixel, version and kind.",
            ["pixel", "api_version", "kind"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "capic_delivery_duration_seconds",
            "Graph API request time, by pixel.",
            ["pixel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "capic_outbox_depth", "Server events waiting in the outbox.", registry=r
        )
        self.enhanced = Counter(
            "capic_enhanced_events",
            "Server events given remembered customer information.",
            registry=r,
        )
        self.cookies = Counter(
            "capic_cookies",
            "First-party cookies set on /v1/collect, by cookie and kind.",
            ["cookie", "kind"],
            registry=r,
        )
        self.consent_refusals = Counter(
            "capic_consent_refusals",
            "Hits whose consent gate said no to a use (cookies, enhancement).",
            ["use"],
            registry=r,
        )
        self.rate_limited = Counter(
            "capic_rate_limited", "Requests refused by the per-client rate limit.", registry=r
        )
        self.reloads = Counter(
            "capic_bundle_reloads",
            "Bundle activations by result (activated, kept).",
            ["result"],
            registry=r,
        )
        self.bundle = Gauge(
            "capic_bundle_info",
            "The active bundle (value 1).",
            ["project", "environment", "revision"],
            registry=r,
        )

    def request_done(self, route: str, status: int, seconds: float) -> None:
        self.child(self.requests, route, str(status)).inc()
        self.child(self.request_seconds, route).observe(seconds)

    # ------------------------------------------------------------------ delivery observer
    def version_signal(self, dest: Destination, kind: str, count: int) -> None:
        self.version_signals.labels(dest.pixel_id, dest.api_version, kind).inc()

    # ------------------------------------------------------------------ service
    def set_bundle(self, project: str, environment: str, revision: str) -> None:
        self.bundle.clear()
        self.bundle.labels(project, environment, revision).set(1)

    def render(self, depth: Callable[[], int] | None = None) -> bytes:
        if depth is not None:
            self.outbox_depth.set(depth())
        return super().render()
