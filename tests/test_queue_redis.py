"""What the Redis backend adds to the queue contract, against a real redis-server: partitions,
claims (kept from live consumers, taken from dead ones, swept with a cursor), entries that
are not capic's, URLs whose password is never shown."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from capic.queue import Namespace, QueueURL, partition_of
from capic.queue.connection import connect
from capic.queue.consumer import RedisConsumer
from capic.queue.producer import RedisProducer, register
from capic.runtime.delivery.queue import QueueError
from tests.conftest_delivery import destination, item
from tests.redis_harness import free_port, redis_server

_names = itertools.count()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueURL]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield QueueURL.parse(server.url)


def fresh(partitions: int = 4) -> Namespace:
    return Namespace(f"redis{next(_names)}", "test", partitions)


def producer(url: QueueURL, ns: Namespace) -> RedisProducer:
    client = connect(url)
    register(client, ns, str(url))
    return RedisProducer(client, ns, where=str(url))


def consumer(url: QueueURL, ns: Namespace, name: str, claim_idle: float = 30.0) -> RedisConsumer:
    client = connect(url)
    return RedisConsumer(
        client, [ns], where=str(url), group="g", consumer=name, claim_idle=claim_idle
    )


def test_the_partition_is_a_stable_hash_of_pixel_and_event_id(url: QueueURL) -> None:
    # The same in every process, machine and release: these values are part of the format.
    got = [partition_of("1234567890123456", f"ev-{i}", 8) for i in range(8)]
    assert got == [0, 6, 4, 2, 1, 7, 5, 3]
    assert partition_of("777", "ev-0", 8) == 4
    ns = fresh()
    prod = producer(url, ns)
    other = destination("777")
    prod.append([item(i, other if i % 2 else None) for i in range(200)])
    lengths = [prod.client.xlen(stream) for stream in ns.streams]
    assert sum(lengths) == 200 and min(lengths) > 20  # spread over every partition
    for stream in ns.streams:
        for _, fields in prod.client.xrange(stream):
            pixel = b"777" if b'"777"' in fields[b"d"] else b"1234567890123456"
            assert ns.stream_for(pixel.decode(), fields[b"e"].decode()) == stream
    c = consumer(url, ns, "c1")
    try:
        got = []
        while leases := c.lease(1000, 0.0):
            got += leases
        assert sorted(lease.item.event_id for lease in got) == sorted(f"ev-{i}" for i in range(200))
        c.ack(got)
        assert c.depth() == 0  # acked entries are deleted, not left behind
    finally:
        c.close()


def test_live_consumers_keep_their_entries_and_dead_ones_lose_them(url: QueueURL) -> None:
    ns = fresh(1)
    producer(url, ns).append([item(i) for i in range(5)])
    slow = consumer(url, ns, "slow", claim_idle=0.6)
    other = consumer(url, ns, "other", claim_idle=0.6)
    try:
        held = slow.lease(10, 1.0)
        assert len(held) == 5
        # A delivery far longer than claim_idle: the owner refreshes its claims meanwhile.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            assert other.lease(10, 0.2) == []
        assert other.claims.claimed == 0
        slow.close()  # dies holding them: nobody refreshes any more
        taken = other.lease(10, 5.0)
        assert sorted(x.item.event_id for x in taken) == [f"ev-{i}" for i in range(5)]
        assert all(x.deliveries == 1 for x in taken) and other.claims.claimed == 5
    finally:
        slow.close()
        other.close()


def test_the_sweeper_keeps_its_cursor(url: QueueURL) -> None:
    ns = fresh(1)
    producer(url, ns).append([item(i) for i in range(30)])
    dead = consumer(url, ns, "dead", claim_idle=0.2)
    assert len(dead.lease(30, 1.0)) == 30
    dead.close()
    time.sleep(0.3)
    sweeper = consumer(url, ns, "sweeper", claim_idle=0.2)
    try:
        batches = [sweeper.lease(10, 2.0) for _ in range(3)]
        ids = [x.item.event_id for batch in batches for x in batch]
        assert [len(b) for b in batches] == [10, 10, 10]
        assert sorted(ids) == sorted(f"ev-{i}" for i in range(30))  # each once, in order
    finally:
        sweeper.close()


def test_an_entry_that_is_not_capics_is_dead_lettered(url: QueueURL) -> None:
    ns = fresh(1)
    prod = producer(url, ns)
    prod.client.xadd(ns.stream(0), {"something": "else"})
    prod.append([item(1)])
    c = consumer(url, ns, "c1")
    try:
        [lease] = c.lease(10, 1.0)
        assert lease.item.event_id == "ev-1"
        [(_, fields)] = prod.client.xrange(ns.dead)
        assert fields[b"message"].startswith(b"unreadable queue entry")
        assert fields[b"something"] == b"else"
    finally:
        c.close()


def test_a_password_in_the_url_is_never_shown() -> None:
    url = QueueURL.parse(f"redis://capic:s3cretPW@127.0.0.1:{free_port()}/0")
    assert "s3cretPW" not in str(url) and "capic:***@" in str(url)
    client = connect(url)
    with pytest.raises(QueueError) as info:
        register(client, fresh(), str(url))
    assert "s3cretPW" not in str(info.value) and "unavailable" in str(info.value)
    for bad in ("http://host/0", "redis://", "redis://host/abc", "redis://host:99999/0"):
        with pytest.raises(QueueError):
            QueueURL.parse(bad)
