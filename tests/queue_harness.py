"""Real processes for the scale-out tests: ``capic worker`` subprocesses next to the serve
nodes and emulator of tests/serve_harness.py and the redis-server of tests/redis_harness.py.
Imported explicitly by the test modules, not a conftest."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.serve_harness import CAPIC, Service, base_env, purchase


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            result = check()
            if result:
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not after {timeout} s: {what}")
        time.sleep(0.05)


@dataclass
class Worker:
    """One ``capic worker`` process; its stderr is a file (greppable afterwards)."""

    name: str
    args: list[str]
    env: dict[str, str]
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"worker-{self.name}-{self.runs}.err"

    def start(self, *, timeout: float = 30.0) -> Worker:
        self.runs += 1
        argv = [*CAPIC, "worker", "--consumer", self.name, "--metrics-port", "0", *self.args]
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=err, env=self.env, cwd=self.workdir
            )
        wait_until(lambda: self.metrics_url or self._dead(), timeout, f"worker {self.name} up")
        return self

    def _dead(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"worker {self.name} exited:\n{self.log.read_text()}")
        return False

    @property
    def metrics_url(self) -> str | None:
        found = re.search(r"metrics on (http://\S+)", self.log.read_text(errors="replace"))
        return found.group(1) if found else None

    def metric(self, name: str) -> float:
        """The sum of every sample of ``name`` on the worker's metrics endpoint."""
        assert self.metrics_url is not None
        text = httpx.get(self.metrics_url, timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                head = line.split(" ")[0]
                if head == name or head.startswith(name + "{"):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def kill(self) -> None:
        """``kill -9``."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else 0
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def output(self) -> str:
        return "".join(
            p.read_text(errors="replace")
            for p in sorted(self.workdir.glob(f"worker-{self.name}-*.err"))
        )


@contextlib.contextmanager
def workers(
    tmp: Path, names: list[str], args: list[str], *, env: Mapping[str, str] | None = None
) -> Iterator[list[Worker]]:
    started = [Worker(name, list(args), base_env(**(env or {})), tmp) for name in names]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()


def node(tmp: Path, name: str, args: list[str], env: Mapping[str, str] | None = None) -> Service:
    """A serve node in its own directory (its own outbox, logs and ports)."""
    workdir = tmp / name
    workdir.mkdir(parents=True, exist_ok=True)
    return Service(list(args), base_env(**(env or {})), workdir)


def post(svc: Service, numbers: range | list[int]) -> set[str]:
    """Post Purchases ``p-<n>``; the event ids the node accepted (202)."""
    reply = svc.post("/v1/events", [purchase(n) for n in numbers])
    if reply.status_code != 202:
        return set()
    assert reply.json()["accepted"] == len(numbers), reply.text
    return {f"p-{n}" for n in numbers}
