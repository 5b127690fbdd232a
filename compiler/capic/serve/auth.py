"""Bearer tokens of ``POST /v1/events``, compared in constant time.

Several tokens may be valid at once (rotation: add the new one, move the senders, remove the
old one). Every configured token is compared on every request, so the time taken says nothing
about which one (or which prefix) matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from capic.runtime.secrets import Secret

__all__ = ["BearerAuth"]


class BearerAuth:
    """``Authorization: Bearer <token>`` against the configured tokens. With no tokens and
    ``open=True`` (``--insecure-no-auth``) every request passes."""

    __slots__ = ("_digests", "open")

    def __init__(self, tokens: Sequence[Secret], *, open: bool = False) -> None:
        # Comparing digests keeps the comparison's length fixed whatever the token lengths.
        self._digests = tuple(hashlib.sha256(t.reveal().encode()).digest() for t in tokens)
        self.open = open and not tokens

    @property
    def configured(self) -> bool:
        return bool(self._digests) or self.open

    def allows(self, authorization: str | None) -> bool:
        if self.open:
            return True
        if not authorization or not self._digests:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = hashlib.sha256(token.strip().encode("utf-8", "surrogateescape")).digest()
        ok = False
        for digest in self._digests:
            ok |= hmac.compare_digest(given, digest)
        return ok

    def __repr__(self) -> str:
        return f"BearerAuth(tokens={len(self._digests)}, open={self.open})"
