"""The queue contract, as tests any backend must pass (``capic.runtime.delivery.queue``).

A backend's test module subclasses :class:`QueueContract` and provides the ``backend`` fixture
(a :class:`Backend`); every test here then runs against it::

    class TestSQLiteOutbox(QueueContract):
        @pytest.fixture
        def backend(self, tmp_path): ...

The first half checks the queue itself (lease, ack, release, dead letters, restarts, the
backlog limit); the second half runs the real :class:`DeliveryEngine` over the backend against
the real Graph API emulator (batching, retries, bisection, dead letters, credentials, stop and
drain), so a backend that passes can carry ``capic run``, ``capic serve`` and the workers.
Nothing here knows which backend it drives.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import pytest

from capic.emulator import EmulatorHandle, FaultConfig, start
from capic.runtime.delivery import (
    Consumer,
    DeadLetterReason,
    DeliveryEngine,
    Destination,
    GraphTransport,
    GroupCommitter,
    Lease,
    Producer,
    QueueFull,
    QueueItem,
    RetryPolicy,
)
from capic.runtime.secrets import SecretRef
from tests.conftest_delivery import TOKEN, TOKEN_ENV, VERSION, destination, event


class Queue(Producer, Consumer, Protocol):
    def close(self) -> None: ...


@dataclass
class Backend:
    """How the contract drives one backend."""

    name: str
    #: A queue on fresh storage; ``max_pending`` bounds its backlog (None: no bound).
    open: Callable[..., Queue]
    #: Close ``queue`` as a crashed process would leave it and open the same storage again.
    restart: Callable[[Queue], Queue]
    #: ``(event_id, reason)`` of every dead letter.
    dead_letters: Callable[[Queue], list[tuple[str, DeadLetterReason]]]


def item(i: int, dest: Destination | None = None, **overrides: Any) -> QueueItem:
    body = event(i, **overrides)
    return QueueItem(dest or destination(), orjson.dumps(body), str(body["event_id"]))


def ids(leases: list[Lease]) -> list[str]:
    return [lease.item.event_id for lease in leases]


ENV = {TOKEN_ENV: TOKEN}


def fast(max_attempts: int = 8) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, base_delay=0.001, max_delay=0.01, jitter=0.0)


class QueueContract:
    """Subclass it and provide the ``backend`` fixture (a :class:`Backend`)."""

    @pytest.fixture
    def queue(self, backend: Backend) -> Iterator[Queue]:
        q = backend.open()
        yield q
        q.close()

    @pytest.fixture
    def emu(self) -> Iterator[EmulatorHandle]:
        with start(token=TOKEN) as handle:
            yield handle

    # -- the queue ------------------------------------------------------------------------

    def test_items_come_back_in_order_with_everything_they_carry(self, queue: Queue) -> None:
        other = Destination("42", VERSION, SecretRef.secret("tok"), "TEST1", SecretRef.env("APP"))
        sent = [item(0), item(1, other), item(2)]
        queue.append(sent)
        leases = queue.lease(10, 0.0)
        assert [lease.item for lease in leases] == sent
        assert all(lease.deliveries == 0 for lease in leases)
        assert len({lease.id for lease in leases}) == 3
        assert queue.depth() == 3

    def test_a_literal_secret_never_enters_the_queue(self, queue: Queue) -> None:
        literal = Destination("42", VERSION, SecretRef.literal(TOKEN))
        queue.append([item(0, literal)])
        [lease] = queue.lease(1, 0.0)
        assert lease.item.destination.token.is_redacted
        assert lease.item.destination.batch_key == literal.batch_key
        assert TOKEN not in repr(lease)

    def test_lease_respects_the_limit_and_hands_each_item_out_once(self, queue: Queue) -> None:
        queue.append([item(i) for i in range(5)])
        first = queue.lease(2, 0.0)
        second = queue.lease(10, 0.0)
        assert ids(first) == ["ev-0", "ev-1"]
        assert ids(second) == ["ev-2", "ev-3", "ev-4"]
        assert queue.lease(10, 0.0) == []

    def test_lease_waits_for_work(self, queue: Queue) -> None:
        started = time.monotonic()
        assert queue.lease(5, 0.2) == []
        assert time.monotonic() - started >= 0.15

        def later() -> None:
            time.sleep(0.1)
            queue.append([item(7)])

        thread = threading.Thread(target=later)
        thread.start()
        started = time.monotonic()
        leases = queue.lease(5, 5.0)
        thread.join()
        assert ids(leases) == ["ev-7"]
        assert time.monotonic() - started < 2.0

    def test_ack_removes_for_good(self, backend: Backend, queue: Queue) -> None:
        queue.append([item(i) for i in range(4)])
        leases = queue.lease(4, 0.0)
        queue.ack(leases[:3])
        assert queue.depth() == 1
        queue = backend.restart(queue)
        try:
            assert ids(queue.lease(10, 0.0)) == ["ev-3"]
        finally:
            queue.close()

    def test_release_hands_out_again_with_one_more_delivery(self, queue: Queue) -> None:
        queue.append([item(i) for i in range(3)])
        leases = queue.lease(3, 0.0)
        queue.release(leases[1:], 0.0)
        again = queue.lease(10, 1.0)
        assert ids(again) == ["ev-1", "ev-2"]
        assert [lease.deliveries for lease in again] == [1, 1]
        queue.release(again[:1], 0.3)
        assert queue.lease(10, 0.0) == []
        later = queue.lease(10, 3.0)
        assert ids(later) == ["ev-1"] and later[0].deliveries == 2
        assert queue.depth() == 3

    def test_dead_letters_leave_the_queue_with_their_reason(
        self, backend: Backend, queue: Queue
    ) -> None:
        queue.append([item(i) for i in range(3)])
        leases = queue.lease(3, 0.0)
        reason = DeadLetterReason("User Parameter Not Hashed", 100, 2804016, "Atrace", 400)
        queue.dead_letter(leases[:2], reason)
        assert queue.depth() == 1
        letters = backend.dead_letters(queue)
        assert [event_id for event_id, _ in letters] == ["ev-0", "ev-1"]
        got = letters[0][1]
        assert (got.code, got.subcode, got.message, got.fbtrace_id) == (
            100,
            2804016,
            "User Parameter Not Hashed",
            "Atrace",
        )
        assert reason.key == "100/2804016"

    def test_what_a_crashed_consumer_held_is_handed_out_again(
        self, backend: Backend, queue: Queue
    ) -> None:
        queue.append([item(i) for i in range(3)])
        held = queue.lease(3, 0.0)
        queue.ack(held[:1])
        queue = backend.restart(queue)
        try:
            leases = queue.lease(10, 5.0)
            assert ids(leases) == ["ev-1", "ev-2"]
            assert [lease.item for lease in leases] == [item(1), item(2)]
        finally:
            queue.close()

    def test_a_full_backlog_refuses_the_whole_append(self, backend: Backend) -> None:
        queue = backend.open(max_pending=3)
        try:
            queue.append([item(0), item(1)])
            with pytest.raises(QueueFull) as info:
                queue.append([item(2), item(3)])
            assert info.value.retry_after > 0
            assert queue.depth() == 2
            assert ids(queue.lease(10, 0.0)) == ["ev-0", "ev-1"]
            queue.append([item(4)])
            assert queue.depth() == 3
        finally:
            queue.close()

    def test_group_commit_shares_transactions_and_loses_nothing(self, queue: Queue) -> None:
        committer = GroupCommitter(queue, max_delay=0.01)
        futures = []
        lock = threading.Lock()

        def submit(start: int) -> None:
            for n in range(start, start + 50):
                future = committer.submit([item(n)])
                with lock:
                    futures.append(future)

        threads = [threading.Thread(target=submit, args=(k * 50,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for future in futures:
            future.result(timeout=10)
        committer.close()
        assert committer.commits < 400  # concurrent submitters shared transactions
        got = []
        while leases := queue.lease(1000, 0.0):
            got += ids(leases)
        assert sorted(got) == sorted(f"ev-{n}" for n in range(400))

    # -- the engine over the queue ----------------------------------------------------------

    def engine(self, queue: Queue, url: str, **kwargs: Any) -> DeliveryEngine:
        kwargs.setdefault("policy", fast())
        kwargs.setdefault("environ", ENV)
        kwargs.setdefault("max_age", 0.05)
        return DeliveryEngine(queue, transport=GraphTransport(url, timeout=5.0), **kwargs)

    def test_engine_delivers_everything_in_batches(self, queue: Queue, emu: EmulatorHandle) -> None:
        a, b = destination(), destination("777", test_event_code="TEST9")
        engine = self.engine(queue, emu.url, max_batch=100)
        engine.start()
        committer = GroupCommitter(queue)
        for start_at in range(0, 550, 50):
            committer.submit([item(i, a if i % 5 else b) for i in range(start_at, start_at + 50)])
        committer.close()
        engine.drain(30.0)
        engine.stop(5.0)
        received = emu.received()
        assert sorted(r["event"]["event_id"] for r in received) == sorted(
            f"ev-{i}" for i in range(550)
        )
        assert {r["test_event_code"] for r in received if r["pixel_id"] == "777"} == {"TEST9"}
        stats = engine.stats.snapshot()
        assert stats.sent == 550 and stats.dead_lettered == 0 and stats.deferred == 0
        assert stats.batches <= 12  # 440 and 110 events, at most 100 per request
        assert emu.stats()["requests"] == stats.requests
        assert queue.depth() == 0

    def test_engine_retries_and_bisects_to_the_bad_events(
        self, backend: Backend, queue: Queue
    ) -> None:
        bad = {7: {"user_data": {"em": "raw@example.com", "client_user_agent": "UA"}}}
        faults = FaultConfig(rate_5xx=0.2, rate_throttle=0.1)
        with start(token=TOKEN, faults=faults, seed=3) as emu:
            queue.append([item(i, **bad.get(i, {})) for i in range(60)])
            engine = self.engine(queue, emu.url, policy=fast(30))
            engine.start()
            engine.drain(60.0)
            engine.stop(5.0)
            received = {r["event"]["event_id"] for r in emu.received()}
        assert received == {f"ev-{i}" for i in range(60)} - {"ev-7"}
        [(event_id, reason)] = backend.dead_letters(queue)
        assert event_id == "ev-7" and (reason.code, reason.subcode) == (100, 2804016)
        stats = engine.stats.snapshot()
        assert stats.retried > 0 and stats.bisections > 0
        assert stats.rejected_by_reason == Counter({"100/2804016": 1})
        assert queue.depth() == 0

    def test_rejected_credentials_stop_delivery_and_keep_everything(
        self, queue: Queue, emu: EmulatorHandle
    ) -> None:
        queue.append([item(i) for i in range(5)])
        engine = self.engine(queue, emu.url, environ={TOKEN_ENV: "EAAGwrong"})
        engine.start()
        engine.drain(30.0)
        engine.stop(5.0)
        reason = engine.stopped_reason
        assert reason is not None and f'env("{TOKEN_ENV}")' in reason and "190" in reason
        assert "EAAGwrong" not in reason
        assert emu.received() == [] and queue.depth() == 5
        assert sorted(ids(queue.lease(10, 3.0))) == [f"ev-{i}" for i in range(5)]

    def test_a_missing_token_stops_delivery_naming_the_reference(
        self, queue: Queue, emu: EmulatorHandle
    ) -> None:
        queue.append([item(0)])
        engine = self.engine(queue, emu.url, environ={})
        engine.start()
        engine.drain(30.0)
        engine.stop(5.0)
        assert engine.stopped_reason is not None
        assert f'env("{TOKEN_ENV}")' in engine.stopped_reason
        assert queue.depth() == 1

    def test_an_unreachable_graph_api_leaves_everything_queued(self, queue: Queue) -> None:
        with start() as gone:
            url = gone.url
        queue.append([item(i) for i in range(3)])
        engine = self.engine(queue, url, policy=fast(2), cooldown=60.0)
        engine.start()
        engine.drain(30.0)
        engine.stop(5.0)
        assert engine.stopped_reason is None
        stats = engine.stats.snapshot()
        assert stats.requests == 2 and stats.sent == 0 and stats.deferred == 3
        assert queue.depth() == 3

    def test_stop_abandons_in_flight_requests_at_the_deadline(self, backend: Backend) -> None:
        queue = backend.open()
        with start(token=TOKEN, latency=2.0) as slow:
            queue.append([item(i) for i in range(3)])
            engine = self.engine(queue, slow.url)
            engine.start()
            deadline = time.monotonic() + 10
            while slow.stats()["requests"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.monotonic()
            engine.stop(0.2)
            assert time.monotonic() - started < 1.5
            queue = backend.restart(queue)  # the process ends: nothing was acked
            try:
                assert sorted(ids(queue.lease(10, 5.0))) == ["ev-0", "ev-1", "ev-2"]
            finally:
                queue.close()

    def test_worn_out_leases_are_dead_lettered(self, backend: Backend, queue: Queue) -> None:
        queue.append([item(0), item(1)])
        leases = queue.lease(2, 0.0)
        queue.release(leases[:1], 0.0)
        queue.release(leases[1:], 0.0)
        again = queue.lease(2, 2.0)
        queue.release(again, 0.0)
        with start(token=TOKEN) as emu:
            engine = self.engine(queue, emu.url, max_deliveries=2)
            engine.start()
            engine.drain(30.0)
            engine.stop(5.0)
            assert emu.received() == []
        letters = backend.dead_letters(queue)
        assert sorted(event_id for event_id, _ in letters) == ["ev-0", "ev-1"]
        assert all("2 times" in reason.message for _, reason in letters)
