"""The outbox file format: tables, version, and the upgrade of files older capic versions wrote.

``PRAGMA application_id`` tells a capic outbox from any other SQLite file and
``PRAGMA user_version`` is the schema version:

1. capic 0.1.0: ``destinations``, ``outbox``, ``dead_letters``.
2. ``outbox.deliveries`` and ``outbox.not_before`` (how often a row was given back, and when it
   may be handed out again), the ``inputs`` table (how far each input was read, committed with
   the events it produced), and an ``event_id`` on every row: version 1 stored events without
   one as they came, so the upgrade gives each such event a generated id, in the stored body
   too, so that every later retry carries the same id and Meta can deduplicate it.

The upgrade runs in one transaction, by the process that holds the outbox lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import orjson

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "create", "upgrade"]

#: ``PRAGMA application_id``: "CAPO".
APPLICATION_ID = 0x4341504F
SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE destinations (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    json    TEXT NOT NULL
);
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    dest_id   INTEGER NOT NULL REFERENCES destinations(id),
    event_id  TEXT,
    body      BLOB NOT NULL,
    created   REAL NOT NULL
);
CREATE TABLE dead_letters (
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

_V2 = """
ALTER TABLE outbox ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
CREATE INDEX outbox_released ON outbox(not_before) WHERE not_before > 0;
CREATE TABLE inputs (
    source       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    lines        INTEGER NOT NULL,
    time_offset  INTEGER NOT NULL DEFAULT 0,
    finished     INTEGER NOT NULL DEFAULT 0,
    started      REAL NOT NULL,
    updated      REAL NOT NULL
);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the current schema in an empty database (inside the caller's transaction)."""
    for script in (_V1, _V2):
        _run(conn, script)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def upgrade(conn: sqlite3.Connection, version: int, new_id: Callable[[], str]) -> None:
    """Bring a version-``version`` outbox to :data:`SCHEMA_VERSION` (inside the caller's
    transaction). ``new_id`` makes the event ids of rows that have none."""
    if version < 2:
        _run(conn, _V2)
        for table in ("outbox", "dead_letters"):
            _fill_event_ids(conn, table, new_id)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _run(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the caller's transaction first: run statement by statement.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _fill_event_ids(conn: sqlite3.Connection, table: str, new_id: Callable[[], str]) -> None:
    rows = conn.execute(f"SELECT id, body FROM {table} WHERE event_id IS NULL").fetchall()
    for row_id, body in rows:
        event_id = new_id()
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            event = None
        if isinstance(event, dict):
            event["event_id"] = event_id
            body = orjson.dumps(event)
        conn.execute(
            f"UPDATE {table} SET event_id = ?, body = ? WHERE id = ?", (event_id, body, row_id)
        )
