"""End to end through ``capic run`` against the Graph API emulator: sample events, faults,
crashes, signals, tokens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from capic.emulator import FaultConfig, start
from capic.runtime.delivery import Outbox
from capic.runtime.normalize import normalize
from capic.runtime.paths import get_path
from tests.conftest import REPO
from tests.test_run_cli import (
    SAMPLE_EVENTS,
    STOREFRONT,
    TOKEN,
    run,
    sha,
    storefront_event,
    write_events,
)

pytestmark = pytest.mark.slow

CAPIC = [sys.executable, "-m", "capic"]


def token_free(*blobs: str | bytes) -> bool:
    return all(
        TOKEN.encode() not in (b if isinstance(b, bytes) else b.encode("utf-8")) for b in blobs
    )


def outbox_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def by_id(received: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for item in received:
        out[item["event"].get("event_id")].append(item["event"])
    return out


def digest(normalized: str | None) -> str | None:
    """What Meta receives for a normalized value (a value that is a digest already is kept)."""
    if not normalized:
        return None
    return normalized if re.fullmatch(r"[0-9a-f]{64}", normalized) else sha(normalized)


def first_of(a: Any, b: Any) -> Any:
    """The rules' ``a ?? b``."""
    return a if a is not None else b


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ, META_CAPI_TOKEN=TOKEN, PYTHONPATH=str(REPO / "compiler"))
    env.pop("CAPIC_UPDATE_GOLDEN", None)
    return env


