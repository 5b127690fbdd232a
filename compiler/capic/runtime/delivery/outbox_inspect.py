"""Reading an outbox for people: status, dead letters, input checkpoints.

:class:`Inspection` is the read side the :class:`~capic.runtime.delivery.outbox.Outbox` shares
with ``capic outbox status`` and ``dead-letters``; nothing here writes, so it works on a
read-only outbox that a run is using, and on files an older capic wrote.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.queue import InputProgress, QueueError

__all__ = ["DeadLetter", "Inspection", "OutboxError"]


class OutboxError(QueueError):
    """The outbox file is missing, corrupt, locked or not a capic outbox. One line."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event Meta rejected (or capic gave up on), with the reason."""

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


class Inspection:
    """Read-only queries over an open outbox connection."""

    _lock: threading.RLock
    version: int

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._dest_ids: dict[Destination, int] = {}
        self._dests_by_id: dict[int, Destination] = {}
        self._load_destinations()

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

    def destination(self, dest_id: int) -> Destination:
        """The destination of a row (another process may have added it since we opened)."""
        with self._lock:
            dest = self._dests_by_id.get(dest_id)
            if dest is None:
                self._load_destinations()
                dest = self._dests_by_id.get(dest_id)
                if dest is None:
                    raise OutboxError(f"{self.path}: rows refer to unknown destination {dest_id}")
            return dest

    def pending_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def dead_letter_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

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
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
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
                for row in rows
            ]

    def inputs(self) -> list[dict[str, Any]]:
        """Every recorded input: ``source``, ``kind`` (file, stdin), ``name``, ``lines`` and
        ``position`` committed, ``finished``, ``started``, ``updated``."""
        if self.version < 2:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT source, kind, name, position, lines, time_offset, finished, started,"
                " updated FROM inputs ORDER BY updated"
            ).fetchall()
        keys = ("source", "kind", "name", "position", "lines", "time_offset", "finished")
        out = []
        for row in rows:
            item = dict(zip(keys, row[:7], strict=True))
            item["finished"] = bool(item["finished"])
            item["started"], item["updated"] = row[7], row[8]
            out.append(item)
        return out

    def checkpoint(self, source: str) -> InputProgress | None:
        """How far an earlier run read ``source`` (None: no checkpoint)."""
        for item in self.inputs():
            if item["source"] == source:
                return InputProgress(
                    source=source,
                    name=item["name"],
                    position=item["position"],
                    lines=item["lines"],
                    finished=item["finished"],
                    time_offset=item["time_offset"],
                    kind=item["kind"],
                )
        return None

    def status(self) -> dict[str, Any]:
        """Counts: pending and dead letters, overall and per destination; recorded inputs."""
        per: dict[int, dict[str, Any]] = {}

        def entry(dest_id: int) -> dict[str, Any]:
            if dest_id not in per:
                dest = self.destination(dest_id)
                per[dest_id] = {
                    "pixel_id": dest.pixel_id,
                    "api_version": dest.api_version,
                    "test_event_code": dest.test_event_code,
                    "token": dest.token.describe(),
                    "app_secret": dest.app_secret.describe() if dest.app_secret else None,
                    "pending": 0,
                    "dead_letters": 0,
                    "oldest_pending": None,
                }
            return per[dest_id]

        with self._lock:
            pending = self._conn.execute(
                "SELECT dest_id, COUNT(*), MIN(created) FROM outbox GROUP BY dest_id"
            ).fetchall()
            dead = self._conn.execute(
                "SELECT dest_id, COUNT(*) FROM dead_letters GROUP BY dest_id"
            ).fetchall()
        for dest_id, count, oldest in pending:
            item = entry(dest_id)
            item["pending"] = count
            item["oldest_pending"] = oldest
        for dest_id, count in dead:
            entry(dest_id)["dead_letters"] = count
        destinations = [per[k] for k in sorted(per)]
        return {
            "path": self.path,
            "pending": sum(d["pending"] for d in destinations),
            "dead_letters": sum(d["dead_letters"] for d in destinations),
            "destinations": destinations,
            "inputs": self.inputs(),
        }
