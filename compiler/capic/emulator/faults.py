"""Fault injection for the emulator, driven by a seeded random generator."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from typing import Literal

import orjson

from capic.emulator.validation import GraphError

__all__ = ["Fault", "FaultConfig", "FaultKind", "FaultPicker"]

FaultKind = Literal["5xx", "throttle", "timeout", "drop"]


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Probabilities (per request) of each fault; they must add up to at most 1.

    - ``rate_5xx``: HTTP 500/503 with ``is_transient: true``; nothing is accepted.
    - ``rate_throttle``: codes 4, 17 or 613 (HTTP 400 or 429); nothing is accepted.
    - ``rate_timeout``: the response is held ``stall`` seconds (past the client's timeout);
      the events may or may not have been accepted first.
    - ``rate_drop``: the connection is closed without a response; the events may or may not
      have been accepted first.

    ``retry_after`` (seconds) is announced on throttling responses: ``Retry-After`` (when not
    zero) and ``estimated_time_to_regain_access`` (minutes) in ``X-Business-Use-Case-Usage``.
    """

    rate_5xx: float = 0.0
    rate_throttle: float = 0.0
    rate_timeout: float = 0.0
    rate_drop: float = 0.0
    stall: float = 35.0
    retry_after: float = 0.0

    def __post_init__(self) -> None:
        rates = (self.rate_5xx, self.rate_throttle, self.rate_timeout, self.rate_drop)
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates are probabilities that add up to at most 1")
        if self.stall < 0 or self.retry_after < 0:
            raise ValueError("stall and retry_after must not be negative")

    @property
    def enabled(self) -> bool:
        return (self.rate_5xx + self.rate_throttle + self.rate_timeout + self.rate_drop) > 0


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    #: For timeouts and drops: were the events accepted before the failure?
    accept_first: bool = False
    #: For 5xx and throttling: the error to answer with, and extra headers.
    error: GraphError | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _server_errors() -> tuple[GraphError, ...]:
    return (
        GraphError(500, 1, "An unknown error has occurred.", is_transient=True),
        GraphError(503, 2, "(#2) Service temporarily unavailable", is_transient=True),
    )


def _throttles() -> tuple[GraphError, ...]:
    return (
        GraphError(400, 4, "(#4) Application request limit reached", is_transient=True),
        GraphError(400, 17, "(#17) User request limit reached", 2446079, is_transient=True),
        GraphError(
            429,
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
            1487742,
            is_transient=False,
        ),
    )


class FaultPicker:
    """Draws one fault (or none) per request; thread-safe and reproducible for a given seed
    and request order."""

    def __init__(self, config: FaultConfig, seed: int = 0) -> None:
        self.config = config
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server_errors = _server_errors()
        self._throttles = _throttles()

    def pick(self) -> Fault | None:
        cfg = self.config
        if not cfg.enabled:
            return None
        with self._lock:
            r = self._rng.random()
            variant = self._rng.random()
        edge = cfg.rate_5xx
        if r < edge:
            index = int(variant * len(self._server_errors))
            return Fault("5xx", error=self._server_errors[index])
        edge += cfg.rate_throttle
        if r < edge:
            index = int(variant * len(self._throttles))
            return Fault("throttle", error=self._throttles[index], headers=self._throttle_headers())
        edge += cfg.rate_timeout
        if r < edge:
            return Fault("timeout", accept_first=variant < 0.5)
        edge += cfg.rate_drop
        if r < edge:
            return Fault("drop", accept_first=variant < 0.5)
        return None

    def _throttle_headers(self) -> tuple[tuple[str, str], ...]:
        wait = self.config.retry_after
        usage = {
            "1": [
                {
                    "type": "ads_management",
                    "call_count": 100,
                    "total_cputime": 100,
                    "total_time": 100,
                    "estimated_time_to_regain_access": math.ceil(wait / 60.0),
                }
            ]
        }
        headers = [("X-Business-Use-Case-Usage", orjson.dumps(usage).decode())]
        if wait:
            headers.append(("Retry-After", str(math.ceil(wait))))
        return tuple(headers)