def test_every_valid_sample_event_arrives_as_expected(runner: CliRunner, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.sqlite"
    with start(token=TOKEN) as emulator:
        result = run(
            runner,
            str(STOREFRONT),
            "--env",
            "development",
            "--events",
            str(SAMPLE_EVENTS),
            "--rebase-time",
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            env={"META_CAPI_TOKEN": TOKEN},
        )
        received = emulator.received()
    rejected_lines = {int(n) for n in re.findall(r"line (\d+): .* rejected", result.stderr)}
    assert result.exit_code == (1 if rejected_lines else 0), result.stderr
    arrived: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    without_id = []
    for item in received:
        sent = item["event"]
        # An event the rules sent without an id got one generated at enqueue (32 hex digits).
        if not re.fullmatch(r"[0-9a-f]{32}", sent["event_id"]):
            arrived[sent["event_id"]][sent["event_name"]].append(sent)
        else:
            without_id.append(sent)
    assert all(r["test_event_code"] == "TEST12345" for r in received)
    assert {r["pixel_id"] for r in received} == {"9876543210987654"}
    checked = 0
    lines = SAMPLE_EVENTS.read_bytes().splitlines()
    for lineno, raw in enumerate(lines, start=1):
        envelope = orjson.loads(raw)
        event, request = envelope["event"], envelope.get("request") or {}
        event_id = get_path(event, ("data", "meta", "conversionData", "eventId"))
        event_id = event_id or get_path(event, ("xdm", "commerce", "order", "purchaseID"))
        if event_id is None:
            continue  # sent without an event id (counted below)
        if lineno in rejected_lines:
            continue
        by_name = arrived.get(event_id)
        if not by_name:
            continue  # not matched by any rule
        # One event of each name the line produced (a club purchase is also a Subscribe);
        # in input order, so a replayed line gets its own copy.
        for name in list(by_name):
            if not by_name[name]:
                continue
            check_sample_event(by_name[name].pop(0), event, request)
            checked += 1
    left = {k: n for k, names in arrived.items() for n, v in names.items() if v}
    assert not left, left  # nothing arrived unexpectedly
    assert checked + len(without_id) == len(received) > 0
    assert checked > 0.9 * len(received)
    assert token_free(result.stdout, result.stderr, outbox_bytes(outbox))


def check_sample_event(server_event: dict[str, Any], event: Any, request: Any) -> None:
    """The customer information of a sample event, hashed as the normalizer says."""
    user = server_event["user_data"]
    raw_email = first_of(
        get_path(event, ("xdm", "identityMap", "Email", 0, "id")),
        get_path(event, ("data", "customer", "email")),
    )
    email = normalize("em", raw_email) if raw_email is not None else None
    assert user.get("em") == digest(email)
    if "ph" in user:
        raw_phone = first_of(
            get_path(event, ("xdm", "identityMap", "Phone", 0, "id")),
            get_path(event, ("data", "customer", "phone")),
        )
        # Read in the customer's own country when the event names one (the rules send it).
        country = get_path(event, ("data", "customer", "country"))
        phone = normalize("ph", raw_phone, default_country="us", country=country)
        assert phone is not None and user["ph"] == digest(phone)
    assert user.get("client_ip_address") == request.get("ip")
    assert user.get("fbp") == (request.get("cookies") or {}).get("_fbp")
    assert abs(server_event["event_time"] - time.time()) < 8 * 86400


def test_faults_lose_nothing_and_duplicate_only_retries(runner: CliRunner, tmp_path: Path) -> None:
    n = 10_000
    events = write_events(tmp_path / "events.jsonl", n)
    outbox = tmp_path / "outbox.sqlite"
    faults = FaultConfig(
        rate_5xx=0.05, rate_throttle=0.05, rate_timeout=0.05, rate_drop=0.05, stall=0.5
    )
    with start(token=TOKEN, faults=faults, seed=7) as emulator:
        result = run(
            runner,
            str(STOREFRONT),
            "--events",
            str(events),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            "--max-batch",
            "200",
            "--timeout",
            "0.25",
            "--backoff",
            "0.01",
            "--max-backoff",
            "0.05",
            "--max-attempts",
            "20",
            "--summary-format",
            "json",
            env={"META_CAPI_TOKEN": TOKEN},
        )
        received = emulator.received()
        stats = emulator.stats()
    assert result.exit_code == 0, result.stderr[-3000:]
    summary = orjson.loads(result.stderr.strip().splitlines()[-1])
    assert summary["delivery"]["retried"] > 0 and sum(stats["faults"].values()) > 0
    arrived = by_id(received)
    assert set(arrived) == {f"ev-{i}" for i in range(n)}
    for copies in arrived.values():
        assert all(c == copies[0] for c in copies)  # a duplicate is a retry of the same event
    duplicates = sum(len(c) - 1 for c in arrived.values())
    assert (
        duplicates <= stats["faults"].get("timeout", 0) * 200 + stats["faults"].get("drop", 0) * 200
    )
    with Outbox(outbox, create=False) as box:
        assert box.pending_count() == 0 and box.dead_letter_count() == 0
    assert token_free(result.stdout, result.stderr, outbox_bytes(outbox))


def test_kill_9_then_rerun_delivers_everything(tmp_path: Path) -> None:
    n = 1200
    events = write_events(tmp_path / "events.jsonl", n)
    outbox = tmp_path / "outbox.sqlite"
    with start(token=TOKEN, latency=0.02) as emulator:
        args = [
            *CAPIC,
            "run",
            str(STOREFRONT),
            "--events",
            str(events),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            "--max-batch",
            "25",
        ]
        proc = subprocess.Popen(
            args, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while len(emulator.received()) < 100 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        out1, err1 = proc.communicate(timeout=30)
        first = {r["event"]["event_id"] for r in emulator.received()}
        assert 100 <= len(first) < n
        again = subprocess.run(args, env=subprocess_env(), capture_output=True, timeout=120)
        assert again.returncode == 0, again.stderr.decode()[-2000:]
        arrived = by_id(emulator.received())
    assert set(arrived) == {f"ev-{i}" for i in range(n)}
    assert token_free(out1, err1, again.stdout, again.stderr, outbox_bytes(outbox))


def test_sigterm_stops_reading_and_flushes(tmp_path: Path) -> None:
    now = time.time()
    with start(token=TOKEN) as emulator:
        proc = subprocess.Popen(
            [
                *CAPIC,
                "run",
                str(STOREFRONT),
                "--events",
                "-",
                "--endpoint",
                emulator.url,
                "--outbox",
                str(tmp_path / "outbox.sqlite"),
                "--max-age",
                "0.2",
                "--summary-format",
                "json",
            ],
            env=subprocess_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None
        for i in range(30):
            proc.stdin.write(orjson.dumps(storefront_event(i, now)) + b"\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while len(emulator.received()) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(emulator.received()) == 30
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)  # stdin is still open: the signal ends the run
        out, err = proc.communicate()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "SIGTERM" in text
    summary = orjson.loads(text.strip().splitlines()[-1])
    assert summary["events"] == 30 and summary["delivery"]["sent"] == 30
    assert "SIGTERM" in summary["interrupted"]
    assert out == b""


def test_invalid_token_stops_the_run(runner: CliRunner, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", 50)
    outbox = tmp_path / "outbox.sqlite"
    wrong = "EAAGwrongTOKENvalue987"
    with start(token=TOKEN) as emulator:
        result = run(
            runner,
            str(STOREFRONT),
            "--events",
            str(events),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            env={"META_CAPI_TOKEN": wrong},
        )
        assert emulator.received() == []
    assert result.exit_code == 2
    assert 'env("META_CAPI_TOKEN")' in result.stderr
    assert wrong not in result.stderr and wrong not in result.stdout
    with Outbox(outbox, create=False) as box:
        assert box.pending_count() == 50
    assert wrong.encode() not in outbox_bytes(outbox)
