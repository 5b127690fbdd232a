"""`capic lsp` from the command line: without pygls it says what to install; the latency
benchmark runs and prints its ratio (speed is never asserted here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_without_pygls_it_says_what_to_install(tmp_path: Path) -> None:
    # A package named like pygls that fails to import stands in for "not installed".
    fake = tmp_path / "pygls"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('not installed (test)', name='pygls')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "capic", "lsp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "pip install 'capic[lsp]'" in proc.stderr and "Traceback" not in proc.stderr


def test_latency_benchmark_runs_and_prints_its_ratio() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "lsp_latency.py"),
            "--files",
            "5",
            "--changes",
            "2",
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
    assert re.fullmatch(r"ratio=\d+\.\d+", lines[-1])
