"""Delivery that never loses an event: outbox first, then batches, retries and bisection.

Every submitted event is written to the :class:`~capic.runtime.delivery.outbox.Outbox` and
only removed once Meta acknowledged it (or moved to the dead-letter table with Meta's reason,
when Meta rejected that very event). The outbox is committed before each request, so whatever
may have reached Meta is on disk; after a crash, :meth:`Deliverer.recover` sends what an
earlier run left. A request that timed out may still have been accepted, so an event can
arrive twice; it is then the same event (same ``event_id``), which Meta deduplicates.

Durability of :meth:`Deliverer.submit`: ``durability="batch"`` (default) commits the outbox
before each request, at :meth:`Deliverer.tick` and at :meth:`Deliverer.flush`: fast, and at
most one unsent batch per destination is exposed to a crash of this process.
``durability="event"`` commits on every ``submit``: once it returns, the event survives a crash.

Concurrency: with ``concurrency=1`` (default) requests are made in the caller's thread, one at
a time. With ``concurrency=N`` up to N requests are in flight on worker threads (useful against
the real Graph API, where a request takes hundreds of milliseconds); at most ``2*N`` batches
wait in memory, and an error a worker meets (such as :class:`InvalidTokenError`) is raised by
the next ``submit``/``tick``/``flush``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

import orjson

from capic.runtime.delivery.batching import Batcher
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.outbox import Outbox
from capic.runtime.delivery.retry import RetryPolicy, Verdict
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import (
    DEFAULT_BASE_URL,
    GraphTransport,
    TransportResult,
    scrub,
)
from capic.runtime.secrets import Secret, SecretError, SecretRef, resolve

__all__ = ["Deliverer", "InvalidTokenError"]

#: (outbox row id, encoded event)
Item = tuple[int, bytes]


class InvalidTokenError(Exception):
    """Meta rejected the access token (code 190). Delivery stops; the events stay queued.

    The message names the pixel and the token *reference*, never the token.
    """

    def __init__(self, destination: Destination, detail: str) -> None:
        self.destination = destination
        self.pixel_id = destination.pixel_id
        self.token_ref = destination.token.describe()
        super().__init__(
            f"the access token {self.token_ref} for pixel {self.pixel_id} was rejected by the "
            f"Graph API ({detail}); fix the token, the undelivered events stay in the outbox"
        )


class Deliverer:
    """Batches events per destination and delivers them to the Graph API.

    Call ``submit``/``tick``/``flush``/``close`` from one thread. ``clock`` and ``sleep`` are
    injectable (tests). The outbox belongs to the caller (not closed here); a transport created
    here is closed by :meth:`close`.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        transport: GraphTransport | None = None,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        max_batch: int = 1000,
        max_age: float = 1.0,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
        durability: Literal["batch", "event"] = "batch",
        concurrency: int = 1,
        cooldown: float | None = None,
    ) -> None:
        if durability not in ("batch", "event"):
            raise ValueError("durability is 'batch' or 'event'")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.outbox = outbox
        self._owns_transport = transport is None
        self.transport = transport if transport is not None else GraphTransport(base_url)
        self.policy = policy if policy is not None else RetryPolicy()
        self.durability = durability
        self.stats = DeliveryStats()
        self._batcher: Batcher[Item] = Batcher(max_batch=max_batch, max_age=max_age, clock=clock)
        self._secrets_dir = secrets_dir
        self._environ = environ
        self._clock = clock
        self._sleep = sleep
        self._log = log
        #: How long a destination rests after its retries ran out.
        self._cooldown = self.policy.max_delay if cooldown is None else cooldown
        self._tokens: dict[SecretRef, Secret] = {}
        #: Destinations with a literal token seen in this run, by batch key: the outbox keeps
        #: no literal tokens, so rows it returns are matched back to these.
        self._live: dict[tuple[str, str, str | None], Destination] = {}
        #: Guards what workers share with the caller: stats, down/stranded destinations.
        self._lock = threading.Lock()
        self._down_until: dict[Destination, float] = {}
        self._stranded: set[Destination] = set()
        self._failure: BaseException | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._slots: threading.BoundedSemaphore | None = None
        self._inflight: set[Future[None]] = set()
        if concurrency > 1:
            self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="capic-delivery")
            self._slots = threading.BoundedSemaphore(2 * concurrency)
        self._recover_upto = outbox.max_id()
        self._recovered = False
        self._closed = False

    def __repr__(self) -> str:
        return f"Deliverer(outbox={self.outbox!r}, transport={self.transport!r})"

    # -- public API -------------------------------------------------------------------------

    def submit(self, dest: Destination, event: dict[str, Any]) -> None:
        """Queue one (already hashed) server event for ``dest``; sends full or old batches."""
        if self._failure is not None:
            raise self._failure
        body = orjson.dumps(event)
        event_id = event.get("event_id")
        if event_id is not None and not isinstance(event_id, str):
            event_id = str(event_id)
        row = self.outbox.add(dest, body, event_id)
        if self.durability == "event":
            self.outbox.commit()
        self.stats.submitted += 1
        if dest.token.kind == "literal":
            self._live[dest.batch_key] = dest
        self._enqueue(dest, row, body)
        for batch in self._batcher.due():
            self._dispatch(batch.destination, batch.items)

    def tick(self) -> None:
        """Send batches older than ``max_age`` and commit. Call it when events stop arriving."""
        self._raise_failure()
        for batch in self._batcher.due():
            self._dispatch(batch.destination, batch.items)
        self.outbox.commit()

    def recover(self) -> int:
        """Queue the events an earlier run left in the outbox (once); returns how many."""
        if self._recovered:
            return 0
        self._recovered = True
        count = 0
        after = 0
        while True:
            rows = self.outbox.pending(
                self._batcher.max_batch, after_id=after, upto_id=self._recover_upto
            )
            if not rows:
                break
            for row in rows:
                after = row.id
                count += 1
                self._enqueue(self._live_destination(row.destination), row.id, row.body)
        self.stats.recovered += count
        if count and self._log:
            self._log(f"recovered {count} undelivered events from {self.outbox.path}")
        return count

    def flush(self) -> None:
        """Send everything pending, including what an earlier run left in the outbox."""
        self._raise_failure()
        self.recover()
        for batch in self._batcher.drain():
            self._dispatch(batch.destination, batch.items)
        self._wait()
        self.outbox.commit()
        with self._lock:
            stranded = sorted(self._stranded, key=lambda d: d.batch_key)
        for dest in stranded:
            if not self._is_down(dest):
                with self._lock:
                    self._stranded.discard(dest)
                self._sweep(dest)
        self.stats.deferred = self.outbox.pending_count()

    def close(self) -> None:
        """Flush, then release the workers and the transport (if created here). Idempotent."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self.outbox.commit()
            if self._owns_transport:
                self.transport.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
            return
        # Already failing: release resources, let the original exception through.
        with contextlib.suppress(Exception):
            self.close()

    # -- batching and dispatch --------------------------------------------------------------

    def _live_destination(self, dest: Destination) -> Destination:
        if dest.token.is_redacted:
            return self._live.get(dest.batch_key, dest)
        return dest

    def _is_down(self, dest: Destination) -> bool:
        if not self._down_until:
            return False
        with self._lock:
            until = self._down_until.get(dest)
            if until is None:
                return False
            if self._clock() >= until:
                del self._down_until[dest]
                return False
            return True

    def _strand(self, dest: Destination) -> None:
        with self._lock:
            self._stranded.add(dest)

    def _enqueue(self, dest: Destination, row: int, body: bytes) -> None:
        if self._is_down(dest):
            # Durable in the outbox already; sent by flush() after the cool-down, or a replay.
            self._strand(dest)
            return
        full = self._batcher.add(dest, (row, body))
        if full is not None:
            self._dispatch(full.destination, full.items)

    def _dispatch(self, dest: Destination, items: list[Item]) -> None:
        """Send a batch now (concurrency 1) or hand it to a worker."""
        self._raise_failure()
        if self._is_down(dest):
            self._strand(dest)
            return
        token = self._token(dest)
        # Durable before send: whatever may reach Meta is on disk.
        self.outbox.commit()
        if self._pool is None or self._slots is None:
            try:
                self._deliver(dest, token, items)
            except InvalidTokenError as exc:
                self._failure = exc  # the run stays stopped: later calls raise it again
                raise
            return
        slots = self._slots
        slots.acquire()
        try:
            future = self._pool.submit(self._work, dest, token, items)
        except BaseException:
            slots.release()
            raise
        with self._lock:
            self._inflight.add(future)
        future.add_done_callback(self._done)

    def _work(self, dest: Destination, token: Secret, items: list[Item]) -> None:
        try:
            self._deliver(dest, token, items)
        except BaseException as exc:
            with self._lock:
                if self._failure is None:
                    self._failure = exc

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(future)
        if self._slots is not None:
            self._slots.release()

    def _wait(self) -> None:
        while True:
            with self._lock:
                pending = list(self._inflight)
            if not pending:
                break
            wait(pending)
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _sweep(self, dest: Destination) -> None:
        """Send the rows of ``dest`` that were left in the outbox while it was down."""
        after = 0
        while not self._is_down(dest):
            rows = self.outbox.pending(self._batcher.max_batch, after_id=after, destination=dest)
            if not rows:
                break
            after = rows[-1].id
            self._dispatch(dest, [(row.id, row.body) for row in rows])
            # One page at a time: a page must be resolved before the next query sees the rows.
            self._wait()

    # -- sending ----------------------------------------------------------------------------

    def _token(self, dest: Destination) -> Secret:
        ref = dest.token
        if ref.is_redacted:
            ref = self._live.get(dest.batch_key, dest).token
        secret = self._tokens.get(ref)
        if secret is None:
            try:
                secret = resolve(ref, secrets_dir=self._secrets_dir, environ=self._environ)
            except SecretError as exc:
                raise SecretError(f"{dest.describe()}: {exc}") from None
            self._tokens[ref] = secret
        return secret

    def _deliver(self, dest: Destination, token: Secret, items: list[Item]) -> None:
        """Deliver one batch: retries, bisection on invalid parameters, dead letters."""
        work: list[list[Item]] = [items]
        while work:
            chunk = work.pop()
            verdict, result = self._post(dest, token, chunk)
            if verdict == "ok":
                self.outbox.ack([row for row, _ in chunk])
                with self._lock:
                    self.stats.sent += len(chunk)
                    self.stats.batches += 1
            elif verdict == "bisect":
                with self._lock:
                    self.stats.bisections += 1
                mid = len(chunk) // 2
                work.append(chunk[mid:])
                work.append(chunk[:mid])
            elif verdict == "reject":
                self._dead_letter(dest, chunk, result, token)
            elif verdict == "fatal_token":
                raise InvalidTokenError(dest, scrub(result.describe(), token))
            else:  # retries exhausted: leave everything in the outbox, rest the destination
                left = len(chunk) + sum(len(c) for c in work)
                with self._lock:
                    self._down_until[dest] = self._clock() + self._cooldown
                    self._stranded.add(dest)
                if self._log:
                    self._log(
                        f"{dest.describe()}: giving up for now after {self.policy.max_attempts} "
                        f"attempts ({scrub(result.describe(), token)}); "
                        f"{left} events stay in the outbox"
                    )
                return

    def _post(
        self, dest: Destination, token: Secret, chunk: Sequence[Item]
    ) -> tuple[Verdict, TransportResult]:
        bodies = [body for _, body in chunk]
        attempt = 0
        while True:
            attempt += 1
            result = self.transport.post(dest, token, bodies)
            verdict = self.policy.classify(
                result.status, result.json, result.error, batch_size=len(chunk)
            )
            retry = verdict == "retry" and attempt < self.policy.max_attempts
            with self._lock:
                self.stats.requests += 1
                if retry:
                    self.stats.retried += 1
            if not retry:
                return verdict, result
            wait_for = self.policy.delay(attempt, result.retry_after)
            if self._log:
                self._log(
                    f"{dest.describe()}: {scrub(result.describe(), token)}; retrying "
                    f"{len(chunk)} events in {wait_for:.2f}s "
                    f"(attempt {attempt + 1}/{self.policy.max_attempts})"
                )
            self._sleep(wait_for)

    def _dead_letter(
        self, dest: Destination, chunk: Sequence[Item], result: TransportResult, token: Secret
    ) -> None:
        err = result.error_fields or {}
        code = err.get("code") if isinstance(err.get("code"), int) else None
        subcode = err.get("error_subcode") if isinstance(err.get("error_subcode"), int) else None
        parts = [
            str(err[key]).strip()
            for key in ("error_user_title", "error_user_msg", "message")
            if isinstance(err.get(key), str) and str(err[key]).strip()
        ]
        message = scrub(" | ".join(dict.fromkeys(parts)) or result.describe(), token)
        trace = err.get("fbtrace_id") if isinstance(err.get("fbtrace_id"), str) else None
        self.outbox.dead_letter([row for row, _ in chunk], code, subcode, message, trace)
        if code is None:
            reason = f"http {result.status}"
        else:
            reason = f"{code}/{subcode}" if subcode is not None else f"{code}"
        with self._lock:
            self.stats.dead_lettered += len(chunk)
            self.stats.rejected_by_reason[reason] += len(chunk)
        if self._log:
            self._log(f"{dest.describe()}: {len(chunk)} event(s) dead-lettered: {message}")
