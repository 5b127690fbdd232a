"""Delivery to the Graph API: outbox, batching, retries, bisection, dead letters, dry runs.

The public names other packages use::

    from capic.runtime.delivery import Deliverer, Destination, Outbox

    with Outbox("events.outbox.sqlite") as outbox, Deliverer(outbox=outbox) as deliverer:
        deliverer.submit(Destination("123", "v25.0", SecretRef.env("META_CAPI_TOKEN")), event)

Events handed to the deliverer (and stored in the outbox) must already be normalized and
hashed: the outbox is a file, and raw customer information never leaves the process.
"""

from __future__ import annotations

from capic.runtime.delivery.batching import MAX_EVENTS_PER_REQUEST
from capic.runtime.delivery.deliverer import Deliverer, InvalidTokenError
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.dryrun import DryRunSink
from capic.runtime.delivery.outbox import DeadLetter, Outbox, OutboxError, PendingEvent
from capic.runtime.delivery.retry import RetryPolicy, Verdict, retry_hint
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import (
    PARTNER_AGENT,
    GraphTransport,
    NetworkError,
    TransportResult,
)

__all__ = [
    "MAX_EVENTS_PER_REQUEST",
    "PARTNER_AGENT",
    "DeadLetter",
    "Deliverer",
    "DeliveryStats",
    "Destination",
    "DryRunSink",
    "GraphTransport",
    "InvalidTokenError",
    "NetworkError",
    "Outbox",
    "OutboxError",
    "PendingEvent",
    "RetryPolicy",
    "TransportResult",
    "Verdict",
    "retry_hint",
]
