"""Delivery counters, kept by the engine's threads and read from any thread."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["DeliveryStats"]

_COUNTS = (
    "recovered",
    "sent",
    "batches",
    "requests",
    "retried",
    "bisections",
    "dead_lettered",
    "deferred",
)


@dataclass(slots=True)
class DeliveryStats:
    """Counters of one engine. Update them with :meth:`add` and :meth:`reject`; read a
    consistent copy with :meth:`snapshot` (safe from any thread)."""

    #: Events found in the queue when delivery started (an earlier run's leftovers).
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
    #: Events given up for good, now dead letters.
    dead_lettered: int = 0
    #: Events left queued when delivery ended (a later run or a replay sends them).
    deferred: int = 0
    #: Dead-lettered events by reason (``code/subcode``, ``http 400``, ``capic``).
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to counters by name (``stats.add(sent=1000, batches=1)``)."""
        with self._lock:
            for name, n in counts.items():
                if name not in _COUNTS:
                    raise AttributeError(f"no delivery counter {name!r}")
                setattr(self, name, getattr(self, name) + n)

    def reject(self, reason: str, count: int) -> None:
        """Count ``count`` dead-lettered events for ``reason``."""
        with self._lock:
            self.dead_lettered += count
            self.rejected_by_reason[reason] += count

    def set(self, name: str, value: int) -> None:
        if name not in _COUNTS:
            raise AttributeError(f"no delivery counter {name!r}")
        with self._lock:
            setattr(self, name, value)

    def snapshot(self) -> DeliveryStats:
        """A copy, consistent across counters."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in _COUNTS}
            return DeliveryStats(**values, rejected_by_reason=Counter(self.rejected_by_reason))

    def to_json(self) -> dict[str, Any]:
        snap = self.snapshot()
        out: dict[str, Any] = {name: getattr(snap, name) for name in _COUNTS}
        out["rejected_by_reason"] = dict(sorted(snap.rejected_by_reason.items()))
        return out
