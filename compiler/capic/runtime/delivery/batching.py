"""Per-destination batches, flushed by size or age: shared by the deliverer and the dry run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from capic.runtime.delivery.destination import Destination

__all__ = ["MAX_EVENTS_PER_REQUEST", "Batch", "Batcher"]

#: Meta's limit on events per request (capi-facts §1.1).
MAX_EVENTS_PER_REQUEST = 1000

T = TypeVar("T")


@dataclass(slots=True)
class Batch(Generic[T]):
    destination: Destination
    started: float
    items: list[T] = field(default_factory=list)


class Batcher(Generic[T]):
    """Collects items per destination. :meth:`add` returns a batch once it is full;
    :meth:`due` returns the batches older than ``max_age``; :meth:`drain` returns them all."""

    def __init__(self, *, max_batch: int, max_age: float, clock: Callable[[], float]) -> None:
        if not 1 <= max_batch <= MAX_EVENTS_PER_REQUEST:
            raise ValueError(f"max_batch must be between 1 and {MAX_EVENTS_PER_REQUEST}")
        if max_age < 0:
            raise ValueError("max_age must not be negative")
        self.max_batch = max_batch
        self.max_age = max_age
        self._clock = clock
        self._batches: dict[Destination, Batch[T]] = {}
        self._oldest: float | None = None

    @property
    def oldest(self) -> float | None:
        """When the oldest open batch started (None: no open batch)."""
        return self._oldest

    def __len__(self) -> int:
        return sum(len(b.items) for b in self._batches.values())

    def add(self, dest: Destination, item: T) -> Batch[T] | None:
        batch = self._batches.get(dest)
        if batch is None:
            now = self._clock()
            batch = self._batches[dest] = Batch(dest, now)
            if self._oldest is None or now < self._oldest:
                self._oldest = now
        batch.items.append(item)
        if len(batch.items) >= self.max_batch:
            del self._batches[dest]
            self._reset_oldest()
            return batch
        return None

    def extend(self, dest: Destination, items: list[T]) -> list[Batch[T]]:
        """:meth:`add` for several items of one destination; returns the batches that filled."""
        full: list[Batch[T]] = []
        start = 0
        while start < len(items):
            batch = self._batches.get(dest)
            room = self.max_batch - (len(batch.items) if batch is not None else 0)
            chunk = items[start : start + room]
            start += len(chunk)
            last = chunk.pop()
            if chunk:
                if batch is None:
                    self.add(dest, chunk[0])
                    chunk = chunk[1:]
                self._batches[dest].items.extend(chunk)
            filled = self.add(dest, last)
            if filled is not None:
                full.append(filled)
        return full

    def due(self) -> list[Batch[T]]:
        """Batches that have waited ``max_age`` or longer (removed from the batcher)."""
        if self._oldest is None:
            return []
        now = self._clock()
        if now - self._oldest < self.max_age:
            return []
        ready = [b for b in self._batches.values() if now - b.started >= self.max_age]
        for batch in ready:
            del self._batches[batch.destination]
        self._reset_oldest()
        return ready

    def drain(self) -> list[Batch[T]]:
        """Every batch, in the order the destinations first appeared."""
        ready = list(self._batches.values())
        self._batches.clear()
        self._oldest = None
        return ready

    def _reset_oldest(self) -> None:
        self._oldest = min((b.started for b in self._batches.values()), default=None)
