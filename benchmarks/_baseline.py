"""Another version of capic, timed in the same run: a helper process that imports it.

Two versions of the ``capic`` package cannot live in one process, so ``compare_sdk.py
--baseline REV`` exports the parent commit's ``compiler/``, ``schemas/`` and ``grammar/`` with
``git archive`` into a temporary directory (no worktree, nothing in the repository changes) and
starts ``compare_sdk.py --worker`` with that ``compiler/`` first on ``PYTHONPATH``. The worker
builds the same records (same generator, same seed), compiles the benchmark project with its
own capic, and answers one line per request on stdin/stdout:

- ``round <variant> <r>``: time one pass over the records of ``variant`` for round ``r`` (CPU
  and wall seconds of the worker process, collector paused as for every contender) ->
  ``<cpu> <wall>``;
- ``digest <variant> <r>``: SHA-256 of the user_data of every event it sends for those
  records -> ``<hex>``, to check that both versions send the same hashes.

The parent interleaves the worker's rounds with its own contenders, so both versions see the
same load over the same stretch of time.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
#: What a checkout of capic needs to import and compile (``capic.resources`` finds the grammar
#: and the schemas beside ``compiler/``).
_TREES = ("compiler", "schemas", "grammar")


def export(rev: str, dest: Path) -> Path:
    """Write ``rev``'s ``compiler/``, ``schemas/`` and ``grammar/`` into ``dest``; returns the
    directory to put on ``PYTHONPATH``. Raises ``RuntimeError`` with git's message."""
    proc = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, *_TREES],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip() or f"git archive {rev}")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "compiler"


def describe(rev: str) -> str:
    """``rev`` as a short commit id (``rev`` itself if git cannot say)."""
    proc = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or rev


class Worker:
    """The helper process (see the module docstring)."""

    def __init__(self, script: Path, pythonpath: Path, args: list[str]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p
        )
        self._proc = subprocess.Popen(
            [sys.executable, str(script), "--worker", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        #: First line of the worker: where its capic was imported from.
        self.origin = self._read()

    def _read(self) -> str:
        out: IO[str] | None = self._proc.stdout
        assert out is not None
        line = out.readline()
        if not line:
            code = self._proc.wait()
            raise RuntimeError(f"the baseline worker exited ({code}) before answering")
        return line.strip()

    def ask(self, request: str) -> str:
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(request + "\n")
        stdin.flush()
        return self._read()

    def round(self, request: str) -> tuple[float, float]:
        """Time one round (``request``: "<variant> <round>")."""
        cpu, wall = self.ask(f"round {request}").split()
        return float(cpu), float(wall)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
