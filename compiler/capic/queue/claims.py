"""Claims: taking over the entries of dead consumers, and keeping one's own from being taken.

A consumer that dies (``kill -9``, a lost machine) leaves its entries in the group's pending
list. The *sweeper* of every live consumer runs ``XAUTOCLAIM`` over each stream with a kept
cursor (each call goes on where the previous one stopped, so a long pending list is covered
bit by bit, not rescanned from the start), taking entries idle for ``claim_idle`` seconds.

A live consumer must not lose its entries that way while a delivery is slow (retries with
backoff can take minutes), so the *refresher* thread resets the idle time of every entry it
holds (``XCLAIM ... JUSTID``, which does not count a delivery) every ``claim_idle / 4``
seconds, for entries idle at least ``claim_idle / 2``: its entries never reach
``claim_idle``, however long their delivery takes, and an entry another consumer claimed in
the meantime (idle less than that) is not taken back.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from capic.queue.connection import QueueUnavailable, redis_errors
from capic.runtime.delivery.queue import Lease, QueueError

if TYPE_CHECKING:
    from capic.queue.consumer import RedisConsumer

__all__ = ["ClaimKeeper"]


class ClaimKeeper:
    def __init__(self, consumer: RedisConsumer, claim_idle: float) -> None:
        self.consumer = consumer
        self.claim_idle = claim_idle
        self.every = min(max(claim_idle / 4, 0.05), 5.0)
        self._cursors: dict[str, str] = {}
        self._next = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        #: Entries taken from other consumers (a metric: dead or stuck consumers).
        self.claimed = 0
        self._thread = threading.Thread(target=self._refresh_loop, name="capic-claims", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)

    # -- the sweeper (runs inside lease) ----------------------------------------------------

    def until_sweep(self) -> float:
        return max(0.0, self._next - time.monotonic())

    def sweep(self, limit: int) -> list[Lease]:
        """Up to ``limit`` entries of consumers idle for ``claim_idle``, when a sweep is due."""
        now = time.monotonic()
        if now < self._next or limit <= 0:
            return []
        self._next = now + self.every
        c = self.consumer
        idle_ms = int(self.claim_idle * 1000)
        out: list[Lease] = []
        for stream in c.streams:
            if len(out) >= limit:
                self._next = now  # more may be waiting: sweep again at the next lease
                break
            with self._lock:
                cursor = self._cursors.get(stream, "0-0")
            with redis_errors(c.where):
                reply = c.client.xautoclaim(
                    stream, c.group, c.name, idle_ms, start_id=cursor, count=limit - len(out)
                )
            following, entries = reply[0], reply[1]
            with self._lock:
                self._cursors[stream] = (
                    following.decode() if isinstance(following, bytes) else str(following)
                )
            taken = c.take(stream, entries, counted=True)
            with self._lock:
                self.claimed += len(taken)
            out += taken
        return out

    # -- the refresher (its own thread) -----------------------------------------------------

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.refresh()
            except QueueError:
                continue  # Redis away: the consumer notices and says so; try again later

    def refresh(self) -> None:
        c = self.consumer
        min_idle = int(self.claim_idle * 500)  # half of claim_idle, in milliseconds
        for stream, ids in c.held().items():
            for start in range(0, len(ids), 1000):
                try:
                    with redis_errors(c.where):
                        c.client.xclaim(
                            stream, c.group, c.name, min_idle, ids[start : start + 1000],
                            justid=True,
                        )  # fmt: skip
                except QueueUnavailable:
                    return
