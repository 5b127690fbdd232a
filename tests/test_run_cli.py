"""``capic run``: input handling, dry runs, summaries, exit codes (through the CLI)."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from capic.cli import cli
from tests.conftest import SAMPLES

STOREFRONT = SAMPLES / "storefront"
SAMPLE_EVENTS = STOREFRONT / "events.jsonl"
TOKEN = "EAAGrunCLItokenSECRET0123456789"
HASHED = {"em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id"}
HEX64 = re.compile(r"[0-9a-f]{64}")
KINDS = (
    "web.webpagedetails.pageViews",
    "commerce.productViews",
    "commerce.productListAdds",
    "commerce.checkouts",
    "commerce.purchases",
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def storefront_event(i: int, now: float, *, envelope: bool = True) -> dict[str, Any]:
    """An XDM event of the storefront project; event id ``ev-<i>``."""
    kind = KINDS[i % len(KINDS)]
    quantity = 1 + i % 3
    event: dict[str, Any] = {
        "xdm": {
            "eventType": kind,
            "timestamp": iso(now - 60 - (i % 50)),
            "identityMap": {
                "Email": [{"id": f"  User{i}@Example.COM "}],
                "Phone": [{"id": f"(650) 555-{i % 10000:04d}"}],
                "ECID": [{"id": f"ecid-{i}"}],
            },
            "web": {"webPageDetails": {"URL": f"https://shop.example.com/p/{i}"}},
            "productListItems": [
                {"SKU": f"SKU-{i % 7}", "name": "Tee", "quantity": quantity, "priceTotal": 12.5}
            ],
            "commerce": {
                "order": {"purchaseID": f"SO-{i}", "priceTotal": 12.5, "currencyCode": "usd"}
            },
        },
        "data": {
            "meta": {"conversionData": {"eventId": f"ev-{i}"}},
            "customer": {
                "id": f"C-{i}",
                "firstName": "Mary",
                "lastName": "O'Brien",
                "birthDate": "2/16/1997",
                "gender": "Female",
                "city": "San Francisco",
                "state": "California",
                "postalCode": "94103-1234",
                "country": "US",
            },
        },
    }
    request = {
        "ip": f"203.0.113.{i % 250}",
        "headers": {"User-Agent": "Mozilla/5.0 (capic test)"},
        "cookies": {"_fbp": f"fb.1.1767225600123.{i}"},
    }
    return {"event": event, "request": request} if envelope else event


def expected_user(i: int, kind: str) -> dict[str, Any]:
    """user_data the storefront rules send for storefront_event(i) (normalized per capi-facts)."""
    user: dict[str, Any] = {
        "em": sha(f"user{i}@example.com"),
        "ph": sha(f"1650555{i % 10000:04d}"),
        "external_id": sha(f"c-{i}"),
        "client_ip_address": f"203.0.113.{i % 250}",
        "client_user_agent": "Mozilla/5.0 (capic test)",
        "fbp": f"fb.1.1767225600123.{i}",
    }
    if kind in ("commerce.checkouts", "commerce.purchases"):
        user["fn"] = sha("mary")
        user["ln"] = sha("obrien")
    if kind == "commerce.purchases":
        user.update(
            db=sha("19970216"),
            ge=sha("f"),
            ct=sha("sanfrancisco"),
            st=sha("ca"),
            zp=sha("94103"),
            country=sha("us"),
        )
    return user


def write_events(path: Path, n: int, now: float | None = None, start: int = 0) -> Path:
    now = time.time() if now is None else now
    with path.open("wb") as f:
        for i in range(start, start + n):
            f.write(orjson.dumps(storefront_event(i, now)) + b"\n")
    return path


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None, **kw: Any) -> Result:
    return runner.invoke(cli, ["run", *args], env=env, catch_exceptions=False, **kw)


def request_lines(stdout: str) -> Iterator[dict[str, Any]]:
    for line in stdout.splitlines():
        yield orjson.loads(line)


def check_requests(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line is a request with a redacted token; every hashed key is 64-hex."""
    events: list[dict[str, Any]] = []
    for req in request_lines(stdout):
        assert set(req) == {"pixel_id", "url", "body"}
        assert req["url"].endswith(f"/{req['pixel_id']}/events")
        body = req["body"]
        assert body["access_token"] == "[REDACTED]"
        assert 1 <= len(body["data"]) <= 1000
        for event in body["data"]:
            for key, value in event["user_data"].items():
                if key in HASHED:
                    values = value if isinstance(value, list) else [value]
                    assert all(HEX64.fullmatch(v) for v in values), (key, value)
            events.append(event)
    return events


# ----------------------------------------------------------------------------- dry runs


