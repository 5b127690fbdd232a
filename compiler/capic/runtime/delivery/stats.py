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
    #: Graph API version signals (:mod:`~capic.runtime.delivery.versions`) by (pixel id,
    #: version, kind): [requests, events, Meta's words].
    version_signals: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
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

    def version_signal(
        self, pixel_id: str, api_version: str, kind: str, events: int, message: str
    ) -> bool:
        """Count one answer carrying a version signal; True the first time for this pixel,
        version and kind (when it is worth a log line)."""
        key = (pixel_id, api_version, kind)
        with self._lock:
            entry = self.version_signals.get(key)
            if entry is None:
                self.version_signals[key] = [1, events, message]
                return True
            entry[0] += 1
            entry[1] += events
            return False

    def set(self, name: str, value: int) -> None:
        if name not in _COUNTS:
            raise AttributeError(f"no delivery counter {name!r}")
        with self._lock:
            setattr(self, name, value)

    def snapshot(self) -> DeliveryStats:
        """A copy, consistent across counters."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in _COUNTS}
            return DeliveryStats(
                **values,
                rejected_by_reason=Counter(self.rejected_by_reason),
                version_signals={k: list(v) for k, v in self.version_signals.items()},
            )

    def to_json(self) -> dict[str, Any]:
        snap = self.snapshot()
        out: dict[str, Any] = {name: getattr(snap, name) for name in _COUNTS}
        out["rejected_by_reason"] = dict(sorted(snap.rejected_by_reason.items()))
        if snap.version_signals:
            out["version_signals"] = [
                {
                    "pixel_id": pixel,
                    "api_version": version,
                    "kind": kind,
                    "requests": requests,
                    "events": events,
                    "message": message,
                }
                for (pixel, version, kind), (requests, events, message) in sorted(
                    snap.version_signals.items()
                )
            ]
        return out
