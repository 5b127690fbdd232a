"""What the Redis server's persistence settings mean for an accepted event, checked at start.

"Accepted" (a ``202``) means Redis answered the ``XADD``. Whether the event then survives
depends on the server:

- ``appendonly yes`` + ``appendfsync always``: every write is on disk before Redis answers;
  survives a Redis crash, a ``kill -9`` and a host crash or power cut (``--queue-strict``
  requires this);
- ``appendonly yes`` + ``appendfsync everysec`` (Redis's default with AOF): survives a Redis
  crash or ``kill -9`` (the data is in the kernel); a host crash can lose up to about a second;
- ``appendonly no``: only the snapshots (``save``) persist; a restart loses everything since
  the last one (warned);
- ``maxmemory-policy`` other than ``noeviction``: when Redis is full it deletes keys, streams
  included, i.e. accepted events (warned). With ``noeviction`` a full Redis refuses the write
  and capic answers ``503``.

Managed services often disable ``CONFIG``; then ``INFO persistence`` tells whether the AOF is
on, and what cannot be read is reported as unknown (``--queue-strict`` then refuses to start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capic.queue.connection import redis_errors
from capic.runtime.delivery.queue import QueueError

__all__ = ["Persistence", "check_persistence", "read_persistence"]


@dataclass(frozen=True, slots=True)
class Persistence:
    appendonly: str | None
    appendfsync: str | None
    maxmemory_policy: str | None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def read_persistence(client: Any, where: str) -> Persistence:
    import redis.exceptions as rex

    with redis_errors(where):
        try:
            config = {
                _text(k): _text(v)
                for name in ("appendonly", "appendfsync", "maxmemory-policy")
                for k, v in client.config_get(name).items()
            }
        except rex.ResponseError:  # CONFIG renamed or disabled (managed Redis)
            info = client.info("persistence")
            aof = info.get("aof_enabled")
            return Persistence(None if aof is None else ("yes" if int(aof) else "no"), None, None)
    return Persistence(
        config.get("appendonly"), config.get("appendfsync"), config.get("maxmemory-policy")
    )


def check_persistence(p: Persistence, where: str, *, strict: bool) -> list[str]:
    """Warnings to print at start; raises QueueError when ``strict`` and writes are not
    fsynced before Redis answers."""
    if strict and (p.appendonly != "yes" or p.appendfsync != "always"):
        found = f"appendonly {p.appendonly or 'unknown'}, appendfsync {p.appendfsync or 'unknown'}"
        raise QueueError(
            f"--queue-strict: Redis at {where} must run with appendonly yes and appendfsync "
            f"always ({found})"
        )
    warnings = []
    if p.appendonly == "no":
        warnings.append(
            f"Redis at {where} runs without the append-only file (appendonly no): accepted "
            "events are lost if it restarts before its next snapshot"
        )
    elif p.appendonly is None:
        warnings.append(f"cannot read the persistence settings of Redis at {where}")
    if p.appendonly == "yes" and p.appendfsync == "no":
        warnings.append(
            f"Redis at {where} leaves flushing to the operating system (appendfsync no): a host "
            "crash can lose the last ~30 seconds of accepted events"
        )
    if p.maxmemory_policy not in (None, "noeviction"):
        warnings.append(
            f"Redis at {where} evicts keys when full (maxmemory-policy {p.maxmemory_policy}): "
            "it may delete queued events; use noeviction (capic then answers 503 when it is full)"
        )
    return warnings