def test_dry_run_of_the_sample_events(runner: CliRunner) -> None:
    result = run(
        runner,
        str(STOREFRONT),
        "--env",
        "development",
        "--events",
        str(SAMPLE_EVENTS),
        "--rebase-time",
        "--dry-run",
    )
    events = check_requests(result.stdout)
    assert events
    raw = SAMPLE_EVENTS.read_text(encoding="utf-8")
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", raw))
    assert emails
    for email in emails:
        assert email not in result.stdout and email not in result.stderr
        assert email.strip().lower() not in result.stdout
    newest = max(e["event_time"] for e in events)
    assert abs(newest - time.time()) < 30
    assert all(r["body"]["test_event_code"] == "TEST12345" for r in request_lines(result.stdout))
    assert "events read" in result.stderr and "event times shifted by" in result.stderr
    rejected = re.search(r"(\d+) rejected", result.stderr)
    assert rejected is not None
    assert result.exit_code == (1 if int(rejected.group(1)) else 0)


def test_generated_events_payloads(runner: CliRunner, tmp_path: Path) -> None:
    events_file = write_events(tmp_path / "events.jsonl", 25)
    result = run(
        runner, str(STOREFRONT), "--events", str(events_file), "--dry-run", "--max-batch", "10"
    )
    assert result.exit_code == 0, result.stderr
    events = check_requests(result.stdout)
    assert len(list(request_lines(result.stdout))) == 3
    assert [e["event_id"] for e in events] == [f"ev-{i}" for i in range(25)]
    for i, event in enumerate(events):
        assert event["user_data"] == expected_user(i, KINDS[i % len(KINDS)])
    purchase = events[4]
    assert purchase["event_name"] == "Purchase"
    assert purchase["custom_data"]["currency"] == "USD"
    assert purchase["custom_data"]["value"] == 12.5
    assert purchase["custom_data"]["contents"] == [
        {"id": "SKU-4", "quantity": 2, "item_price": 6.25}
    ]


def test_bare_events_malformed_lines_and_json_summary(runner: CliRunner, tmp_path: Path) -> None:
    now = time.time()
    lines = [
        orjson.dumps(storefront_event(0, now)),  # an envelope
        orjson.dumps(storefront_event(1, now, envelope=False)),  # a bare event
        b"",
        b"{not json",
        b"[1, 2]",
        b'{"event": "not an object"}',
        orjson.dumps({"event": storefront_event(2, now, envelope=False)}),  # envelope, no request
        orjson.dumps({"xdm": {"eventType": "commerce.productListRemovals"}}),  # not matched
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines))
    result = run(
        runner,
        str(STOREFRONT),
        "--events",
        str(path),
        "--dry-run",
        "--summary-format",
        "json",
    )
    assert result.exit_code == 1
    assert "line 4: not valid JSON" in result.stderr
    assert "line 5: not a JSON object" in result.stderr
    assert 'line 6: the envelope\'s "event" is not an object' in result.stderr
    summary = orjson.loads(result.stderr.strip().splitlines()[-1])
    assert summary["events"] == 4
    assert summary["lines"] == 8
    assert summary["malformed"] == 3
    assert summary["unmatched"] == 1
    assert summary["matched_total"] == 3
    # The bare event and the request-less envelope have no user agent: rejected, not lost.
    assert summary["rejected"] == {"website event without client_user_agent": 2}
    assert summary["emitted"] == 1
    assert summary["delivery"]["sent"] == 1
    assert summary["exit_code"] == 1
    assert [e["event_id"] for e in check_requests(result.stdout)] == ["ev-0"]


def test_rebase_time_from_stdin(runner: CliRunner) -> None:
    old = 1_600_000_000.0
    data = b"".join(orjson.dumps(storefront_event(i, old)) + b"\n" for i in range(12))
    result = run(runner, str(STOREFRONT), "--events", "-", "--rebase-time", "--dry-run", input=data)
    assert result.exit_code == 0, result.stderr
    events = check_requests(result.stdout)
    assert len(events) == 12
    newest = max(e["event_time"] for e in events)
    assert abs(newest - time.time()) < 30
    originals = [int(old) - 60 - (i % 50) for i in range(12)]
    offsets = {e["event_time"] - t for e, t in zip(events, originals, strict=True)}
    assert len(offsets) == 1  # one offset for every event


# ----------------------------------------------------------------------------- errors


