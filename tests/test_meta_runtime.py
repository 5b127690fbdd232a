"""Run-time checks of Meta's 2024-2026 event types, compiled from a project's [meta] settings:
the physical_store window (7 or 62 days), AppendAttribution (48 hours after an allowed
original, switchable) and Conversion Leads (an integer lead_id)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from capic import api
from capic.runtime import Context

NOW = 1_780_000_000
HOUR = 3600
DAY = 24 * HOUR

RULES = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

rule "Credit" {
  when event.type == "credit"
  send AppendAttribution to shop {
    event_time       = event.time
    action_source    = "website"
    event_source_url = "https://shop.example.com/checkout"
    user { em = "ada@example.com"  client_user_agent = "Mozilla/5.0" }
    original_event {
      event_name = event.original.name
      event_time = event.original.time
      order_id   = event.original.order
    }
    attribution { attribution_share = 0.5  attribution_model = "linear" }
  }
}

rule "Store" {
  when event.type == "sale"
  send Purchase to shop {
    event_time    = event.time
    action_source = event.source ?? "physical_store"
    event_source_url = "https://shop.example.com/"
    user { em = "ada@example.com"  client_user_agent = "Mozilla/5.0" }
    custom { currency = "USD"  value = 10  order_id = "r-1" }
  }
}

rule "Stage" {
  when event.type == "stage"
  send "Qualified" to shop {
    event_time    = event.time
    action_source = "system_generated"
    user { lead_id = event.lead  em = "ada@example.com" }
    custom { event_source = "crm"  lead_event_source = "HubSpot" }
  }
}
"""


def compiled(tmp_path: Path, meta: str = "") -> ModuleType:
    root = tmp_path / "project"
    root.mkdir(parents=True)
    (root / "capic.toml").write_text(f'[project]\nname = "p"\n{meta}\n', encoding="utf-8")
    (root / "rules.capi").write_text(RULES, encoding="utf-8")
    loaded = api.load_project(root, use_cache=False)
    assert loaded.project is not None, loaded.diagnostics
    assert not [d for d in loaded.diagnostics if d.severity.label == "error"]
    return api.load_compiled(api.compile_project(loaded.project))


def run(module: ModuleType, event: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    ctx = Context(now=lambda: NOW)
    out = module.process(event, None, context=ctx)
    return [e.event for e in out], dict(ctx.stats.rejected)


def credit(original_age: int, name: str = "Purchase") -> dict[str, Any]:
    return {
        "type": "credit",
        "time": NOW - 60,
        "original": {"name": name, "time": NOW - original_age, "order": "o-1"},
    }


def test_settings_are_compiled_into_the_module(tmp_path: Path) -> None:
    module = compiled(tmp_path, "[meta]\nphysical_store_window_days = 62")
    assert module.SETTINGS["meta"] == {
        "physical_store_window_days": 62,
        "append_attribution_checks": True,
        "append_attribution_originals": ["Purchase", "fb_mobile_purchase"],
    }


def test_append_attribution_within_48_hours_of_a_purchase(tmp_path: Path) -> None:
    module = compiled(tmp_path)
    sent, rejected = run(module, credit(47 * HOUR))
    assert rejected == {}
    assert sent[0]["original_event_data"] == {
        "event_name": "Purchase",
        "event_time": NOW - 47 * HOUR,
        "order_id": "o-1",
    }
    sent, rejected = run(module, credit(49 * HOUR))
    assert sent == []
    assert rejected == {"AppendAttribution more than 48 hours after the original event": 1}
    sent, rejected = run(module, credit(HOUR, "Lead"))
    assert rejected == {
        "AppendAttribution for an original event not in append_attribution_originals": 1
    }
    event = credit(HOUR)
    del event["original"]["time"]
    assert run(module, event)[1] == {"AppendAttribution without original_event_data.event_time": 1}
    event = credit(HOUR)
    del event["original"]["order"]
    assert run(module, event)[1] == {
        "AppendAttribution without the original's order_id or event_id": 1
    }


def test_append_attribution_checks_can_be_switched_off_or_widened(tmp_path: Path) -> None:
    off = compiled(tmp_path / "off", "[meta]\nappend_attribution_checks = false")
    assert len(run(off, credit(60 * HOUR, "Lead"))[0]) == 1
    wider = compiled(
        tmp_path / "wider", '[meta]\nappend_attribution_originals = ["Purchase", "Lead"]'
    )
    assert len(run(wider, credit(HOUR, "Lead"))[0]) == 1
    assert run(wider, credit(49 * HOUR, "Lead"))[0] == []


def sale(age: int, source: str = "physical_store") -> dict[str, Any]:
    return {"type": "sale", "time": NOW - age, "source": source}


def test_physical_store_window_is_7_days_unless_62_is_chosen(tmp_path: Path) -> None:
    seven = compiled(tmp_path / "seven")
    assert len(run(seven, sale(6 * DAY))[0]) == 1
    assert run(seven, sale(30 * DAY))[1] == {"event_time older than 7 days": 1}
    sixty_two = compiled(tmp_path / "62", "[meta]\nphysical_store_window_days = 62")
    assert len(run(sixty_two, sale(30 * DAY))[0]) == 1
    assert len(run(sixty_two, sale(61 * DAY))[0]) == 1
    assert run(sixty_two, sale(63 * DAY))[1] == {"physical_store event_time older than 62 days": 1}
    # Other action sources keep Meta's 7 days.
    assert run(sixty_two, sale(30 * DAY, "website"))[1] == {"event_time older than 7 days": 1}


@pytest.mark.parametrize(
    ("lead", "sent_as", "reason"),
    [
        (1234567890123456, 1234567890123456, None),
        ("1234567890123456", 1234567890123456, None),
        ("L-1234", None, "CRM stage whose lead_id is not an integer"),
        (None, None, "CRM stage without user_data.lead_id"),
    ],
)
def test_crm_stage_lead_id(
    tmp_path: Path, lead: Any, sent_as: int | None, reason: str | None
) -> None:
    module = compiled(tmp_path)
    sent, rejected = run(module, {"type": "stage", "time": NOW - 60, "lead": lead})
    if reason is None:
        assert rejected == {}
        assert sent[0]["user_data"]["lead_id"] == sent_as
        assert type(sent[0]["user_data"]["lead_id"]) is int
    else:
        assert sent == []
        assert rejected == {reason: 1}


def test_an_invalid_meta_table_is_a_config_error(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "capic.toml").write_text(
        '[project]\nname = "p"\n[meta]\nphysical_store_window_days = 30\n', encoding="utf-8"
    )
    (root / "rules.capi").write_text(RULES, encoding="utf-8")
    loaded = api.load_project(root, use_cache=False)
    assert [d.code for d in loaded.diagnostics] == ["C001"]
    assert "physical_store_window_days" in loaded.diagnostics[0].message
