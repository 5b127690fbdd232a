"""Scale-out end to end, with real processes: a real redis-server (append-only file on), serve
nodes appending to it, ``capic worker`` processes delivering to the emulator (issue 14)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.queue_harness import node, post, wait_until, workers
from tests.redis_harness import redis_server
from tests.serve_harness import ACCESS_TOKEN, INGEST_TOKEN, build_bundle, emulator, purchase

pytestmark = pytest.mark.slow


def stream(partition: int, environment: str = "production") -> str:
    """The shop's partition streams (project serve-shop)."""
    return f"capic:serve-shop:{environment}:{partition}"


def serve_args(bundle: Path, url: str, environment: str = "production") -> list[str]:
    return ["--bundle", str(bundle), "--env", environment, "--queue", url, "--partitions", "4"]


def worker_args(url: str, endpoint: str, *extra: str) -> list[str]:
    return ["--queue", url, "--group", "delivery", "--endpoint", endpoint, "--max-age", "0.05",
            "--claim-idle", "2", *extra]  # fmt: skip


def test_two_serve_nodes_and_two_workers_deliver_every_accepted_event(tmp_path: Path) -> None:
    # The environment remembers hashed customer information per browser: in Redis, shared.
    bundle = build_bundle(tmp_path, "enhanced")
    with redis_server(tmp_path) as redis, emulator(tmp_path) as emu:
        args = serve_args(bundle, redis.url, "enhanced")
        nodes = [node(tmp_path, f"node{i}", args) for i in (1, 2)]
        try:
            for svc in nodes:
                svc.start()
            accepted: set[str] = set()
            with workers(tmp_path, ["w1", "w2"], worker_args(redis.url, emu.url)) as (w1, w2):
                for start in range(0, 400, 20):
                    accepted |= post(nodes[(start // 20) % 2], range(start, start + 20))
                # The browser's last known customer (p-399, through node 2) comes back
                # anonymously through node 1: only a shared store knows p-399 there.
                anonymous = purchase(400)
                anonymous["event"]["user"] = {}
                assert nodes[0].post("/v1/events", anonymous).json()["accepted"] == 1
                accepted.add("p-400")
                wait_until(lambda: set(emu.event_ids()) >= accepted, 60, "every event delivered")
                assert w1.metric("capic_worker_delivered_events_total") > 0
                assert w2.metric("capic_worker_delivered_events_total") > 0
                for worker in (w1, w2):  # SIGTERM: the batch in flight finishes, exit 0
                    assert worker.stop() == 0
                    assert "SIGTERM: finishing the batch in flight" in worker.output()
                    assert "stopped: " in worker.output()
            ids = Counter(emu.event_ids())
            assert set(ids) == accepted
            client = redis.client()
            # Delivered entries leave the streams (XACK + XDEL); nothing is pending.
            assert sum(client.xlen(stream(p, "enhanced")) for p in range(4)) == 0
        finally:
            for svc in nodes:
                svc.stop()
        for svc in nodes:
            text = svc.output()
            assert ACCESS_TOKEN not in text and INGEST_TOKEN not in text
        events = {e["event"]["event_id"]: e["event"] for e in emu.received()}
        assert events["p-400"]["user_data"]["em"] == events["p-399"]["user_data"]["em"]
        [key] = client.keys("capic:serve-shop:enh:*")
        assert 0 < client.pttl(key) <= 3600 * 1000
        assert b"@example.com" not in client.get(key)


def _same_copies(received: list[dict[str, object]]) -> None:
    """Every copy of an event is the same event: duplicates only ever repeat an event_id."""
    first: dict[object, object] = {}
    for item in received:
        event = item["event"]
        assert isinstance(event, dict)
        assert first.setdefault(event["event_id"], event) == event


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with redis_server(tmp_path) as redis, emulator(tmp_path, "--latency", "0.5") as emu:
        svc = node(tmp_path, "node", serve_args(bundle, redis.url)).start()
        try:
            accepted = post(svc, range(200))
            assert len(accepted) == 200
        finally:
            svc.stop()
        args = worker_args(redis.url, emu.url, "--max-batch", "50")
        with workers(tmp_path, ["doomed"], args) as [doomed]:
            # Its first request is in the emulator (which holds it 0.5 s): kill -9 it now.
            wait_until(lambda: _requests(emu.url) > 0, 30, "the worker's first request")
            doomed.kill()
        client = redis.client()
        assert _pending(client) > 0  # what it held stays pending under its name
        with workers(tmp_path, ["survivor"], args) as [survivor]:
            wait_until(lambda: set(emu.event_ids()) >= accepted, 60, "every event delivered")
            assert survivor.metric("capic_worker_claimed_entries_total") > 0
        received = emu.received()
        assert {item["event"]["event_id"] for item in received} == accepted
        _same_copies(received)
        assert sum(client.xlen(stream(p)) for p in range(4)) == 0


def _requests(url: str) -> int:
    import httpx

    return int(httpx.get(f"{url}/_emulator/stats", timeout=5).json()["requests"])


def _pending(client: Any) -> int:
    total = 0
    for p in range(4):
        if client.exists(stream(p)):
            total += sum(g["pending"] for g in client.xinfo_groups(stream(p)))
    return total