def test_configuration_errors(runner: CliRunner, tmp_path: Path) -> None:
    events = write_events(tmp_path / "e.jsonl", 1)
    missing_token = run(
        runner, str(STOREFRONT), "--events", str(events), env={"META_CAPI_TOKEN": ""}
    )
    assert missing_token.exit_code == 2
    assert 'env("META_CAPI_TOKEN")' in missing_token.stderr
    unknown_env = run(
        runner, str(STOREFRONT), "--env", "nope", "--events", str(events), "--dry-run"
    )
    assert unknown_env.exit_code == 2 and "unknown environment" in unknown_env.stderr
    neither = run(runner, "--events", str(events), "--dry-run")
    assert neither.exit_code == 2
    no_file = run(runner, str(STOREFRONT), "--events", str(tmp_path / "none"), "--dry-run")
    assert no_file.exit_code == 2 and "cannot read" in no_file.stderr
    bad_endpoint = run(
        runner, str(STOREFRONT), "--events", str(events), "--dry-run", "--endpoint", "ftp://x"
    )
    assert bad_endpoint.exit_code == 2
    staging = run(
        runner,
        str(STOREFRONT),
        "--env",
        "staging",
        "--events",
        str(events),
        env={"META_CAPI_TOKEN": TOKEN},
    )
    assert staging.exit_code == 2 and "CAPI_TEST_EVENT_CODE" in staging.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "capic.toml").write_text('[project]\nname = "broken"\n')
    (broken / "r.capi").write_text('rule "r" { send Lead to nowhere { } }\n')
    result = run(runner, str(broken), "--events", str(events), "--dry-run")
    assert result.exit_code == 2 and "R001" in result.stderr


def test_staging_test_event_code_from_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    events = write_events(tmp_path / "e.jsonl", 3)
    result = run(
        runner,
        str(STOREFRONT),
        "--env",
        "staging",
        "--events",
        str(events),
        "--dry-run",
        env={"CAPI_TEST_EVENT_CODE": "TEST777"},
    )
    assert result.exit_code == 0, result.stderr
    [request] = request_lines(result.stdout)
    assert request["body"]["test_event_code"] == "TEST777"
    assert request["pixel_id"] == "9876543210987654"


def test_bundle_runs_like_the_project(runner: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "storefront"
    shutil.copytree(STOREFRONT, project, ignore=shutil.ignore_patterns(".capic_*"))
    built = runner.invoke(
        cli, ["build", str(project), "--env", "development", "-o", str(tmp_path / "dist")]
    )
    assert built.exit_code == 0, built.output
    bundle = built.stdout.strip()
    events = write_events(tmp_path / "e.jsonl", 10)
    from_bundle = run(runner, "--bundle", bundle, "--events", str(events), "--dry-run")
    from_project = run(runner, str(project), "--events", str(events), "--dry-run")
    assert from_bundle.exit_code == 0, from_bundle.stderr
    assert from_bundle.stdout == from_project.stdout
    wrong_env = run(runner, "--bundle", bundle, "--env", "production", "--events", str(events))
    assert wrong_env.exit_code == 2
    both = run(runner, str(project), "--bundle", bundle, "--events", str(events))
    assert both.exit_code == 2


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    target = tmp_path / "storefront"
    shutil.copytree(STOREFRONT, target, ignore=shutil.ignore_patterns(".capic_*"))
    return target


def test_default_outbox_location(runner: CliRunner, project_copy: Path) -> None:
    from capic.emulator import start

    events = write_events(project_copy / "e.jsonl", 5)
    with start(token=TOKEN) as emulator:
        result = run(
            runner,
            str(project_copy),
            "--events",
            str(events),
            "--endpoint",
            emulator.url,
            env={"META_CAPI_TOKEN": TOKEN},
        )
        assert result.exit_code == 0, result.stderr
        assert len(emulator.received()) == 5
    outbox = project_copy / ".capic_outbox" / "storefront-development.sqlite"
    assert outbox.is_file()
    assert (project_copy / ".capic_outbox" / ".gitignore").is_file()
    assert "5 delivered" in result.stderr


def test_inline_token_is_never_used_printed_or_stored(runner: CliRunner, tmp_path: Path) -> None:
    """A token written in a rule file is an error (P003) and masked by the front end: a run
    from the project stops before sending anything, and says why (never the value)."""
    from capic.emulator import start

    project = tmp_path / "inline"
    project.mkdir()
    (project / "capic.toml").write_text('[project]\nname = "inline"\n')
    (project / "rules.capi").write_text(
        f'pixel p {{ id = "42" access_token = "{TOKEN}" }}\n'
        'rule "r" {\n'
        "  send Lead to p {\n"
        "    event_time = parse_time(event.t)\n"
        '    action_source = "email"\n'
        "    user { em = event.email }\n"
        "  }\n"
        "}\n"
    )
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps({"t": int(time.time()), "email": "A@B.example"}) + b"\n")
    with start(token=TOKEN) as emulator:
        result = run(runner, str(project), "--events", str(events), "--endpoint", emulator.url)
        assert result.exit_code == 2, result.stderr
        assert "was written in a rule file (P003)" in result.stderr
        assert emulator.received() == []
    stored = b"".join(p.read_bytes() for p in (project / ".capic_outbox").glob("*.sqlite*"))
    assert TOKEN.encode() not in stored
    assert TOKEN not in result.stdout + result.stderr
    dry = run(runner, str(project), "--events", str(events), "--dry-run")
    assert dry.exit_code == 0 and TOKEN not in dry.stdout + dry.stderr
