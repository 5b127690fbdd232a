"""The bundled samples: they parse, resolve, check clean, declare the three usual environments,
carry test blocks that resolve, and ship event streams that the deterministic generator
reproduces byte for byte."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.model import ir
from tests.conftest import REPO, SAMPLES

PROJECTS = sorted(p.parent for p in SAMPLES.glob("*/capic.toml"))
GENERATOR = REPO / "scripts" / "gen_sample_events.py"
ENVIRONMENTS = {"development", "staging", "production"}


def ids(path: Path) -> str:
    return path.name


def events(sample: str) -> list[dict[str, Any]]:
    lines = (SAMPLES / sample / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_the_samples_are_there() -> None:
    assert {"app-and-store", "storefront"} <= {p.name for p in PROJECTS}


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_sample_parses_and_resolves_without_diagnostics(project: Path) -> None:
    result = api.load_project(project, use_cache=False)
    assert result.diagnostics == [], [(d.code, d.message, d.span) for d in result.diagnostics]
    assert result.project is not None
    assert result.project.rules and result.project.pixels and result.project.tests
    data = result.project.to_json()
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_capic_check_exits_0(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    rel = str(project.relative_to(REPO))
    for fmt in ("full", "concise"):
        result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", fmt, rel])
        assert result.exit_code == 0, result.output
    for env in sorted(ENVIRONMENTS):
        result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "--env", env, rel])
        assert result.exit_code == 0, (env, result.output)


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_sample_declares_development_staging_production(project: Path) -> None:
    result = api.load_project(project, use_cache=False)
    assert result.project is not None
    assert set(result.project.environments) >= ENVIRONMENTS
    assert result.config.default_environment == "development"
    dev = result.project.environments["development"]
    assert "test_event_code" in dev.fields
    assert "test_event_code" not in result.project.environments["production"].fields


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_pixels_use_literal_ids_and_a_token_from_the_environment(project: Path) -> None:
    result = api.load_project(project, use_cache=False)
    assert result.project is not None
    for pixel in result.project.pixels.values():
        pixel_id = pixel.fields["id"].value
        assert isinstance(pixel_id, ir.Const) and str(pixel_id.value).isdigit()
        token = pixel.fields["access_token"].value
        assert isinstance(token, ir.SecretRef)
        assert (token.kind, token.name) == ("env", "META_CAPI_TOKEN")
        assert "browser_pixel" in pixel.fields


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_test_blocks_reference_real_rules_pixels_and_environments(project: Path) -> None:
    result = api.load_project(project, use_cache=False)
    assert result.project is not None
    tests = result.project.tests
    assert len(tests) >= 5
    rule_names = {r.name for r in result.project.rules}
    for test in tests:
        assert {"event", "now"} <= set(test.fields)
        for expectation in test.expectations:
            if expectation.rule is not None:
                assert expectation.rule in rule_names
    kinds = Counter(e.kind for t in tests for e in t.expectations)
    assert kinds["sends"] >= 3 and kinds["nothing"] >= 1


@pytest.mark.parametrize("project", PROJECTS, ids=ids)
def test_capic_parse_prints_the_ir(project: Path) -> None:
    result = CliRunner().invoke(cli, ["parse", str(project)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config"]["name"] == project.name
    assert {r["name"] for r in data["rules"]}


# ----------------------------------------------------------------------------- event streams


@pytest.mark.parametrize("sample", ["storefront", "app-and-store"])
def test_every_line_is_an_envelope(sample: str) -> None:
    for n, envelope in enumerate(events(sample), 1):
        assert set(envelope) == {"event", "request"}, n
        request = envelope["request"]
        assert {"ip", "headers", "cookies", "url"} <= set(request), n
        assert request["url"].startswith("https://"), n
        assert all(k == k.lower() for k in request["headers"]), n


def timestamps(evs: list[dict[str, Any]]) -> list[datetime]:
    out = []
    for e in evs:
        text = e["event"].get("xdm", {}).get("timestamp") or (
            e["event"].get("pos", {}).get("transaction", {}).get("completedAt")
        )
        if text:
            out.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
    return out


def test_storefront_events_exercise_every_rule_and_the_edge_cases() -> None:
    evs = events("storefront")
    assert len(evs) >= 200
    types = Counter(e["event"]["xdm"]["eventType"] for e in evs)
    for t in [
        "web.webpagedetails.pageViews",
        "commerce.productViews",
        "siteSearch",
        "commerce.productListAdds",
        "commerce.checkouts",
        "commerce.paymentInfoAdded",
        "commerce.purchases",
        "lead.submitted",
        "account.registered",
        "newsletter.subscribed",
    ]:
        assert types[t] >= 3, t
    # Traffic no rule forwards.
    assert types["web.webinteraction.linkClicks"] and types["commerce.productListRemovals"]
    raw = (SAMPLES / "storefront" / "events.jsonl").read_text(encoding="utf-8")
    for needle in [
        "Zoë",
        "José",
        '"李"',
        "(650) 555-0123",
        "650.555.0188",
        "+44 20 7946 0958",
        "0044 20 7946 0959",
        "+49 (0)30 1234567",
        "94103-1234",
        "not-an-email",
        "jane.doe@",
        hashlib.sha256(b"hashed.shopper@example.com").hexdigest(),
        '"_fbc": "fb.1.',
        '"priceTotal": "189.00"',
        '"club-gold"',
    ]:
        assert needle in raw, needle
    sizes = {len(e["event"]["xdm"].get("productListItems", [])) for e in evs}
    assert {0, 1, 20} <= sizes and max(sizes) <= 20
    event_ids = Counter(
        e["event"].get("data", {}).get("meta", {}).get("conversionData", {}).get("eventId")
        for e in evs
    )
    assert [n for i, n in event_ids.items() if i is not None and n > 1] == [2]
    assert any("timestamp" not in e["event"]["xdm"] for e in evs)
    assert any("user-agent" not in e["request"]["headers"] for e in evs)
    ts = timestamps(evs)
    assert max(ts) - min(ts) <= timedelta(hours=6)


def test_app_and_store_events() -> None:
    evs = events("app-and-store")
    assert len(evs) >= 60
    app = [e for e in evs if "xdm" in e["event"]]
    pos = [e for e in evs if "pos" in e["event"]]
    assert len(app) >= 30 and len(pos) >= 20
    types = Counter(e["event"]["xdm"]["eventType"] for e in app)
    for t in [
        "application.install",
        "application.launch",
        "commerce.productViews",
        "commerce.productListAdds",
        "commerce.purchases",
    ]:
        assert types[t] >= 1, t
    systems = Counter(e["event"]["xdm"]["environment"]["operatingSystem"] for e in app)
    assert systems["iOS"] and systems["Android"]
    zero_idfa = "00000000-0000-0000-0000-000000000000"  # tracking denied on iOS
    assert any(e["event"]["xdm"]["identityMap"].get("IDFA") == [{"id": zero_idfa}] for e in app)
    kinds = Counter(e["event"]["pos"]["transaction"]["type"] for e in pos)
    assert kinds["sale"] >= 20 and kinds["return"] >= 1
    assert any("customer" not in e["event"]["pos"] for e in pos)
    ts = timestamps(evs)
    assert max(ts) - min(ts) <= timedelta(hours=8)


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    check = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    for run in ("a", "b"):
        subprocess.run(
            [sys.executable, str(GENERATOR), "--out", str(tmp_path / run)],
            capture_output=True,
            check=True,
        )
    for sample in ("storefront", "app-and-store"):
        first = (tmp_path / "a" / sample / "events.jsonl").read_bytes()
        assert first == (tmp_path / "b" / sample / "events.jsonl").read_bytes()
        assert first == (SAMPLES / sample / "events.jsonl").read_bytes()


def test_the_storefront_writes_each_piece_of_customer_information_once() -> None:
    """Rules and elements (not tests) write each user_data key once: sends spread shared
    blocks, and override single keys only to leave them out (null) or to choose."""
    result = api.load_project(SAMPLES / "storefront", use_cache=False)
    assert result.project is not None
    written: dict[str, set[tuple[str, int]]] = {}
    bodies = [s.body for s in result.project.shared.values()]
    bodies += [send.body for rule in result.project.rules for send in rule.sends]
    for body in bodies:
        user = body.section("user_data") if body.key == "" else body
        if user is None or user.key != "user_data":
            continue
        for key, entry in user.entries.items():
            value = getattr(entry, "value", None)
            if isinstance(value, ir.Const) and value.value is None:
                continue  # `ph = null`: left out for that send
            if isinstance(value, ir.Cond):
                continue  # a choice made for the send (names only from the checkout on)
            written.setdefault(key, set()).add((entry.span.file, entry.span.line))
    assert written and all(len(places) == 1 for places in written.values()), written
    texts = [
        p.read_text(encoding="utf-8")
        for p in (SAMPLES / "storefront").rglob("*.capi")
        if p.name != "tests.capi"
    ]
    assert sum(t.count("client_user_agent") for t in texts) == 1
    assert len(result.project.rules) == 7  # 10 before: the funnel is one table-driven rule
