"""Opening an outbox file: the single-writer lock, the schema and its upgrade, transactions.

:class:`OutboxStore` is the part of the :class:`~capic.runtime.delivery.outbox.Outbox` that
owns the SQLite connection; the queue operations are built on :meth:`OutboxStore._write`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import orjson

from capic.runtime.context import uuid_hex
from capic.runtime.delivery import outbox_schema
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.lock import FileLock, LockHeld
from capic.runtime.delivery.outbox_inspect import Inspection, OutboxError
from capic.runtime.delivery.queue import QueueFull

__all__ = ["OutboxLocked", "OutboxStore"]

_SQLITE_FULL = 13


class OutboxLocked(OutboxError):
    """Another process holds the outbox."""


class OutboxStore(Inspection):
    """The SQLite file behind an outbox.

    ``path`` may be ``":memory:"`` (tests). ``create=False`` refuses to create a new file (the
    ``capic outbox`` commands); ``readonly=True`` takes no lock, upgrades nothing and refuses
    to write. ``synchronous="full"`` (default) fsyncs every commit, which survives power loss;
    ``"normal"`` survives process crashes only. ``max_pending`` bounds the backlog and
    ``max_bytes`` the file (SQLite ``max_page_count``): beyond either, appending raises
    :class:`~capic.runtime.delivery.queue.QueueFull`, as it does when the disk is full.
    ``rest`` is how long a released row waits before it is handed out again, unless the
    release says otherwise. ``new_id`` makes the event ids an upgrade gives old rows.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        readonly: bool = False,
        synchronous: Literal["full", "normal"] = "full",
        clock: Callable[[], float] = time.time,
        max_pending: int | None = None,
        max_bytes: int | None = None,
        rest: float = 1.0,
        new_id: Callable[[], str] = uuid_hex,
    ) -> None:
        self.path = str(path)
        self.readonly = readonly
        self.max_pending = max_pending
        self.rest = rest
        self._clock = clock
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._file_lock: FileLock | None = None
        self._closed = False
        memory = self.path == ":memory:"
        if not memory and not create and not Path(self.path).is_file():
            raise OutboxError(f"no outbox at {self.path}")
        if not memory and not readonly:
            self._file_lock = FileLock(self.path + ".lock")
            try:
                self._file_lock.acquire()
            except LockHeld as exc:
                raise OutboxLocked(
                    f"outbox {self.path} is in use by {exc.holder}; one process per outbox"
                ) from None
            except OSError as exc:
                raise OutboxError(f"cannot lock outbox {self.path}: {exc.strerror}") from None
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            self._release_file_lock()
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from None
        try:
            self.version = self._setup(memory, create, synchronous, new_id, max_bytes)
            super().__init__(self._conn, self.path)
        except (sqlite3.DatabaseError, OutboxError) as exc:
            self._conn.close()
            self._release_file_lock()
            if isinstance(exc, OutboxError):
                raise
            raise OutboxError(f"{self.path} is not a readable capic outbox: {exc}") from None
        self._fresh: list[Destination] = []
        #: Row ids handed out and not yet acked, released or dead-lettered.
        self._leased: set[int] = set()
        self._cursor = 0
        row = self._conn.execute("SELECT MAX(id), COUNT(*) FROM outbox").fetchone()
        self._next_id = int(row[0] or 0) + 1
        self._depth = int(row[1])
        #: Rows present when the outbox was opened (an earlier run's leftovers).
        self.recovered = self._depth
        #: When the next row released by this process may be handed out again.
        self._next_ready: float | None = None

    # -- set-up -----------------------------------------------------------------------------

    def _setup(
        self,
        memory: bool,
        create: bool,
        synchronous: str,
        new_id: Callable[[], str],
        max_bytes: int | None,
    ) -> int:
        conn = self._conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and not tables:
            if not create or self.readonly:
                raise OutboxError(f"{self.path} is not a capic outbox (empty database)")
            if not memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN")
            outbox_schema.create(conn)
            conn.execute("COMMIT")
        elif app_id != outbox_schema.APPLICATION_ID:
            raise OutboxError(f"{self.path} is not a capic outbox")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > outbox_schema.SCHEMA_VERSION:
            raise OutboxError(f"{self.path} was written by a newer capic (outbox schema {version})")
        if version < outbox_schema.SCHEMA_VERSION and not self.readonly:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outbox_schema.upgrade(conn, version, new_id)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            version = outbox_schema.SCHEMA_VERSION
        if not memory and not self.readonly:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        if max_bytes is not None:
            page = int(conn.execute("PRAGMA page_size").fetchone()[0])
            conn.execute(f"PRAGMA max_page_count={max(1, max_bytes // page)}")
        return version

    def _release_file_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def _dest_id(self, dest: Destination) -> int:
        dest_id = self._dest_ids.get(dest)
        if dest_id is not None:
            return dest_id
        text = orjson.dumps(dest.to_json(redact=True), option=orjson.OPT_SORT_KEYS).decode()
        row = self._conn.execute("SELECT id FROM destinations WHERE key = ?", (text,)).fetchone()
        if row is None:
            cur = self._conn.execute(
                "INSERT INTO destinations(key, json) VALUES (?, ?)", (text, text)
            )
            dest_id = int(cur.lastrowid or 0)
            self._dests_by_id[dest_id] = Destination.from_json(orjson.loads(text))
            self._fresh.append(dest)
        else:
            dest_id = int(row[0])
        self._dest_ids[dest] = dest_id
        return dest_id

    # -- transactions -----------------------------------------------------------------------

    def _write(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in one transaction, under the lock. A full disk or file limit becomes
        :class:`QueueFull` with nothing written; other database errors :class:`OutboxError`."""
        if self.readonly:
            raise OutboxError(f"outbox {self.path} was opened read-only")
        if self._closed:
            raise OutboxError(f"outbox {self.path} is closed")
        conn = self._conn
        try:
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            result = work()
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            code = getattr(exc, "sqlite_errorcode", None)
            if code == _SQLITE_FULL or "full" in str(exc):
                raise QueueFull(f"outbox {self.path} is full ({exc})", retry_after=5.0) from None
            raise OutboxError(f"outbox {self.path}: {exc}") from None
        except BaseException:
            self._rollback()
            raise
        self._fresh.clear()
        return result

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
        # Destination rows created in the transaction are gone: forget their ids.
        for dest in self._fresh:
            dest_id = self._dest_ids.pop(dest, None)
            if dest_id is not None:
                self._dests_by_id.pop(dest_id, None)
        self._fresh.clear()

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file and release the lock. Idempotent; waiting leases return at once."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            try:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            finally:
                self._conn.close()
                self._release_file_lock()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> OutboxStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"
