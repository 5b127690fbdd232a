"""``capic run`` under kill -9, resumed, and shared (issue 10, items 1 and 3): real processes
(capic run, capic emulator), real signals, real files."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import pytest

from capic.runtime.delivery import Outbox, OutboxError
from tests.conftest import REPO
from tests.test_run_cli import STOREFRONT, TOKEN, storefront_event, write_events

pytestmark = pytest.mark.slow

CAPIC = [sys.executable, "-m", "capic"]


def env() -> dict[str, str]:
    out = dict(os.environ, META_CAPI_TOKEN=TOKEN, PYTHONPATH=str(REPO / "compiler"))
    out.pop("CAPIC_UPDATE_GOLDEN", None)
    return out


class Emulator:
    """``capic emulator`` as its own process."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*CAPIC, "emulator", "--token", TOKEN, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"listening on (\S+)", line)
        assert match, line
        self.url = match.group(1)
        self.http = httpx.Client(timeout=10.0)

    def received(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.http.get(f"{self.url}/_emulator/events").json()
        return data

    def reset(self) -> None:
        self.http.post(f"{self.url}/_emulator/reset")

    def stop(self) -> None:
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.stop()


def capic(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPIC, *args], capture_output=True, text=True, env=env(), timeout=120, **kwargs
    )


