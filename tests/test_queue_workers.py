"""Scale-out end to end, with real processes: a real redis-server (append-only file on), serve
nodes appending to it, ``capic worker`` processes delivering to the emulator (issue 14)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.queue_harness import node, post, wait_until, workers
from tests.redis_harness import redis_server
from tests.serve_harness import ACCESS_TOKEN, INGEST_TOKEN, build_bundle, emulator

pytestmark = pytest.mark.slow


def serve_args(bundle: Path, url: str) -> list[str]:
    return ["--bundle", str(bundle), "--env", "production", "--queue", url, "--partitions", "4"]


def worker_args(url: str, endpoint: str, *extra: str) -> list[str]:
    return ["--queue", url, "--group", "delivery", "--endpoint", endpoint, "--max-age", "0.05",
            "--claim-idle", "2", *extra]  # fmt: skip


def test_two_serve_nodes_and_two_workers_deliver_every_accepted_event(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with redis_server(tmp_path) as redis, emulator(tmp_path) as emu:
        nodes = [node(tmp_path, f"node{i}", serve_args(bundle, redis.url)) for i in (1, 2)]
        try:
            for svc in nodes:
                svc.start()
            accepted: set[str] = set()
            with workers(tmp_path, ["w1", "w2"], worker_args(redis.url, emu.url)) as (w1, w2):
                for start in range(0, 400, 20):
                    accepted |= post(nodes[(start // 20) % 2], range(start, start + 20))
                assert len(accepted) == 400
                wait_until(lambda: set(emu.event_ids()) >= accepted, 60, "every event delivered")
                delivered = w1.metric("capic_worker_delivered_events_total")
                delivered += w2.metric("capic_worker_delivered_events_total")
                assert delivered >= 400
                assert w1.metric("capic_worker_delivered_events_total") > 0
                assert w2.metric("capic_worker_delivered_events_total") > 0
            ids = Counter(emu.event_ids())
            assert set(ids) == accepted
            client = redis.client()
            # Delivered entries leave the streams (XACK + XDEL); nothing is pending.
            assert sum(client.xlen(f"capic:shop:production:{p}") for p in range(4)) == 0
        finally:
            for svc in nodes:
                svc.stop()
        for svc in nodes:
            text = svc.output()
            assert ACCESS_TOKEN not in text and INGEST_TOKEN not in text
