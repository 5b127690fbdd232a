"""``capic run`` with bad values, closed streams, app secrets and fresh projects (issue 10,
items 2, 4, 16 and the run paper cuts), through the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from capic.cli import cli
from capic.emulator import FaultConfig, start
from capic.runtime.delivery import Outbox
from tests.conftest import REPO
from tests.test_run_cli import STOREFRONT, TOKEN, check_requests, run, storefront_event

CAPIC = [sys.executable, "-m", "capic"]


def summary_of(stderr: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(stderr.strip().splitlines()[-1])
    return data


BUY = """
pixel p { id = "1234567890123456" access_token = env("META_CAPI_TOKEN") }
rule "buy" {
  when event.kind == "buy"
  send Purchase to p {
    event_id = event.order
    event_time = event.time
    action_source = "website"
    event_source_url = "https://shop.example/thanks"
    user { em = event.email  client_user_agent = "UA" }
    custom { currency = event.currency  value = event.value }
  }
}
"""

BAD_PURCHASES = {
    "US$": ({"currency": "US$"}, "Purchase without custom_data.currency"),
    "XYZ": ({"currency": "XYZ"}, "custom_data.currency is not an ISO 4217 code"),
    "12,50": ({"value": "12,50"}, "Purchase without custom_data.value"),
    "64-bit": ({"value": "99999999999999999999999999"}, "custom_data.value out of range"),
    "1e400": ({"value": "1e400"}, "custom_data.value out of range"),
}


def purchase(i: int, **changes: Any) -> bytes:
    event: dict[str, Any] = {
        "kind": "buy",
        "order": f"SO-{i}",
        "time": int(time.time()) - 5,
        "email": f"buyer{i}@example.com",
        "currency": "eur",
        "value": "12.50",
    }
    event.update(changes)
    return orjson.dumps(event) + b"\n"


@pytest.mark.parametrize("dry_run", [True, False])
def test_bad_purchase_values_reject_the_event_and_the_run_goes_on(
    runner: CliRunner, tmp_path: Path, dry_run: bool
) -> None:
    project = tmp_path / "buy"
    project.mkdir()
    (project / "capic.toml").write_text('[project]\nname = "buy"\n')
    (project / "rules.capi").write_text(BUY)
    lines = [purchase(0)]
    lines += [purchase(n + 1, **changes) for n, (changes, _) in enumerate(BAD_PURCHASES.values())]
    lines.append(purchase(9))
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(lines))
    args = [str(project), "--events", str(path), "--summary-format", "json"]
    with start(token=TOKEN) as emulator:
        if dry_run:
            result = run(runner, *args, "--dry-run")
            sent = check_requests(result.stdout)
        else:
            result = run(
                runner,
                *args,
                "--endpoint",
                emulator.url,
                "--outbox",
                str(tmp_path / "o.sqlite"),
                env={"META_CAPI_TOKEN": TOKEN},
            )
            sent = [r["event"] for r in emulator.received()]
    assert result.exit_code == 1, result.stderr  # rejections, not a crash (2)
    summary = summary_of(result.stderr)
    expected: dict[str, int] = defaultdict(int)
    for _, reason in BAD_PURCHASES.values():
        expected[reason] += 1
    assert summary["rejected"] == expected
    assert summary["events"] == 7 and summary["emitted"] == 2
    assert sorted(e["event_id"] for e in sent) == ["SO-0", "SO-9"]
    assert all(e["custom_data"] == {"currency": "EUR", "value": 12.5} for e in sent)
    assert "line 3: Purchase from rule 'buy' to pixel `p` rejected: custom_data.currency" in (
        result.stderr
    )


SMALL = """
pixel p { id = "1234567890123456" access_token = env("META_CAPI_TOKEN") }
rule "lead" {
  when event.kind == "lead"
  send Lead to p {
    event_time = event.time
    action_source = "website"
    event_source_url = event.url
    user { em = event.email  client_user_agent = "UA" }
    custom { total = number(event.total) }
  }
}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    project = tmp_path / "small"
    project.mkdir()
    (project / "capic.toml").write_text('[project]\nname = "small"\n')
    (project / "rules.capi").write_text(SMALL)
    return project


def lead(i: int, **changes: Any) -> bytes:
    event: dict[str, Any] = {
        "kind": "lead",
        "time": int(time.time()) - 5,
        "url": f"https://shop.example/contact/{i}",
        "email": f"lead{i}@example.com",
    }
    event.update(changes)
    return orjson.dumps(event) + b"\n"


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_number_wider_than_64_bits_anywhere_rejects_only_its_event(
    runner: CliRunner, small: Path, tmp_path: Path, dry_run: bool
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(lead(0, total="12") + lead(1, total="99999999999999999999999999") + lead(2))
    extra = ["--dry-run"] if dry_run else ["--endpoint", "http://127.0.0.1:9"]
    result = run(
        runner,
        str(small),
        "--events",
        str(path),
        "--summary-format",
        "json",
        "--outbox",
        str(tmp_path / "o.sqlite"),
        "--max-attempts",
        "1",
        *extra,
        env={"META_CAPI_TOKEN": TOKEN},
    )
    summary = summary_of(result.stderr)
    assert summary["rejected"] == {"a number wider than 64 bits": 1}
    assert summary["emitted"] == 2 and summary["events"] == 3
    assert "Integer exceeds" not in result.stderr and "internal error" not in result.stderr
    if dry_run:
        assert len(check_requests(result.stdout)) == 2
    else:
        with Outbox(tmp_path / "o.sqlite", readonly=True) as outbox:
            assert outbox.pending_count() == 2  # the endpoint is down: both wait there


def test_a_20_mb_url_is_rejected_not_forwarded(runner: CliRunner, tmp_path: Path) -> None:
    now = time.time()
    huge = storefront_event(0, now)
    huge["event"]["xdm"]["web"]["webPageDetails"]["URL"] = "https://shop.example/?q=" + "x" * (
        20 * 1024 * 1024
    )
    path = tmp_path / "e.jsonl"
    path.write_bytes(orjson.dumps(huge) + b"\n" + orjson.dumps(storefront_event(1, now)) + b"\n")
    result = run(
        runner, str(STOREFRONT), "--events", str(path), "--dry-run", "--summary-format", "json"
    )
    assert summary_of(result.stderr)["rejected"] == {
        "event_source_url longer than 8,192 characters": 1
    }
    assert len(result.stdout) < 10_000
    assert [e["event_id"] for e in check_requests(result.stdout)] == ["ev-1"]


def test_a_lead_without_event_id_keeps_one_id_across_retries(
    runner: CliRunner, small: Path, tmp_path: Path
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"".join(lead(i) for i in range(40)))
    # Half the requests are accepted and then time out: the client retries what Meta has.
    faults = FaultConfig(rate_timeout=0.5, stall=0.5)
    with start(token=TOKEN, faults=faults, seed=4) as emulator:
        result = run(
            runner,
            str(small),
            "--events",
            str(path),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(tmp_path / "o.sqlite"),
            "--max-batch",
            "5",
            "--timeout",
            "0.2",
            "--backoff",
            "0.01",
            "--max-attempts",
            "30",
            env={"META_CAPI_TOKEN": TOKEN},
        )
        received = emulator.received()
        assert emulator.stats()["faults"].get("timeout", 0) > 0
    assert result.exit_code == 0, result.stderr
    by_url: dict[str, set[str]] = defaultdict(set)
    for r in received:
        by_url[r["event"]["event_source_url"]].add(r["event"]["event_id"])
    assert len(by_url) == 40
    assert all(len(ids) == 1 for ids in by_url.values())  # every copy of a lead: one id
    assert len(received) > 40  # duplicates did reach "Meta", and Meta can deduplicate them
    assert all(re.fullmatch(r"[0-9a-f]{32}", next(iter(ids))) for ids in by_url.values())


def env() -> dict[str, str]:
    out = dict(os.environ, META_CAPI_TOKEN=TOKEN, PYTHONPATH=str(REPO / "compiler"))
    out.pop("CAPIC_UPDATE_GOLDEN", None)
    return out


def test_closed_stdin_and_stdout_end_cleanly(tmp_path: Path) -> None:
    command = " ".join([*(f"'{c}'" for c in CAPIC), "run", f"'{STOREFRONT}'", "--events", "-"])
    no_input = subprocess.run(
        ["sh", "-c", f"{command} --dry-run <&-"], capture_output=True, text=True, env=env()
    )
    assert no_input.returncode == 0, no_input.stderr
    assert "0 events read" in no_input.stderr and "internal error" not in no_input.stderr
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps(storefront_event(0, time.time())) + b"\n")
    no_output = subprocess.run(
        ["sh", "-c", f"{command} --dry-run >&- < '{events}'"],
        capture_output=True,
        text=True,
        env=env(),
    )
    assert no_output.returncode == 2
    assert "standard output is closed" in no_output.stderr
    assert "internal error" not in no_output.stderr and "Traceback" not in no_output.stderr
    closed_pipe = subprocess.run(
        ["sh", "-c", f"{command} --dry-run < '{events}' | true"],
        capture_output=True,
        text=True,
        env=env(),
    )
    assert "internal error" not in closed_pipe.stderr and "Traceback" not in closed_pipe.stderr


def test_a_fresh_project_dry_runs_without_secrets(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    made = CliRunner().invoke(
        cli, ["init", str(target), "--domain", "shop.example.com", "--pixel-id", "1234567890"]
    )
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(target),
            "--events",
            str(target / "events.jsonl"),
            "--dry-run",
            "--rebase-time",
        ],
        env={"CAPI_TEST_EVENT_CODE": None, "META_CAPI_TOKEN": None},  # type: ignore[dict-item]
    )
    assert result.exit_code in (0, 1), result.stderr
    assert 'env("CAPI_TEST_EVENT_CODE")' in result.stderr  # the unresolved reference is named
    requests = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert requests and requests[0]["body"]["test_event_code"] == "CAPI_TEST_EVENT_CODE"
    assert "in 1 request printed" in result.stderr  # not "1 requests"


def test_app_secret_proof_end_to_end(runner: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "proof"
    project.mkdir()
    (project / "capic.toml").write_text('[project]\nname = "proof"\n')
    (project / "rules.capi").write_text(
        SMALL.replace(
            'access_token = env("META_CAPI_TOKEN") }',
            'access_token = env("META_CAPI_TOKEN") app_secret = env("META_APP_SECRET") }',
        )
    )
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"".join(lead(i) for i in range(3)))
    app_secret = "s3cr3t-app-value"
    outbox = tmp_path / "o.sqlite"
    with start(token=TOKEN, app_secret=app_secret) as emulator:
        result = run(
            runner,
            str(project),
            "--events",
            str(path),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            env={"META_CAPI_TOKEN": TOKEN, "META_APP_SECRET": app_secret},
        )
        assert result.exit_code == 0, result.stderr
        assert len(emulator.received()) == 3
        wrong = run(
            runner,
            str(project),
            "--events",
            str(path),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(tmp_path / "o2.sqlite"),
            "--from-start",
            env={"META_CAPI_TOKEN": TOKEN, "META_APP_SECRET": "wrong"},
        )
        assert wrong.exit_code == 2 and "appsecret_proof" in wrong.stderr
        assert len(emulator.received()) == 3
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("o*.sqlite*"))
    assert app_secret.encode() not in stored and b"META_APP_SECRET" in stored
    missing = run(runner, str(project), "--events", str(path), env={"META_CAPI_TOKEN": TOKEN})
    assert missing.exit_code == 2 and 'env("META_APP_SECRET")' in missing.stderr


def test_outbox_status_of_a_directory_lists_its_outboxes(runner: CliRunner, tmp_path: Path) -> None:
    directory = tmp_path / ".capic_outbox"
    directory.mkdir()
    for name in ("shop-development", "shop-production"):
        with Outbox(directory / f"{name}.sqlite"):
            pass
    result = runner.invoke(cli, ["outbox", "status", str(directory)])
    assert result.exit_code == 0, result.output
    assert "shop-development.sqlite: 0 pending" in result.stdout
    assert "shop-production.sqlite: 0 pending" in result.stdout
    data = orjson.loads(
        runner.invoke(cli, ["outbox", "status", str(directory), "--output-format", "json"]).stdout
    )
    assert [Path(d["path"]).name for d in data] == [
        "shop-development.sqlite",
        "shop-production.sqlite",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no outboxes" in runner.invoke(cli, ["outbox", "status", str(empty)]).stdout


def test_the_delivery_page_documents_every_run_time_reason() -> None:
    page = (REPO / "docs" / "delivery.md").read_text(encoding="utf-8")
    reasons = {reason for _, reason in BAD_PURCHASES.values()} | {
        "a number wider than 64 bits",
        "a number that is not finite",
        "event_source_url longer than 8,192 characters",
        "event larger than 65,536 bytes",
        "custom_data.value is negative",
        "app event without app_data",
        "business_messaging event without messaging_channel",
    }
    for reason in reasons:
        assert f"`{reason}" in page, reason
    assert "--from-start" in page and "appsecret_proof" in page


def test_a_named_pipe_is_a_stream_with_a_committed_count(runner: CliRunner, tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    now = time.time()

    def feed() -> None:
        with fifo.open("wb") as pipe:
            for i in range(5):
                pipe.write(orjson.dumps(storefront_event(i, now)) + b"\n")

    writer = threading.Thread(target=feed)
    writer.start()
    outbox = tmp_path / "o.sqlite"
    with start(token=TOKEN) as emulator:
        result = run(
            runner,
            str(STOREFRONT),
            "--events",
            str(fifo),
            "--endpoint",
            emulator.url,
            "--outbox",
            str(outbox),
            "--summary-format",
            "json",
            env={"META_CAPI_TOKEN": TOKEN},
        )
        assert len(emulator.received()) == 5
    writer.join()
    assert result.exit_code == 0, result.stderr
    assert summary_of(result.stderr)["committed_lines"] == 5
    with Outbox(outbox, readonly=True) as reader:
        [stream] = reader.inputs()
    assert (stream["kind"], stream["lines"], stream["finished"]) == ("stream", 5, True)


def test_reading_waits_for_delivery_but_not_for_a_stalled_one(tmp_path: Path) -> None:
    from capic.runtime.delivery import RetryPolicy
    from capic.runtime.loader import load_module
    from capic.runtime.runner import Destinations, RunConfig, run

    project = api_module(STOREFRONT)
    events = tmp_path / "e.jsonl"
    now = time.time()
    events.write_bytes(b"".join(orjson.dumps(storefront_event(i, now)) + b"\n" for i in range(60)))
    module = load_module(project, name="capic_backlog_test")
    destinations = Destinations(module, environ={"META_CAPI_TOKEN": TOKEN})
    policy = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0)
    with start(token=TOKEN, latency=0.05) as emulator:
        config = RunConfig(
            events=str(events), outbox=tmp_path / "a.sqlite", endpoint=emulator.url,
            max_batch=5, max_age=0.01, chunk_lines=5, max_backlog=10, policy=policy,
        )  # fmt: skip
        summary = run(module, destinations, config)
        assert summary.sent == 60 and summary.exit_code == 0
    with start() as gone:
        url = gone.url
    started = time.monotonic()
    stalled = RunConfig(
        events=str(events), outbox=tmp_path / "b.sqlite", endpoint=url, max_batch=5,
        chunk_lines=5, max_backlog=10, policy=policy,
    )  # fmt: skip
    summary = run(module, destinations, stalled)
    assert summary.committed_lines == 60 and summary.pending == 60  # nothing lost, all queued
    assert time.monotonic() - started < 30


def api_module(project: Path) -> str:
    from capic import api

    result = api.load_project(str(project))
    assert result.project is not None
    return api.compile_project(result.project)
