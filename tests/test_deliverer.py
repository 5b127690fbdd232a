"""The deliverer: batching, retries, bisection, dead letters, tokens, crash recovery, dry runs."""

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
    Deliverer,
    Destination,
    DryRunSink,
    GraphTransport,
    InvalidTokenError,
    Outbox,
    RetryPolicy,
)
from capic.runtime.secrets import SecretError, SecretRef
from tests.conftest_delivery import (
    PIXEL,
    TOKEN,
    TOKEN_ENV,
    VERSION,
    Captured,
    FakeClock,
    MockGraph,
    destination,
    event,
    fast_policy,
    graph_error,
    ok_response,
    sha,
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


def deliverer(
    outbox: Outbox,
    transport: GraphTransport,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> Deliverer:
    clock = clock or FakeClock()
    kwargs.setdefault("policy", fast_policy())
    return Deliverer(
        outbox=outbox, transport=transport, environ=ENV, clock=clock, sleep=clock.sleep, **kwargs
    )


# -- requests and batching -------------------------------------------------------------------


def test_batches_by_size_and_builds_meta_requests() -> None:
    graph = MockGraph()
    dest = destination(test_event_code="TEST123")
    with Outbox(":memory:") as outbox:
        with deliverer(outbox, graph.transport(), max_batch=1000) as d:
            for i in range(2500):
                d.submit(dest, event(i))
            assert len(graph.requests) == 2  # two full batches went while submitting
        assert outbox.pending_count() == 0
    assert [len(r.body["data"]) for r in graph.requests] == [1000, 1000, 500]
    first = graph.requests[0]
    assert first.url == f"https://graph.example/{VERSION}/{PIXEL}/events"
    assert first.headers["content-type"] == "application/json"
    assert first.body["access_token"] == TOKEN
    assert first.body["partner_agent"] == "capic"
    assert first.body["test_event_code"] == "TEST123"
    assert first.body["data"][0] == event(0)
    assert [e["event_id"] for r in graph.requests for e in r.body["data"]] == [
        f"ev-{i}" for i in range(2500)
    ]
    assert d.stats.sent == 2500 and d.stats.batches == 3 and d.stats.requests == 3


def test_token_only_in_the_body() -> None:
    graph = MockGraph()
    with Outbox(":memory:") as outbox, deliverer(outbox, graph.transport()) as d:
        d.submit(destination(), event(1))
    request = graph.requests[0]
    assert TOKEN not in request.url and "access_token" not in request.url
    assert all(TOKEN not in value for value in request.headers.values())
    assert request.body["access_token"] == TOKEN
    assert "test_event_code" not in request.body


def test_batches_per_destination_and_by_age() -> None:
    graph = MockGraph()
    clock = FakeClock()
    a, b = destination(), destination("777")
    with Outbox(":memory:") as outbox:
        d = deliverer(outbox, graph.transport(), clock, max_batch=100, max_age=1.0)
        d.submit(a, event(1))
        clock.advance(0.5)
        d.submit(b, event(2))
        assert graph.requests == []
        clock.advance(0.6)  # a's batch is 1.1 s old, b's 0.6 s
        d.submit(b, event(3))
        assert [r.url.split("/")[-2] for r in graph.requests] == [PIXEL]
        clock.advance(0.5)
        d.tick()
        assert [len(r.body["data"]) for r in graph.requests] == [1, 2]
        d.close()
        assert d.stats.sent == 3


# -- retries -----------------------------------------------------------------------------------


def test_retries_transient_failures_with_backoff() -> None:
    graph = MockGraph(
        [
            lambda _: httpx.Response(503, text="<html>down</html>"),
            lambda _: graph_error(400, 17, 2446079, transient=True),
            lambda _: graph_error(500, 1, transient=True),
        ]
    )
    clock = FakeClock()
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, jitter=0.0)
    lines: list[str] = []
    with Outbox(":memory:") as outbox:
        d = deliverer(outbox, graph.transport(), clock, policy=policy, log=lines.append)
        d.submit(destination(), event(1))
        d.close()
        assert outbox.pending_count() == 0
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert d.stats.retried == 3 and d.stats.requests == 4 and d.stats.sent == 1
    assert "retrying 1 events" in lines[0] and "HTTP 503" in lines[0]


def test_honours_retry_after_and_business_usage() -> None:
    usage = json.dumps({"1": [{"type": "ads_management", "estimated_time_to_regain_access": 3}]})
    graph = MockGraph(
        [
            lambda _: graph_error(429, 613, headers={"Retry-After": "42"}),
            lambda _: graph_error(400, 80004, headers={"X-Business-Use-Case-Usage": usage}),
        ]
    )
    clock = FakeClock()
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=0.0, max_hint=600)
    with Outbox(":memory:") as outbox:
        d = deliverer(outbox, graph.transport(), clock, policy=policy)
        d.submit(destination(), event(1))
        d.close()
    assert clock.sleeps == [42.0, 180.0]


