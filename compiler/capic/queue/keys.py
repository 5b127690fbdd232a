"""Where things live in Redis: one namespace per (project, environment), P partition streams.

::

    capic:queues                       hash  "<project>:<env>" -> partitions (the registry)
    capic:<project>:<env>:<p>          stream, p in 0..P-1: the hashed server events
    capic:<project>:<env>:dead         stream: dead letters, with the reason
    capic:<project>:enh:<hex digest>   string: enhancement data of one browser (with a TTL)

The names carry no ``{hash tag}``: on Redis Cluster each partition's name hashes to its own
slot, so the partitions spread over the shards. An event's partition is a stable hash of its
pixel and event_id (CRC-32, the same in every process and version), so the copies of one
event (a retry by the sender, a replay) land in the same stream.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capic.runtime.delivery.queue import Lease

__all__ = [
    "REGISTRY",
    "Namespace",
    "by_stream",
    "lease_id",
    "partition_of",
    "safe_name",
    "split_id",
]

#: The registry of namespaces and their partition counts (workers discover streams here).
REGISTRY = "capic:queues"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A project or environment name as it appears in keys (no ``:``, spaces or braces)."""
    return _SAFE.sub("_", text).strip("._") or "default"


def partition_of(pixel_id: str, event_id: str, partitions: int) -> int:
    """The partition of an event: stable across processes, machines and releases."""
    return zlib.crc32(f"{pixel_id}\0{event_id}".encode()) % partitions


@dataclass(frozen=True, slots=True)
class Namespace:
    """The streams of one project's environment."""

    project: str
    environment: str
    partitions: int

    def __post_init__(self) -> None:
        if not 1 <= self.partitions <= 1024:
            raise ValueError("partitions must be between 1 and 1024")

    @classmethod
    def of(cls, project: str, environment: str | None, partitions: int) -> Namespace:
        return cls(safe_name(project), safe_name(environment or "default"), partitions)

    @classmethod
    def parse(cls, name: str, partitions: int) -> Namespace:
        """From a registry field ``<project>:<env>``."""
        project, sep, environment = name.partition(":")
        if not sep or not project or not environment:
            raise ValueError(f"not a queue name: {name!r}")
        return cls(project, environment, partitions)

    @property
    def name(self) -> str:
        return f"{self.project}:{self.environment}"

    @property
    def prefix(self) -> str:
        return f"capic:{self.name}"

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:{partition}"

    @property
    def streams(self) -> list[str]:
        return [self.stream(p) for p in range(self.partitions)]

    @property
    def dead(self) -> str:
        return f"{self.prefix}:dead"

    def stream_for(self, pixel_id: str, event_id: str) -> str:
        return self.stream(partition_of(pixel_id, event_id, self.partitions))


def enhancement_key(project: str, digest: bytes) -> str:
    return f"capic:{safe_name(project)}:enh:{digest.hex()}"


# -- lease ids: "<stream>/<entry id>" ------------------------------------------------------


def lease_id(stream: str, entry_id: str) -> str:
    return f"{stream}/{entry_id}"


def split_id(lease: str) -> tuple[str, str]:
    stream, _, entry = lease.rpartition("/")
    return stream, entry


def by_stream(leases: Iterable[Lease]) -> dict[str, list[Lease]]:
    out: dict[str, list[Lease]] = {}
    for lease in leases:
        out.setdefault(split_id(lease.id)[0], []).append(lease)
    return out
