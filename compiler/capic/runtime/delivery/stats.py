"""Delivery counters, reported by ``capic run`` and ``capic outbox replay``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeliveryStats"]


@dataclass(slots=True)
class DeliveryStats:
    #: Events handed to ``submit``.
    submitted: int = 0
    #: Events found in the outbox from an earlier run and queued again.
    recovered: int = 0
    #: Events Meta acknowledged.
    sent: int = 0
    #: Accepted requests.
    batches: int = 0
    #: Every request made (accepted, rejected, failed).
    requests: int = 0
    #: Requests repeated after a transient failure.
    retried: int = 0
    #: Batches split in two after an invalid-parameter rejection.
    bisections: int = 0
    #: Events Meta rejected, now in the dead-letter table.
    dead_lettered: int = 0
    #: Events left in the outbox after retries ran out (delivered later by a replay).
    deferred: int = 0
    #: Dead-lettered events by ``code/subcode``.
    rejected_by_reason: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "recovered": self.recovered,
            "sent": self.sent,
            "batches": self.batches,
            "requests": self.requests,
            "retried": self.retried,
            "bisections": self.bisections,
            "dead_lettered": self.dead_lettered,
            "deferred": self.deferred,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
        }
