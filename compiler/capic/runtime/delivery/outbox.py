"""The delivery outbox: a SQLite (WAL) file that holds every event until Meta acknowledged it.

It is both sides of the queue contract (:mod:`capic.runtime.delivery.queue`): producers append
already-encoded events (durable when :meth:`Outbox.append` returns), the delivery engine leases
them, acks what Meta accepted, dead-letters what Meta rejected and releases the rest for a
later try. **Only already-hashed events go in**, and never a secret: each destination is stored
with its token and app-secret *references*; a literal is withheld (``redact=True``).

One process per file: a writable outbox takes an exclusive ``flock`` on ``<path>.lock``
(:mod:`capic.runtime.delivery.lock`), released by the kernel even on ``kill -9``; a second
process gets :class:`OutboxLocked` naming the holder. ``readonly=True`` (``capic outbox
status``) takes no lock and never writes, so it can look at an outbox a run is using.

Leases live in the process: after a crash every row not acked is simply pending again (the
next run or ``capic outbox replay`` resends it, with the same event_id). A released row rests
until ``not_before`` and counts one more delivery. Row ids are assigned here, increasing for
the life of the process, because SQLite would reuse the ids of deleted rows and a reused id
could hide behind the lease cursor.

The ``inputs`` table records how far each input was read (:meth:`append_at`), in the same
transaction as the events the lines produced: ``capic run`` resumes a file from there and
reports what a stream committed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.outbox_inspect import DeadLetter, OutboxError
from capic.runtime.delivery.outbox_store import OutboxLocked, OutboxStore
from capic.runtime.delivery.queue import (
    DeadLetterReason,
    InputProgress,
    Lease,
    QueueFull,
    QueueItem,
)

__all__ = ["DeadLetter", "Outbox", "OutboxError", "OutboxLocked"]

_new_tuple = tuple.__new__


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Outbox(OutboxStore):
    """A durable queue of pre-encoded, already-hashed events, per destination: the queue
    contract's :class:`~capic.runtime.delivery.queue.Producer` and
    :class:`~capic.runtime.delivery.queue.Consumer` (see the module docstring and
    :class:`~capic.runtime.delivery.outbox_store.OutboxStore` for the options)."""

    # -- producer ---------------------------------------------------------------------------

    def append(self, items: Sequence[QueueItem]) -> None:
        """Store ``items`` durably, all or nothing; raises :class:`QueueFull`."""
        self.append_at(items, ())

    def append_at(self, items: Sequence[QueueItem], progress: Sequence[InputProgress]) -> None:
        """:meth:`append`, recording how far inputs were read in the same transaction."""
        with self._cond:
            limit = self.max_pending
            if limit is not None and items and self._depth + len(items) > limit:
                raise QueueFull(
                    f"outbox {self.path} holds {self._depth:,} undelivered events "
                    f"(limit {limit:,})",
                    retry_after=1.0,
                )
            first = self._next_id

            ids: dict[Destination, int] = {}

            def work() -> None:
                now = self._clock()
                rows = []
                next_id = first
                last: Destination | None = None
                dest_id = 0
                for item in items:
                    dest = item.destination
                    if dest is not last:  # items of one pixel share their Destination object
                        found = ids.get(dest)
                        dest_id = ids[dest] = self._dest_id(dest) if found is None else found
                        last = dest
                    rows.append((next_id, dest_id, item.event_id, item.body, now))
                    next_id += 1
                self._conn.executemany(
                    "INSERT INTO outbox(id, dest_id, event_id, body, created) VALUES (?,?,?,?,?)",
                    rows,
                )
                for mark in progress:
                    self._record(mark, now)

            self._write(work)
            self._next_id = first + len(items)
            self._depth += len(items)
            if items:
                self._cond.notify_all()

    def _record(self, mark: InputProgress, now: float) -> None:
        if mark.finished and mark.kind == "file":
            # A file read to its end leaves no checkpoint: running it again is a new run.
            self._conn.execute("DELETE FROM inputs WHERE source = ?", (mark.source,))
            return
        self._conn.execute(
            "INSERT INTO inputs(source, kind, name, position, lines, time_offset, finished,"
            " started, updated) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(source) DO UPDATE SET"
            " kind=excluded.kind, name=excluded.name, position=excluded.position,"
            " lines=excluded.lines, time_offset=excluded.time_offset,"
            " finished=excluded.finished, updated=excluded.updated",
            (
                mark.source,
                mark.kind,
                mark.name,
                mark.position,
                mark.lines,
                mark.time_offset,
                int(mark.finished),
                now,
                now,
            ),
        )

    def begin_input(self, mark: InputProgress) -> None:
        """Start recording an input afresh: its row is replaced, ``started`` is now."""

        def work() -> None:
            self._conn.execute("DELETE FROM inputs WHERE source = ?", (mark.source,))
            self._record(mark, self._clock())

        with self._lock:
            self._write(work)

    def forget_input(self, source: str) -> None:
        """Drop an input's checkpoint (``capic run --from-start``)."""
        with self._lock:
            self._write(
                lambda: self._conn.execute("DELETE FROM inputs WHERE source = ?", (source,))
            )

    # -- consumer ---------------------------------------------------------------------------

    def lease(self, limit: int, timeout: float) -> list[Lease]:
        """Up to ``limit`` rows, oldest first, waiting up to ``timeout`` seconds for some."""
        if limit <= 0:
            return []
        end = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                if self._closed:
                    return []
                leases = self._take(limit)
                if leases:
                    return leases
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return []
                if self._next_ready is not None:
                    remaining = min(remaining, max(0.001, self._next_ready - self._clock()))
                self._cond.wait(remaining)

    def _take(self, limit: int) -> list[Lease]:
        now = self._clock()
        out: list[Lease] = []
        conn = self._conn
        if self._next_ready is not None and self._next_ready <= now:
            # Released rows behind the cursor whose rest is over (leased ones are skipped).
            want = limit + len(self._leased)
            rows = conn.execute(
                "SELECT id, dest_id, event_id, body, deliveries FROM outbox WHERE not_before > 0"
                " AND not_before <= ? AND id <= ? ORDER BY id LIMIT ?",
                (now, self._cursor, want),
            ).fetchall()
            for row_id, dest_id, event_id, body, deliveries in rows:
                if row_id not in self._leased and len(out) < limit:
                    out.append(self._lease(row_id, dest_id, event_id, body, deliveries))
            if len(rows) < want:
                later = conn.execute(
                    "SELECT MIN(not_before) FROM outbox WHERE not_before > ?", (now,)
                ).fetchone()[0]
                self._next_ready = float(later) if later is not None else None
        while len(out) < limit:
            # Rows past the cursor were never handed out by this process: a rest an earlier
            # process gave them does not apply (a new run or replay tries everything now).
            rows = conn.execute(
                "SELECT id, dest_id, event_id, body, deliveries FROM outbox"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (self._cursor, limit - len(out)),
            ).fetchall()
            if not rows:
                break
            self._cursor = rows[-1][0]
            # The hot path of delivery: tuple.__new__ skips the NamedTuples' Python __new__.
            leased = self._leased
            last_id, dest = -1, None
            for row_id, dest_id, event_id, body, deliveries in rows:
                leased.add(row_id)
                if dest_id != last_id:
                    last_id, dest = dest_id, self.destination(dest_id)
                item = _new_tuple(QueueItem, (dest, body, event_id or ""))
                out.append(_new_tuple(Lease, (str(row_id), item, deliveries)))
        return out

    def _lease(self, row_id: int, dest_id: int, event_id: Any, body: Any, n: int) -> Lease:
        self._leased.add(row_id)
        dest = self._dests_by_id.get(dest_id) or self.destination(dest_id)
        item = QueueItem(dest, bytes(body), event_id or "")
        return Lease(str(row_id), item, int(n))

    @staticmethod
    def _ids(leases: Sequence[Lease]) -> list[int]:
        return [int(lease.id) for lease in leases]

    def ack(self, leases: Sequence[Lease]) -> None:
        """Meta accepted these: remove them."""
        ids = self._ids(leases)
        if not ids:
            return
        with self._cond:

            def work() -> int:
                low, high = min(ids), max(ids)
                if high - low + 1 == len(ids) and len(set(ids)) == len(ids):
                    # The usual case: a batch of consecutive rows. One range delete.
                    sql = "DELETE FROM outbox WHERE id BETWEEN ? AND ?"
                    return int(self._conn.execute(sql, (low, high)).rowcount)
                cur = self._conn.executemany("DELETE FROM outbox WHERE id = ?", ((i,) for i in ids))
                return int(cur.rowcount)

            self._depth -= self._write(work)
            self._leased.difference_update(ids)

    def release(self, leases: Sequence[Lease], delay: float | None = None) -> None:
        """Give these back: handed out again after ``delay`` seconds (default: ``rest``)."""
        ids = self._ids(leases)
        if not ids:
            return
        with self._cond:
            ready = self._clock() + (self.rest if delay is None else max(0.0, delay))

            def work() -> None:
                for chunk in _chunks(ids):
                    marks = ",".join("?" * len(chunk))
                    self._conn.execute(
                        "UPDATE outbox SET not_before = ?, deliveries = deliveries + 1"
                        f" WHERE id IN ({marks})",
                        (ready, *chunk),
                    )

            self._write(work)
            self._leased.difference_update(ids)
            if self._next_ready is None or ready < self._next_ready:
                self._next_ready = ready
            self._cond.notify_all()

    def dead_letter(self, leases: Sequence[Lease], reason: DeadLetterReason) -> None:
        """Move these to the dead-letter table with the reason."""
        ids = self._ids(leases)
        if not ids:
            return
        with self._cond:
            now = self._clock()

            def work() -> int:
                moved = 0
                for chunk in _chunks(ids):
                    marks = ",".join("?" * len(chunk))
                    self._conn.execute(
                        "INSERT INTO dead_letters(dest_id, event_id, body, created, failed, code,"
                        " subcode, message, fbtrace_id) SELECT dest_id, event_id, body, created,"
                        f" ?, ?, ?, ?, ? FROM outbox WHERE id IN ({marks}) ORDER BY id",
                        (
                            now,
                            reason.code,
                            reason.subcode,
                            reason.message,
                            reason.fbtrace_id,
                            *chunk,
                        ),
                    )
                    cur = self._conn.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
                    moved += cur.rowcount
                return moved

            self._depth -= self._write(work)
            self._leased.difference_update(ids)

    def depth(self) -> int:
        """Rows not yet acked or dead-lettered (leased ones included)."""
        if self.readonly:
            return self.pending_count()
        with self._lock:
            return self._depth

    # -- operations -------------------------------------------------------------------------

    def requeue_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (all, or the given ids) back in the outbox; returns the count."""
        with self._cond:
            sql = "SELECT id, dest_id, event_id, body, created FROM dead_letters"
            params: tuple[Any, ...] = ()
            if ids is not None:
                wanted = sorted(set(ids))
                rows = []
                for chunk in _chunks(wanted):
                    marks = ",".join("?" * len(chunk))
                    rows += self._conn.execute(
                        f"{sql} WHERE id IN ({marks}) ORDER BY id", tuple(chunk)
                    ).fetchall()
            else:
                rows = self._conn.execute(f"{sql} ORDER BY id", params).fetchall()
            first = self._next_id

            def work() -> None:
                self._conn.executemany(
                    "INSERT INTO outbox(id, dest_id, event_id, body, created) VALUES (?,?,?,?,?)",
                    [(first + n, *row[1:]) for n, row in enumerate(rows)],
                )
                self._conn.executemany(
                    "DELETE FROM dead_letters WHERE id = ?", [(row[0],) for row in rows]
                )

            self._write(work)
            self._next_id = first + len(rows)
            self._depth += len(rows)
            self._cond.notify_all()
            return len(rows)
