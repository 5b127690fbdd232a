"""`capic check --watch` as a real process: it checks, checks again when a rule file, a new
file or the configuration changes, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.test_check_cli import BAD_RULE, GOOD_RULE, PIXEL, project

pytestmark = pytest.mark.slow


class Watcher:
    def __init__(self, root: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "capic", "check", "--watch", "--output-format", "concise"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate: str, timeout: float = 20.0) -> list[str]:
        """The lines up to and including the first that contains ``predicate``."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(line)
            if predicate in line:
                return seen
        raise AssertionError(f"no line with {predicate!r} within {timeout} s; got {seen}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)


def test_watch_checks_again_on_every_change(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"a.capi": PIXEL + GOOD_RULE})
    watcher = Watcher(root)
    try:
        # Clean: nothing but the header and the status line.
        assert len(watcher.until("Watching for changes")) == 2
        (root / "a.capi").write_text(PIXEL + BAD_RULE)
        seen = watcher.until("Found 1 diagnostic")
        assert any("File change detected" in line for line in seen)
        assert any(line.startswith("a.capi:") and "L001" in line for line in seen)
        # A new file is picked up.
        (root / "b.capi").write_text("element spare = event.x\n")
        seen = watcher.until("Found 2 diagnostics")
        assert any(line.startswith("b.capi:1:") and "H001" in line for line in seen)
        # So is a configuration change.
        (root / "capic.toml").write_text('[project]\nname = "p"\n[lint]\nignore = ["L001"]\n')
        seen = watcher.until("Found 1 diagnostic")
        assert not any("L001" in line for line in seen)
        assert any("H001" in line for line in seen)
    finally:
        code = watcher.stop()
    assert code == 0
