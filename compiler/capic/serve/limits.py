"""Deployment limits: per-client-IP request rates, and JSON nesting depth.

Body sizes are enforced while the body is read (:mod:`capic.serve.app`); the numbers
themselves are flags (:class:`capic.serve.config.Limits`). Depth is measured on the parsed
body: orjson refuses anything nested past its own limit (a deep body cannot make it recurse
without bound), and nothing of capic's walks an event recursively before this check.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["RateLimiter", "deeper_than", "json_depth"]


def deeper_than(value: Any, limit: int) -> bool:
    """Whether the parsed JSON ``value`` nests arrays and objects more than ``limit`` deep.

    Walked with an explicit stack (never recursion), and only containers are followed, so a
    batch of a thousand ordinary events costs a few milliseconds; it stops at the first
    container past the limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if type(node) is dict else node
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
    return False


def json_depth(value: Any) -> int:
    """How deeply the parsed JSON ``value`` nests arrays and objects (0 for a scalar)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in (dict, list) else []
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        children = node.values() if type(node) is dict else node
        for child in children:
            if type(child) in (dict, list):
                stack.append((child, depth + 1))
    return best


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
