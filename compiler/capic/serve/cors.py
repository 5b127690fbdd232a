"""CORS for ``/v1/collect``: an allow-list of origins, never a wildcard.

The collector sets cookies, so browsers call it with credentials; the CORS rules then require
the exact origin in ``Access-Control-Allow-Origin`` (``*`` is refused by browsers with
credentials, and would let any site post events in the shop's name). An origin that is not
listed gets no CORS headers at all: the browser blocks the response, and the service refuses
the event (403) so that a foreign page cannot make it count anything either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["CorsPolicy"]

#: Preflight answers are cached by browsers this long (Chrome caps it at 2 hours).
MAX_AGE: Final = "7200"
_METHODS: Final = "POST, OPTIONS"
#: Request headers a collect call may carry (text/plain needs none; JSON needs content-type).
_ALLOWED_HEADERS: Final = frozenset({"content-type"})


class CorsPolicy:
    __slots__ = ("origins",)

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(o for o in origins if o and o != "*")

    def allows(self, origin: str | None) -> bool:
        return origin is not None and origin in self.origins

    def headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers of an actual (non-preflight) response to ``origin``."""
        if not self.allows(origin):
            return []
        assert origin is not None
        return [
            ("access-control-allow-origin", origin),
            ("access-control-allow-credentials", "true"),
            ("vary", "Origin"),
        ]

    def preflight(
        self, origin: str | None, method: str | None, request_headers: str | None
    ) -> list[tuple[str, str]] | None:
        """Headers answering an ``OPTIONS`` preflight, or None to refuse it."""
        if not self.allows(origin) or (method or "").upper() != "POST":
            return None
        asked = {h.strip().lower() for h in (request_headers or "").split(",") if h.strip()}
        if not asked <= _ALLOWED_HEADERS:
            return None
        return [
            *self.headers(origin),
            ("access-control-allow-methods", _METHODS),
            ("access-control-allow-headers", "content-type"),
            ("access-control-max-age", MAX_AGE),
        ]
