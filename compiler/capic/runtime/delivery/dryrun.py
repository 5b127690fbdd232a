"""Dry run: show the requests delivery would make, without a network, an outbox or a secret.

:class:`DryRunSink` batches :class:`~capic.runtime.delivery.queue.QueueItem` values per
destination, by size (``max_batch``) or age (``max_age``, on :meth:`tick`), and writes one JSON
line per request: ``{"pixel_id", "url", "body"}``, the body being what would be POSTed with the
token (and an ``appsecret_proof``) replaced by ``"[REDACTED]"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TextIO

import orjson

from capic.runtime.delivery.batching import Batch, Batcher
from capic.runtime.delivery.queue import QueueItem
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import DEFAULT_BASE_URL, REDACTED, build_body

__all__ = ["DryRunSink"]


class DryRunSink:
    """``add``/``tick``/``close``; counts what it printed in ``stats``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        base_url: str = DEFAULT_BASE_URL,
        max_batch: int = 1000,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.base_url = base_url.rstrip("/")
        self.stats = DeliveryStats()
        self._batcher: Batcher[bytes] = Batcher(max_batch=max_batch, max_age=max_age, clock=clock)
        self._closed = False

    def add(self, items: Iterable[QueueItem]) -> None:
        for item in items:
            full = self._batcher.add(item.destination, item.body)
            if full is not None:
                self._write(full)
        for batch in self._batcher.due():
            self._write(batch)

    def tick(self) -> None:
        """Print the batches older than ``max_age`` (when input pauses)."""
        for batch in self._batcher.due():
            self._write(batch)
        self.stream.flush()

    def close(self) -> None:
        """Print every open batch. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for batch in self._batcher.drain():
            self._write(batch)
        self.stream.flush()

    def __enter__(self) -> DryRunSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, batch: Batch[bytes]) -> None:
        dest = batch.destination
        proof = REDACTED if dest.app_secret is not None else None
        line = b"".join(
            (
                b'{"pixel_id":',
                orjson.dumps(dest.pixel_id),
                b',"url":',
                orjson.dumps(self.base_url + dest.path()),
                b',"body":',
                build_body(dest, REDACTED, batch.items, proof),
                b"}\n",
            )
        )
        self.stream.write(line.decode("utf-8"))
        self.stats.add(requests=1, batches=1, sent=len(batch.items))
