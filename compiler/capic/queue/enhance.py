"""The shared enhancement store: ``capic serve`` nodes with a queue remember hashed customer
information per browser in Redis (``SET ... EX ttl``), so a visitor's later events are
enhanced whichever node they reach. The same interface as the node-local SQLite store
(:class:`capic.serve.enhance.EnhancementStore`); what is stored is the same digests, keyed by a
digest of the ``_fbp``.

Enhancement is best effort and sits on the request path: every command has a short timeout,
and while Redis is unreachable the store remembers and recalls nothing (the events are still
accepted, spilled to the local outbox, just not enhanced).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import orjson

from capic.queue.keys import enhancement_key

__all__ = ["RedisEnhancementStore"]

#: After a failure, the store stays quiet this long before it tries Redis again.
_BACKOFF = 1.0


class RedisEnhancementStore:
    def __init__(self, client: Any, project: str) -> None:
        from capic.serve.enhance import hashed_user_data

        self._hashed = hashed_user_data
        self.client = client
        self.project = project
        self._lock = threading.Lock()
        self._quiet_until = 0.0
        #: Commands that failed (Redis away or slow).
        self.failures = 0

    def _usable(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._quiet_until

    def _failed(self) -> None:
        with self._lock:
            self.failures += 1
            self._quiet_until = time.monotonic() + _BACKOFF

    def remember(self, key: bytes, user_data: Mapping[str, Any], ttl: float) -> None:
        data = self._hashed(user_data)
        if not data or not self._usable():
            return
        try:
            self.client.set(
                enhancement_key(self.project, key), orjson.dumps(data), px=max(1, int(ttl * 1000))
            )
        except Exception:  # best effort: the event is accepted all the same
            self._failed()

    def recall(self, key: bytes) -> dict[str, Any] | None:
        if not self._usable():
            return None
        try:
            raw = self.client.get(enhancement_key(self.project, key))
        except Exception:
            self._failed()
            return None
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return self._hashed(data) if isinstance(data, dict) else None

    def close(self) -> None:
        self.client.close()
