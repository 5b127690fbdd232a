"""What capic 0.1.0 wrote (tests/data/upgrade) still works under this version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO
from tests.test_bundle import invoke

UPGRADE = REPO / "tests" / "data" / "upgrade"
BUNDLE = UPGRADE / "storefront-production-0.1.0.tar.gz"
PUBLIC_KEY = UPGRADE / "storefront-production-0.1.0.pub"


def test_a_0_1_0_bundle_verifies_with_its_key(tmp_path: Path) -> None:
    result = invoke(["verify", str(BUNDLE), "--key", str(PUBLIC_KEY)])
    assert result.exit_code == 0, result.output


def test_a_0_1_0_bundle_still_runs(tmp_path: Path) -> None:
    bundle = shutil.copy(BUNDLE, tmp_path / BUNDLE.name)
    events = REPO / "samples" / "storefront" / "events.jsonl"
    result = invoke(
        ["run", "--bundle", str(bundle), "--events", str(events), "--dry-run", "--rebase-time"]
    )
    assert result.exit_code in (0, 1), result.output
    requests = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    sent = [event for request in requests for event in request["body"]["data"]]
    assert len(sent) == 434
    assert all(len(v) == 64 for e in sent for k, v in e["user_data"].items() if k == "em")
