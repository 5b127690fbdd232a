"""The emulator and Meta's 2024-2026 additions, over real HTTP: AppendAttribution, CRM stages,
the physical_store window, version signals ((#2635), X-Ad-Api-Version-Warning) and the Dataset
Quality API computed from what it received, with diagnostics injected from a fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from capic.emulator import EmulatorHandle, MetaEventRules, VersionSignals, start
from capic.meta.catalog import registry
from capic.resources import load_schema
from tests.conftest_delivery import PIXEL, TOKEN, VERSION, event, sha

NOW = 1_750_000_000.0
HOUR = 3600
DAY = 24 * HOUR
HTTP = httpx.Client(timeout=5.0)


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start(token=TOKEN, now=lambda: NOW, rules=MetaEventRules()) as handle:
        yield handle


def post(handle: EmulatorHandle, data: list[Any], version: str = VERSION) -> httpx.Response:
    return HTTP.post(
        f"{handle.url}/{version}/{PIXEL}/events", json={"data": data, "access_token": TOKEN}
    )


def quality(handle: EmulatorHandle, dataset: str = PIXEL, **params: str) -> httpx.Response:
    query = {"dataset_id": dataset, "agent_name": "capic", "access_token": TOKEN, **params}
    return HTTP.get(f"{handle.url}/{VERSION}/dataset_quality", params=query)


def credit(age: float, name: str = "Purchase", order: str | None = "order-1") -> dict[str, Any]:
    original: dict[str, Any] = {"event_name": name, "event_time": int(NOW - age)}
    if order is not None:
        original["order_id"] = order
    return event(
        900,
        now=NOW,
        event_name="AppendAttribution",
        original_event_data=original,
        attribution_data={"attribution_share": 0.4},
        custom_data=None,
    )


def test_append_attribution_is_validated(emu: EmulatorHandle) -> None:
    purchase = event(1, now=NOW, custom_data={"currency": "USD", "value": 5, "order_id": "order-1"})
    assert post(emu, [purchase]).status_code == 200
    ok = post(emu, [credit(47 * HOUR)])
    assert ok.status_code == 200 and ok.json()["messages"] == []
    stale = post(emu, [credit(49 * HOUR)])
    assert stale.status_code == 400
    assert "less than 48 hours" in stale.json()["error"]["error_user_msg"]
    lead = post(emu, [credit(HOUR, "Lead")])
    assert lead.json()["error"]["error_user_title"] == "Unsupported original event"
    unlinked = post(emu, [credit(HOUR, order=None)])
    assert "order_id or event_id" in unlinked.json()["error"]["error_user_msg"]
    never = post(emu, [credit(HOUR, order="order-404")])
    assert never.status_code == 200
    assert never.json()["messages"] == [
        "data[0]: AppendAttribution: no Purchase with that order_id or event_id was received "
        "by this dataset; the credit cannot be appended"
    ]


def test_crm_stage_needs_an_integer_lead_id(emu: EmulatorHandle) -> None:
    stage = event(
        2,
        now=NOW,
        event_name="Qualified",
        action_source="system_generated",
        user_data={"lead_id": 1234567890123456, "em": sha("ada@example.com")},
        custom_data={"event_source": "crm", "lead_event_source": "HubSpot"},
    )
    assert post(emu, [stage]).status_code == 200
    stage["user_data"]["lead_id"] = "1234567890123456"
    refused = post(emu, [stage])
    assert refused.status_code == 400
    assert refused.json()["error"]["error_user_title"] == "Invalid lead ID"


def store_sale(age: float) -> dict[str, Any]:
    return event(3, now=NOW - age, action_source="physical_store", event_source_url=None)


def test_physical_store_window_7_or_62_days(emu: EmulatorHandle) -> None:
    assert post(emu, [store_sale(6 * DAY)]).status_code == 200
    assert post(emu, [store_sale(30 * DAY)]).json()["error"]["error_subcode"] == 2804003
    with start(token=TOKEN, now=lambda: NOW, rules=MetaEventRules(62)) as wide:
        assert post(wide, [store_sale(30 * DAY)]).status_code == 200
        assert post(wide, [store_sale(63 * DAY)]).status_code == 400
        web = event(4, now=NOW - 30 * DAY)
        assert post(wide, [web]).status_code == 400  # only store events get 62 days
    with pytest.raises(ValueError, match="7 or 62"):
        MetaEventRules(30)


def test_version_signals() -> None:
    versions = VersionSignals.of(deprecated=["v16.0"], upgraded=["v17.0"])
    with start(token=TOKEN, now=lambda: NOW, versions=versions) as emu:
        gone = post(emu, [event(1, now=NOW)], "v16.0")
        assert gone.status_code == 400
        err = gone.json()["error"]
        assert err["code"] == 2635
        assert err["message"].startswith("(#2635) You are calling a deprecated version")
        moved = post(emu, [event(1, now=NOW)], "v17.0")
        assert moved.status_code == 200
        assert "v17.0 is deprecated" in moved.headers["x-ad-api-version-warning"]
        current = post(emu, [event(1, now=NOW)])
        assert "x-ad-api-version-warning" not in current.headers


def test_dataset_quality_from_received_payloads(emu: EmulatorHandle) -> None:
    batch = []
    for i in range(10):
        user = {"client_user_agent": "Mozilla/5.0", "client_ip_address": "2001:db8::1"}
        if i < 4:
            user["em"] = sha(f"u{i}@example.com")
        if i < 3:
            user["client_ip_address"] = "203.0.113.7"
        batch.append(event(i, now=NOW - 60, user_data=user))
    batch.append(store_sale(60))  # not a web event: no EMQ
    assert post(emu, batch).status_code == 200
    answer = quality(emu)
    assert answer.status_code == 200
    data = answer.json()
    schema = load_schema("dataset_quality")
    Draft202012Validator(schema, registry=registry()).validate(data)
    (row,) = data["web"]
    assert row["event_name"] == "Purchase"
    emq = row["event_match_quality"]
    coverage = {k["identifier"]: k["coverage"]["percentage"] for k in emq["match_key_feedback"]}
    assert coverage == {"email": 40.0, "ip_address": 100.0, "user_agent": 100.0}
    # 4 events with email: 1 - (.45 x .8) (IPv6) or 1 - (.45 x .88) (IPv4, 3 of them); 6 without.
    expected = (1 - 0.45 * 0.88) * 3 + (1 - 0.45 * 0.8) + 0.2 * 6
    assert emq["composite_score"] == round(10 * expected / 10, 1)
    (diag,) = emq["diagnostics"]
    assert diag["name"] == "Update IPv4 to IPv6"
    assert (diag["affected_event_count"], diag["total_event_count"]) == (3, 10)
    assert row["data_freshness"]["median_delay_seconds"] == 60


def test_dataset_quality_fixture_and_refusals(tmp_path: Path) -> None:
    fixture = {
        "datasets": {
            PIXEL: {
                "events": {
                    "Purchase": {
                        "diagnostics": [{"name": "Server sending mismatched IP addresses"}],
                        "event_coverage": {"percentage": 62.0},
                    }
                }
            },
            "999": {"refuse": {"code": 10, "message": "(#10) Permission denied"}},
        }
    }
    with start(token=TOKEN, now=lambda: NOW, quality_fixture=fixture) as emu:
        assert post(emu, [event(1, now=NOW)]).status_code == 200
        row = quality(emu).json()["web"][0]
        names = [d["name"] for d in row["event_match_quality"]["diagnostics"]]
        assert names == ["Update IPv4 to IPv6", "Server sending mismatched IP addresses"]
        assert row["event_coverage"] == {"percentage": 62.0}
        refused = quality(emu, "999")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == 10
        wrong = HTTP.get(
            f"{emu.url}/{VERSION}/dataset_quality",
            params={"dataset_id": PIXEL, "access_token": "nope"},
        )
        assert wrong.json()["error"]["code"] == 190
        assert quality(emu, "not-a-number").json()["error"]["code"] == 100
        emu.reset()
        assert quality(emu).json()["web"][0]["event_match_quality"] == {
            "diagnostics": [{"name": "Server sending mismatched IP addresses"}]
        }


def test_cli_flags(tmp_path: Path) -> None:
    fixture = tmp_path / "quality.json"
    fixture.write_text(
        json.dumps({"datasets": {PIXEL: {"events": {"Lead": {"diagnostics": [{"name": "X"}]}}}}}),
        encoding="utf-8",
    )
    env = {**os.environ, "CAPIC_EMULATOR_TOKEN": TOKEN}
    args = [
        sys.executable, "-m", "capic", "emulator", "--port", "0",
        "--physical-store-days", "62", "--deprecated-version", "v16.0",
        "--upgraded-version", "v17.0", "--quality-fixture", str(fixture),
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        base = {"access_token": TOKEN}
        sale = event(1, action_source="physical_store", event_source_url=None)
        sale["event_time"] -= 30 * DAY
        assert (
            HTTP.post(f"{url}/{VERSION}/{PIXEL}/events", json={**base, "data": [sale]}).status_code
            == 200
        )
        gone = HTTP.post(f"{url}/v16.0/{PIXEL}/events", json={**base, "data": [event(2)]})
        assert gone.json()["error"]["code"] == 2635
        moved = HTTP.post(f"{url}/v17.0/{PIXEL}/events", json={**base, "data": [event(2)]})
        assert "x-ad-api-version-warning" in moved.headers
        rows = HTTP.get(
            f"{url}/{VERSION}/dataset_quality", params={**base, "dataset_id": PIXEL}
        ).json()["web"]
        assert [r["event_name"] for r in rows] == ["Purchase", "Lead"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "capic", "emulator", "--quality-fixture", str(tmp_path / "no.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "cannot read the quality fixture" in bad.stderr
    assert "Traceback" not in bad.stderr
