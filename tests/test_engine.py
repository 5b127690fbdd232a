"""The delivery engine beyond the queue contract: request shape, hints, secrets, appsecret_proof,
resting destinations, concurrency, observers, crash safety, dry runs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from capic.emulator import EmulatorHandle, FaultConfig, start
from capic.runtime.delivery import (
    DeliveryEngine,
    Destination,
    DryRunSink,
    GraphTransport,
    GroupCommitter,
    Outbox,
    RetryPolicy,
)
from capic.runtime.delivery.transport import appsecret_proof
from capic.runtime.secrets import SecretRef
from tests.conftest import REPO
from tests.conftest_delivery import (
    PIXEL,
    TOKEN,
    TOKEN_ENV,
    VERSION,
    Captured,
    MockGraph,
    destination,
    event,
    fast_policy,
    graph_error,
    item,
    ok_response,
)

ENV = {TOKEN_ENV: TOKEN}


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start(token=TOKEN) as handle:
        yield handle


def deliver_all(outbox: Outbox, transport: GraphTransport, **kwargs: Any) -> DeliveryEngine:
    kwargs.setdefault("policy", fast_policy())
    kwargs.setdefault("environ", ENV)
    kwargs.setdefault("max_age", 0.05)
    engine = DeliveryEngine(outbox, transport=transport, **kwargs)
    engine.start()
    engine.drain(60.0)
    engine.stop(5.0)
    return engine


def test_batches_by_size_and_builds_meta_requests() -> None:
    graph = MockGraph()
    dest = destination(test_event_code="TEST123")
    with Outbox(":memory:") as outbox:
        outbox.append([item(i, dest) for i in range(2500)])
        engine = deliver_all(outbox, graph.transport())
        assert outbox.depth() == 0
    assert [len(r.body["data"]) for r in graph.requests] == [1000, 1000, 500]
    first = graph.requests[0]
    assert first.url == f"https://graph.example/{VERSION}/{PIXEL}/events"
    assert first.headers["content-type"] == "application/json"
    assert first.body["access_token"] == TOKEN
    assert TOKEN not in first.url and "appsecret_proof" not in first.body
    assert first.body["partner_agent"] == "capic"
    assert first.body["test_event_code"] == "TEST123"
    assert first.body["data"][0] == event(0)
    assert [e["event_id"] for r in graph.requests for e in r.body["data"]] == [
        f"ev-{i}" for i in range(2500)
    ]
    stats = engine.stats.snapshot()
    assert (stats.sent, stats.batches, stats.requests) == (2500, 3, 3)


def test_a_batch_waits_at_most_max_age() -> None:
    graph = MockGraph()
    with Outbox(":memory:") as outbox:
        engine = DeliveryEngine(
            outbox, transport=graph.transport(), environ=ENV, max_age=0.3, policy=fast_policy()
        )
        engine.start()
        outbox.append([item(1)])
        time.sleep(0.1)
        assert graph.requests == []  # not full, not old
        deadline = time.monotonic() + 5
        while not graph.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        engine.stop(5.0)
    assert [len(r.body["data"]) for r in graph.requests] == [1]


def test_the_server_hint_is_honoured() -> None:
    graph = MockGraph([lambda _: graph_error(429, 613, headers={"Retry-After": "1"})])
    policy = RetryPolicy(base_delay=0.001, max_delay=0.01, jitter=0.0, max_hint=0.4)
    with Outbox(":memory:") as outbox:
        outbox.append([item(1)])
        started = time.monotonic()
        engine = deliver_all(outbox, graph.transport(), policy=policy)
        assert time.monotonic() - started >= 0.4  # the hint (capped by max_hint) won
    assert engine.stats.snapshot().retried == 1 and len(graph.requests) == 2


def test_a_destination_whose_retries_ran_out_rests_then_delivers() -> None:
    down = {"on": True}

    def handler(request: Captured) -> httpx.Response:
        return graph_error(503, 2, transient=True) if down["on"] else ok_response(request)

    graph = MockGraph(default=handler)
    lines: list[str] = []
    with Outbox(":memory:") as outbox:
        outbox.append([item(i) for i in range(25)])
        engine = DeliveryEngine(
            outbox,
            transport=graph.transport(),
            environ=ENV,
            policy=fast_policy(max_attempts=3),
            max_age=0.01,
            cooldown=0.5,
            log=lines.append,
        )
        engine.start()
        deadline = time.monotonic() + 5
        while len(graph.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert len(graph.requests) == 3  # resting: not even tried
        assert any("giving up for now" in line for line in lines)
        down["on"] = False
        engine.drain(10.0)  # the resting events stay queued: drain does not wait for them
        assert outbox.depth() == 25
        deadline = time.monotonic() + 10
        while outbox.depth() and time.monotonic() < deadline:  # after the rest, they go
            time.sleep(0.02)
        engine.stop(5.0)
        assert outbox.depth() == 0
    delivered = [e["event_id"] for r in graph.requests[3:] for e in r.body["data"]]
    assert sorted(delivered) == sorted(f"ev-{i}" for i in range(25))


def test_permission_errors_dead_letter_without_bisecting() -> None:
    graph = MockGraph(default=lambda _: graph_error(400, 100, 33, message="(#100) no object"))
    with Outbox(":memory:") as outbox:
        outbox.append([item(i) for i in range(8)])
        engine = deliver_all(outbox, graph.transport())
        assert outbox.dead_letter_count() == 8
    assert len(graph.requests) == 1 and engine.stats.snapshot().bisections == 0


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def delivered(self, dest: Destination, count: int, seconds: float) -> None:
        assert seconds >= 0
        self.calls.append(("delivered", dest.pixel_id, count))

    def retried(self, dest: Destination, count: int) -> None:
        self.calls.append(("retried", dest.pixel_id, count))

    def dead_lettered(self, dest: Destination, count: int, reason: str) -> None:
        self.calls.append((f"dead_lettered {reason}", dest.pixel_id, count))


def test_the_observer_sees_every_outcome() -> None:
    graph = MockGraph([lambda _: graph_error(503, 2, transient=True)])
    graph.default = lambda r: (
        graph_error(400, 100, 2804016)
        if any(e["event_id"] == "ev-2" for e in r.body["data"])
        else ok_response(r)
    )
    recorder = Recorder()
    with Outbox(":memory:") as outbox:
        outbox.append([item(i) for i in range(4)])
        deliver_all(outbox, graph.transport(), observer=recorder)
    totals: Counter[str] = Counter()
    for kind, pixel, count in recorder.calls:
        assert pixel == PIXEL
        totals[kind] += count
    assert totals == Counter({"retried": 4, "delivered": 3, "dead_lettered 100/2804016": 1})


def test_requests_run_concurrently() -> None:
    with start(token=TOKEN, latency=0.3) as slow, Outbox(":memory:") as outbox:
        outbox.append([item(i) for i in range(400)])
        started = time.monotonic()
        engine = deliver_all(
            outbox, GraphTransport(slow.url), max_batch=50, concurrency=4, max_age=0.01
        )
        elapsed = time.monotonic() - started
        assert len(slow.received()) == 400
    assert engine.stats.snapshot().batches == 8
    assert elapsed < 8 * 0.3 * 0.75  # at least some overlap of the 8 slow requests


# -- secrets ----------------------------------------------------------------------------------


def test_appsecret_proof_is_sent_and_verified(tmp_path: Path) -> None:
    secret_ref = SecretRef.env("CAPIC_TEST_APP_SECRET")
    dest = Destination(PIXEL, VERSION, SecretRef.env(TOKEN_ENV), None, secret_ref)
    env = {**ENV, "CAPIC_TEST_APP_SECRET": "app-secret-1"}
    with start(token=TOKEN, app_secret="app-secret-1") as emu:
        with Outbox(tmp_path / "o.sqlite") as outbox:
            outbox.append([item(i, dest) for i in range(3)])
            engine = deliver_all(outbox, GraphTransport(emu.url), environ=env)
            assert engine.stopped_reason is None and outbox.depth() == 0
        assert len(emu.received()) == 3
        # A wrong secret: Meta's code 100 stops delivery (never bisected into dead letters).
        wrong = {**ENV, "CAPIC_TEST_APP_SECRET": "not-the-secret"}
        with Outbox(tmp_path / "o2.sqlite") as outbox:
            outbox.append([item(i, dest) for i in range(3)])
            engine = deliver_all(outbox, GraphTransport(emu.url), environ=wrong)
            assert engine.stopped_reason is not None
            assert "appsecret_proof" in engine.stopped_reason
            assert "not-the-secret" not in engine.stopped_reason
            assert outbox.depth() == 3 and outbox.dead_letter_count() == 0
    graph = MockGraph()
    with Outbox(":memory:") as outbox:
        outbox.append([item(1, dest)])
        deliver_all(outbox, graph.transport(), environ=env)
    body = graph.requests[0].body
    assert body["appsecret_proof"] == appsecret_proof("app-secret-1", TOKEN)
    assert body["appsecret_proof"] == (
        __import__("hmac").new(b"app-secret-1", TOKEN.encode(), "sha256").hexdigest()
    )


def test_secrets_never_leak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "o.sqlite"
    lines: list[str] = []
    faults = FaultConfig(rate_5xx=0.2, rate_throttle=0.2, rate_drop=0.1)
    literal = Destination("555", VERSION, SecretRef.literal(TOKEN))
    with start(token=TOKEN, faults=faults, seed=11) as emu, Outbox(path) as outbox:
        bad = {"user_data": {"em": "raw"}}
        outbox.append([item(i, **(bad if i % 17 == 0 else {})) for i in range(60)])
        outbox.append([item(1000, literal)])
        transport = GraphTransport(emu.url, timeout=2.0)
        engine = deliver_all(
            outbox,
            transport,
            policy=fast_policy(max_attempts=20),
            max_batch=10,
            log=lines.append,
            destinations=[literal],
        )
        transport.close()
        texts = [
            *lines,
            caplog.text,
            repr(engine),
            repr(transport),
            repr(literal),
            json.dumps(engine.stats.to_json()),
            json.dumps(outbox.status()),
            json.dumps([dl.to_json() for dl in outbox.dead_letters()]),
        ]
        assert outbox.dead_letter_count() == 4 and engine.stats.snapshot().retried > 0
        assert {r["event"]["event_id"] for r in emu.received()} >= {"ev-1000"}
    out, err = capfd.readouterr()
    for text in [*texts, out, err]:
        assert TOKEN not in text
    assert TOKEN.encode() not in file_bytes(path)


def test_a_literal_token_is_not_replayable_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    literal = Destination(PIXEL, VERSION, SecretRef.literal(TOKEN))
    with Outbox(path) as outbox:
        outbox.append([item(1, literal)])
    graph = MockGraph()
    with Outbox(path) as outbox:
        engine = deliver_all(outbox, graph.transport())
        assert engine.stopped_reason is not None
        assert "literal tokens are never stored" in engine.stopped_reason
        assert outbox.depth() == 1 and graph.requests == []


# -- crashes ----------------------------------------------------------------------------------

PRODUCER = textwrap.dedent(
    """
    import sys, time, orjson
    from capic.runtime.delivery import (
        DeliveryEngine, Destination, GraphTransport, GroupCommitter, Outbox, QueueItem,
    )
    from capic.runtime.secrets import SecretRef

    url, path, env = sys.argv[1], sys.argv[2], sys.argv[3]
    outbox = Outbox(path)
    engine = DeliveryEngine(outbox, transport=GraphTransport(url, timeout=5.0), max_batch=25)
    engine.start()
    committer = GroupCommitter(outbox)
    dest = Destination("1234567890123456", "v25.0", SecretRef.env(env))
    now = int(time.time())
    for i in range(100000):
        body = {
            "event_name": "Lead", "event_time": now, "action_source": "website",
            "event_id": f"ev-{i}", "event_source_url": "https://shop.example/",
            "user_data": {"em": "HASHED", "client_user_agent": "UA"},
        }
        committer.submit([QueueItem(dest, orjson.dumps(body), f"ev-{i}")]).result()
        print(f"ev-{i}", flush=True)
    """
)


@pytest.mark.slow
def test_sigkill_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    script = tmp_path / "producer.py"
    script.write_text(PRODUCER.replace("HASHED", "a" * 64), encoding="utf-8")
    faults = FaultConfig(rate_5xx=0.1, rate_drop=0.1)
    with start(token=TOKEN, faults=faults, seed=2, latency=0.01) as emu:
        env = {**os.environ, TOKEN_ENV: TOKEN, "PYTHONPATH": str(REPO / "compiler")}
        proc = subprocess.Popen(
            [sys.executable, str(script), emu.url, str(path), TOKEN_ENV],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        acknowledged: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                acknowledged.append(line.strip())
                if len(acknowledged) >= 437:
                    break
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        with Outbox(path) as outbox:  # the kernel released the dead process's lock
            left = outbox.depth()
            engine = deliver_all(outbox, GraphTransport(emu.url), policy=fast_policy(20))
            assert outbox.depth() == 0
        assert engine.stats.snapshot().recovered == left
        received = [r["event"] for r in emu.received()]
    unique = {e["event_id"] for e in received}
    assert set(acknowledged) <= unique  # every event whose commit was acknowledged arrived
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in received:
        by_id.setdefault(e["event_id"], []).append(e)
    for copies in by_id.values():  # duplicates are retries of the very same event
        assert all(c == copies[0] for c in copies)


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_event_arrives_despite_faults(concurrency: int) -> None:
    n = 5_000
    faults = FaultConfig(
        rate_5xx=0.05, rate_throttle=0.05, rate_timeout=0.05, rate_drop=0.05, stall=0.5
    )
    sent = {f"ev-{i}": event(i) for i in range(n)}
    with start(token=TOKEN, faults=faults, seed=concurrency) as emu:
        transport = GraphTransport(emu.url, timeout=0.25)
        with Outbox(":memory:") as outbox:
            committer = GroupCommitter(outbox)
            engine = DeliveryEngine(
                outbox,
                transport=transport,
                environ=ENV,
                policy=RetryPolicy(max_attempts=30, base_delay=0.001, max_delay=0.005),
                max_batch=100,
                max_age=0.05,
                concurrency=concurrency,
            )
            engine.start()
            for i in range(0, n, 250):
                committer.submit([item(k) for k in range(i, i + 250)])
            committer.close()
            engine.drain(120.0)
            engine.stop(5.0)
            assert outbox.depth() == 0
        transport.close()
        stats = emu.stats()
        received = emu.received()
    assert sum(stats["faults"].values()) > 10
    counts = Counter(r["event"]["event_id"] for r in received)
    assert set(counts) == set(sent)
    for r in received:
        assert r["event"] == sent[r["event"]["event_id"]]
    snap = engine.stats.snapshot()
    assert snap.sent == n and snap.retried > 0 and snap.dead_lettered == 0


# -- dry run ----------------------------------------------------------------------------------


def test_dry_run_shows_the_requests() -> None:
    stream = io.StringIO()
    dest = destination(test_event_code="TEST5")
    secret = Destination("42", VERSION, SecretRef.env(TOKEN_ENV), None, SecretRef.env("APP"))
    sink = DryRunSink(stream, max_batch=1000, max_age=1.0)
    sink.add([item(i, dest) for i in range(2500)])
    sink.add([item(9999, secret)])
    sink.close()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [len(line["body"]["data"]) for line in lines] == [1000, 1000, 500, 1]
    first = lines[0]
    assert first["pixel_id"] == PIXEL
    assert first["url"] == f"https://graph.facebook.com/{VERSION}/{PIXEL}/events"
    assert first["body"]["access_token"] == "[REDACTED]"
    assert first["body"]["partner_agent"] == "capic"
    assert first["body"]["test_event_code"] == "TEST5"
    assert first["body"]["data"][0] == event(0)
    assert "appsecret_proof" not in first["body"]
    assert lines[3]["body"]["appsecret_proof"] == "[REDACTED]"
    assert sink.stats.snapshot().sent == 2501


def test_queue_items_are_the_bytes_sent(emu: EmulatorHandle) -> None:
    raw = orjson.dumps(event(5))
    with Outbox(":memory:") as outbox:
        outbox.append([item(5)])
        deliver_all(outbox, GraphTransport(emu.url))
    [received] = emu.received()
    assert orjson.dumps(received["event"]) == raw
