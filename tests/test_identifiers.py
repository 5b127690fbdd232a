"""Pass-through identifiers (fbc, fbp, client_ip_address) are sent trimmed and left out when
blank, by generated rule modules of this version and of 0.1.0; and a generated module reads a
phone number in the event's own country (docs/normalization.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from capic import api
from capic.runtime import Context
from capic.runtime.hashing import sha256_hex
from tests.conftest import REPO
from tests.test_bundle import invoke

NOW = 1_772_550_000
RULES = """
pixel p { id = "1" access_token = env("T") }
rule "r" {
  when event.kind == "buy"
  send Purchase to p {
    event_time = event.time
    action_source = "website"
    event_source_url = "https://shop.example.com/"
    user {
      em = "someone@example.com"
      ph = event.phone
      country = event.country
      client_ip_address = event.ip
      client_user_agent = event.ua
      fbc = event.fbc
      fbp = event.fbp
    }
    custom {
      currency = "USD"
      value = 10
    }
  }
}
"""


@pytest.fixture(scope="module")
def module() -> ModuleType:
    result = api.parse(RULES, "rules.capi")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    return api.load_compiled(api.compile_project(result.project))


def user_data(module: ModuleType, **fields: Any) -> dict[str, Any]:
    event = {"kind": "buy", "time": NOW, "ua": "UA", **fields}
    out = module.process(event, context=Context(now=lambda: float(NOW)))
    assert len(out) == 1
    ud: dict[str, Any] = out[0].event["user_data"]
    return ud


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        (" fb.1.1554763741205.AbCd\t", "fb.1.1554763741205.AbCd"),
        ("fb.1.1554763741205.AbCd", "fb.1.1554763741205.AbCd"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_generated_modules_trim_identifiers(module: ModuleType, raw: Any, sent: Any) -> None:
    ud = user_data(module, fbc=raw, fbp=raw, ip=raw)
    for key in ("fbc", "fbp", "client_ip_address"):
        assert ud.get(key) == sent, key
    assert ud["client_user_agent"] == "UA"


def test_generated_modules_read_the_phone_in_the_events_country(module: ModuleType) -> None:
    assert user_data(module, phone="01 42 86 83 26", country="FR")["ph"] == sha256_hex(
        "33142868326"
    )
    assert "ph" not in user_data(module, phone="01 42 86 83 26", country="US")
    assert user_data(module, phone="(650) 555-0123", country="US")["ph"] == sha256_hex(
        "16505550123"
    )


def test_a_0_1_0_bundle_sends_identifiers_trimmed(tmp_path: Path) -> None:
    bundle = shutil.copy(
        REPO / "tests" / "data" / "upgrade" / "storefront-production-0.1.0.tar.gz", tmp_path
    )
    events = REPO / "samples" / "storefront" / "events.jsonl"
    lines = []
    for line in events.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        cookies = record.get("request", {}).get("cookies")
        if cookies and "_fbp" in cookies:
            cookies["_fbp"] = f"  {cookies['_fbp']} "
            cookies["_fbc"] = " "
            record["request"]["ip"] = f"\t{record['request']['ip']}\n"
        lines.append(json.dumps(record))
    padded = tmp_path / "events.jsonl"
    padded.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke(
        ["run", "--bundle", str(bundle), "--events", str(padded), "--dry-run", "--rebase-time"]
    )
    assert result.exit_code in (0, 1), result.output
    requests = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    sent = [event["user_data"] for request in requests for event in request["body"]["data"]]
    assert any("fbp" in ud for ud in sent)
    for ud in sent:
        assert "fbc" not in ud
        for key in ("fbp", "client_ip_address"):
            if key in ud:
                assert ud[key] == ud[key].strip() and ud[key], ud[key]
