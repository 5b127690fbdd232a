"""No customer information, event id or token in a report: canary values (raw, normalized,
hashed as sent, and the plain hashes' prefixes) are searched for in the page, the JSON and the
command's own output, also for a shadow diff whose values changed."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from tests.report_oracle import dry_run
from tests.report_project import CANARY, write
from tests.test_report import report

TOKEN = "EAAGcanaryAccessToken0123456789"


def forbidden(project: Path, events: Path) -> set[str]:
    """Every way a canary could show: as written, lowercased, as sent (hashed user_data, the
    never-hashed keys, event ids), and the first 8 hex digits of plain SHA-256 digests."""
    values = set(CANARY.values()) | {v.lower() for v in CANARY.values()} | {TOKEN}
    oracle = dry_run([str(project), "--events", str(events)])
    for _, event in oracle.events:
        values.update(str(v) for v in event["user_data"].values())
        values.add(str(event["event_id"]))
    values = {v for v in values if len(v) >= 8}  # "C1" is in many a word
    digests = {hashlib.sha256(v.encode()).hexdigest() for v in values}
    return values | digests | {d[:8] for d in digests | values if re.fullmatch(r"[0-9a-f]{64}", d)}


def test_canaries_never_reach_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("META_CAPI_TOKEN", TOKEN)
    project, events = write(tmp_path)
    changed = tmp_path / "changed"
    shutil.copytree(project, changed)
    rules = changed / "rules.capi"
    text = rules.read_text(encoding="utf-8")
    text = text.replace("fn                = event.first", "fn                = event.last")
    text = text.replace("client_ip_address = request.ip", 'client_ip_address = "203.0.113.9"')
    rules.write_text(text, encoding="utf-8")
    bad = forbidden(project, events)
    assert len(bad) > 20
    outputs = []
    for fmt in ("html", "json"):
        result = report(
            str(changed),
            "--baseline",
            str(project),
            "--events",
            str(events),
            "--output-format",
            fmt,
            "--timings",
        )
        assert result.exit_code == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    page = outputs[0]
    assert "user_data.fn" in page and "user_data.client_ip_address" in page  # changes are shown
    for text in outputs:
        lowered = text.lower()
        leaked = sorted(v for v in bad if v.lower() in lowered)
        assert not leaked, leaked
