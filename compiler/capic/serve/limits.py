"""Deployment limits: per-client-IP request rates, and JSON nesting depth.

Body sizes are enforced while the body is read (:mod:`capic.serve.body`); the numbers
themselves are flags (:class:`capic.serve.config.Limits`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import accumulate
from typing import Final

__all__ = ["RateLimiter", "json_depth"]

# A JSON string, written as an unrolled loop (about twice as fast as the alternation).
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes, limit: int | None = None) -> int:
    """How deeply the JSON text ``body`` nests arrays and objects (0 for a scalar), measured
    on the bytes before anything is parsed (brackets inside strings do not count). With
    ``limit``, a body with fewer opening brackets than that is not measured (it cannot nest
    deeper) and 0 is returned."""
    if limit is not None and body.count(b"[") + body.count(b"{") <= limit:
        return 0
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    opened = brackets.count(b"[") + brackets.count(b"{")
    if opened <= 1:
        return opened
    return max(accumulate(_STEP[b] for b in brackets))


class RateLimiter:
    """A token bucket per client address: ``rate`` requests a second on average, bursts of
    ``burst``. Remembers at most ``max_clients`` addresses (the least recently seen are
    forgotten, which only ever lets a forgotten client start again with a full bucket).
    Thread-safe; ``rate <= 0`` disables it."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, client: str) -> float:
        """0 when ``client`` may make a request now, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait
