"""The delivery outbox: a SQLite (WAL) file that holds every event until Meta acknowledged it.

**Only already-hashed events go in.** The runtime normalizes and SHA-256 hashes ``user_data``
before an event is submitted for delivery, so the outbox (a file on disk, maybe backed up or
copied for support) never holds raw customer information. It never holds a token either: each
destination is stored with its token *reference* (``env("META_CAPI_TOKEN")``); a literal token
is withheld (``SecretRef.to_json(redact=True)``).

Tables:

- ``destinations``: one row per destination (pixel, version, test code, token reference).
- ``outbox``: pending events, the JSON bytes exactly as they will be sent.
- ``dead_letters``: events Meta rejected, with its code, subcode, message and fbtrace_id.

Transactions: :meth:`Outbox.add` and :meth:`Outbox.add_many` write into an open transaction;
:meth:`Outbox.commit` makes them durable (the deliverer commits before every send).
:meth:`ack`, :meth:`dead_letter` and :meth:`requeue_dead_letters` commit, and so does
:meth:`close`. The outbox is meant for one writer at a time; status readers may run alongside.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, Literal, NamedTuple, ParamSpec, TypeVar

import orjson

from capic.runtime.delivery.destination import Destination

__all__ = ["DeadLetter", "Outbox", "OutboxError", "PendingEvent"]

#: ``PRAGMA application_id``: "CAPO". Tells a capic outbox from any other SQLite file.
APPLICATION_ID = 0x4341504F
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS destinations (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    json    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id        INTEGER PRIMARY KEY,
    dest_id   INTEGER NOT NULL REFERENCES destinations(id),
    event_id  TEXT,
    body      BLOB NOT NULL,
    created   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id          INTEGER PRIMARY KEY,
    dest_id     INTEGER NOT NULL REFERENCES destinations(id),
    event_id    TEXT,
    body        BLOB NOT NULL,
    created     REAL NOT NULL,
    failed      REAL NOT NULL,
    code        INTEGER,
    subcode     INTEGER,
    message     TEXT NOT NULL,
    fbtrace_id  TEXT
);
"""


class OutboxError(Exception):
    """The outbox file is missing, corrupt, or not a capic outbox. One line, no traceback."""


class PendingEvent(NamedTuple):
    """A row waiting for delivery."""

    id: int
    destination: Destination
    body: bytes
    event_id: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event Meta rejected, with the reason Meta gave."""

    id: int
    destination: Destination
    event_id: str | None
    body: bytes
    created: float
    failed: float
    code: int | None
    subcode: int | None
    message: str
    fbtrace_id: str | None

    @property
    def event_name(self) -> str | None:
        try:
            event = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        name = event.get("event_name") if isinstance(event, dict) else None
        return name if isinstance(name, str) else None

    def to_json(self) -> dict[str, Any]:
        try:
            event: Any = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            event = None
        return {
            "id": self.id,
            "pixel_id": self.destination.pixel_id,
            "api_version": self.destination.api_version,
            "test_event_code": self.destination.test_event_code,
            "event_id": self.event_id,
            "event_name": self.event_name,
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "fbtrace_id": self.fbtrace_id,
            "created": self.created,
            "failed": self.failed,
            "event": event,
        }


P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[Concatenate[Outbox, P], R]) -> Callable[Concatenate[Outbox, P], R]:
    """Serialize access to the connection: delivery workers ack while the caller adds."""

    @functools.wraps(method)
    def wrapper(self: Outbox, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Outbox:
    """A durable queue of pre-encoded, already-hashed events, per destination.

    ``path`` may be ``":memory:"`` (tests, dry runs). ``create=False`` refuses to create a new
    file (the ``capic outbox`` commands). ``synchronous="full"`` (default) fsyncs every commit,
    which survives power loss; ``"normal"`` survives process crashes only and is faster.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        synchronous: Literal["full", "normal"] = "full",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.RLock()
        memory = self.path == ":memory:"
        if not memory and not create and not Path(self.path).is_file():
            raise OutboxError(f"no outbox at {self.path}")
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from None
        try:
            self._setup(memory, create, synchronous)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise OutboxError(f"{self.path} is not a readable capic outbox: {exc}") from None
        except OutboxError:
            self._conn.close()
            raise
        self._dest_ids: dict[Destination, int] = {}
        self._dests_by_id: dict[int, Destination] = {}
        self._load_destinations()

    # -- set-up -----------------------------------------------------------------------------

    def _setup(self, memory: bool, create: bool, synchronous: str) -> None:
        conn = self._conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if app_id == 0 and not tables:
            if not create:
                raise OutboxError(f"{self.path} is not a capic outbox (empty database)")
            if not memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.executescript(_SCHEMA)
        elif app_id != APPLICATION_ID:
            raise OutboxError(f"{self.path} is not a capic outbox")
        else:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise OutboxError(
                    f"{self.path} was written by a newer capic (outbox schema {version})"
                )
            if not memory:
                conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")

    def _load_destinations(self) -> None:
        for dest_id, text in self._conn.execute("SELECT id, json FROM destinations"):
            try:
                dest = Destination.from_json(orjson.loads(text))
            except (orjson.JSONDecodeError, KeyError, ValueError) as exc:
                raise OutboxError(
                    f"{self.path}: destination {dest_id} is unreadable: {exc}"
                ) from None
            self._dests_by_id[dest_id] = dest
            self._dest_ids.setdefault(dest, dest_id)

    def _dest_id(self, dest: Destination) -> int:
        dest_id = self._dest_ids.get(dest)
        if dest_id is not None:
            return dest_id
        text = orjson.dumps(dest.to_json(redact=True), option=orjson.OPT_SORT_KEYS).decode()
        self._begin()
        row = self._conn.execute("SELECT id FROM destinations WHERE key = ?", (text,)).fetchone()
        if row is None:
            cur = self._conn.execute(
                "INSERT INTO destinations(key, json) VALUES (?, ?)", (text, text)
            )
            dest_id = int(cur.lastrowid or 0)
            self._dests_by_id[dest_id] = Destination.from_json(orjson.loads(text))
        else:
            dest_id = int(row[0])
        self._dest_ids[dest] = dest_id
        return dest_id

    def _begin(self) -> None:
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN")

    # -- writing ----------------------------------------------------------------------------

    @_locked
    def add(self, dest: Destination, event_bytes: bytes, event_id: str | None) -> int:
        """Queue one encoded event; returns its row id. Durable after :meth:`commit`."""
        dest_id = self._dest_id(dest)
        self._begin()
        cur = self._conn.execute(
            "INSERT INTO outbox(dest_id, event_id, body, created) VALUES (?, ?, ?, ?)",
            (dest_id, event_id, event_bytes, self._clock()),
        )
        return int(cur.lastrowid or 0)

    @_locked
    def add_many(self, dest: Destination, events: Iterable[tuple[bytes, str | None]]) -> list[int]:
        """Queue ``(event_bytes, event_id)`` pairs in one transaction; returns their row ids."""
        dest_id = self._dest_id(dest)
        now = self._clock()
        self._begin()
        execute = self._conn.execute
        sql = "INSERT INTO outbox(dest_id, event_id, body, created) VALUES (?, ?, ?, ?)"
        return [int(execute(sql, (dest_id, eid, body, now)).lastrowid or 0) for body, eid in events]

    @_locked
    def commit(self) -> None:
        """Make every write so far durable."""
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    @_locked
    def ack(self, ids: Sequence[int]) -> None:
        """Meta accepted these events: remove them."""
        if not ids:
            return
        self._begin()
        low, high = min(ids), max(ids)
        if high - low + 1 == len(ids) and len(set(ids)) == len(ids):
            # The usual case: a batch of consecutive rows. One range delete.
            self._conn.execute("DELETE FROM outbox WHERE id BETWEEN ? AND ?", (low, high))
        else:
            self._conn.executemany("DELETE FROM outbox WHERE id = ?", ((i,) for i in ids))
        self.commit()

    @_locked
    def dead_letter(
        self,
        ids: Sequence[int],
        code: int | None,
        subcode: int | None,
        message: str,
        fbtrace_id: str | None,
    ) -> int:
        """Move rejected events to the dead-letter table with Meta's reason; returns the count."""
        if not ids:
            return 0
        now = self._clock()
        self._begin()
        moved = 0
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            cur = self._conn.execute(
                "INSERT INTO dead_letters(dest_id, event_id, body, created, failed, code, subcode,"
                " message, fbtrace_id)"
                f" SELECT dest_id, event_id, body, created, ?, ?, ?, ?, ? FROM outbox"
                f" WHERE id IN ({marks}) ORDER BY id",
                (now, code, subcode, message, fbtrace_id, *chunk),
            )
            moved += cur.rowcount
            self._conn.execute(f"DELETE FROM outbox WHERE id IN ({marks})", tuple(chunk))
        self.commit()
        return moved

    @_locked
    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (all, or the given ids) back in the outbox; returns the count."""
        self._begin()
        if ids is None:
            cur = self._conn.execute(
                "INSERT INTO outbox(dest_id, event_id, body, created)"
                " SELECT dest_id, event_id, body, created FROM dead_letters ORDER BY id"
            )
            self._conn.execute("DELETE FROM dead_letters")
            count = cur.rowcount
        else:
            count = 0
            for chunk in _chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                cur = self._conn.execute(
                    "INSERT INTO outbox(dest_id, event_id, body, created)"
                    f" SELECT dest_id, event_id, body, created FROM dead_letters"
                    f" WHERE id IN ({marks}) ORDER BY id",
                    tuple(chunk),
                )
                count += cur.rowcount
                self._conn.execute(f"DELETE FROM dead_letters WHERE id IN ({marks})", tuple(chunk))
        self.commit()
        return count

    # -- reading ----------------------------------------------------------------------------

    @_locked
    def destination(self, dest_id: int) -> Destination:
        """The destination of a row (another process may have added it since we opened)."""
        dest = self._dests_by_id.get(dest_id)
        if dest is None:
            self._load_destinations()
            dest = self._dests_by_id.get(dest_id)
            if dest is None:
                raise OutboxError(f"{self.path}: rows refer to unknown destination {dest_id}")
        return dest

    @_locked
    def pending(
        self,
        limit: int = 1000,
        *,
        after_id: int = 0,
        upto_id: int | None = None,
        destination: Destination | None = None,
    ) -> list[PendingEvent]:
        """Up to ``limit`` pending events in row order, with ids in ``(after_id, upto_id]``."""
        sql = "SELECT id, dest_id, body, event_id FROM outbox WHERE id > ?"
        params: list[Any] = [after_id]
        if upto_id is not None:
            sql += " AND id <= ?"
            params.append(upto_id)
        if destination is not None:
            dest_id = self._dest_ids.get(destination)
            if dest_id is None:
                return []
            sql += " AND dest_id = ?"
            params.append(dest_id)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        dest_of = self.destination
        return [
            PendingEvent(row_id, dest_of(dest_id), bytes(body), event_id)
            for row_id, dest_id, body, event_id in self._conn.execute(sql, params).fetchall()
        ]

    @_locked
    def max_id(self) -> int:
        """The highest pending row id (0 when empty)."""
        row = self._conn.execute("SELECT MAX(id) FROM outbox").fetchone()
        return int(row[0] or 0)

    @_locked
    def pending_count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    @_locked
    def dead_letter_count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    @_locked
    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        """Dead letters, oldest first (``limit=None``: all)."""
        sql = (
            "SELECT id, dest_id, event_id, body, created, failed, code, subcode, message,"
            " fbtrace_id FROM dead_letters ORDER BY id"
        )
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [
            DeadLetter(
                id=row[0],
                destination=self.destination(row[1]),
                event_id=row[2],
                body=bytes(row[3]),
                created=row[4],
                failed=row[5],
                code=row[6],
                subcode=row[7],
                message=row[8],
                fbtrace_id=row[9],
            )
            for row in self._conn.execute(sql, params).fetchall()
        ]

    @_locked
    def status(self) -> dict[str, Any]:
        """Counts: pending and dead letters, overall and per destination."""
        per: dict[int, dict[str, Any]] = {}

        def entry(dest_id: int) -> dict[str, Any]:
            if dest_id not in per:
                dest = self.destination(dest_id)
                per[dest_id] = {
                    "pixel_id": dest.pixel_id,
                    "api_version": dest.api_version,
                    "test_event_code": dest.test_event_code,
                    "token": dest.token.describe(),
                    "pending": 0,
                    "dead_letters": 0,
                    "oldest_pending": None,
                }
            return per[dest_id]

        for dest_id, count, oldest in self._conn.execute(
            "SELECT dest_id, COUNT(*), MIN(created) FROM outbox GROUP BY dest_id"
        ).fetchall():
            item = entry(dest_id)
            item["pending"] = count
            item["oldest_pending"] = oldest
        for dest_id, count in self._conn.execute(
            "SELECT dest_id, COUNT(*) FROM dead_letters GROUP BY dest_id"
        ).fetchall():
            entry(dest_id)["dead_letters"] = count
        destinations = [per[k] for k in sorted(per)]
        return {
            "path": self.path,
            "pending": sum(d["pending"] for d in destinations),
            "dead_letters": sum(d["dead_letters"] for d in destinations),
            "destinations": destinations,
        }

    # -- lifetime ---------------------------------------------------------------------------

    @_locked
    def close(self) -> None:
        """Commit and close. Idempotent."""
        conn = getattr(self, "_conn", None)
        if conn is None:
            return
        try:
            if conn.in_transaction:
                conn.execute("COMMIT")
        finally:
            conn.close()
            del self._conn

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Outbox({self.path!r})"
