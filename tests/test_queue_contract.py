"""The queue contract (tests/queue_contract.py) on both backends: the SQLite outbox and Redis
Streams (a real ``redis-server`` started for this module, append-only file on).

The Redis backend runs here with one partition: the contract's order checks ("oldest first")
hold within a partition, and which partition an event takes is tested in test_queue_redis.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capic.queue import Namespace, QueueURL
from capic.queue.redis_queue import RedisQueue
from capic.runtime.delivery import DeadLetterReason, Outbox
from tests.queue_contract import Backend, Queue, QueueContract
from tests.redis_harness import redis_server


def _dead_letters(queue: Queue) -> list[tuple[str, DeadLetterReason]]:
    assert isinstance(queue, Outbox)
    return [
        (
            letter.event_id or "",
            DeadLetterReason(letter.message, letter.code, letter.subcode, letter.fbtrace_id),
        )
        for letter in queue.dead_letters()
    ]


class TestSQLiteOutbox(QueueContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        path = tmp_path / "outbox.sqlite"
        counter = iter(range(1_000_000))

        def open_queue(**options: Any) -> Queue:
            # Each open is a fresh file, like a fresh Redis key space.
            fresh = path.with_name(f"outbox-{next(counter)}.sqlite")
            return Outbox(fresh, rest=0.2, **options)

        def restart(queue: Queue) -> Queue:
            assert isinstance(queue, Outbox)
            queue.close()  # leases live in the process: closing is what a crash leaves
            return Outbox(queue.path, create=False, rest=0.2)

        return Backend("sqlite", open_queue, restart, _dead_letters)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


_spaces = itertools.count()


class TestRedisStreams(QueueContract):
    @pytest.fixture
    def backend(self, redis_url: str) -> Backend:
        url = QueueURL.parse(redis_url)

        def open_queue(**options: Any) -> Queue:
            # Each open is a fresh namespace (its own streams) on the module's server.
            namespace = Namespace(f"contract{next(_spaces)}", "test", 1)
            return RedisQueue(url, namespace, consumer="worker-1", rest=0.2, **options)

        def restart(queue: Queue) -> Queue:
            # A crashed worker started again under its stable consumer name: what it held
            # is still pending in Redis under that name, and it reads that first.
            assert isinstance(queue, RedisQueue)
            queue.close()
            return RedisQueue(url, queue.namespace, consumer="worker-1", rest=0.2)

        def dead_letters(queue: Queue) -> list[tuple[str, DeadLetterReason]]:
            assert isinstance(queue, RedisQueue)
            return [
                (letter.item.event_id if letter.item else "", letter.reason)
                for letter in queue.dead_letters()
            ]

        return Backend("redis", open_queue, restart, dead_letters)
