"""The delivery engine: reads leases back from a queue, batches them, delivers them.

One engine serves ``capic run``, ``capic serve`` and the queue workers. It owns its threads and
never runs on the caller's thread (or event loop):

- a *reader* leases from the :class:`~capic.runtime.delivery.queue.Consumer` and batches per
  destination, at most ``max_batch`` (≤ 1,000) events, sent when full or ``max_age`` seconds
  after its first event; it holds at most ``(2 * concurrency + 1) * max_batch`` leases;
- ``concurrency`` *delivery threads* send batches with a
  :class:`~capic.runtime.delivery.sending.BatchSender` (retries, bisection, dead letters).

``drain(deadline)`` delivers everything queued now (the end of ``capic run``); ``stop(deadline)``
finishes or abandons what is in flight by the deadline and leaves the rest queued (SIGTERM).
Deadlines are seconds from the call; None waits as long as it takes. A destination whose
retries ran out rests for ``cooldown`` seconds, at least one (its events are released to the
queue with that delay). When Meta rejects the credentials (190, a bad ``appsecret_proof``)
or a token cannot be resolved, delivery stops: :attr:`DeliveryEngine.stopped_reason` says
why, everything stays queued, and ``serve`` fails ``/readyz``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from capic.runtime.delivery.batching import MAX_EVENTS_PER_REQUEST, Batcher
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.queue import Consumer, DeadLetterReason, Lease
from capic.runtime.delivery.retry import RetryPolicy
from capic.runtime.delivery.sending import (
    BatchSender,
    Credentials,
    DeliveryObserver,
    SenderHooks,
)
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import GraphTransport

__all__ = ["DeliveryEngine", "DeliveryObserver"]

#: How often the reader looks at its flags when there is nothing to lease.
_POLL = 0.1
_MIN_COOLDOWN = 1.0


class _Abandoned(Exception):
    """The engine gave up its leases at a stop deadline: no more consumer calls."""


class DeliveryEngine:
    """Delivers what ``consumer`` holds to the Graph API through ``transport``.

    ``destinations`` are the destinations this process built (their literal secrets are never
    queued); ``max_deliveries`` dead-letters leases handed out that many times before (None:
    never). ``secrets_dir`` and ``environ`` resolve token and app-secret references.
    """

    def __init__(
        self,
        consumer: Consumer,
        *,
        transport: GraphTransport,
        policy: RetryPolicy | None = None,
        max_batch: int = MAX_EVENTS_PER_REQUEST,
        max_age: float = 1.0,
        concurrency: int = 1,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        log: Callable[[str], None] | None = None,
        observer: DeliveryObserver | None = None,
        destinations: Iterable[Destination] = (),
        cooldown: float | None = None,
        max_deliveries: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.consumer = consumer
        self.policy = policy if policy is not None else RetryPolicy()
        self.max_batch = max_batch
        self.max_age = max_age
        self.concurrency = concurrency
        # A rest of at least a second: a destination that failed every attempt is not tried
        # again at once (and a drain, which ends when only resting events are left, ends).
        self.cooldown = max(_MIN_COOLDOWN, self.policy.max_delay if cooldown is None else cooldown)
        self.max_deliveries = max_deliveries
        self.stats = DeliveryStats()
        self._batcher: Batcher[Lease] = Batcher(
            max_batch=max_batch, max_age=max_age, clock=time.monotonic
        )
        self._window = (2 * concurrency + 1) * max_batch
        self._cond = threading.Condition()
        self._dispatch: deque[tuple[Destination, list[Lease]]] = deque()
        self._outstanding = 0
        self._mode = "new"  # new, running, draining, stopping, stopped
        self._idle = False
        self._stopped_reason: str | None = None
        self._down_until: dict[Destination, float] = {}
        self._wake = threading.Event()
        self._abandoned = False
        self._calls = 0
        self._threads: list[threading.Thread] = []
        self._log = log
        self.credentials = Credentials(secrets_dir=secrets_dir, environ=environ, known=destinations)
        self._sender = BatchSender(
            consumer,
            transport,
            self.policy,
            self.credentials,
            self.stats,
            SenderHooks(wait=self._sleep, call=self._call, log=log, observer=observer),
        )
        self._observer = observer

    def __repr__(self) -> str:
        return f"DeliveryEngine(consumer={self.consumer!r}, mode={self._mode!r})"

    # -- public API -------------------------------------------------------------------------

    @property
    def stopped_reason(self) -> str | None:
        """Why delivery stopped on its own (credentials rejected or missing), else None."""
        return self._stopped_reason

    def start(self) -> None:
        with self._cond:
            if self._mode != "new":
                raise RuntimeError("the engine was started already")
            self._mode = "running"
        self.stats.set("recovered", self.consumer.depth())
        self._threads = [threading.Thread(target=self._read, name="capic-lease", daemon=True)]
        self._threads += [
            threading.Thread(target=self._deliver, name=f"capic-deliver-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def drain(self, deadline: float | None) -> None:
        """Deliver everything queued now: return once nothing is left that can be sent (what
        a resting destination holds stays queued), delivery stopped, or the deadline passed."""
        end = None if deadline is None else time.monotonic() + deadline
        with self._cond:
            if self._mode == "running":
                self._mode = "draining"
                self._idle = False
                self._cond.notify_all()
            while not self._idle and self._stopped_reason is None and self._mode == "draining":
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(_POLL if left is None else min(left, _POLL))
        with contextlib.suppress(Exception):
            self.stats.set("deferred", self.consumer.depth())

    def stop(self, deadline: float | None) -> None:
        """Stop leasing; requests in flight may finish until the deadline, then their leases
        are abandoned (they stay in the queue); batches not yet sent are released. Idempotent."""
        with self._cond:
            if self._mode in ("stopping", "stopped"):
                return
            started = self._mode != "new"
            self._mode = "stopping"
            self._cond.notify_all()
        self._wake.set()
        if not started:
            with self._cond:
                self._mode = "stopped"
            return
        end = None if deadline is None else time.monotonic() + deadline
        for thread in self._threads:
            left = None if end is None else max(0.0, end - time.monotonic())
            thread.join(left)
        with self._cond:
            self._abandoned = True  # a thread still in a request must not touch the queue
            while self._calls:
                self._cond.wait()
            self._mode = "stopped"
        with contextlib.suppress(Exception):
            self.stats.set("deferred", self.consumer.depth())

    def __enter__(self) -> DeliveryEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(None)

    # -- hooks lent to the sender -----------------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless the engine is stopping (then False at once)."""
        return not self._wake.wait(seconds)

    def _call(self, call: Callable[[], None]) -> bool:
        """Run a consumer call; False (not run) once the engine abandoned its leases."""
        try:
            with self._using():
                call()
        except _Abandoned:
            return False
        return True

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        with self._cond:
            if self._abandoned:
                raise _Abandoned
            self._calls += 1
        try:
            yield
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()

    # -- the reader -------------------------------------------------------------------------

    def _read(self) -> None:
        try:
            self._read_loop()
        except Exception as exc:  # a broken queue stops delivery; it never dies silently
            self._stop_with(f"the queue failed: {exc}")
        finally:
            held = [lease for batch in self._batcher.drain() for lease in batch.items]
            with self._cond:
                while self._dispatch:
                    held += self._dispatch.popleft()[1]
                self._cond.notify_all()
            if held:
                with contextlib.suppress(Exception):
                    self._call(lambda: self.consumer.release(held, 0.0))
                self._finished(len(held))

    def _read_loop(self) -> None:
        while True:
            with self._cond:
                if self._mode not in ("running", "draining") or self._stopped_reason:
                    return
                draining = self._mode == "draining"
                room = self._window - self._outstanding
                if room <= 0:
                    self._cond.wait(self._until_due())
            if room <= 0:
                self._flush_due()
                continue
            # Draining: look again soon, until nothing is left to send (then the usual pace).
            timeout = 0.02 if draining and not self._idle else self._until_due()
            leases = self.consumer.lease(min(room, self.max_batch), timeout)
            if leases:
                with self._cond:
                    self._outstanding += len(leases)
                self._take(leases)
            self._flush_due()
            if draining and not leases:
                for batch in self._batcher.drain():
                    self._send(batch.destination, batch.items)
                with self._cond:
                    if self._outstanding == 0 and not self._dispatch:
                        self._idle = True
                        self._cond.notify_all()

    def _until_due(self) -> float:
        oldest = self._batcher.oldest
        if oldest is None:
            return _POLL
        return max(0.0, min(_POLL, oldest + self.max_age - time.monotonic()))

    def _take(self, leases: Sequence[Lease]) -> None:
        groups: dict[Destination, list[Lease]] = {}
        last: Destination | None = None
        group: list[Lease] = []
        for lease in leases:
            dest = lease.item.destination
            if dest is not last:  # the rows of one destination share one object
                found = groups.get(dest)
                group = groups[dest] = [] if found is None else found
                last = dest
            group.append(lease)
        now = time.monotonic()
        for stored, group in groups.items():
            dest = self.credentials.live(stored)
            if self.max_deliveries is not None:
                worn = [lease for lease in group if lease.deliveries >= self.max_deliveries]
                if worn:
                    self._give_up(worn)
                    group = [lease for lease in group if lease.deliveries < self.max_deliveries]
            with self._cond:
                until = self._down_until.get(dest)
                if until is not None and until <= now:
                    del self._down_until[dest]
                    until = None
            if until is not None:  # resting: back to the queue until the rest is over
                self._call(functools.partial(self.consumer.release, group, until - now))
                self._finished(len(group))
                continue
            for full in self._batcher.extend(dest, group):
                self._send(full.destination, full.items)

    def _give_up(self, worn: list[Lease]) -> None:
        reason = DeadLetterReason(
            f"handed out {self.max_deliveries} times without a delivery; given up"
        )
        self._call(functools.partial(self.consumer.dead_letter, worn, reason))
        self.stats.reject(reason.key, len(worn))
        self._finished(len(worn))

    def _flush_due(self) -> None:
        for batch in self._batcher.due():
            self._send(batch.destination, batch.items)

    def _send(self, dest: Destination, leases: list[Lease]) -> None:
        with self._cond:
            self._dispatch.append((dest, leases))
            self._cond.notify_all()

    def _finished(self, count: int) -> None:
        with self._cond:
            self._outstanding -= count
            self._cond.notify_all()

    # -- delivery threads -------------------------------------------------------------------

    def _deliver(self) -> None:
        while True:
            with self._cond:
                while not self._dispatch and self._mode in ("running", "draining"):
                    self._cond.wait()
                if not self._dispatch:
                    return
                dest, leases = self._dispatch.popleft()
            try:
                self._deliver_batch(dest, leases)
            except Exception as exc:  # a queue that fails under us stops delivery, loudly
                self._stop_with(f"delivery failed: {type(exc).__name__}: {exc}")
            finally:
                self._finished(len(leases))

    def _deliver_batch(self, dest: Destination, leases: list[Lease]) -> None:
        if self._stopped_reason is not None or self._mode == "stopping":
            self._call(lambda: self.consumer.release(leases, 0.0))
            return
        outcome = self._sender.send(dest, leases, self.cooldown)
        if outcome == "down":
            with self._cond:
                self._down_until[dest] = time.monotonic() + self.cooldown
        elif outcome == "stopped":
            self._stop_with(self._sender.stop_reason or "delivery stopped")

    def _stop_with(self, reason: str) -> None:
        with self._cond:
            if self._stopped_reason is None:
                self._stopped_reason = reason
                if self._log is not None:
                    self._log(f"delivery stopped: {reason}")
            self._cond.notify_all()
