"""Redis Streams: the second backend of the queue contract (``pip install 'capic[queue]'``).

Several ``capic serve`` nodes (and ``capic run --queue`` backfills) append hashed server
events to P partition streams per project and environment; ``capic worker`` processes, members
of one consumer group, deliver them with the same delivery engine as everything else::

    serve nodes ──XADD──▶ capic:<project>:<env>:<p> ──XREADGROUP──▶ workers ──▶ Graph API
                 (spill to the local outbox while Redis is away)    (XACK+XDEL after Meta)

Modules: :mod:`~capic.queue.keys` (names and partitions), :mod:`~capic.queue.connection`
(URLs, errors), :mod:`~capic.queue.codec` (entries), :mod:`~capic.queue.producer`,
:mod:`~capic.queue.consumer` and :mod:`~capic.queue.claims` (the contract's two sides),
:mod:`~capic.queue.spill` (the local outbox while Redis is away), :mod:`~capic.queue.checks`
(persistence settings at start), :mod:`~capic.queue.enhance` (the shared enhancement store),
:mod:`~capic.queue.ops` (status, dead letters, requeue), :mod:`~capic.queue.worker`.
Importing this package does not import redis-py; connecting does.
"""

from __future__ import annotations

from capic.queue.connection import QueueUnavailable, QueueURL
from capic.queue.keys import Namespace, partition_of

__all__ = ["Namespace", "QueueURL", "QueueUnavailable", "partition_of"]
