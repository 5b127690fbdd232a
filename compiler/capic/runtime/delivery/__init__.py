"""Delivery to the Graph API: the queue contract, the outbox, group commit, the engine, dry runs.

The public names other packages use::

    from capic.runtime.delivery import DeliveryEngine, GraphTransport, GroupCommitter, Outbox

    with Outbox("events.outbox.sqlite") as outbox:
        committer = GroupCommitter(outbox)
        engine = DeliveryEngine(outbox, transport=GraphTransport())
        engine.start()
        committer.submit(items).result()   # durable: the engine delivers it from the outbox
        committer.close()
        engine.drain(None)
        engine.stop(5.0)

Items (:class:`QueueItem`) are already normalized, hashed and encoded (the
:class:`~capic.runtime.ingest.Ingestor` makes them): the outbox is a file, and raw customer
information never leaves the process.
"""

from __future__ import annotations

from capic.runtime.delivery.batching import MAX_EVENTS_PER_REQUEST
from capic.runtime.delivery.commit import CommitterClosed, GroupCommitter
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.dryrun import DryRunSink
from capic.runtime.delivery.engine import DeliveryEngine
from capic.runtime.delivery.outbox import DeadLetter, Outbox, OutboxError, OutboxLocked
from capic.runtime.delivery.queue import (
    Consumer,
    DeadLetterReason,
    InputProgress,
    Lease,
    Producer,
    ProgressProducer,
    QueueError,
    QueueFull,
    QueueItem,
)
from capic.runtime.delivery.retry import RetryPolicy, Verdict, retry_hint
from capic.runtime.delivery.sending import Credentials, DeliveryObserver
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
    "CommitterClosed",
    "Consumer",
    "Credentials",
    "DeadLetter",
    "DeadLetterReason",
    "DeliveryEngine",
    "DeliveryObserver",
    "DeliveryStats",
    "Destination",
    "DryRunSink",
    "GraphTransport",
    "GroupCommitter",
    "InputProgress",
    "Lease",
    "NetworkError",
    "Outbox",
    "OutboxError",
    "OutboxLocked",
    "Producer",
    "ProgressProducer",
    "QueueError",
    "QueueFull",
    "QueueItem",
    "RetryPolicy",
    "TransportResult",
    "Verdict",
    "retry_hint",
]
