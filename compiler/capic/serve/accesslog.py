"""Structured access log: one JSON object per request on the ``capic.serve.access`` logger.

What is logged is chosen, not filtered: method, path (never the query string), status,
duration, the client address rules saw, body size, and the event counts of the answer. No
bodies, no cookies, no header values (the user agent included), no tokens.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

__all__ = ["AccessLog"]


class AccessLog:
    def __init__(self, enabled: bool = True) -> None:
        self.logger = logging.getLogger("capic.serve.access")
        self.enabled = enabled

    def log(
        self,
        *,
        method: str,
        path: str,
        status: int,
        seconds: float,
        client: str | None,
        size: int | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        if not self.enabled or not self.logger.isEnabledFor(logging.INFO):
            return
        entry: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "method": method,
            "path": path,
            "status": status,
            "ms": round(seconds * 1000, 2),
            "client": client,
        }
        if size is not None:
            entry["bytes"] = size
        if counts:
            entry.update(counts)
        self.logger.info("%s", orjson.dumps(entry).decode())
