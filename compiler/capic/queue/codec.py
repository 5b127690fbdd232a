"""Stream entries: what a queued server event and a dead letter look like in Redis.

An event entry has three fields: ``e`` (event_id), ``b`` (the JSON body exactly as it is
sent, already normalized and hashed) and ``d`` (the destination: pixel id, API version, test
event code and the token and app-secret *references*, as sorted JSON with literals withheld),
so that a worker needs no bundle. A dead letter adds where it came from and why it was given
up (Meta's code, subcode, message and fbtrace_id, or capic's reason).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.queue import DeadLetterReason, QueueItem

__all__ = ["Codec", "DeadLetterEntry", "EntryError", "dead_fields", "decode_dead"]

Fields = Mapping[bytes, bytes]


class EntryError(ValueError):
    """A stream entry that is not a capic event (written by something else, or damaged)."""


class Codec:
    """Encodes items and decodes entries; destinations are cached both ways (thread-safe)."""

    def __init__(self) -> None:
        self._keys: dict[Destination, bytes] = {}
        self._dests: dict[bytes, Destination] = {}
        self._lock = threading.Lock()

    def destination_key(self, dest: Destination) -> bytes:
        key = self._keys.get(dest)
        if key is None:
            key = orjson.dumps(dest.to_json(redact=True), option=orjson.OPT_SORT_KEYS)
            with self._lock:
                self._keys[dest] = key
        return key

    def destination(self, key: bytes) -> Destination:
        dest = self._dests.get(key)
        if dest is None:
            try:
                data = orjson.loads(key)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                dest = Destination.from_json(data)
            except (ValueError, KeyError, TypeError) as exc:
                raise EntryError(f"unreadable destination: {exc}") from None
            with self._lock:
                self._dests[key] = dest
        return dest

    def fields(self, item: QueueItem) -> dict[Any, Any]:
        return {
            b"e": item.event_id.encode(),
            b"b": item.body,
            b"d": self.destination_key(item.destination),
        }

    def item(self, fields: Fields | None) -> QueueItem:
        if not fields:
            raise EntryError("the entry has no fields")
        try:
            event_id, body, dest = fields[b"e"], fields[b"b"], fields[b"d"]
        except KeyError as exc:
            raise EntryError(f"the entry has no field {exc.args[0]!r}") from None
        return QueueItem(self.destination(dest), bytes(body), event_id.decode(errors="replace"))


def dead_fields(
    codec: Codec, item: QueueItem, reason: DeadLetterReason, source: str, deliveries: int
) -> dict[Any, Any]:
    out = codec.fields(item)
    out[b"src"] = source.encode()
    out[b"n"] = str(deliveries).encode()
    out[b"at"] = f"{time.time():.3f}".encode()
    out[b"message"] = reason.message.encode()
    for name, value in (
        ("code", reason.code),
        ("subcode", reason.subcode),
        ("status", reason.status),
        ("fbtrace_id", reason.fbtrace_id),
    ):
        if value is not None:
            out[name.encode()] = str(value).encode()
    return out


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    id: str
    item: QueueItem | None
    reason: DeadLetterReason
    source: str
    deliveries: int
    failed: float | None
    raw: Fields

    @property
    def event_name(self) -> str | None:
        if self.item is None:
            return None
        try:
            name = orjson.loads(self.item.body).get("event_name")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return name if isinstance(name, str) else None

    def to_json(self) -> dict[str, Any]:
        dest = self.item.destination if self.item is not None else None
        r = self.reason
        return {
            "id": self.id,
            "stream": self.source,
            "event_id": self.item.event_id if self.item is not None else None,
            "event_name": self.event_name,
            "destination": dest.to_json(redact=True) if dest is not None else None,
            "deliveries": self.deliveries,
            "failed": self.failed,
            "code": r.code,
            "subcode": r.subcode,
            "status": r.status,
            "message": r.message,
            "fbtrace_id": r.fbtrace_id,
        }


def _int(fields: Fields, name: bytes) -> int | None:
    value = fields.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def decode_dead(codec: Codec, entry_id: str, fields: Fields) -> DeadLetterEntry:
    try:
        item: QueueItem | None = codec.item(fields)
    except EntryError:
        item = None
    reason = DeadLetterReason(
        fields.get(b"message", b"").decode(errors="replace"),
        _int(fields, b"code"),
        _int(fields, b"subcode"),
        fields[b"fbtrace_id"].decode(errors="replace") if b"fbtrace_id" in fields else None,
        _int(fields, b"status"),
    )
    at = fields.get(b"at")
    try:
        failed = float(at) if at is not None else None
    except ValueError:
        failed = None
    return DeadLetterEntry(
        entry_id,
        item,
        reason,
        fields.get(b"src", b"").decode(errors="replace"),
        _int(fields, b"n") or 0,
        failed,
        fields,
    )
