"""The consumer side: a consumer group's member handing stream entries to the delivery engine.

:class:`RedisConsumer` is the queue contract's
:class:`~capic.runtime.delivery.queue.Consumer` over the partition streams of one or more
namespaces, so the unchanged :class:`~capic.runtime.delivery.engine.DeliveryEngine` (batches,
retries, bisection, dead letters) delivers from Redis. What it hands out, in this order:

1. entries released earlier whose rest is over (``XCLAIM ... JUSTID`` to itself, which checks
   that they are still there);
2. at start, the consumer's *own* pending entries (``XREADGROUP`` from id ``0``): what this
   consumer name held when its previous process died;
3. entries of dead consumers, claimed by the sweeper (:mod:`capic.queue.claims`);
4. new entries (``XREADGROUP >``, blocking up to the engine's timeout).

``ack`` is ``XACK`` + ``XDEL`` in one ``MULTI`` per stream: a delivered entry leaves the stream
(the backlog is the stream length; nothing is ever trimmed by length, which would drop entries
not yet delivered). ``dead_letter`` writes the entry and the reason to the namespace's dead
stream first, then acks it. While Redis is unreachable, ``lease`` returns nothing and ``ack``
and ``dead_letter`` wait for it to come back (the engine keeps its batches meanwhile): a Redis
restart never stops a worker, and what could not be acked is delivered again later, with the
same event_id.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from capic.queue.claims import ClaimKeeper
from capic.queue.codec import Codec, EntryError
from capic.queue.connection import QueueUnavailable, redis_errors
from capic.queue.keys import Namespace, by_stream, lease_id, split_id
from capic.queue.settle import Settler
from capic.runtime.delivery.queue import DeadLetterReason, Lease, QueueError

__all__ = ["RedisConsumer"]

Entry = tuple[bytes, Any]


class RedisConsumer:
    """One member (``consumer``) of the consumer group ``group`` on the given namespaces.

    ``claim_idle``: seconds an entry must have been left alone before the sweeper takes it
    from another consumer; this consumer refreshes its own entries well within that time
    (however long a delivery takes), so only the entries of a dead consumer go idle. ``rest``:
    the default wait of a released entry. ``max_deliveries``: an entry Redis handed out more
    often than that (to consumers that stopped or died while holding it: a poison event, or a
    crash loop) goes to the dead-letter stream instead; releases after failed requests do not
    count, so a long Meta outage never dead-letters anything. ``log`` gets one line when
    Redis goes away and one when it is back. Thread-safe: the engine leases from one thread
    and acks from others.
    """

    def __init__(
        self,
        client: Any,
        namespaces: Sequence[Namespace],
        *,
        where: str,
        group: str,
        consumer: str,
        claim_idle: float = 30.0,
        rest: float = 1.0,
        block: float = 1.0,
        max_deliveries: int | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if claim_idle <= 0:
            raise ValueError("claim_idle must be positive")
        self.client = client
        self.where = where
        self.group = group
        self.name = consumer
        self.rest = rest
        self.block = block
        self.max_deliveries = max_deliveries
        self.codec = Codec()
        self._log = log
        self._lock = threading.Lock()
        #: Set by close() and interrupt(): waits for Redis end at once.
        self.stopping = threading.Event()
        self._closed = False
        self.namespaces: list[Namespace] = []
        self._streams: list[str] = []
        self._dead: dict[str, str] = {}
        #: Streams whose own pending entries were not all read back yet.
        self._own: dict[str, str] = {}
        self._held: dict[str, Lease] = {}
        self._resting: list[tuple[float, int, str]] = []
        self._seq = 0
        self._buffer: deque[Lease] = deque()
        self.up = True
        self.claims = ClaimKeeper(self, claim_idle)
        self.settler = Settler(self)
        self.add_namespaces(namespaces)
        self.claims.start()

    def __repr__(self) -> str:
        return f"RedisConsumer({self.where!r}, group={self.group!r}, consumer={self.name!r})"

    # -- streams ----------------------------------------------------------------------------

    def add_namespaces(self, namespaces: Iterable[Namespace]) -> list[Namespace]:
        """Serve these namespaces too (creating the group on their streams); the new ones."""
        fresh = [ns for ns in namespaces if ns.name not in {n.name for n in self.namespaces}]
        for ns in fresh:
            for stream in ns.streams:
                with redis_errors(self.where):
                    try:
                        # From id 0: what producers appended before any worker started counts.
                        self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
                    except Exception as exc:
                        if "BUSYGROUP" not in str(exc):
                            raise
        with self._lock:
            for ns in fresh:
                self.namespaces.append(ns)
                for stream in ns.streams:
                    self._streams.append(stream)
                    self._dead[stream] = ns.dead
                    self._own[stream] = "0"
        return fresh

    @property
    def streams(self) -> list[str]:
        with self._lock:
            return list(self._streams)

    # -- lease ------------------------------------------------------------------------------

    def lease(self, limit: int, timeout: float) -> list[Lease]:
        if limit <= 0:
            return []
        end = time.monotonic() + max(0.0, timeout)
        while not self.stopping.is_set():
            try:
                out = self._gather(limit, end)
            except QueueUnavailable as exc:
                self.down(exc)
                self.stopping.wait(max(0.0, min(0.5, end - time.monotonic())))
                out = []
            if out or time.monotonic() >= end:
                return out
            if not self.streams:  # nothing to read yet (no producer registered a queue)
                self.stopping.wait(max(0.0, min(self.block, end - time.monotonic())))
        return []

    def _gather(self, limit: int, end: float) -> list[Lease]:
        out: list[Lease] = []
        with self._lock:
            while self._buffer and len(out) < limit:
                out.append(self._buffer.popleft())
        if len(out) < limit:
            out += self._wake(limit - len(out))
        if len(out) < limit and self._own:
            out += self._read(self._own_ids(), limit - len(out), None)
        if len(out) < limit:
            out += self.claims.sweep(limit - len(out))
        if len(out) < limit:
            block = None if out else self._block_for(end)
            out += self._read({s: ">" for s in self.streams}, limit - len(out), block)
        self.healthy()
        return out

    def _block_for(self, end: float) -> int | None:
        wait = min(end - time.monotonic(), self.block, self.claims.until_sweep())
        with self._lock:
            if self._resting:
                wait = min(wait, self._resting[0][0] - time.monotonic())
        ms = int(wait * 1000)
        return ms if ms >= 1 else None  # BLOCK 0 would wait for ever

    def _own_ids(self) -> dict[str, str]:
        with self._lock:
            return dict(self._own)

    def _read(self, ids: dict[str, str], limit: int, block: int | None) -> list[Lease]:
        if not ids:
            return []
        # COUNT is per stream: ask each for its share, so that one read takes about ``limit``
        # entries in all and the other workers of the group get the rest.
        count = max(1, -(-limit // len(ids)))
        with redis_errors(self.where):
            reply = self.client.xreadgroup(self.group, self.name, ids, count=count, block=block)
        pending = any(start != ">" for start in ids.values())
        got: list[Lease] = []
        answered: set[str] = set()
        for raw_stream, entries in reply or ():
            stream = _text(raw_stream)
            if pending and entries:
                answered.add(stream)
                with self._lock:
                    self._own[stream] = _text(entries[-1][0])
            got += self.take(stream, entries, counted=pending)
        if pending:
            with self._lock:  # a stream that gave nothing has no more own pending entries
                for stream in ids:
                    if stream not in answered:
                        self._own.pop(stream, None)
        return self._keep(got, limit)

    def _keep(self, got: list[Lease], limit: int) -> list[Lease]:
        """Hand out ``limit``; the rest (XREADGROUP counts per stream) waits in the buffer."""
        if len(got) <= limit:
            return got
        with self._lock:
            self._buffer.extend(got[limit:])
        return got[:limit]

    def take(self, stream: str, entries: Sequence[Entry], *, counted: bool) -> list[Lease]:
        """Entries now in this consumer's pending list, as leases. ``counted``: Redis
        delivered them before (own pending, claims): their delivery count is looked up."""
        counts = self._counts(stream, entries) if counted and entries else {}
        out: list[Lease] = []
        worn: list[Lease] = []
        gone: list[str] = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            key = lease_id(stream, entry_id)
            if not fields:  # deleted from the stream while pending: nothing to deliver
                gone.append(entry_id)
                continue
            try:
                item = self.codec.item(fields)
            except EntryError as exc:
                self.settler.unreadable(stream, entry_id, fields, str(exc))
                continue
            lease = Lease(key, item, max(0, counts.get(entry_id, 1) - 1))
            with self._lock:
                if key in self._held:  # already ours (a claim of our own entry): keep one
                    continue
                self._held[key] = lease
            if self.max_deliveries is not None and lease.deliveries >= self.max_deliveries:
                worn.append(lease)
            else:
                out.append(lease)
        if gone:
            with redis_errors(self.where):
                self.client.xack(stream, self.group, *gone)
        if worn:
            self.dead_letter(
                worn,
                DeadLetterReason(
                    f"handed out more than {self.max_deliveries} times to workers that "
                    "stopped before delivering it (a poison event, or workers killed while "
                    "delivering); given up"
                ),
            )
        return out

    def _counts(self, stream: str, entries: Sequence[Entry]) -> dict[str, int]:
        ids = [_text(e[0]) for e in entries]
        with redis_errors(self.where):
            rows = self.client.xpending_range(
                stream, self.group, ids[0], ids[-1], len(ids) + 16, consumername=self.name
            )
        return {_text(row["message_id"]): int(row["times_delivered"]) for row in rows}

    def _wake(self, limit: int) -> list[Lease]:
        """Released entries whose rest is over, claimed again (Redis counts the delivery)."""
        now = time.monotonic()
        ready: list[Lease] = []
        with self._lock:
            while self._resting and self._resting[0][0] <= now and len(ready) < limit:
                _, _, key = heapq.heappop(self._resting)
                lease = self._held.get(key)
                if lease is not None:
                    ready.append(lease)
        out: list[Lease] = []
        for stream, group in by_stream(ready).items():
            ids = [split_id(lease.id)[1] for lease in group]
            try:
                with redis_errors(self.where):
                    # JUSTID: a release after a failed request is not a worker stopping
                    # (see max_deliveries); the claim only checks the entry is still there.
                    back = self.client.xclaim(stream, self.group, self.name, 0, ids, justid=True)
            except QueueUnavailable:
                with self._lock:  # try again once Redis is back
                    for lease in group:
                        self._rest(lease.id, now + 0.5)
                raise
            present = {_text(entry_id) for entry_id in back or ()}
            for lease in group:
                if split_id(lease.id)[1] in present:
                    again = lease._replace(deliveries=lease.deliveries + 1)
                    with self._lock:
                        self._held[lease.id] = again
                    out.append(again)
                else:
                    with self._lock:
                        self._held.pop(lease.id, None)
        return out

    def _rest(self, key: str, ready: float) -> None:
        self._seq += 1
        heapq.heappush(self._resting, (ready, self._seq, key))

    # -- outcomes (the writes: capic.queue.settle) ------------------------------------------

    def ack(self, leases: Sequence[Lease]) -> None:
        self.settler.ack(leases)

    def dead_letter(self, leases: Sequence[Lease], reason: DeadLetterReason) -> None:
        self.settler.dead_letter(leases, reason)

    def release(self, leases: Sequence[Lease], delay: float | None = None) -> None:
        ready = time.monotonic() + (self.rest if delay is None else max(0.0, delay))
        with self._lock:
            for lease in leases:
                if lease.id in self._held:
                    self._rest(lease.id, ready)

    def dead_stream(self, stream: str) -> str:
        with self._lock:
            dead = self._dead.get(stream)
        if dead is None:
            raise QueueError(f"{stream} is not a stream of this consumer")
        return dead

    def drop(self, leases: Sequence[Lease]) -> None:
        with self._lock:
            for lease in leases:
                self._held.pop(lease.id, None)

    # -- state ------------------------------------------------------------------------------

    def held(self) -> dict[str, list[str]]:
        """Entry ids held by this consumer (leased, buffered or resting), per stream."""
        with self._lock:
            keys = list(self._held)
        out: dict[str, list[str]] = {}
        for key in keys:
            stream, entry = split_id(key)
            out.setdefault(stream, []).append(entry)
        return out

    def depth(self) -> int:
        """Entries in the streams served (delivered ones are deleted, so: not yet acked)."""
        pipe = self.client.pipeline(transaction=False)
        for stream in self.streams:
            pipe.xlen(stream)
        with redis_errors(self.where):
            return sum(int(n) for n in pipe.execute())

    def down(self, exc: QueueError) -> None:
        if self.up:
            self.up = False
            if self._log is not None:
                self._log(f"{exc}; waiting for it")

    def healthy(self) -> None:
        if not self.up:
            self.up = True
            if self._log is not None:
                self._log(f"Redis at {self.where} is back")

    def interrupt(self) -> None:
        """Stop waiting for Redis: a lease returns nothing and an ack or dead letter that
        cannot reach Redis raises instead of waiting (a stop whose deadline passed)."""
        self.stopping.set()

    def close(self) -> None:
        """Stop the claim keeper and close the connections. What is held stays pending in
        Redis under this consumer's name: its next start (or a sweeper) takes it."""
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        self.claims.stop()
        with contextlib.suppress(Exception):
            self.client.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
