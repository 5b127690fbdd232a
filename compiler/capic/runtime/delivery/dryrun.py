"""Dry run: show the requests delivery would make, without a network or a token.

:class:`DryRunSink` batches exactly like the :class:`~capic.runtime.delivery.Deliverer` and
writes one JSON line per request: ``{"pixel_id", "url", "body"}``, the body being what would be
POSTed with the token replaced by ``"[REDACTED]"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

import orjson

from capic.runtime.delivery.batching import Batch, Batcher
from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import DEFAULT_BASE_URL, REDACTED, build_body

__all__ = ["DryRunSink"]


class DryRunSink:
    """Same ``submit``/``tick``/``flush``/``close``/``stats`` surface as the deliverer."""

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

    def submit(self, dest: Destination, event: dict[str, Any]) -> None:
        body = orjson.dumps(event)
        self.stats.submitted += 1
        full = self._batcher.add(dest, body)
        if full is not None:
            self._write(full)
        for batch in self._batcher.due():
            self._write(batch)

    def tick(self) -> None:
        for batch in self._batcher.due():
            self._write(batch)
        self.stream.flush()

    def flush(self) -> None:
        for batch in self._batcher.drain():
            self._write(batch)
        self.stream.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.flush()

    def __enter__(self) -> DryRunSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, batch: Batch[bytes]) -> None:
        dest = batch.destination
        line = b"".join(
            (
                b'{"pixel_id":',
                orjson.dumps(dest.pixel_id),
                b',"url":',
                orjson.dumps(self.base_url + dest.path()),
                b',"body":',
                build_body(dest, REDACTED, batch.items),
                b"}\n",
            )
        )
        self.stream.write(line.decode("utf-8"))
        self.stats.requests += 1
        self.stats.batches += 1
        self.stats.sent += len(batch.items)
