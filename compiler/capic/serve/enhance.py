"""Event enhancement (opt-in per environment): hashed customer information per browser id.

When a server event carries an ``fbp`` and hashed customer information (``em``, ``ph``, ...),
that information is remembered for the browser, for ``enhancement_ttl`` seconds; a later event
of the same browser that lacks some of those keys gets them added. What is stored is exactly
what was already sent to Meta: SHA-256 digests (anything else is refused), keyed by a digest of
the ``fbp`` (the browser id itself is not stored either). Raw values never reach this module:
they are hashed by the rule module before the server event exists.

The risk, stated in docs/going-live.md: on a shared device, the next person's events are
attributed to the previous one until the TTL runs out. Hence off by default, a 7-day default
TTL, and lint check W006 for long ones.

:class:`EnhancementStore` is the interface; :class:`SqliteEnhancementStore` keeps the node's
entries in a SQLite file next to the outbox (a shared store for several nodes implements the
same three methods).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from capic.runtime.normalize import HASHED_KEYS, is_sha256

__all__ = ["EnhancementStore", "Enhancer", "SqliteEnhancementStore", "hashed_user_data"]

#: Expired entries are swept after this many writes.
_SWEEP_EVERY: Final = 1000


class EnhancementStore(Protocol):
    """Hashed customer information by browser key (a digest of the ``fbp``)."""

    def remember(self, key: bytes, user_data: Mapping[str, Any], ttl: float) -> None: ...

    def recall(self, key: bytes) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


def _is_digest(value: Any) -> bool:
    if isinstance(value, str):
        return is_sha256(value)
    if isinstance(value, list) and value:
        return all(isinstance(v, str) and is_sha256(v) for v in value)
    return False


def hashed_user_data(user_data: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed customer information keys of ``user_data`` whose values are digests."""
    return {k: v for k, v in user_data.items() if k in HASHED_KEYS and _is_digest(v)}


class SqliteEnhancementStore:
    """The node's store: one SQLite file, WAL, not synced on every write (an entry lost in a
    crash only means one event less enhanced). Thread-safe."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS enhancement ("
            "key BLOB PRIMARY KEY, data BLOB NOT NULL, expires REAL NOT NULL)"
        )

    def remember(self, key: bytes, user_data: Mapping[str, Any], ttl: float) -> None:
        data = hashed_user_data(user_data)
        if not data:
            return
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO enhancement (key, data, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
                (key, orjson.dumps(data), now + ttl),
            )
            self._writes += 1
            if self._writes % _SWEEP_EVERY == 0:
                self._db.execute("DELETE FROM enhancement WHERE expires < ?", (now,))

    def recall(self, key: bytes) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data, expires FROM enhancement WHERE key = ?", (key,)
            ).fetchone()
        if row is None or row[1] < self._clock():
            return None
        data = orjson.loads(row[0])
        return hashed_user_data(data) if isinstance(data, dict) else None

    def count(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM enhancement WHERE expires >= ?", (self._clock(),)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()


class Enhancer:
    """Applies enhancement to the JSON body of one server event."""

    def __init__(self, store: EnhancementStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    @staticmethod
    def browser_key(fbp: str) -> bytes:
        return hashlib.sha256(b"capic-enhancement\0" + fbp.encode()).digest()

    def apply(self, body: bytes) -> bytes | None:
        """The enhanced body, or None when it is unchanged. Remembers what the event brings."""
        if b'"fbp"' not in body:
            return None
        event = orjson.loads(body)
        user = event.get("user_data") if isinstance(event, dict) else None
        fbp = user.get("fbp") if isinstance(user, dict) else None
        if not isinstance(fbp, str) or not fbp:
            return None
        assert isinstance(user, dict)
        key = self.browser_key(fbp)
        known = self.store.recall(key)
        seen = hashed_user_data(user)
        if seen:
            self.store.remember(key, {**(known or {}), **seen}, self.ttl)
        missing = {k: v for k, v in (known or {}).items() if k not in user}
        if not missing:
            return None
        user.update(missing)
        return orjson.dumps(event)
