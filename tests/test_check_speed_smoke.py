"""Smoke test of `benchmarks/check_speed.py --one-file`: it runs and prints its ratio lines.
Speed is never asserted here (docs/performance.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_one_file_measurement_runs_and_prints_its_ratios() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "check_speed.py"),
            "--one-file",
            "--repeat",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "load average" in lines[0]
    assert re.fullmatch(r"ratio_unchanged=\d+\.\d+", lines[-2])
    assert re.fullmatch(r"ratio_edited=\d+\.\d+", lines[-1])
