"""`capic report` on a project that reaches every corner (tests/report_project.py): consent
gates with Limited Data Use and drop, two pixels, computed event names, fbc/fbp shapes, event
ids inside and outside the 48-hour window, rejections, malformed and blank lines. The numbers
are again those of the dry run."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.report_oracle import dry_run
from tests.report_project import INJECTED, _event, _request, write
from tests.test_report import assert_matches_dry_run, report_json


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    project, events = write(tmp_path_factory.mktemp("report-edges"))
    return project, events, report_json(str(project), "--events", str(events))


def test_every_corner_matches_the_dry_run(mini: tuple[Path, Path, dict[str, Any]]) -> None:
    project, events, data = mini
    oracle = dry_run([str(project), "--events", str(events)])
    owners: defaultdict[str, str] = defaultdict(lambda: "Custom", {"Lead": "Lead"})
    assert_matches_dry_run(data, oracle, owners, events)
    totals = data["totals"]
    assert (totals["lines"], totals["malformed"], totals["unmatched"]) == (10, 1, 1)
    assert totals["rejected_by_reason"] == {"website event without client_user_agent": 2}


def test_consent_duplicates_and_click_ids(mini: tuple[Path, Path, dict[str, Any]]) -> None:
    data = mini[2]
    consent = data["consent"]
    assert (consent["dropped"], consent["limited_data_use"]) == (1, 1)
    assert consent["gates"] == [
        {"pixel": "ads", "otherwise": "drop", "refused": 1},
        {"pixel": "shop", "otherwise": "limited_data_use", "refused": 1},
    ]
    lead = next(r for r in data["rules"] if r["rule"] == "Lead")
    assert lead["limited_data_use"] == 1
    # the repeat after one hour is a duplicate on each pixel; the one after 50 hours is not
    ids = data["event_ids"]
    assert (ids["duplicates"], ids["ids"]) == (2, 2)
    assert {e["pixel"] for e in ids["examples"]} == {"ads", "shop"}
    assert ids["generated"] == 1
    fbc, fbp = data["click_ids"]["fbc"], data["click_ids"]["fbp"]
    assert (fbc["present"], fbc["well_formed"]) == (3, 2)
    assert list(fbc["problems"]) == [
        "the creation time is in seconds; Meta expects milliseconds (13 digits)"
    ]
    assert fbp["problems"] == {"the random part of an fbp is a decimal number": 1}
    custom = next(r for r in data["rules"] if r["rule"] == "Custom")
    assert custom["event_names"] == {INJECTED: 1, "Quiz": 1}
    assert [p["pixel"] for p in data["pixels"]] == ["ads", "shop"]


def test_gates_on_absolute_numbers(mini: tuple[Path, Path, dict[str, Any]]) -> None:
    from tests.test_report import report

    project, events, _ = mini
    ok = report(str(project), "--events", str(events), "--fail-on", "duplicates>2")
    assert ok.exit_code == 0, ok.stderr
    failed = report(
        str(project),
        "--events",
        str(events),
        "--output-format",
        "json",
        "--fail-on",
        "duplicates>1",
        "--fail-on",
        "fbc.malformed>0",
        "--fail-on",
        "coverage.em<50",
    )
    assert failed.exit_code == 1
    gates = json.loads(failed.stdout)["gates"]
    assert [g["failed"] for g in gates] == [True, True, False]
    assert "gate failed: duplicates>1 (value 2.0)" in failed.stderr


def test_an_event_time_too_large_for_a_float_is_a_rejection(tmp_path: Path) -> None:
    # A 400-digit event_time once raised OverflowError in the rule (an internal error).
    project, events = write(tmp_path)
    row = {"event": _event("lead", time="9" * 400, id="L9"), "request": _request()}
    with events.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    totals = report_json(str(project), "--events", str(events))["totals"]
    assert totals["internal_errors"] == 0
    assert totals["rejected_by_reason"]["invalid event_time"] == 2
