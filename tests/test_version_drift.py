"""Graph API version drift at run time: a deprecated version ((#2635)) dead-letters its events
at once (never retried, never bisected) and an auto-upgraded one (X-Ad-Api-Version-Warning)
delivers; both are counted in the run summary and serve's metrics and logged once per pixel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner, Result

from capic.cli import cli
from capic.emulator import VersionSignals, start
from tests.conftest import SAMPLES
from tests.serve_harness import build_bundle, emulator, purchase, service

SAMPLE = SAMPLES / "offline-store"
TOKEN = "EAAGversionTOKEN0123456789abcdef"
PIXELS = ("5678901234567890", "5678901234567891")


def run_sample(url: str, tmp_path: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "run",
            str(SAMPLE),
            "--env",
            "production",
            "--events",
            str(SAMPLE / "events.jsonl"),
            "--endpoint",
            url,
            "--rebase-time",
            "--outbox",
            str(tmp_path / "out.sqlite"),
            *extra,
        ],
        env={"META_CAPI_TOKEN": TOKEN},
        catch_exceptions=False,
    )


def summary(result: Result) -> dict[str, Any]:
    data = orjson.loads(result.stderr.strip().splitlines()[-1])
    assert isinstance(data, dict)
    return data


def test_a_deprecated_version_is_dead_lettered_at_once_and_reported(tmp_path: Path) -> None:
    with start(token=TOKEN, versions=VersionSignals.of(deprecated=["v25.0"])) as emu:
        result = run_sample(emu.url, tmp_path, "--summary-format", "json")
        requests = emu.stats()["requests"]
    data = summary(result)
    assert result.exit_code == 1
    delivery = data["delivery"]
    # One request per pixel: no retry, no bisection of the batch.
    assert requests == delivery["requests"] == 2
    assert delivery["retried"] == delivery["bisections"] == 0
    assert delivery["dead_lettered"] == 47 and delivery["rejected_by_reason"] == {"2635": 47}
    signals = {s["pixel_id"]: s for s in delivery["version_signals"]}
    assert set(signals) == set(PIXELS)
    assert {s["kind"] for s in signals.values()} == {"deprecated"}
    assert signals[PIXELS[1]]["events"] == 35 and signals[PIXELS[1]]["requests"] == 1
    assert "latest version: v25.0" in signals[PIXELS[1]]["message"]
    for pixel in PIXELS:
        line = f"pixel {pixel}: Graph API v25.0 is deprecated ((#2635) You are calling"
        assert result.stderr.count(line) == 1
    assert "dead-lettered, not retried: set api_version" in result.stderr
    assert TOKEN not in result.stderr


def test_an_upgraded_version_delivers_and_is_reported_once(tmp_path: Path) -> None:
    with start(token=TOKEN, versions=VersionSignals.of(upgraded=["v25.0"])) as emu:
        result = run_sample(emu.url, tmp_path)
        received = len(emu.received())
    assert received == 47
    assert result.exit_code == 1  # the one late attribution credit, nothing else
    text = result.stderr
    for pixel in PIXELS:
        assert text.count(f"pixel {pixel}: Meta upgraded calls to Graph API v25.0") == 1
    assert (
        f"  Graph API v25.0 for pixel {PIXELS[1]} upgraded by Meta (X-Ad-Api-Version-Warning): "
        "set api_version (1 request, 35 events)"
    ) in text.splitlines()


def test_serve_counts_version_signals_in_its_metrics(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path)
    with emulator(tmp_path, "--upgraded-version", "v25.0") as emu:
        args = [
            "--bundle", str(bundle), "--env", "production", "--endpoint", emu.url,
            "--outbox", str(tmp_path / "outbox.sqlite"), "--max-age", "0.05",
        ]  # fmt: skip
        with service(tmp_path, args) as svc:
            for i in range(3):
                assert svc.post("/v1/events", purchase(i)).status_code == 202
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(emu.received()) < 3:
                time.sleep(0.05)
            metrics = svc.metrics()
            svc.stop()
            output = svc.output()
    lines = [
        line
        for line in metrics.splitlines()
        if line.startswith("capic_graph_api_version_signals_total{")
    ]
    assert len(lines) == 1, metrics
    assert 'api_version="v25.0"' in lines[0] and 'kind="upgraded"' in lines[0]
    assert float(lines[0].rsplit(" ", 1)[1]) >= 1
    assert output.count("Meta upgraded calls to Graph API v25.0") == 1
