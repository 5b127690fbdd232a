"""What ``samples/storefront`` sends for its recorded events, with a fixed clock: a golden file.

The dry run of the sample (``capic run --dry-run``) prints the server events the rules send
for ``events.jsonl``; this test records them through the documented API (the compiled
module's ``process`` with a fixed clock and a fixed ``uuid()``), one line per input line that
sends something, plus the counters a run summary prints (events, unmatched, emitted,
rejected, invalid values). Rule names and rule order are not part of it: the golden says what
reaches Meta, so a rewrite of the rules that sends the same events leaves it unchanged.
``CAPIC_UPDATE_GOLDEN=1`` regenerates it (only for intended changes of what is sent).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from capic import api
from capic.runtime.context import Context
from tests.conftest import REPO, SAMPLES, assert_golden

STOREFRONT = SAMPLES / "storefront"
GOLDEN = REPO / "tests" / "golden" / "samples"
#: 2026-03-03T18:00:00Z: after the newest recorded event, within Meta's 7 days of all.
NOW = 1772560800.0
UUID = "00000000000040008000000000000001"


def dry_run(environment: str) -> str:
    result = api.load_project(STOREFRONT, use_cache=False)
    assert result.ok and result.project is not None, result.diagnostics
    module = api.load_compiled(api.compile_project(result.project, environment))
    context = Context(now=lambda: NOW, uuid=lambda: UUID)
    out: list[str] = []
    lines = (STOREFRONT / "events.jsonl").read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        envelope = json.loads(line)
        emitted = module.process(envelope["event"], envelope.get("request"), context=context)
        sent: list[dict[str, Any]] = [
            {"pixel": e.pixel, "test_event_code": e.test_event_code, "event": e.event}
            for e in emitted
        ]
        if sent:
            sent.sort(key=lambda s: json.dumps(s, sort_keys=True))
            out.append(json.dumps({"line": n, "sent": sent}, ensure_ascii=False))
    stats = context.stats
    summary = {
        "events": stats.events,
        "unmatched": stats.unmatched,
        "emitted": stats.emitted,
        "rejected": dict(sorted(stats.rejected.items())),
        "invalid_values": dict(sorted(stats.invalid_values.items())),
    }
    out.append(json.dumps({"summary": summary}))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("environment", ["development", "production"])
def test_storefront_sends_what_the_golden_says(environment: str) -> None:
    # The environments differ in destinations (dataset, test event code), not in events.
    assert_golden(GOLDEN / "storefront.jsonl", dry_run(environment))


def test_the_golden_covers_every_kind_of_event() -> None:
    text = (GOLDEN / "storefront.jsonl").read_text(encoding="utf-8")
    for name in (
        "PageView",
        "ViewContent",
        "Search",
        "AddToCart",
        "InitiateCheckout",
        "AddPaymentInfo",
        "Purchase",
        "Lead",
        "CompleteRegistration",
        "Subscribe",
    ):
        assert f'"event_name": "{name}"' in text, name
    summary = json.loads(text.splitlines()[-1])["summary"]
    assert summary["events"] == 444 and summary["emitted"] > 300
