"""`capic report --baseline`: the storefront sample against a deliberately changed copy lists
exactly the changed rules and fields. The expectation comes from two dry runs (the baseline's
and the copy's) paired event by event, not from the report."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capic.cli import cli
from tests.conftest import SAMPLES
from tests.report_oracle import Oracle, dry_run
from tests.test_report import input_ids, report, report_json, rule_of_event_name

STOREFRONT = SAMPLES / "storefront"
EVENTS = STOREFRONT / "events.jsonl"

#: (file, text, replacement): what the changed copy changes.
EDITS = [
    # the search no longer sends the email address
    (
        "rules/browsing.capi",
        "      ph = null  # searches are forwarded without the phone number\n",
        "      ph = null  # searches are forwarded without the phone number\n      em = null\n",
    ),
    # purchases report 10 % more value
    (
        "rules/purchase.capi",
        "value        = round(number(order.priceTotal), 2)",
        "value        = round(number(order.priceTotal) * 1.1, 2)",
    ),
    # club plans no longer count as subscriptions
    (
        "rules/leads.capi",
        'when event_type == "newsletter.subscribed" or event.data.subscription.plan starts_with "club-"',
        'when event_type == "newsletter.subscribed"',
    ),
    # a condition that changes nothing for these events
    (
        "rules/browsing.capi",
        'when event_type == "web.webpagedetails.pageViews" and exists(page_url)',
        'when event_type == "web.webpagedetails.pageViews" and exists(page_url) and page_url != ""',
    ),
]


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("shadow") / "storefront"
    shutil.copytree(STOREFRONT, copy)
    for name, old, new in EDITS:
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def _flat(event: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        elif key not in ("event_time", "event_id"):  # rebased to each run's wall clock; the key
            out[key] = value
    return out


def expected_changes(old: Oracle, new: Oracle, owners: dict[str, str]) -> dict[str, Any]:
    """rule -> {"now": n, "gone": n, "fields": {field: Counter(gained/lost/changed)}}.

    Server events are paired by pixel, name and event_id; an id capic generated (not in the
    input) depends on the dry run's clock, so those pair by pixel and name, in order."""
    ids = input_ids(EVENTS)

    def keyed(o: Oracle) -> dict[tuple[str, str, str, int], dict[str, Any]]:
        seen: Counter[tuple[str, str, str]] = Counter()
        out = {}
        for pixel, e in o.events:  # an event_id can repeat (the sample has a duplicate)
            given = e["event_id"] if e["event_id"] in ids else "(generated)"
            key = (pixel, e["event_name"], given)
            seen[key] += 1
            out[(*key, seen[key])] = e
        return out

    before, after = keyed(old), keyed(new)
    out: dict[str, Any] = defaultdict(lambda: {"now": 0, "gone": 0, "fields": defaultdict(Counter)})
    for key in before.keys() | after.keys():
        rule = owners[key[1]]
        if key not in before:
            out[rule]["now"] += 1
            continue
        if key not in after:
            out[rule]["gone"] += 1
            continue
        a, b = _flat(before[key]), _flat(after[key])
        for field in a.keys() | b.keys():
            if field not in a:
                out[rule]["fields"][field]["gained"] += 1
            elif field not in b:
                out[rule]["fields"][field]["lost"] += 1
            elif a[field] != b[field]:
                out[rule]["fields"][field]["changed"] += 1
    return {r: v for r, v in out.items() if v["now"] or v["gone"] or v["fields"]}


@pytest.fixture(scope="module")
def shadow_report(changed: Path) -> dict[str, Any]:
    return report_json(str(changed), "--baseline", str(STOREFRONT), "--events", str(EVENTS))


def test_exactly_the_changed_rules_and_fields(changed: Path, shadow_report: dict[str, Any]) -> None:
    data = shadow_report
    old = dry_run([str(STOREFRONT), "--events", str(EVENTS)])
    new = dry_run([str(changed), "--events", str(EVENTS)])
    expected = expected_changes(old, new, rule_of_event_name(STOREFRONT))
    assert set(expected) == {
        "MetaConversion_Search",
        "MetaConversion_Purchase",
        "MetaConversion_Subscribe",
    }
    shadow = data["shadow"]
    got = {r["rule"]: r for r in shadow["rules"]}
    assert set(got) == set(expected)
    for name, want in expected.items():
        rule = got[name]
        assert (rule["now_sent"], rule["no_longer_sent"]) == (want["now"], want["gone"]), name
        fields = {
            f["field"]: Counter({k: f[k] for k in ("gained", "lost", "changed") if f[k]})
            for f in rule["fields"]
        }
        assert fields == dict(want["fields"]), name
        assert rule["source"] == "changed"
    assert got["MetaConversion_Search"]["source_changes"] == [
        "send Search -> shop: user_data.em (changed)"
    ]
    assert got["MetaConversion_Subscribe"]["no_longer_sent_because"] == {
        "the rule no longer matches": 6
    }
    example = next(f for f in got["MetaConversion_Purchase"]["fields"])["example"]
    assert len(example["old"]) == len(example["new"]) == 8 and example["old"] != example["new"]
    # edited, but the same events go out: listed apart
    assert shadow["source_only"] == [
        {
            "rule": "MetaConversion_PageView",
            "source": "changed",
            "source_changes": ["condition (changed)"],
        }
    ]
    totals = shadow["totals"]
    assert totals["rules_changed"] == 3 and totals["no_longer_sent"] == 6
    assert data["baseline"]["totals"]["sent"] == len(old.events)
    assert data["totals"]["sent"] == len(new.events)


def test_gates_on_the_change_set_the_exit_status(
    changed: Path, shadow_report: dict[str, Any]
) -> None:
    base = shadow_report
    drop = base["metrics"]["coverage.em"] - base["baseline"]["metrics"]["coverage.em"]
    assert drop < -1
    args = [str(changed), "--baseline", str(STOREFRONT), "--events", str(EVENTS)]
    passed = report(*args, "--fail-on", f"change.coverage.em<{drop - 1:.2f}", "-o", "/dev/null")
    assert passed.exit_code == 0, passed.stderr
    failed = report(
        *args,
        "--output-format",
        "json",
        "--fail-on",
        f"change.coverage.em<{drop + 0.5:.2f}",
        "--fail-on",
        "shadow.no_longer_sent>0",
        "--fail-on",
        "change.sent>=0",
    )
    assert failed.exit_code == 1
    gates = json.loads(failed.stdout)["gates"]
    assert [g["failed"] for g in gates] == [True, True, False]
    assert gates[1]["value"] == 6 and gates[2]["value"] == -6
    assert "gate failed: change.coverage.em<" in failed.stderr


def test_no_change_against_its_own_bundle(tmp_path: Path) -> None:
    built = CliRunner().invoke(
        cli, ["build", str(STOREFRONT), "--env", "development", "-o", str(tmp_path)]
    )
    assert built.exit_code == 0, built.stderr
    data = report_json(
        str(STOREFRONT),
        "--baseline",
        built.stdout.strip(),
        "--events",
        str(EVENTS),
        "--fail-on",
        "shadow.rules_changed>0",
    )
    shadow = data["shadow"]
    assert shadow["rules"] == [] and shadow["source_only"] == []
    assert all(v == 0 for k, v in shadow["totals"].items() if k != "events_compared")
    assert data["baseline"]["totals"] == data["totals"]
    assert json.dumps(data["gates"]) == json.dumps(
        [{"gate": "shadow.rules_changed>0", "value": 0.0, "failed": False}]
    )
