"""Shortened, keyed digests: how a report shows an example value without showing it.

A report never shows a value from the events (customer information, an event_id, a changed
field). Where an example helps (this event_id repeats; this field went from one value to
another) it shows the first 8 hex digits of an HMAC-SHA-256 of the value, keyed with the
SHA-256 of the recorded events themselves. Within a report (and between the two versions of
a shadow diff) equal values give equal digests; without the recorded events, nobody can
confirm a guessed value against them (a plain hash of an IPv4 address or an order number
could be found by trying them all).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["Digests"]

#: Hex digits shown: enough to tell examples apart, never to recover them.
SHOWN = 8


class Digests:
    """Keyed short digests for one report (``key``: a digest of its input)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def short(self, value: str | bytes) -> str:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:SHOWN]
