"""What capic 0.1.0 wrote (tests/data/upgrade) still works under this version."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

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


def test_a_0_1_0_outbox_delivers_under_this_version(tmp_path: Path) -> None:
    """434 pending events written by 0.1.0, event times on 2026-12-02 between 06:05 and 09:44
    UTC: an emulator whose clock is fixed at 10:00 that day (``--now``) accepts them."""
    outbox = shutil.copy(UPGRADE / "outbox-0.1.0.sqlite", tmp_path / "old.sqlite")
    env = dict(os.environ, META_CAPI_TOKEN="upgrade-token", PYTHONPATH=str(REPO / "compiler"))
    capic = [sys.executable, "-m", "capic"]
    emulator = subprocess.Popen(
        [*capic, "emulator", "--token", "upgrade-token", "--now", "2026-12-02T10:00:00Z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().split()[-1]
        replay = subprocess.run(
            [*capic, "outbox", "replay", str(outbox), "--endpoint", url, "--output-format", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert replay.returncode == 0, replay.stdout + replay.stderr
        stats = json.loads(replay.stdout)
        assert (stats["recovered"], stats["sent"], stats["dead_lettered"]) == (434, 434, 0)
        with httpx.Client() as http:
            received = http.get(f"{url}/_emulator/events").json()
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert len(received) == 434
    with sqlite3.connect(UPGRADE / "outbox-0.1.0.sqlite") as old:
        stored = Counter(
            row[0] for row in old.execute("SELECT event_id FROM outbox WHERE event_id IS NOT NULL")
        )
        without = old.execute("SELECT COUNT(*) FROM outbox WHERE event_id IS NULL").fetchone()[0]
    ids = Counter(r["event"]["event_id"] for r in received)
    generated = {i for i in ids if i not in stored}
    # The ids 0.1.0 stored arrive as stored; each event stored without one got its own.
    assert {i: n for i, n in ids.items() if i in stored} == stored
    assert len(generated) == without > 0 and all(ids[i] == 1 for i in generated)