def test_network_errors_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"events_received": 1})

    transport = GraphTransport(
        "https://graph.example", client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with Outbox(":memory:") as outbox, deliverer(outbox, transport) as d:
        d.submit(destination(), event(1))
    assert d.stats.sent == 1 and d.stats.retried == 2


def test_exhausted_retries_keep_events_and_rest_the_destination() -> None:
    down = True

    def handler(request: Captured) -> httpx.Response:
        return graph_error(503, 2, transient=True) if down else ok_response(request)

    graph = MockGraph(default=handler)
    clock = FakeClock()
    lines: list[str] = []
    with Outbox(":memory:") as outbox:
        d = deliverer(
            outbox,
            graph.transport(),
            clock,
            policy=fast_policy(max_attempts=3),
            max_batch=10,
            cooldown=60.0,
            log=lines.append,
        )
        for i in range(25):
            d.submit(destination(), event(i))
        # The first batch used its 3 attempts; later ones are not even tried while resting.
        assert len(graph.requests) == 3
        d.flush()
        assert d.stats.deferred == 25 and outbox.pending_count() == 25
        assert any("giving up for now" in line for line in lines)
        down = False
        clock.advance(61)
        d.close()
        assert outbox.pending_count() == 0 and d.stats.deferred == 0
    delivered = [e["event_id"] for r in graph.requests[3:] for e in r.body["data"]]
    assert sorted(delivered) == sorted(f"ev-{i}" for i in range(25))


# -- bisection and dead letters ----------------------------------------------------------------


def test_bisection_isolates_exactly_the_bad_events(emu: EmulatorHandle, tmp_path: Path) -> None:
    now = time.time()
    bad: dict[int, dict[str, Any]] = {
        7: {"user_data": {"em": "raw@example.com", "client_user_agent": "UA"}},
        40: {"event_time": int(now) - 8 * 86400},
        41: {"user_data": {"fn": sha("a"), "ge": sha("f")}, "action_source": "email"},
        99: {"action_source": "nope"},
    }
    events = [event(i, now=now, **bad.get(i, {})) for i in range(100)]
    with Outbox(tmp_path / "o.sqlite") as outbox:
        with Deliverer(
            outbox=outbox, base_url=emu.url, environ=ENV, policy=fast_policy(), max_batch=100
        ) as d:
            for e in events:
                d.submit(destination(), e)
        letters = {dl.event_id: dl for dl in outbox.dead_letters()}
        assert outbox.pending_count() == 0
    assert set(letters) == {f"ev-{i}" for i in bad}
    assert (letters["ev-7"].code, letters["ev-7"].subcode) == (100, 2804016)
    assert letters["ev-40"].subcode == 2804003
    assert letters["ev-41"].subcode == 2804050
    assert letters["ev-99"].code == 100 and letters["ev-99"].subcode is None
    assert "User Parameter Not Hashed" in letters["ev-7"].message
    assert all(dl.fbtrace_id for dl in letters.values())
    assert json.loads(letters["ev-7"].body) == events[7]
    received = [r["event"]["event_id"] for r in emu.received()]
    assert sorted(received) == sorted(f"ev-{i}" for i in range(100) if i not in bad)
    assert d.stats.sent == 96 and d.stats.dead_lettered == 4
    assert d.stats.rejected_by_reason == Counter(
        {"100/2804016": 1, "100/2804003": 1, "100/2804050": 1, "100": 1}
    )


def test_permission_errors_dead_letter_without_bisecting() -> None:
    graph = MockGraph(default=lambda _: graph_error(400, 100, 33, message="(#100) no object"))
    with Outbox(":memory:") as outbox:
        with deliverer(outbox, graph.transport()) as d:
            for i in range(8):
                d.submit(destination(), event(i))
        assert outbox.dead_letter_count() == 8
    assert len(graph.requests) == 1 and d.stats.bisections == 0


# -- tokens ------------------------------------------------------------------------------------


def test_invalid_token_stops_and_names_the_reference(tmp_path: Path) -> None:
    wrong = "EAAGwrongTOKEN987654321"
    with start(token=TOKEN) as emu, Outbox(tmp_path / "o.sqlite") as outbox:
        d = Deliverer(
            outbox=outbox, base_url=emu.url, environ={TOKEN_ENV: wrong}, policy=fast_policy()
        )
        for i in range(5):
            d.submit(destination(), event(i))
        with pytest.raises(InvalidTokenError) as info:
            d.flush()
        message = str(info.value)
        assert PIXEL in message and f'env("{TOKEN_ENV}")' in message and "190" in message
        assert wrong not in message and wrong not in repr(info.value)
        assert info.value.pixel_id == PIXEL
        assert outbox.pending_count() == 5  # nothing lost
        with pytest.raises(InvalidTokenError):
            d.close()


def test_missing_token_names_the_reference() -> None:
    graph = MockGraph()
    with Outbox(":memory:") as outbox:
        d = Deliverer(outbox=outbox, transport=graph.transport(), environ={})
        d.submit(destination(), event(1))
        with pytest.raises(SecretError, match=f'env\\("{TOKEN_ENV}"\\)'):
            d.flush()
        assert outbox.pending_count() == 1 and graph.requests == []


def test_token_never_leaks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "o.sqlite"
    lines: list[str] = []
    faults = FaultConfig(rate_5xx=0.2, rate_throttle=0.2, rate_drop=0.1)
    with start(token=TOKEN, faults=faults, seed=11) as emu, Outbox(path) as outbox:
        transport = GraphTransport(emu.url, timeout=2.0)
        d = Deliverer(
            outbox=outbox,
            transport=transport,
            environ=ENV,
            policy=fast_policy(max_attempts=20),
            max_batch=10,
            log=lines.append,
        )
        for i in range(60):
            bad: dict[str, Any] = {"user_data": {"em": "raw"}} if i % 17 == 0 else {}
            d.submit(destination(), event(i, **bad))
        literal = Destination("555", VERSION, SecretRef.literal(TOKEN))
        d.submit(literal, event(1000))
        d.close()
        transport.close()
        texts = [
            *lines,
            caplog.text,
            repr(d),
            repr(transport),
            repr(destination()),
            repr(literal),
            str(literal.token),
            json.dumps(d.stats.to_json()),
            json.dumps(outbox.status()),
            *(dl.message for dl in outbox.dead_letters()),
            json.dumps([dl.to_json() for dl in outbox.dead_letters()]),
        ]
        assert outbox.dead_letter_count() == 4 and d.stats.retried > 0
        assert any("retrying" in line for line in lines)
    out, err = capfd.readouterr()
    for text in [*texts, out, err]:
        assert TOKEN not in text
    assert TOKEN.encode() not in file_bytes(path)


def test_literal_tokens_work_in_session_but_are_not_replayable(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    literal = Destination(PIXEL, VERSION, SecretRef.literal(TOKEN))
    graph = MockGraph(default=lambda _: graph_error(503, 2, transient=True))
    with Outbox(path) as outbox:
        d = deliverer(outbox, graph.transport(), policy=fast_policy(max_attempts=1))
        d.submit(literal, event(1))
        d.close()
        assert outbox.pending_count() == 1
    with Outbox(path) as outbox:
        # Same session type, literal known again: the stored row is matched back to it.
        graph2 = MockGraph()
        d2 = deliverer(outbox, graph2.transport())
        d2.submit(literal, event(2))
        d2.close()
        assert outbox.pending_count() == 0
        assert [r.body["access_token"] for r in graph2.requests] == [TOKEN]
    with Outbox(path) as outbox:
        outbox.add(literal, orjson.dumps(event(3)), "ev-3")
        outbox.commit()
    with Outbox(path) as outbox:
        d3 = deliverer(outbox, MockGraph().transport())
        with pytest.raises(SecretError, match="literal tokens are never stored"):
            d3.flush()


# -- recovery ----------------------------------------------------------------------------------


def test_recover_sends_what_an_earlier_run_left(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path) as outbox:
        outbox.add_many(destination(), [(orjson.dumps(event(i)), f"ev-{i}") for i in range(30)])
    graph = MockGraph()
    with Outbox(path) as outbox:
        d = deliverer(outbox, graph.transport(), max_batch=20)
        d.submit(destination(), event(100))
        assert d.recover() == 30
        assert d.recover() == 0
        d.close()
        assert outbox.pending_count() == 0
    ids = sorted(e["event_id"] for r in graph.requests for e in r.body["data"])
    assert ids == sorted([*(f"ev-{i}" for i in range(30)), "ev-100"])
    assert d.stats.recovered == 30 and d.stats.sent == 31


CRASH_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from capic.runtime.delivery import Deliverer, Destination, GraphTransport, Outbox
    from capic.runtime.secrets import SecretRef

    url, path, env = sys.argv[1], sys.argv[2], sys.argv[3]
    outbox = Outbox(path)
    deliverer = Deliverer(
        outbox=outbox, transport=GraphTransport(url, timeout=5.0), durability="event",
        max_batch=25,
    )
    dest = Destination("1234567890123456", "v25.0", SecretRef.env(env))
    now = int(time.time())
    for i in range(100000):
        deliverer.submit(dest, {
            "event_name": "Purchase", "event_time": now, "action_source": "website",
            "event_id": f"ev-{i}", "event_source_url": "https://shop.example/",
            "user_data": {"em": "HASHED_EMAIL", "client_user_agent": "UA"},
        })
        print(f"ev-{i}", flush=True)
    """
).replace("HASHED_EMAIL", sha("crash@example.com"))


@pytest.mark.slow
def test_crash_safety_sigkill_then_recover(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    script = tmp_path / "producer.py"
    script.write_text(CRASH_SCRIPT, encoding="utf-8")
    faults = FaultConfig(rate_5xx=0.1, rate_drop=0.1)
    with start(token=TOKEN, faults=faults, seed=2, latency=0.01) as emu:
        env = {**os.environ, TOKEN_ENV: TOKEN}
        proc = subprocess.Popen(
            [sys.executable, str(script), emu.url, str(path), TOKEN_ENV],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        submitted: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                submitted.append(line.strip())
                if len(submitted) >= 437:  # not a multiple of max_batch: a batch is open
                    break
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = {r["event"]["event_id"] for r in emu.received()}
        with Outbox(path) as outbox:
            left = outbox.pending_count()
            assert left > 0
            with Deliverer(
                outbox=outbox, base_url=emu.url, environ=ENV, policy=fast_policy(20)
            ) as d:
                pass  # close() flushes, which recovers first
            assert outbox.pending_count() == 0
        assert d.stats.recovered == left
        received = [r["event"] for r in emu.received()]
    unique = {e["event_id"] for e in received}
    assert set(submitted) <= unique  # every event the producer got back from submit() arrived
    assert len(unique) > len(before)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in received:
        by_id.setdefault(e["event_id"], []).append(e)
    for copies in by_id.values():  # duplicates are retries of the same event
        assert all(c == copies[0] for c in copies)


# -- faults at volume --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_event_arrives_despite_faults(concurrency: int) -> None:
    n = 10_000
    faults = FaultConfig(
        rate_5xx=0.05, rate_throttle=0.05, rate_timeout=0.05, rate_drop=0.05, stall=0.5
    )
    sent = {f"ev-{i}": event(i) for i in range(n)}
    with start(token=TOKEN, faults=faults, seed=concurrency) as emu:
        transport = GraphTransport(emu.url, timeout=0.25)
        with Outbox(":memory:") as outbox:
            with Deliverer(
                outbox=outbox,
                transport=transport,
                environ=ENV,
                policy=RetryPolicy(max_attempts=30, base_delay=0.001, max_delay=0.005),
                max_batch=100,
                concurrency=concurrency,
            ) as d:
                for e in sent.values():
                    d.submit(destination(), e)
            assert outbox.pending_count() == 0
        transport.close()
        stats = emu.stats()
        received = emu.received()
    assert sum(stats["faults"].values()) > 10
    counts = Counter(r["event"]["event_id"] for r in received)
    assert set(counts) == set(sent)  # every event at least once
    for r in received:  # any duplicate is a retry of the very same event
        assert r["event"] == sent[r["event"]["event_id"]]
    assert d.stats.sent == n and d.stats.retried > 0 and d.stats.dead_lettered == 0


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_shows_the_real_requests() -> None:
    stream = io.StringIO()
    clock = FakeClock()
    dest = destination(test_event_code="TEST5")
    sink = DryRunSink(stream, max_batch=1000, max_age=1.0, clock=clock)
    for i in range(2500):
        sink.submit(dest, event(i))
    sink.submit(destination("42"), event(9999))
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
    assert "test_event_code" not in lines[3]["body"]
    assert sink.stats.sent == 2501 and sink.stats.batches == 4


def test_dry_run_batches_exactly_like_the_deliverer() -> None:
    plan = [(0.0, "a"), (0.3, "b"), (0.5, "a"), (0.4, "a"), (0.0, "b"), (1.5, "a"), (0.2, "b")]
    dests = {"a": destination(), "b": destination("42")}

    def run_deliverer() -> list[tuple[str, list[str]]]:
        graph = MockGraph()
        clock = FakeClock()
        with Outbox(":memory:") as outbox:
            d = deliverer(outbox, graph.transport(), clock, max_batch=3, max_age=1.0)
            for i, (step, name) in enumerate(plan):
                clock.advance(step)
                d.submit(dests[name], event(i))
            d.close()
        return [
            (r.url.split("/")[-2], [e["event_id"] for e in r.body["data"]]) for r in graph.requests
        ]

    def run_dry() -> list[tuple[str, list[str]]]:
        stream = io.StringIO()
        clock = FakeClock()
        sink = DryRunSink(stream, max_batch=3, max_age=1.0, clock=clock)
        for i, (step, name) in enumerate(plan):
            clock.advance(step)
            sink.submit(dests[name], event(i))
        sink.close()
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [(line["pixel_id"], [e["event_id"] for e in line["body"]["data"]]) for line in lines]

    assert run_dry() == run_deliverer()
    assert len(run_dry()) >= 3
