"""Operations on the queue: what ``capic queue status|dead-letters|requeue`` and the worker's
metrics read. Status comes from ``XINFO``: per partition its length, and per consumer group
its lag (entries not yet read by the group), pending entries (read, not yet acked) and, per
consumer, what it holds and how long it has been idle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from capic.queue.codec import Codec, DeadLetterEntry, decode_dead
from capic.queue.connection import redis_errors
from capic.queue.keys import REGISTRY, Namespace

__all__ = [
    "ConsumerInfo",
    "GroupInfo",
    "PartitionInfo",
    "namespaces",
    "partition_status",
    "read_dead_letters",
    "requeue",
]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def namespaces(client: Any, where: str, only: Sequence[str] = ()) -> list[Namespace]:
    """The registered namespaces (``project:env``), those named in ``only`` when given (a
    bare project name matches each of its environments)."""
    with redis_errors(where):
        rows = client.hgetall(REGISTRY)
    found = []
    for name, partitions in sorted((_text(k), _text(v)) for k, v in rows.items()):
        try:
            ns = Namespace.parse(name, int(partitions))
        except ValueError:
            continue
        if not only or ns.name in only or ns.project in only:
            found.append(ns)
    return found


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    name: str
    pending: int
    idle: float


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    #: Entries not yet read by the group (None when Redis cannot tell, after deletions).
    lag: int | None
    pending: int
    consumers: list[ConsumerInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    namespace: str
    partition: int
    stream: str
    length: int
    groups: list[GroupInfo] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def partition_status(
    client: Any, ns: Namespace, where: str, *, consumers: bool = True
) -> list[PartitionInfo]:
    out = []
    for p, stream in enumerate(ns.streams):
        with redis_errors(where):
            if not client.exists(stream):
                out.append(PartitionInfo(ns.name, p, stream, 0))
                continue
            length = int(client.xlen(stream))
            groups = []
            for g in client.xinfo_groups(stream):
                name = _text(g["name"])
                lag = g.get("lag")
                members = []
                if consumers:
                    members = [
                        ConsumerInfo(_text(c["name"]), int(c["pending"]), int(c["idle"]) / 1000)
                        for c in client.xinfo_consumers(stream, name)
                    ]
                groups.append(
                    GroupInfo(
                        name, int(lag) if lag is not None else None, int(g["pending"]), members
                    )
                )
        out.append(PartitionInfo(ns.name, p, stream, length, groups))
    return out


def read_dead_letters(
    client: Any, ns: Namespace, where: str, limit: int | None = None
) -> list[DeadLetterEntry]:
    """The namespace's dead letters, oldest first."""
    codec = Codec()
    with redis_errors(where):
        rows = client.xrange(ns.dead, count=limit)
    return [decode_dead(codec, _text(entry_id), fields) for entry_id, fields in rows or ()]


def dead_letter_count(client: Any, ns: Namespace, where: str) -> int:
    with redis_errors(where):
        return int(client.xlen(ns.dead))


def requeue(client: Any, ns: Namespace, where: str, ids: Sequence[str] | None = None) -> int:
    """Put dead letters (all, or the given ids) back in their partitions; the count.

    Each goes back with a fresh delivery count: appended first, removed from the dead stream
    second (a crash in between leaves a copy in both: delivered once, listed once more)."""
    codec = Codec()
    moved = 0
    for letter in read_dead_letters(client, ns, where):
        if ids is not None and letter.id not in ids:
            continue
        item = letter.item
        if item is None:
            continue  # an unreadable entry cannot be delivered: it stays listed
        stream = ns.stream_for(item.destination.pixel_id, item.event_id)
        with redis_errors(where):
            client.xadd(stream, codec.fields(item))
            client.xdel(ns.dead, letter.id)
        moved += 1
    return moved
