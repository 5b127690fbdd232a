"""Consent gates end to end: from `consent { ... }` in rule files to what a compiled module
sends, counts and answers (``consent_granted``), to `capic check`, `capic test` and the summary
of `capic run`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capic import api
from capic.cli import cli
from capic.runtime.context import Context

RULES = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
  consent {
    granted   = event.consent.marketing == "granted"
    otherwise = "limited_data_use"
  }
}

pixel ads {
  id           = "6543210987654321"
  access_token = env("META_CAPI_TOKEN")
  consent {
    granted = event.consent.ads    # otherwise: "drop", the default
  }
}

environment production {
}

environment staging {
  consent {
    granted = true                 # staging traffic is synthetic
  }
  pixel ads {
    consent {
      granted = event.consent.staging_ads
    }
  }
}

shared send base {
  event_time       = now()
  action_source    = "website"
  event_source_url = "https://shop.example.com/"
  user {
    client_ip_address = request.ip
    client_user_agent = "Mozilla/5.0"
  }
}

rule "Lead" {
  when event.type == "lead"
  send Lead to shop { ...base }
  send Lead to ads { ...base }
}

rule "Receipt" {
  when event.type == "receipt"
  send "Receipt" to ads {
    ...base
    consent {
      exempt = "a receipt the customer asked for; never used for ads"
    }
  }
}
"""


def project(tmp_path: Path, *, required: bool = False) -> Path:
    root = tmp_path / "consent"
    root.mkdir()
    extra = 'consent = "required"\n' if required else ""
    (root / "capic.toml").write_text(
        f'[project]\nname = "consent"\ndefault_environment = "production"\n{extra}',
        encoding="utf-8",
    )
    (root / "rules.capi").write_text(RULES, encoding="utf-8")
    return root


def module(root: Path, environment: str = "production") -> Any:
    result = api.load_project(root, use_cache=False)
    assert result.ok and result.project is not None, result.diagnostics
    return api.load_compiled(api.compile_project(result.project, environment))


def sent(mod: Any, event: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
    ctx = ctx or Context(now=lambda: 1767225600.0)
    out = mod.process(event, {"ip": "203.0.113.9"}, context=ctx)
    return {f"{e.pixel}:{e.event['event_name']}": e.event for e in out}


def test_granted_sends_as_written(tmp_path: Path) -> None:
    mod = module(project(tmp_path))
    got = sent(mod, {"type": "lead", "consent": {"marketing": "granted", "ads": True}})
    assert set(got) == {"shop:Lead", "ads:Lead"}
    assert "data_processing_options" not in got["shop:Lead"]


def test_denied_drops_or_sends_with_limited_data_use(tmp_path: Path) -> None:
    mod = module(project(tmp_path))
    ctx = Context(now=lambda: 1767225600.0)
    got = sent(mod, {"type": "lead", "consent": {"marketing": "denied"}}, ctx)
    assert set(got) == {"shop:Lead"}
    lead = got["shop:Lead"]
    assert lead["data_processing_options"] == ["LDU"]
    assert lead["data_processing_options_country"] == 0
    assert lead["data_processing_options_state"] == 0
    assert ctx.stats.consent == {"dropped": 1, "limited_data_use": 1}
    assert ctx.stats.matched["Lead"] == 1


def test_an_exempt_send_ignores_the_gates(tmp_path: Path) -> None:
    mod = module(project(tmp_path))
    assert set(sent(mod, {"type": "receipt", "consent": {}})) == {"ads:Receipt"}


def test_environment_gates_override_the_pixels(tmp_path: Path) -> None:
    mod = module(project(tmp_path), "staging")
    got = sent(mod, {"type": "lead", "consent": {"staging_ads": True}})
    assert set(got) == {"shop:Lead", "ads:Lead"}  # staging's own gate is constant true
    assert "data_processing_options" not in got["shop:Lead"]
    assert set(sent(mod, {"type": "lead", "consent": {"ads": True}})) == {"shop:Lead"}


def test_consent_granted_answers_for_services(tmp_path: Path) -> None:
    mod = module(project(tmp_path))
    yes = {"consent": {"marketing": "granted", "ads": True}}
    assert mod.consent_granted(yes) is True
    assert mod.consent_granted({"consent": {"ads": True}}) is False
    assert mod.consent_granted({"consent": {"ads": True}}, pixel="ads") is True
    assert mod.consent_granted({}, pixel="no-such-pixel") is True
    assert mod.CONSENT == {
        "required": False,
        "pixels": {"ads": "drop", "shop": "limited_data_use"},
    }


def test_capic_check_requires_a_gate_everywhere_when_consent_is_required(tmp_path: Path) -> None:
    root = project(tmp_path, required=True)
    text = (root / "rules.capi").read_text(encoding="utf-8")
    (root / "rules.capi").write_text(
        text + '\npixel extra {\n  id = "1111111111111111"\n  access_token = env("T")\n}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "json"])
    assert result.exit_code == 1, result.output
    found = [d for d in json.loads(result.stdout) if d["code"] == "P050"]
    lines = text.splitlines()
    production = lines.index("environment production {") + 1
    # `extra` has no gate in production; staging's own gate covers every pixel there.
    assert [d["location"]["row"] for d in found] == [production]
    assert "pixel `extra` has no consent gate in environment `production`" in found[0]["message"]
    # Each exemption is an informational note that --statistics counts.
    stats = CliRunner().invoke(cli, ["check", str(root), "--statistics"])
    assert re.search(r"^1\tP051\t", stats.stdout, re.MULTILINE), stats.stdout


def test_capic_test_and_the_run_summary_count_consent(tmp_path: Path) -> None:
    root = project(tmp_path)
    events = tmp_path / "events.jsonl"
    lines = [
        {"event": {"type": "lead", "consent": {}}, "request": {"ip": "203.0.113.9"}},
        {"event": {"type": "lead", "consent": {"marketing": "granted", "ads": True}}},
    ]
    events.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["run", str(root), "--events", str(events), "--dry-run", "--summary-format", "json"],
        env={"META_CAPI_TOKEN": "test-token"},
    )
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["consent"] == {"dropped": 1, "limited_data_use": 1}
    text = CliRunner().invoke(
        cli,
        ["run", str(root), "--events", str(events), "--dry-run"],
        env={"META_CAPI_TOKEN": "test-token"},
    )
    assert "without consent: 1 sends dropped, 1 sent with Limited Data Use" in text.stderr


@pytest.mark.parametrize(
    ("event", "expectation"),
    [
        (
            '{"type": "lead", "consent": {"marketing": "granted", "ads": true}}',
            "sends Lead to ads {}",
        ),
        (
            '{"type": "lead", "consent": {}}',
            'sends Lead to shop {\n    data_processing_options = ["LDU"]\n  }',
        ),
    ],
)
def test_capic_test_sees_the_gates(tmp_path: Path, event: str, expectation: str) -> None:
    root = project(tmp_path)
    (root / "tests.capi").write_text(
        f'test "t" {{\n  event = {event}\n  request = {{"ip": "203.0.113.9"}}\n'
        f'  expect "Lead" {expectation}\n}}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["test", str(root)])
    assert result.exit_code == 0, result.output
