"""The queue's command line: ``capic run --queue`` (a backfill into Redis), ``capic queue
status``, the persistence checks at start, and one-line errors for bad input (a bad URL, Redis
down at start). Real redis-server, real processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from tests.queue_harness import node, wait_until, workers
from tests.redis_harness import free_port, redis_server
from tests.serve_harness import (
    ACCESS_TOKEN,
    CAPIC,
    SHOP,
    base_env,
    build_bundle,
    emulator,
    purchase,
)
from tests.test_queue_workers import serve_args, stream, worker_args

pytestmark = pytest.mark.slow


def capic(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPIC, *args], capture_output=True, text=True, env=base_env(), timeout=120,
        cwd=cwd, check=False,
    )  # fmt: skip


def test_run_queue_appends_a_file_for_the_workers(tmp_path: Path) -> None:
    events = tmp_path / "backfill.jsonl"
    events.write_bytes(b"".join(orjson.dumps(purchase(n)) + b"\n" for n in range(120)))
    with redis_server(tmp_path) as redis, emulator(tmp_path) as emu:
        args = ["run", str(SHOP), "--env", "production", "--events", str(events)]
        args += ["--queue", redis.url, "--partitions", "4", "--outbox", str(tmp_path / "o.sqlite")]
        done = capic(*args)
        assert done.returncode == 0, done.stderr
        assert "120 appended to the queue capic:serve-shop:production:*" in done.stderr
        client = redis.client()
        assert sum(client.xlen(stream(p)) for p in range(4)) == 120
        assert ACCESS_TOKEN not in done.stderr + done.stdout
        status = capic("queue", "status", redis.url)
        assert status.returncode == 0, status.stderr
        assert "serve-shop:production: 120 events queued in 4 partitions" in status.stdout
        with workers(tmp_path, ["w1"], worker_args(redis.url, emu.url)) as [w1]:
            wait_until(lambda: len(set(emu.event_ids())) == 120, 60, "the backfill delivered")
            wait_until(lambda: w1.metric("capic_queue_length") == 0, 30, "the streams empty")
        status = capic("queue", "status", redis.url, "--output-format", "json")
        [queue] = orjson.loads(status.stdout)
        assert queue["queue"] == "serve-shop:production" and queue["dead_letters"] == 0
        groups = [g for p in queue["partitions"] for g in p["groups"]]
        assert {g["name"] for g in groups} == {"delivery"}
        assert all(g["lag"] == 0 and g["pending"] == 0 for g in groups)


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    bundle = build_bundle(tmp_path)
    cases = [
        ("worker", "--queue", "http://nope"),
        ("worker", "--queue", closed),
        ("queue", "status", "redis://host:notaport/0"),
        ("queue", "dead-letters", closed),
        ("run", str(SHOP), "--events", "-", "--queue", closed),
        ("serve", "--bundle", str(bundle), "--env", "production", "--queue", "redis:/x"),
        ("serve", "--bundle", str(bundle), "--env", "production", "--queue", closed),
    ]
    env = base_env()
    running = [
        (args, subprocess.Popen([*CAPIC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env))
        for args in cases
    ]  # fmt: skip
    for args, proc in running:
        out, err = proc.communicate(timeout=120)
        done = subprocess.CompletedProcess(args, proc.returncode, out, err)
        # serve says which rules it activated first; the error itself is one line
        lines = [x for x in done.stderr.strip().splitlines() if "active: " not in x]
        assert done.returncode == 2, (args, done.stderr)
        assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
        assert "queue URL" in lines[0] or "Redis" in lines[0], (args, lines)


def test_persistence_and_partitions_are_checked_at_start(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with redis_server(
        tmp_path, extra=["--appendonly", "no", "--maxmemory-policy", "allkeys-lru"]
    ) as redis:
        svc = node(tmp_path, "loose", serve_args(bundle, redis.url)).start()
        svc.stop()
        err = svc.stderr.read_text()
        assert "without the append-only file" in err and "evicts keys when full" in err
        strict = capic("serve", *serve_args(bundle, redis.url), "--queue-strict")
        assert strict.returncode == 2
        assert "must run with appendonly yes and appendfsync always" in strict.stderr
        # Every node agrees on the partitions (the first one registered 4).
        args = ["serve", "--bundle", str(bundle), "--env", "production", "--queue", redis.url]
        other = capic(*args, "--partitions", "6")
        assert other.returncode == 2
        assert "has 4 partitions, not 6" in other.stderr
        # A registry field something else wrote: one line, for a backfill too.
        redis.client().hset("capic:queues", "serve-shop:production", "four")
        events = tmp_path / "none.jsonl"
        events.write_bytes(b"")
        backfill = capic(
            "run", str(SHOP), "--env", "production", "--events", str(events),
            "--queue", redis.url, "--partitions", "4", "--outbox", str(tmp_path / "o.sqlite"),
        )  # fmt: skip
        assert backfill.returncode == 2, backfill.stderr
        # (the persistence warnings of this server come first)
        last = backfill.stderr.strip().splitlines()[-1]
        assert "Traceback" not in backfill.stderr
        assert last.startswith("capic run: ") and "with 'four', not a partition count" in last
    with redis_server(tmp_path, fsync="always") as redis:
        svc = node(tmp_path, "strict", [*serve_args(bundle, redis.url), "--queue-strict"]).start()
        svc.stop()
        assert "warning" not in svc.stderr.read_text()
