"""The samples of Meta's 2024-2026 additions, run end to end against the emulator:
samples/crm-leads (a CRM export of lead stages as JSON Lines, sent as Conversion Leads) and
samples/offline-store (store receipt lines deduplicated by order_id + item_number, web orders,
and the attribution tool's AppendAttribution credits)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner, Result

from capic.cli import cli
from capic.emulator import MetaEventRules, start
from tests.conftest import SAMPLES

TOKEN = "EAAGsampleTOKEN0123456789abcdef"


def run_sample(sample: str, url: str, tmp_path: Path) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "run",
            str(SAMPLES / sample),
            "--env",
            "production",
            "--events",
            str(SAMPLES / sample / "events.jsonl"),
            "--endpoint",
            url,
            "--rebase-time",
            "--outbox",
            str(tmp_path / "out.sqlite"),
            "--summary-format",
            "json",
        ],
        env={"META_CAPI_TOKEN": TOKEN},
        catch_exceptions=False,
    )


def summary(result: Result) -> dict[str, Any]:
    data = orjson.loads(result.stderr.strip().splitlines()[-1])
    assert isinstance(data, dict)
    return data


def test_crm_export_becomes_conversion_leads_stages(tmp_path: Path) -> None:
    export = [
        orjson.loads(line)
        for line in (SAMPLES / "crm-leads" / "events.jsonl").read_bytes().splitlines()
    ]
    with start(token=TOKEN, rules=MetaEventRules()) as emulator:
        result = run_sample("crm-leads", emulator.url, tmp_path)
        received = [r["event"] for r in emulator.received()]
    stats = summary(result)
    # The lead whose CRM record holds "L-77" instead of a Lead Ads id is rejected, stage by stage.
    typo = [r for r in export if r.get("meta_lead_id") == "L-77"]
    assert stats["rejected"] == {"CRM stage whose lead_id is not an integer": len(typo)}
    assert result.exit_code == 1
    sendable = [
        r for r in export
        if r["source"] == "facebook_lead_ads" and r.get("meta_lead_id") not in (None, "L-77")
        and r["stage"] != "other"
    ]  # fmt: skip
    assert len(received) == len(sendable) == stats["delivery"]["sent"]
    for event in received:
        assert event["action_source"] == "system_generated"
        assert event["custom_data"]["event_source"] == "crm"
        assert event["custom_data"]["lead_event_source"] == "HubSpot"
        assert type(event["user_data"]["lead_id"]) is int  # the export's text, converted
    by_lead = {int(r["meta_lead_id"]) for r in sendable}
    assert {e["user_data"]["lead_id"] for e in received} == by_lead
    stages = Counter(e["event_name"] for e in received)
    assert set(stages) == {
        "Lead",
        "MarketingQualifiedLead",
        "SalesQualifiedLead",
        "Opportunity",
        "Converted",
    }
    assert stages["Lead"] == len(by_lead)  # every lead's funnel starts with its first stage
    converted = [e for e in received if e["event_name"] == "Converted"]
    assert converted and all(e["custom_data"]["currency"] == "EUR" for e in converted)
    assert all(isinstance(e["custom_data"]["value"], int | float) for e in converted)


def test_store_lines_web_orders_and_attribution_credits(tmp_path: Path) -> None:
    with start(token=TOKEN, rules=MetaEventRules()) as emulator:
        result = run_sample("offline-store", emulator.url, tmp_path)
        received = emulator.received()
    stats = summary(result)
    assert stats["rejected"] == {"AppendAttribution more than 48 hours after the original event": 1}
    # ... and reported with its input line.
    assert re.search(r"line \d+: AppendAttribution .* more than 48 hours", result.stderr)
    by_pixel = Counter(r["pixel_id"] for r in received)
    assert by_pixel == {"5678901234567890": 12, "5678901234567891": 35}
    store = [r["event"] for r in received if r["pixel_id"] == "5678901234567890"]
    # Meta deduplicates store events by event_time + event_name + order_id + item_number:
    # every line of every receipt keeps its own key.
    keys = [
        (
            e["event_time"],
            e["event_name"],
            e["custom_data"]["order_id"],
            e["custom_data"]["item_number"],
        )
        for e in store
    ]
    assert len(set(keys)) == len(keys) == 12
    assert all(e["action_source"] == "physical_store" for e in store)
    web = [r["event"] for r in received if r["pixel_id"] == "5678901234567891"]
    purchases = {e["custom_data"]["order_id"]: e for e in web if e["event_name"] == "Purchase"}
    credits = [e for e in web if e["event_name"] == "AppendAttribution"]
    assert len(purchases) == 24 and len(credits) == 11
    for credit in credits:
        original = credit["original_event_data"]
        bought = purchases[original["order_id"]]
        # --rebase-time moved the original's time with the Purchase it names.
        assert original["event_time"] == bought["event_time"]
        assert 0 < credit["event_time"] - original["event_time"] < 48 * 3600
        assert 0 < credit["attribution_data"]["attribution_share"] <= 1