def status(outbox: Path) -> dict[str, Any]:
    result = capic("outbox", "status", str(outbox), "--output-format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = orjson.loads(result.stdout)
    return data


def committed_lines(outbox: Path, kind: str = "stdin") -> int:
    """An input's committed count, read the way `capic outbox status` reads it."""
    if not outbox.exists():
        return 0
    try:
        with Outbox(outbox, create=False, readonly=True) as reader:
            streams = [i for i in reader.inputs() if i["kind"] == kind]
    except OutboxError:  # created but not set up yet
        return 0
    return int(streams[0]["lines"]) if streams else 0


def copies_by_id(received: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in received:
        out[item["event"]["event_id"]].append(item["event"])
    return out


def test_kill_9_of_a_stdin_run_loses_no_committed_line(emulator: Emulator, tmp_path: Path) -> None:
    """Three trials: a stream is piped in, capic run is killed at a random moment; every line
    up to the committed count it recorded is delivered after a replay, none is lost."""
    rng = random.Random(20261202)
    now = time.time()
    for trial in range(3):
        emulator.reset()
        outbox = tmp_path / f"outbox-{trial}.sqlite"
        proc = subprocess.Popen(
            [*CAPIC, "run", str(STOREFRONT), "--events", "-", "--endpoint", emulator.url,
             "--outbox", str(outbox), "--max-age", "0.2"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
        )  # fmt: skip
        assert proc.stdin is not None

        def feed(stdin: IO[bytes]) -> None:
            try:
                for i in range(100_000):
                    stdin.write(orjson.dumps(storefront_event(i, now)) + b"\n")
                    if i % 50 == 0:
                        stdin.flush()
                        time.sleep(0.005)
            except (BrokenPipeError, ValueError, OSError):
                pass  # killed: the pipe is gone

        writer = threading.Thread(target=feed, args=(proc.stdin,), daemon=True)
        writer.start()
        # However slow the machine, kill at a random moment of a run that is committing.
        deadline = time.monotonic() + 60
        while committed_lines(outbox) == 0:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        writer.join(timeout=10)
        [stream] = [i for i in status(outbox)["inputs"] if i["kind"] == "stdin"]
        committed = stream["lines"]
        assert committed > 0 and not stream["finished"]
        replay = capic("outbox", "replay", str(outbox), "--endpoint", emulator.url)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        arrived = copies_by_id(emulator.received())
        lost = [i for i in range(committed) if f"ev-{i}" not in arrived]
        print(
            f"trial {trial}: {committed} lines committed, {len(arrived)} delivered, lost {len(lost)}"
        )
        assert lost == []
        for copies in arrived.values():  # a duplicate is a retry of the very same event
            assert all(c == copies[0] for c in copies)


def test_a_killed_file_run_resumes_where_it_committed(emulator: Emulator, tmp_path: Path) -> None:
    n = 12_000
    events = write_events(tmp_path / "events.jsonl", n)
    outbox = tmp_path / "outbox.sqlite"
    args = ["run", str(STOREFRONT), "--events", str(events), "--endpoint", emulator.url,
            "--outbox", str(outbox), "--max-batch", "50"]  # fmt: skip
    proc = subprocess.Popen([*CAPIC, *args], stderr=subprocess.DEVNULL, env=env())
    deadline = time.monotonic() + 60
    checkpoint = 0
    while time.monotonic() < deadline and checkpoint < 1000:
        checkpoint = committed_lines(outbox, kind="file")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    [recorded] = [i for i in status(outbox)["inputs"] if i["kind"] == "file"]
    assert checkpoint >= 1000 and recorded["lines"] < n
    before = copies_by_id(emulator.received())
    again = capic(*args, "--summary-format", "json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming {events} after line" in again.stderr
    summary = orjson.loads(again.stderr.strip().splitlines()[-1])
    assert summary["resumed_from"] == recorded["lines"]
    assert summary["lines"] == n - recorded["lines"]  # nothing committed is read again
    assert summary["committed_lines"] == n
    arrived = copies_by_id(emulator.received())
    assert set(arrived) == {f"ev-{i}" for i in range(n)}
    duplicates = {k: len(v) for k, v in arrived.items() if len(v) > 1}
    for event_id in duplicates:  # only what was in flight at the kill, same id, same bytes
        copies = arrived[event_id]
        assert all(c == copies[0] for c in copies)
    assert len(duplicates) <= len(before)
    assert [i for i in status(outbox)["inputs"] if i["kind"] == "file"] == []  # finished


def test_from_start_reads_the_whole_file_again(emulator: Emulator, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", 20)
    outbox = tmp_path / "outbox.sqlite"
    args = ["run", str(STOREFRONT), "--events", str(events), "--endpoint", emulator.url,
            "--outbox", str(outbox), "--summary-format", "json"]  # fmt: skip
    first = capic(*args)
    assert first.returncode == 0, first.stderr
    again = capic(*args)  # a finished run leaves no checkpoint: the file is read again
    assert orjson.loads(again.stderr.strip().splitlines()[-1])["lines"] == 20
    forced = capic(*args, "--from-start")
    assert orjson.loads(forced.stderr.strip().splitlines()[-1])["lines"] == 20
    arrived = copies_by_id(emulator.received())
    # Re-runs of the same lines carry the same ids: Meta deduplicates them.
    assert set(arrived) == {f"ev-{i}" for i in range(20)}
    assert all(len(copies) == 3 for copies in arrived.values())


def test_two_runners_on_one_outbox(emulator: Emulator, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.sqlite"
    first = subprocess.Popen(
        [*CAPIC, "run", str(STOREFRONT), "--events", "-", "--endpoint", emulator.url,
         "--outbox", str(outbox)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{outbox}.lock").exists() or not outbox.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        events = write_events(tmp_path / "e.jsonl", 3)
        second = capic(
            "run", str(STOREFRONT), "--events", str(events), "--endpoint", emulator.url,
            "--outbox", str(outbox),
        )  # fmt: skip
        assert second.returncode == 2
        [line] = second.stderr.strip().splitlines()
        assert line.startswith("capic run: outbox ") and f"pid {first.pid}" in line
        assert "in use by" in line and "Traceback" not in second.stderr
        replay = capic("outbox", "replay", str(outbox), "--endpoint", emulator.url)
        assert replay.returncode == 2 and f"pid {first.pid}" in replay.stderr
        assert status(outbox)["pending"] == 0  # status reads while the run holds the outbox
    finally:
        assert first.stdin is not None
        first.stdin.close()
        first.wait(timeout=30)
    assert first.returncode == 0
