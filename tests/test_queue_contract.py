"""The queue contract (tests/queue_contract.py) on the SQLite outbox.

Phase 2 adds Redis Streams the same way: a ``backend`` fixture and ``class ...(QueueContract)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capic.runtime.delivery import DeadLetterReason, Outbox
from tests.queue_contract import Backend, Queue, QueueContract


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
