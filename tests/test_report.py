"""`capic report`: its numbers are those of `capic run --dry-run` over the same events (the
oracle in tests/report_oracle.py), the same input gives the same bytes, bad input is one line
and exit status 2."""

from __future__ import annotations

import html
import json
import shutil
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from capic.api import compile_project, load_compiled, load_project
from capic.cli import cli
from tests.conftest import REPO, SAMPLES
from tests.report_oracle import Oracle, dry_run

STOREFRONT = SAMPLES / "storefront"
EVENTS = STOREFRONT / "events.jsonl"


def report(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["report", *args], input=input, catch_exceptions=False)


def report_json(*args: str, input: str | None = None) -> dict[str, Any]:
    result = report(*args, "--output-format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def rule_of_event_name(project: Path) -> dict[str, str]:
    """Which rule sends each event name (the compiled module's metadata; unique here)."""
    loaded = load_project(project)
    assert loaded.project is not None
    module = load_compiled(compile_project(loaded.project))
    owners: dict[str, str] = {}
    for rule in module.RULES:
        for name in rule["events"]:
            assert name not in owners, "a test project whose event names name their rule"
            owners[name] = rule["name"]
    return owners


def input_ids(path: Path) -> set[str]:
    """Every string in the input that the rules could have taken as an event_id."""
    found: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            stack: list[Any] = [json.loads(line)]
        except ValueError:  # a malformed line gives no id
            continue
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("eventId", "purchaseID", "id") and isinstance(value, str):
                        found.add(value)
                    stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
    return found


def assert_matches_dry_run(
    data: dict[str, Any], oracle: Oracle, owners: Mapping[str, str], events: Path
) -> None:
    """``owners``: which rule sends each event name."""
    summary = oracle.summary
    totals = data["totals"]
    assert totals["events"] == summary["events"]
    assert totals["malformed"] == summary["malformed"]
    assert totals["unmatched"] == summary["unmatched"]
    assert totals["sent"] == summary["emitted"] == len(oracle.events)
    assert totals["rejected"] == summary["rejected_total"]
    assert totals["rejected_by_reason"] == summary["rejected"]
    assert totals["skipped_by_reason"] == summary["skipped"]
    assert data["invalid_values"] == summary["invalid_values"]
    # per rule: matched (summary), sent (event names of the requests), rejected (stderr lines)
    sent = oracle.sent_by_rule(owners)
    rejected = Counter((rule, reason) for rule, _, reason in oracle.rejections)
    assert sum(rejected.values()) == summary["rejected_total"], "every rejection was named"
    for rule in data["rules"]:
        assert rule["matched"] == summary["matched"].get(rule["rule"], 0), rule["rule"]
        assert rule["sent"] == sent.get(rule["rule"], 0), rule["rule"]
        mine = {(rule["rule"], r): n for r, n in rule["rejected_by_reason"].items()}
        assert mine == {k: n for k, n in rejected.items() if k[0] == rule["rule"]}
    # per pixel: what was sent to it
    by_id = Counter(pixel_id for pixel_id, _ in oracle.events)
    for pixel in data["pixels"]:
        assert pixel["sent"] == by_id.get(pixel["id"], 0), pixel["pixel"]
    # customer information after normalization
    coverage = oracle.coverage()
    for entry in data["coverage"]:
        assert entry["present"] == coverage.get(entry["key"], 0), entry["key"]
    assert set(coverage) <= {entry["key"] for entry in data["coverage"]}
    # the estimate: the linter's estimator over the keys each request carries
    assert [b["events"] for b in data["estimate"]["histogram"]] == oracle.histogram()
    assert "not Meta's EMQ" in data["estimate"]["label"]
    # event ids and Meta's 48-hour deduplication window
    ids = data["event_ids"]
    assert ids["from_rules"] == oracle.ids_from(input_ids(events))
    assert ids["duplicates"] == oracle.duplicates()
    for kind in ("fbc", "fbp"):
        present, good = oracle.click_ids(kind)
        assert (data["click_ids"][kind]["present"], data["click_ids"][kind]["well_formed"]) == (
            present,
            good,
        )
    consent = summary["consent"]
    assert data["consent"]["dropped"] == consent.get("dropped", 0)
    assert data["consent"]["limited_data_use"] == consent.get("limited_data_use", 0)
    assert sum(r["limited_data_use"] for r in data["rules"]) == oracle.ldu()


@pytest.fixture(scope="module")
def storefront() -> dict[str, Any]:
    return report_json(str(STOREFRONT), "--events", str(EVENTS))


def test_storefront_numbers_are_those_of_the_dry_run(storefront: dict[str, Any]) -> None:
    oracle = dry_run([str(STOREFRONT), "--events", str(EVENTS)])
    assert_matches_dry_run(storefront, oracle, rule_of_event_name(STOREFRONT), EVENTS)
    # the sample's edge cases are all there
    assert storefront["totals"]["rejected"] > 0
    assert storefront["event_ids"]["duplicates"] > 0
    assert storefront["event_ids"]["generated"] > 0
    assert storefront["invalid_values"]
    assert storefront["subject"]["project"] == "storefront"


def test_the_page_shows_the_same_numbers(storefront: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = report(str(STOREFRONT), "--events", str(EVENTS), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and str(out) in result.stderr
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert page.startswith("<!DOCTYPE html>")
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
    ) in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    totals = storefront["totals"]
    for value in (totals["events"], totals["sent"], totals["matched"]):
        assert f'<div class="big">{value:,}</div>' in page
    for entry in storefront["coverage"]:
        if entry["present"]:
            assert f"{100 * entry['share']:.1f} % ({entry['present']:,})" in page
    assert f'<div class="big">{storefront["estimate"]["mean"]}</div>' in page
    assert "capic's estimate, not Meta's EMQ" in page


def test_same_input_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = []
    for name in ("a", "b"):
        where = tmp_path / name
        where.mkdir()
        shutil.copy(EVENTS, where / "events.jsonl")  # another inode, another mtime
        monkeypatch.chdir(where)
        for fmt in ("html", "json"):
            result = report(
                str(STOREFRONT),
                "--events",
                "events.jsonl",
                "--output-format",
                fmt,
                "-o",
                f"r.{fmt}",
            )
            assert result.exit_code == 0, result.stderr
        outputs.append(((where / "r.html").read_bytes(), (where / "r.json").read_bytes()))
    assert outputs[0] == outputs[1]
    assert b"timings" not in outputs[0][1]
    timed = report_json(str(STOREFRONT), "--events", str(EVENTS), "--timings")
    assert timed["timings"]["replay_seconds"] >= 0 and timed["timings"]["events_per_second"] > 0


def test_a_bundle_and_standard_input_give_the_same_numbers(
    storefront: dict[str, Any], tmp_path: Path
) -> None:
    built = CliRunner().invoke(
        cli, ["build", str(STOREFRONT), "--env", "development", "-o", str(tmp_path)]
    )
    assert built.exit_code == 0, built.stderr
    bundle = built.stdout.strip()
    data = report_json(
        "--bundle", bundle, "--env", "development", "--events", "-", input=EVENTS.read_text()
    )
    assert data["subject"]["kind"] == "bundle"
    assert data["input"]["events"] == "standard input"
    for key in ("totals", "rules", "pixels", "coverage", "estimate", "event_ids", "click_ids"):
        assert data[key] == storefront[key], key
    assert data["subject"]["revision"] == storefront["subject"]["revision"]


def test_the_clock_can_be_given(storefront: dict[str, Any]) -> None:
    clock = storefront["input"]["clock"]
    same = report_json(str(STOREFRONT), "--events", str(EVENTS), "--now", clock)
    assert same["totals"] == storefront["totals"]
    late = report_json(str(STOREFRONT), "--events", str(EVENTS), "--now", "2027-01-01T00:00:00Z")
    assert late["totals"]["sent"] == 0
    assert late["totals"]["rejected_by_reason"]["event_time older than 7 days"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", str(EVENTS)], "give either PROJECT or --bundle"),
        ([str(STOREFRONT), "--events", "/nonexistent/events.jsonl"], "cannot read"),
        ([str(STOREFRONT), "--events", str(EVENTS), "--env", "nowhere"], "unknown environment"),
        ([str(STOREFRONT), "--events", str(EVENTS), "--fail-on", "em<5"], "unknown metric"),
        ([str(STOREFRONT), "--events", str(EVENTS), "--fail-on", "coverage.em"], "METRIC OP"),
        (
            [str(STOREFRONT), "--events", str(EVENTS), "--fail-on", "change.coverage.em<-5"],
            "pass --baseline",
        ),
        ([str(STOREFRONT), "--events", str(EVENTS), "--now", "yesterday"], "--now"),
        # beyond the year 9999: once an OverflowError when the clock was printed
        ([str(STOREFRONT), "--events", str(EVENTS), "--now", "9" * 26], "years 1 and 9999"),
        ([str(STOREFRONT), "--events", str(EVENTS), "--now", "300000000000"], "--now"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args: list[str], message: str) -> None:
    result = report(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_project_with_errors_is_refused(tmp_path: Path) -> None:
    (tmp_path / "capic.toml").write_text('[project]\nname = "broken"\n', encoding="utf-8")
    (tmp_path / "rules.capi").write_text('rule "R" {\n  send Lead to nowhere {\n', encoding="utf-8")
    result = report(str(tmp_path), "--env", "production", "--events", str(EVENTS))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("capic report: ")


def test_a_bundle_for_another_environment_is_refused(tmp_path: Path) -> None:
    built = CliRunner().invoke(
        cli, ["build", str(STOREFRONT), "--env", "production", "-o", str(tmp_path)]
    )
    result = report("--bundle", built.stdout.strip(), "--env", "staging", "--events", str(EVENTS))
    assert result.exit_code == 2
    assert "built for environment 'production', not 'staging'" in result.stderr


def test_docs_cover_every_option_and_metric() -> None:
    from capic.cli.report import command
    from capic.report import gates

    doc = (REPO / "docs" / "report.md").read_text(encoding="utf-8")
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert f"`{opt}" in doc, opt
    for metric in (*gates._FIXED, *(f"shadow.{s}" for s in gates._SHADOW)):
        assert metric in doc, metric
