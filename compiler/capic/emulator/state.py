"""What the emulator's request threads share: accepted events (in memory and in the record
file), counters for ``/_emulator/stats``, fault picking and Meta-shaped trace ids, behind one
lock."""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from capic.emulator.faults import FaultConfig, FaultPicker
from capic.emulator.meta_events import MetaEventRules, OriginalIndex
from capic.emulator.quality import QualityBook
from capic.emulator.versions import VersionSignals

__all__ = ["EmulatorState"]

_TRACE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


class EmulatorState:
    """Everything the request threads share, behind one lock."""

    def __init__(
        self,
        *,
        token: str | None,
        faults: FaultConfig,
        seed: int,
        record: Path | None,
        now: Callable[[], float],
        keep: int | None,
        latency: float,
        app_secret: str | None = None,
        rules: MetaEventRules | None = None,
        versions: VersionSignals | None = None,
        quality_fixture: dict[str, Any] | None = None,
    ) -> None:
        self.token = token
        self.rules = rules or MetaEventRules()
        self.versions = versions or VersionSignals()
        self.quality = QualityBook(quality_fixture)
        self.originals = OriginalIndex()
        self.app_secret = app_secret
        self.latency = latency
        self.now = now
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.picker = FaultPicker(faults, seed)
        self._trace_rng = random.Random(seed ^ 0x5EED)
        self.events: deque[tuple[str, str, str | None, bytes]] = deque(maxlen=keep)
        self.record: IO[bytes] | None = record.open("ab") if record is not None else None
        self.requests = 0
        self.accepted_requests = 0
        self.events_received = 0
        self.errors: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def trace_id(self) -> str:
        with self.lock:
            return "A" + "".join(self._trace_rng.choices(_TRACE_ALPHABET, k=22))

    def accept(self, pixel_id: str, version: str, test_code: str | None, events: list[Any]) -> None:
        self.quality.observe(pixel_id, events, self.now())
        self.originals.observe(pixel_id, events)
        encoded = [orjson.dumps(e) for e in events]
        lines: list[bytes] = []
        if self.record is not None:
            received_at = self.now()
            head = orjson.dumps(
                {
                    "received_at": received_at,
                    "pixel_id": pixel_id,
                    "api_version": version,
                    "test_event_code": test_code,
                }
            )[:-1]
            lines = [head + b',"event":' + e + b"}\n" for e in encoded]
        with self.lock:
            self.accepted_requests += 1
            self.events_received += len(encoded)
            self.events.extend((pixel_id, version, test_code, e) for e in encoded)
            if self.record is not None:
                self.record.write(b"".join(lines))
                self.record.flush()

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = list(self.events)
        return [
            {
                "pixel_id": pixel_id,
                "api_version": version,
                "test_event_code": test_code,
                "event": orjson.loads(body),
            }
            for pixel_id, version, test_code, body in rows
        ]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "accepted_requests": self.accepted_requests,
                "rejected_requests": sum(self.errors.values()),
                "events_received": self.events_received,
                "events_kept": len(self.events),
                "errors": dict(sorted(self.errors.items())),
                "faults": dict(sorted(self.faults.items())),
            }

    def reset(self) -> None:
        self.quality.reset()
        self.originals.reset()
        with self.lock:
            self.events.clear()
            self.requests = self.accepted_requests = self.events_received = 0
            self.errors.clear()
            self.faults.clear()

    def close(self) -> None:
        with self.lock:
            if self.record is not None:
                self.record.close()
                self.record = None
