"""What to do with a Graph API response, and how long to wait before trying again.

Classification follows capi-facts §1.5:

- ``retry``: network errors and timeouts, HTTP 5xx, 408/429, ``is_transient: true``, and the
  throttling/availability codes 1, 2, 4, 17, 32, 341, 613 and 80000-80014.
- ``fatal_token``: 190 (token invalid or expired), and a rejected ``appsecret_proof`` (code
  100 whose developer ``message`` names ``appsecret_proof``: Meta gives it no subcode, and
  bisecting would dead-letter every event for a configuration problem). Nothing will work
  until the credentials change.
- ``reject``: the request will never be accepted, whatever events it holds: permission and
  configuration errors (10, 200-299, 294, 368, 100/33 "object does not exist", 2635 a
  deprecated Graph API version), and any other
  non-retryable error when the request carries a single event. Its events are dead-lettered.
- ``bisect``: code 100 (invalid parameter) and other non-retryable 4xx on a multi-event batch.
  One bad event rejects the whole batch, so the batch is split to find it.
- ``ok``: 2xx without an error.

Delays are exponential with jitter, and honour ``Retry-After`` and the
``estimated_time_to_regain_access`` of ``X-Business-Use-Case-Usage`` (capped).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import orjson

__all__ = [
    "CONFIG_CODES",
    "RETRY_CODES",
    "TOKEN_CODES",
    "RetryPolicy",
    "Verdict",
    "error_fields",
    "retry_hint",
]

Verdict = Literal["ok", "retry", "bisect", "fatal_token", "reject"]

#: Codes worth retrying with backoff (availability and throttling).
RETRY_CODES: frozenset[int] = frozenset({1, 2, 4, 17, 32, 341, 613, *range(80000, 80015)})
#: The token is invalid or expired.
TOKEN_CODES: frozenset[int] = frozenset({190})
#: Permission/configuration problems: no subset of the batch would be accepted either. 2635:
#: the Graph API version is deprecated (capi-facts §15; see delivery.versions).
CONFIG_CODES: frozenset[int] = frozenset({10, 294, 368, 2635, *range(200, 300)})
#: (code, subcode) pairs that are configuration problems although the code is generic.
CONFIG_SUBCODES: frozenset[tuple[int, int]] = frozenset({(100, 33)})


def error_fields(error_json: Any) -> dict[str, Any] | None:
    """The ``error`` object of a Graph API error response, if the body has one."""
    if isinstance(error_json, Mapping):
        err = error_json.get("error")
        if isinstance(err, Mapping):
            return dict(err)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def retry_hint(headers: Mapping[str, str], *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` (seconds or an HTTP date) and
    ``X-Business-Use-Case-Usage`` (``estimated_time_to_regain_access``, in minutes).

    ``headers`` keys must be lower case. Returns the largest hint, or None when there is none.
    """
    hints: list[float] = []
    retry_after = headers.get("retry-after")
    if retry_after:
        text = retry_after.strip()
        try:
            hints.append(max(0.0, float(text)))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None and when.tzinfo is not None:
                hints.append(max(0.0, when.timestamp() - now()))
    usage = headers.get("x-business-use-case-usage")
    if usage:
        try:
            data = orjson.loads(usage)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, Mapping):
            for entries in data.values():
                if not isinstance(entries, list):
                    continue
                for entry in entries:
                    if isinstance(entry, Mapping):
                        minutes = entry.get("estimated_time_to_regain_access")
                        if isinstance(minutes, int | float) and not isinstance(minutes, bool):
                            hints.append(max(0.0, float(minutes) * 60.0))
    return max(hints) if hints else None


class RetryPolicy:
    """Retry classification and backoff.

    ``max_attempts`` counts every request for one batch (the first one included).
    ``delay(attempt)`` is the wait after the ``attempt``-th failure: ``base_delay * 2**(attempt-1)``
    capped at ``max_delay``, reduced by up to ``jitter`` (a fraction) at random, and never below a
    server hint (``Retry-After``/BUC) capped at ``max_hint``. Pass ``rng`` for reproducible jitter.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        jitter: float = 0.25,
        max_hint: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if base_delay < 0 or max_delay < 0 or max_hint < 0:
            raise ValueError("delays must not be negative")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction between 0 and 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.max_hint = max_hint
        self._rng = rng if rng is not None else random.Random()

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, base_delay={self.base_delay}, "
            f"max_delay={self.max_delay}, jitter={self.jitter}, max_hint={self.max_hint})"
        )

    def classify(
        self,
        status: int | None,
        error_json: Any | None,
        exc: BaseException | None,
        *,
        batch_size: int | None = None,
    ) -> Verdict:
        """Decide what to do with a response. ``batch_size=1`` turns ``bisect`` into ``reject``."""
        if exc is not None or status is None:
            return "retry"
        err = error_fields(error_json)
        if err is None:
            if 200 <= status < 300:
                return "ok"
            if status >= 500 or status in (408, 429):
                return "retry"
            return self._bad_request(batch_size)
        code = _int_or_none(err.get("code"))
        subcode = _int_or_none(err.get("error_subcode"))
        if code in TOKEN_CODES:
            return "fatal_token"
        if code == 100 and "appsecret_proof" in str(err.get("message") or ""):
            return "fatal_token"
        if err.get("is_transient") is True or code in RETRY_CODES:
            return "retry"
        if status >= 500 or status in (408, 429):
            return "retry"
        if code in CONFIG_CODES or (code, subcode) in CONFIG_SUBCODES:
            return "reject"
        return self._bad_request(batch_size)

    @staticmethod
    def _bad_request(batch_size: int | None) -> Verdict:
        return "reject" if batch_size == 1 else "bisect"

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait after the ``attempt``-th failed request (1-based)."""
        exponent = min(max(attempt, 1) - 1, 62)
        backoff = min(self.max_delay, self.base_delay * (2.0**exponent))
        if self.jitter:
            backoff *= 1.0 - self.jitter * self._rng.random()
        if hint is not None:
            backoff = max(backoff, min(hint, self.max_hint))
        return backoff
