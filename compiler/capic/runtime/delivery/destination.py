"""Where a batch goes: a pixel (dataset) on a Graph API version, with a token reference (and,
when the app requires it, an app-secret reference for ``appsecret_proof``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capic.runtime.secrets import SecretRef

__all__ = ["Destination"]

_VERSION = re.compile(r"v\d+\.\d+")
_PIXEL = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Destination:
    """A Graph API ``/events`` edge. Hashable; events are batched per destination.

    The token and the app secret are :class:`~capic.runtime.secrets.SecretRef` values,
    resolved when a request is sent: a destination (and so an outbox or a queue entry) never
    carries a secret's value.
    """

    pixel_id: str
    api_version: str
    token: SecretRef
    test_event_code: str | None = None
    app_secret: SecretRef | None = None
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Both go into the request path: keep them to what Meta's ids and versions look like.
        if not _PIXEL.fullmatch(self.pixel_id):
            raise ValueError(f"invalid pixel id {self.pixel_id!r}")
        if not _VERSION.fullmatch(self.api_version):
            raise ValueError(f"invalid Graph API version {self.api_version!r} (e.g. 'v25.0')")
        if self.test_event_code is not None and not self.test_event_code:
            raise ValueError("test_event_code must be None or a non-empty string")
        # Looked up several times per event (outbox, batcher): hash once.
        fields = (
            self.pixel_id,
            self.api_version,
            self.token,
            self.test_event_code,
            self.app_secret,
        )
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # String hashes differ between processes: rebuild (and rehash) when unpickled.
        return (
            Destination,
            (self.pixel_id, self.api_version, self.token, self.test_event_code, self.app_secret),
        )

    @property
    def batch_key(self) -> tuple[str, str, str | None]:
        """What makes two destinations one request stream: pixel, version, test event code."""
        return (self.pixel_id, self.api_version, self.test_event_code)

    def path(self) -> str:
        return f"/{self.api_version}/{self.pixel_id}/events"

    def describe(self) -> str:
        test = f" (test_event_code {self.test_event_code})" if self.test_event_code else ""
        return f"pixel {self.pixel_id} {self.api_version}{test}"

    def to_json(self, *, redact: bool = False) -> dict[str, Any]:
        """The destination as JSON; ``redact=True`` withholds literal secrets (outboxes).
        ``app_secret`` appears only when set, so destinations stored by 0.1.0 keep their key."""
        out: dict[str, Any] = {
            "pixel_id": self.pixel_id,
            "api_version": self.api_version,
            "token": self.token.to_json(redact=redact),
            "test_event_code": self.test_event_code,
        }
        if self.app_secret is not None:
            out["app_secret"] = self.app_secret.to_json(redact=redact)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Destination:
        token = data.get("token")
        if not isinstance(token, Mapping):
            raise ValueError("a destination needs a token reference")
        code = data.get("test_event_code")
        secret = data.get("app_secret")
        if secret is not None and not isinstance(secret, Mapping):
            raise ValueError("an app secret must be a secret reference")
        return cls(
            pixel_id=str(data["pixel_id"]),
            api_version=str(data["api_version"]),
            token=SecretRef.from_json(token),
            test_event_code=str(code) if code else None,
            app_secret=SecretRef.from_json(secret) if secret is not None else None,
        )
