"""The queue contract between whatever accepts events and the delivery engine.

A *producer* (``capic run``'s reader, ``capic serve``'s request handlers, through a
:class:`~capic.runtime.delivery.commit.GroupCommitter`) appends server events that are already
normalized, hashed and encoded; a *consumer* hands them to the
:class:`~capic.runtime.delivery.engine.DeliveryEngine` as leases, which the engine acks once
Meta accepted them, dead-letters when Meta rejected them, or releases for a later try.

Backends: the SQLite :class:`~capic.runtime.delivery.outbox.Outbox` (one process, the default)
implements both sides; Redis Streams (``capic.queue``) implement the same protocols, so the
engine never knows which one it reads. The semantics every backend keeps (checked by the
reusable contract tests in ``tests/queue_contract.py``):

- ``append`` is all or nothing and durable when it returns; a full backlog or a full disk
  raises :class:`QueueFull` and nothing of the call was stored.
- ``lease`` hands out each stored item to one holder at a time, oldest first, waiting up to
  ``timeout`` seconds when there is nothing to hand out.
- ``ack`` and ``dead_letter`` remove items for good; ``release`` makes them available again
  after ``delay`` seconds or a backend-defined rest (Redis: the claim idle time), with
  ``deliveries`` one higher.
- Whatever was leased and neither acked nor dead-lettered when the process died is handed out
  again by the next consumer: delivery is at least once, duplicates carry the same event_id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from capic.runtime.delivery.destination import Destination

__all__ = [
    "Consumer",
    "DeadLetterReason",
    "InputProgress",
    "Lease",
    "Producer",
    "ProgressProducer",
    "QueueError",
    "QueueFull",
    "QueueItem",
]


class QueueItem(NamedTuple):
    """One server event, already normalized and hashed."""

    destination: Destination
    #: The JSON bytes exactly as they are sent (orjson).
    body: bytes
    #: Always set: generated at enqueue when the rules gave none, so retries carry the same id.
    event_id: str


class Lease(NamedTuple):
    """An item handed to the deliverer."""

    #: The backend's id (SQLite rowid as text, Redis stream id).
    id: str
    item: QueueItem
    #: How often the item was handed out before (0 the first time).
    deliveries: int


class QueueError(Exception):
    """The queue cannot be used (unreadable, locked by another process, lost connection).
    One line, no traceback; never contains event contents or secrets."""


class QueueFull(QueueError):
    """The backlog limit is reached or the disk is full: nothing was stored, try again after
    ``retry_after`` seconds (``capic serve`` answers 503 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class DeadLetterReason:
    """Why events were given up: Meta's error (code, subcode, message, fbtrace_id) or capic's
    own reason (``code`` None)."""

    message: str
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str | None = None
    #: HTTP status of the rejecting response, when there was one.
    status: int | None = None

    @property
    def key(self) -> str:
        """A short, bounded label for counters: ``100/2804016``, ``100``, ``http 400``, or
        ``capic`` for capic's own reasons."""
        if self.code is not None:
            return f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)
        if self.status is not None:
            return f"http {self.status}"
        return "capic"


@dataclass(frozen=True, slots=True)
class InputProgress:
    """How far an input was read, committed together with the events it produced.

    ``source`` identifies the input (a file's identity, or ``stdin``); ``kind`` is ``file``
    (a regular file, resumable) or a stream (``stdin``, ``stream``); ``position`` is the byte
    offset after the last line read, ``lines`` the number of lines read. ``finished`` says the
    whole input was read: a finished file leaves no checkpoint. ``time_offset`` is the
    ``--rebase-time`` shift of the run, so that a resumed run shifts the same way.
    """

    source: str
    name: str
    position: int
    lines: int
    finished: bool = False
    time_offset: int = 0
    kind: str = "file"


class Producer(Protocol):
    def append(self, items: Sequence[QueueItem]) -> None:
        """Store ``items`` durably (all or nothing); raises :class:`QueueFull`."""


@runtime_checkable
class ProgressProducer(Protocol):
    """A producer that records input progress in the transaction of the events (the outbox)."""

    def append(self, items: Sequence[QueueItem]) -> None: ...

    def append_at(self, items: Sequence[QueueItem], progress: Sequence[InputProgress]) -> None:
        """:meth:`append`, recording ``progress`` in the same transaction."""


class Consumer(Protocol):
    def lease(self, limit: int, timeout: float) -> list[Lease]:
        """Up to ``limit`` items, waiting up to ``timeout`` seconds for work."""

    def ack(self, leases: Sequence[Lease]) -> None:
        """Meta accepted these: remove them."""

    def release(self, leases: Sequence[Lease], delay: float | None = None) -> None:
        """Give these back for a later try: handed out again after ``delay`` seconds (None:
        the backend's own rest), each with ``deliveries`` one higher."""

    def dead_letter(self, leases: Sequence[Lease], reason: DeadLetterReason) -> None:
        """Meta rejected these (or capic gave up on them): move them aside with the reason."""

    def depth(self) -> int:
        """Items stored and not yet acked or dead-lettered (leased ones included)."""
