"""Helpers for the delivery, outbox and emulator tests (imported explicitly, not a conftest)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from capic.runtime.delivery import (
    DeadLetterReason,
    Destination,
    GraphTransport,
    Outbox,
    QueueItem,
    RetryPolicy,
)
from capic.runtime.secrets import SecretRef

#: A token that looks real enough; tests grep for it everywhere it must not be.
TOKEN = "EAAGtestTOKENvalue0123456789abcdefXYZ"
TOKEN_ENV = "CAPIC_TEST_TOKEN"
PIXEL = "1234567890123456"
VERSION = "v25.0"
#: One timestamp for the whole session, so that event(i) is the same dict every time it is built.
SESSION_NOW = int(time.time())


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def destination(
    pixel: str = PIXEL, *, test_event_code: str | None = None, env: str = TOKEN_ENV
) -> Destination:
    return Destination(pixel, VERSION, SecretRef.env(env), test_event_code)


def event(i: int, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid, already-hashed website Purchase with event_id ``ev-<i>``."""
    base: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": int(SESSION_NOW if now is None else now),
        "action_source": "website",
        "event_id": f"ev-{i}",
        "event_source_url": "https://shop.example/checkout",
        "user_data": {
            "em": sha(f"user{i}@example.com"),
            "ph": sha("16505551212"),
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "fbp": "fb.1.1700000000000.123456789",
        },
        "custom_data": {"currency": "USD", "value": 10 + i},
    }
    base.update(overrides)
    return base


def item(i: int, dest: Destination | None = None, **overrides: Any) -> QueueItem:
    """event(i) as a queue item for ``dest`` (default: :func:`destination`)."""
    body = event(i, **overrides)
    return QueueItem(dest or destination(), orjson.dumps(body), str(body["event_id"]))


def fill(
    outbox: Outbox, items: list[QueueItem], *, dead: int = 0, reason: DeadLetterReason | None = None
) -> None:
    """Append ``items``; the first ``dead`` become dead letters (Meta's 2804016 by default)."""
    outbox.append(items)
    if dead:
        leases = outbox.lease(dead, 0.0)
        reason = reason or DeadLetterReason("User Parameter Not Hashed", 100, 2804016, "Atrace1")
        outbox.dead_letter(leases, reason)
        # The rest was never handed out: a later consumer starts from the first row.
        outbox.release(outbox.lease(len(items), 0.0), 0.0)


def fast_policy(max_attempts: int = 6) -> RetryPolicy:
    """Real classification, no waiting."""
    return RetryPolicy(max_attempts=max_attempts, base_delay=0.0, max_delay=0.0, jitter=0.0)


@dataclass
class FakeClock:
    """A monotonic clock and a sleep that advances it: tests never wait for real."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Captured:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


Handler = Callable[[Captured], httpx.Response]


def ok_response(request: Captured) -> httpx.Response:
    n = len(request.body.get("data", []))
    return httpx.Response(200, json={"events_received": n, "messages": [], "fbtrace_id": "Atrace"})


def graph_error(
    status: int,
    code: int,
    subcode: int | None = None,
    *,
    transient: bool = False,
    message: str = "(#100) Invalid parameter",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update({"is_transient": transient, "fbtrace_id": f"Atrace{code}"})
    return httpx.Response(status, json={"error": err}, headers=headers)


class MockGraph:
    """A scripted Graph API behind :class:`httpx.MockTransport`: records every request and
    answers with ``script`` (a list of handlers used in turn, then ``default``)."""

    def __init__(self, script: list[Handler] | None = None, default: Handler = ok_response):
        self.script = list(script or [])
        self.default = default
        self.requests: list[Captured] = []

    def _handle(self, request: httpx.Request) -> httpx.Response:
        import orjson

        captured = Captured(str(request.url), dict(request.headers), orjson.loads(request.content))
        self.requests.append(captured)
        handler = self.script.pop(0) if self.script else self.default
        return handler(captured)

    def transport(self, base_url: str = "https://graph.example") -> GraphTransport:
        client = httpx.Client(transport=httpx.MockTransport(self._handle))
        return GraphTransport(base_url, client=client)
