"""The local outbox as a landing place: events go to Redis, or to the outbox while Redis is
away, and a forwarder moves what the outbox holds into the streams.

- :class:`SpillingProducer` (``capic serve --queue``): appends to Redis; when Redis cannot
  be reached it appends to the node's SQLite outbox instead (durable, so the ``202`` still
  holds) and the node reports itself degraded. While Redis is down, appends go straight to
  the outbox without trying Redis first, so requests do not wait for timeouts.
- :class:`Forwarder`: leases from the outbox, appends to Redis, acks in the outbox. It replays
  the spill when Redis is back, and is the whole delivery of ``capic run --queue``, whose
  reader commits to the outbox with its file checkpoints exactly as without a queue. It has
  the surface of the delivery engine the callers use (``start``, ``drain``, ``stop``,
  ``stopped_reason``, ``stats``).

Nothing accepted is lost: an event is in the outbox until Redis answered its ``XADD``. A
crash between that answer and the outbox ack appends it again later: a duplicate with the
same event_id, which Meta deduplicates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from capic.queue.connection import QueueUnavailable
from capic.queue.producer import RedisProducer
from capic.runtime.delivery.outbox import Outbox
from capic.runtime.delivery.queue import QueueError, QueueItem
from capic.runtime.delivery.stats import DeliveryStats

__all__ = ["Forwarder", "Link", "SpillingProducer"]

#: Seconds between attempts to reach Redis while it is down.
RETRY_EVERY = 1.0
#: Events moved from the outbox per XADD transaction.
FORWARD_BATCH = 1000


@dataclass(slots=True)
class ForwardStats(DeliveryStats):
    """Delivery counters of a forwarder (``sent``: appended to Redis), naming the queue."""

    queue: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**DeliveryStats.to_json(self), "queue": self.queue}


class Link:
    """Whether Redis is reachable, as the last command found; says so once per change."""

    def __init__(self, where: str, log: Callable[[str], None] | None = None) -> None:
        self.where = where
        self._log = log
        self._lock = threading.Lock()
        self.up = True
        self.problem: str | None = None
        self._next_try = 0.0

    def down(self, exc: QueueError) -> None:
        with self._lock:
            was = self.up
            self.up = False
            self.problem = str(exc)
            self._next_try = time.monotonic() + RETRY_EVERY
        if was and self._log is not None:
            self._log(f"{exc}; keeping events in the local outbox until it is back")

    def back(self) -> None:
        with self._lock:
            was = self.up
            self.up = True
            self.problem = None
        if not was and self._log is not None:
            self._log(f"Redis at {self.where} is back; replaying the local outbox")

    def worth_trying(self) -> bool:
        with self._lock:
            return self.up or time.monotonic() >= self._next_try


class SpillingProducer:
    """The producer of ``capic serve --queue``: Redis, or the outbox while Redis is away."""

    def __init__(self, primary: RedisProducer, spill: Outbox, link: Link) -> None:
        self.primary = primary
        self.spill = spill
        self.link = link
        self._lock = threading.Lock()
        #: Events appended to the outbox because Redis was away.
        self.spilled = 0

    def append(self, items: Sequence[QueueItem]) -> None:
        if not items:
            return
        if self.link.worth_trying():
            try:
                self.primary.append(items)
            except QueueUnavailable as exc:
                self.link.down(exc)
            else:
                self.link.back()
                return
        self.spill.append(items)  # durable here; QueueFull when the outbox is full too
        with self._lock:
            self.spilled += len(items)

    def depth(self) -> int:
        """Events waiting in the local outbox (the spill)."""
        return self.spill.depth()


class Forwarder:
    """Moves the outbox's events into Redis (one thread). ``give_up_after``: seconds of
    Redis being unreachable after which :meth:`drain` stops waiting and
    :attr:`stopped_reason` says so (``capic run``); None waits for ever (``capic serve``)."""

    def __init__(
        self,
        outbox: Outbox,
        primary: RedisProducer,
        link: Link,
        *,
        give_up_after: float | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.on_stop = on_stop
        self.primary = primary
        self.link = link
        self.give_up_after = give_up_after
        self.stats = ForwardStats(queue=f"{primary.namespace.prefix}:* on {primary.where}")
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._stopped_reason: str | None = None
        self._down_since: float | None = None
        self._thread = threading.Thread(target=self._run, name="capic-forward", daemon=True)

    @property
    def stopped_reason(self) -> str | None:
        return self._stopped_reason

    @property
    def forwarded(self) -> int:
        return self.stats.snapshot().sent

    def start(self) -> None:
        self.stats.set("recovered", self.outbox.depth())
        self._thread.start()

    def drain(self, deadline: float | None) -> None:
        """Return once the outbox is empty, forwarding stopped, or the deadline passed."""
        end = None if deadline is None else time.monotonic() + deadline
        with self._cond:
            while self._stopped_reason is None and (self._busy or self.outbox.depth() > 0):
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(0.05 if left is None else min(left, 0.05))
        self.stats.set("deferred", self.outbox.depth())

    def stop(self, deadline: float | None) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(deadline)
        self.stats.set("deferred", self.outbox.depth())
        if self.on_stop is not None:
            self.on_stop()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            if not self.link.worth_trying():
                self._wait(0.1)
                continue
            leases = self.outbox.lease(FORWARD_BATCH, 0.2)
            if not leases:
                self._probe()
                continue
            with self._cond:
                self._busy = True
            try:
                self.primary.append([lease.item for lease in leases])
            except QueueUnavailable as exc:
                self.outbox.release(leases, RETRY_EVERY)
                self._unavailable(exc)
            except QueueError as exc:  # Redis refuses (full, wrong type): retry later
                self.outbox.release(leases, RETRY_EVERY * 5)
                self.stats.add(retried=len(leases))
                self.link.down(exc)
            else:
                self.outbox.ack(leases)
                self.stats.add(sent=len(leases), batches=1, requests=1)
                self._down_since = None
                self.link.back()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _probe(self) -> None:
        """Nothing to forward: notice that Redis is back (so the node stops spilling)."""
        if self.link.up:
            return
        try:
            self.primary.ping()
        except QueueUnavailable as exc:
            self._unavailable(exc)
        else:
            self._down_since = None
            self.link.back()

    def _unavailable(self, exc: QueueUnavailable) -> None:
        self.link.down(exc)
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        if self.give_up_after is not None and now - self._down_since >= self.give_up_after:
            with self._cond:
                self._stopped_reason = (
                    f"{exc} for {self.give_up_after:.0f} s; what was read stays in the outbox "
                    "and is forwarded by the next run"
                )
                self._stopping = True
                self._cond.notify_all()

    def _wait(self, seconds: float) -> None:
        with self._cond:
            if not self._stopping:
                self._cond.wait(seconds)
