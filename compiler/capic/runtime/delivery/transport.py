"""The Graph API transport: one keep-alive HTTP client, one POST per batch.

The access token travels in the JSON body only: never in the URL (which proxies and access logs
keep), never in a log line, an exception message or a ``repr``. When the pixel has an app
secret, the body also carries ``appsecret_proof``, the hex HMAC-SHA256 of the access token keyed
with the app secret (capi-facts §1.1), which Meta checks when the app requires it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.retry import error_fields, retry_hint
from capic.runtime.secrets import Secret

__all__ = [
    "PARTNER_AGENT",
    "REDACTED",
    "GraphTransport",
    "NetworkError",
    "TransportResult",
    "appsecret_proof",
    "build_body",
    "scrub",
]

#: Sent as ``partner_agent`` (< 23 chars, at least 2 letters: capi-facts §1.1).
PARTNER_AGENT = "capic"
#: What stands in for the token wherever a request is shown.
REDACTED = "[REDACTED]"
DEFAULT_BASE_URL = "https://graph.facebook.com"


def appsecret_proof(app_secret: str, token: str) -> str:
    """Hex HMAC-SHA256 of the access token, keyed with the app secret (what the SDK sends)."""
    return hmac.new(app_secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def build_body(
    dest: Destination, token: str, events: Sequence[bytes], proof: str | None = None
) -> bytes:
    """The request body, built by joining the pre-encoded events (no re-encoding)."""
    parts = [b'{"data":[', b",".join(events), b'],"access_token":', orjson.dumps(token)]
    if proof is not None:
        parts.append(b',"appsecret_proof":' + orjson.dumps(proof))
    parts.append(b',"partner_agent":"' + PARTNER_AGENT.encode() + b'"')
    if dest.test_event_code:
        parts.append(b',"test_event_code":' + orjson.dumps(dest.test_event_code))
    parts.append(b"}")
    return b"".join(parts)


def scrub(text: str, secret: Secret | None) -> str:
    """Remove a secret's value from text that is about to be stored or shown."""
    if secret is not None:
        value = secret.reveal()
        if value and value in text:
            return text.replace(value, REDACTED)
    return text


class NetworkError(Exception):
    """A request that got no HTTP response (connect error, timeout, dropped connection).

    Carries a description only; the underlying client exception (which references the request,
    and through it the body with the token) is not kept.
    """


@dataclass(frozen=True, slots=True)
class TransportResult:
    """What one POST produced: a status and parsed JSON, or a network error."""

    status: int | None
    json: Any = None
    error: NetworkError | None = None
    #: Seconds the server asked us to wait (``Retry-After``, ``X-Business-Use-Case-Usage``).
    retry_after: float | None = None
    elapsed: float = 0.0
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def error_fields(self) -> dict[str, Any] | None:
        """The Graph API ``error`` object, if the response carried one."""
        return error_fields(self.json)

    def describe(self) -> str:
        """One line for logs: status, code/subcode and Meta's message (or the network error)."""
        if self.error is not None:
            return f"network error ({self.error})"
        err = self.error_fields
        if err is None:
            return f"HTTP {self.status}"
        code = err.get("code")
        sub = err.get("error_subcode")
        codes = f"{code}/{sub}" if sub is not None else f"{code}"
        msg = err.get("error_user_msg") or err.get("message") or ""
        return f"HTTP {self.status} code {codes}: {msg}".rstrip(": ")


class GraphTransport:
    """POSTs batches to ``{base_url}/{api_version}/{pixel_id}/events`` over one keep-alive client.

    Pass ``client`` to use your own :class:`httpx.Client` (tests, proxies); it is then not closed
    by :meth:`close`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=60.0),
            headers={"User-Agent": f"{PARTNER_AGENT}-transport"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GraphTransport(base_url={self.base_url!r}, timeout={self.timeout})"

    def url(self, dest: Destination) -> str:
        return self.base_url + dest.path()

    def post(
        self,
        dest: Destination,
        token: Secret,
        events: Sequence[bytes],
        app_secret: Secret | None = None,
    ) -> TransportResult:
        """Send one batch. Never raises for network or HTTP errors: they are in the result."""
        value = token.reveal()
        proof = appsecret_proof(app_secret.reveal(), value) if app_secret is not None else None
        body = build_body(dest, value, events, proof)
        started = time.perf_counter()
        try:
            response = self._client.post(
                self.url(dest),
                content=body,
                headers={"Content-Type": "application/json"},
            )
            content = response.content
        except httpx.HTTPError as exc:
            message = scrub(f"{type(exc).__name__}: {exc}".rstrip(": "), token)
            return TransportResult(status=None, error=NetworkError(message))
        try:
            data: Any = orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            data = None
        headers = {k.lower(): v for k, v in response.headers.items()}
        return TransportResult(
            status=response.status_code,
            json=data,
            retry_after=retry_hint(headers),
            elapsed=time.perf_counter() - started,
            headers=headers,
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GraphTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
