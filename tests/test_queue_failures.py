"""Scale-out failures with real processes: Redis killed and restarted, Redis away while
serving (spill to the node's outbox and replay), a poison event, Meta failing one request in
five. Every event that got a 202 reaches the emulator; nothing raw or secret enters Redis."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.queue_harness import Worker, node, post, wait_until, workers
from tests.redis_harness import redis_server
from tests.serve_harness import ACCESS_TOKEN, CAPIC, base_env, build_bundle, emulator
from tests.test_queue_workers import serve_args, stream, worker_args

pytestmark = pytest.mark.slow


def _readyz(admin: str) -> dict[str, Any]:
    reply = httpx.get(f"{admin}/readyz", timeout=5)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert isinstance(data, dict)
    return data


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


def test_redis_killed_and_away_while_serving_loses_nothing_accepted(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with redis_server(tmp_path) as redis, emulator(tmp_path) as emu:
        svc = node(tmp_path, "node", serve_args(bundle, redis.url)).start()
        try:
            # 1. Accepted = Redis answered the XADD; with the append-only file on, a kill -9
            #    of Redis loses none of it.
            accepted = post(svc, range(150))
            client = redis.client()
            assert sum(client.xlen(stream(p)) for p in range(4)) == 150
            raw = b"".join(
                value
                for p in range(4)
                for _, fields in client.xrange(stream(p))
                for value in fields.values()
            )
            assert b"buyer1@example.com" not in raw and ACCESS_TOKEN.encode() not in raw
            assert b"META_CAPI_TOKEN" in raw  # the token travels as a reference
            client.close()
            redis.kill()
            # 2. Redis away: the node keeps accepting into its outbox, degraded but ready.
            accepted |= post(svc, range(150, 250))
            assert len(accepted) == 250
            ready = _readyz(svc.admin)
            assert ready["status"] == "degraded" and "local outbox" in ready["problems"][0]
            assert _metric(svc.metrics(), "capic_queue_spilled_events_total") >= 100
            assert _metric(svc.metrics(), "capic_queue_up") == 0
            # 3. Redis back (same files): the outbox is replayed, nothing was lost.
            redis.start()
            wait_until(lambda: _readyz(svc.admin)["status"] == "ready", 30, "ready again")
            wait_until(
                lambda: _metric(svc.metrics(), "capic_queue_replayed_events_total") >= 100,
                30,
                "the spill replayed",
            )
            accepted |= post(svc, range(250, 300))
            with workers(tmp_path, ["w1", "w2"], worker_args(redis.url, emu.url)):
                wait_until(lambda: set(emu.event_ids()) >= accepted, 60, "every event delivered")
            assert set(emu.event_ids()) == accepted
        finally:
            svc.stop()
        assert "keeping events in the local outbox" in svc.output()
        assert "is back; replaying" in svc.output()


def test_a_worker_waits_for_redis_to_come_back(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with redis_server(tmp_path) as redis, emulator(tmp_path, "--latency", "0.3") as emu:
        svc = node(tmp_path, "node", serve_args(bundle, redis.url)).start()
        try:
            accepted = post(svc, range(100))
            args = worker_args(redis.url, emu.url, "--max-batch", "20")
            with workers(tmp_path, ["w1"], args) as [w1]:
                wait_until(lambda: emu.event_ids(), 30, "first deliveries")
                redis.kill()  # pending entries and the group survive in the append-only file
                wait_until(lambda: "waiting for it" in w1.log.read_text(), 30, "worker notices")
                redis.start()
                wait_until(lambda: set(emu.event_ids()) >= accepted, 60, "every event delivered")
                assert w1.proc is not None and w1.proc.poll() is None
        finally:
            svc.stop()


def test_a_poison_event_goes_to_the_dead_letter_stream_after_n_deliveries(
    tmp_path: Path,
) -> None:
    bundle = build_bundle(tmp_path)
    # Every request hangs past the worker's timeout: each worker dies holding the event.
    with redis_server(tmp_path) as redis, emulator(tmp_path, "--latency", "30") as hang:
        svc = node(tmp_path, "node", serve_args(bundle, redis.url)).start()
        try:
            accepted = post(svc, [7])
        finally:
            svc.stop()
        args = worker_args(redis.url, hang.url, "--max-deliveries", "2")
        crash = Worker("crashing", args, base_env(), tmp_path)
        for _ in range(2):  # handed out, and the worker is killed holding it: twice
            crash.start()
            wait_until(lambda: _requests(hang.url) >= crash.runs, 30, "the request in flight")
            crash.kill()
        crash.start()  # the third hand-out is one too many: dead letter instead
        try:
            dead = "capic:serve-shop:production:dead"
            client = redis.client()
            wait_until(lambda: client.xlen(dead), 30, "the dead letter")
        finally:
            crash.stop()
        listing = _queue("dead-letters", redis.url)
        assert listing.returncode == 1, listing.stderr
        assert "event_id=p-7" in listing.stdout and "more than 2 times" in listing.stdout
        assert "handed out 3x" in listing.stdout
        assert ACCESS_TOKEN not in listing.stdout
        # Fixed: requeued, and delivered by a worker whose requests succeed.
        assert "requeued 1 dead letter" in _queue("requeue", redis.url).stdout
        with (
            emulator(tmp_path) as emu,
            workers(tmp_path, ["healthy"], worker_args(redis.url, emu.url)),
        ):
            wait_until(lambda: set(emu.event_ids()) >= accepted, 30, "delivered")
        assert client.xlen(dead) == 0


def test_meta_failing_one_request_in_five(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    faults = ["--fault-5xx", "0.08", "--fault-throttle", "0.06", "--fault-timeout", "0.06"]
    faults += ["--stall", "3", "--seed", "14"]
    with redis_server(tmp_path) as redis, emulator(tmp_path, *faults) as emu:
        svc = node(tmp_path, "node", serve_args(bundle, redis.url)).start()
        try:
            accepted: set[str] = set()
            for start in range(0, 200, 25):
                accepted |= post(svc, range(start, start + 25))
        finally:
            svc.stop()
        args = worker_args(redis.url, emu.url, "--max-batch", "10", "--timeout", "1")
        args += ["--max-attempts", "12", "--rest", "1"]
        with workers(tmp_path, ["w1", "w2"], args) as pair:
            wait_until(lambda: set(emu.event_ids()) >= accepted, 90, "every event delivered")
            retried = sum(w.metric("capic_worker_retried_events_total") for w in pair)
            assert retried > 0
        stats = httpx.get(f"{emu.url}/_emulator/stats", timeout=5).json()
        # 5xx, throttling (HTTP 400 and 429) and timeouts, at random: one request in five.
        assert sum(stats["faults"].values()) >= 0.1 * stats["requests"], stats
        assert set(emu.event_ids()) == accepted


def _requests(url: str) -> int:
    return int(httpx.get(f"{url}/_emulator/stats", timeout=5).json()["requests"])


def _queue(verb: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPIC, "queue", verb, url],
        capture_output=True,
        text=True,
        env=base_env(),
        timeout=60,
        check=False,
    )
