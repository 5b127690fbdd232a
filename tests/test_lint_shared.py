"""Findings through shared blocks and computed event names, as `capic check` reports them: one
per (field, send), at the line where the field is written, with the send as a related location
(JSON ``related``, SARIF ``relatedLocations``); ``# noqa`` on the field line silences every
send, on the send line that send only. A send with a computed name is checked once per name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from capic.cli import cli

PIXEL = """pixel shop {
  id            = "1234567890123456"
  access_token  = env("META_CAPI_TOKEN")
  browser_pixel = true
}
"""

SHARED = """shared user customer {
  em                = sha256(event.email){field_noqa}
  client_user_agent = request.headers["user-agent"]
}

rule "r" {
  send Lead to shop {{lead_noqa}
    event_id         = event.id
    event_time       = now()
    action_source    = "website"
    event_source_url = event.url
    user { ...customer }
  }
  send Contact to shop {
    event_id         = event.id
    event_time       = now()
    action_source    = "website"
    event_source_url = event.url
    user { ...customer }
  }
}
"""


def check(tmp_path: Path, text: str, *args: str) -> tuple[int, Any]:
    root = tmp_path / "p"
    root.mkdir(exist_ok=True)
    (root / "capic.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    (root / "pixels.capi").write_text(PIXEL, encoding="utf-8")
    (root / "rules.capi").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(root), "--no-cache", *args])
    structured = {"json", "sarif"} & set(args)
    data = json.loads(result.stdout) if structured else result.stdout
    return result.exit_code, data


def shared(field_noqa: str = "", lead_noqa: str = "") -> str:
    return SHARED.replace("{field_noqa}", field_noqa).replace("{lead_noqa}", lead_noqa)


def test_one_finding_per_field_and_send_with_the_send_related(tmp_path: Path) -> None:
    _, found = check(tmp_path, shared(), "--output-format", "json", "--select", "P002")
    assert [(d["code"], d["location"]["row"], d["location"]["column"]) for d in found] == [
        ("P002", 2, 23),
        ("P002", 2, 23),
    ]
    related = sorted((r["location"]["row"], r["message"]) for d in found for r in d["related"])
    assert related == [
        (7, 'in send `Lead` to `shop` of rule "r"'),
        (14, 'in send `Contact` to `shop` of rule "r"'),
    ]


def test_sarif_carries_the_related_send(tmp_path: Path) -> None:
    _, log = check(tmp_path, shared(), "--output-format", "sarif", "--select", "P002")
    results = log["runs"][0]["results"]
    lines = sorted(
        r["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] for r in results
    )
    assert lines == [7, 14]
    for r in results:
        assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
        assert (
            r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "rules.capi"
        )


def test_full_output_names_the_send(tmp_path: Path) -> None:
    _, text = check(tmp_path, shared(), "--select", "P002")
    assert '= note: in send `Contact` to `shop` of rule "r"' in text


def test_noqa_on_the_field_silences_every_send(tmp_path: Path) -> None:
    code, found = check(
        tmp_path,
        shared(field_noqa="   # noqa: P002"),
        "--output-format",
        "json",
        "--select",
        "P002,N",
    )
    assert found == [] and code == 0


def test_noqa_on_the_send_line_silences_that_send(tmp_path: Path) -> None:
    _, found = check(
        tmp_path,
        shared(lead_noqa="   # noqa: P002"),
        "--output-format",
        "json",
        "--select",
        "P002,N",
    )
    assert [(d["code"], d["related"][0]["location"]["row"]) for d in found] == [("P002", 14)]


def test_a_computed_name_is_checked_per_name_and_reported_once(tmp_path: Path) -> None:
    text = """element names = {"buy" = "Purchase", "lead" = "Lead"}

rule "mapped" {
  send names[event.type] ?? "Other" to shop {
    event_time       = now()
    action_source    = "website"
    event_source_url = event.url
    user { em = event.email  client_user_agent = request.headers["user-agent"] }
  }
}
"""
    _, found = check(tmp_path, text, "--output-format", "json", "--select", "M005,D001")
    by_code = {d["code"]: d for d in found}
    assert set(by_code) == {"M005", "D001"} and len(found) == 2
    assert by_code["M005"]["message"].startswith("`Purchase` needs custom data")
    assert 'send `names[event.type] ?? "Other"` has no event_id' in by_code["D001"]["message"]
    assert by_code["D001"]["data"]["events"] == ["Purchase", "Lead", "Other"]
