"""Real processes for the ``capic serve`` tests: the Graph API emulator and the service, each a
``capic`` subprocess on 127.0.0.1 with free ports, talked to over real HTTP (no in-process
test client). Imported explicitly by the test modules, not a conftest."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "serve"
SHOP = DATA / "shop"
#: Tokens tests grep for wherever they must never appear.
ACCESS_TOKEN = "EAAGserveTESTtokenValue0123456789abcXYZ"
INGEST_TOKEN = "ingest-Canary-7f3a9c41d2e8b6a05f1e"
CAPIC = [sys.executable, "-m", "capic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("CAPIC_") and key not in ("CAPIC_NO_COLOR",):
            env.pop(key)
    env.update(
        META_CAPI_TOKEN=ACCESS_TOKEN,
        SHOP_INGEST_TOKEN=INGEST_TOKEN,
        PYTHONPATH=str(REPO / "compiler"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _wait_for(check: Any, timeout: float, what: str, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not ready after {timeout} s")


@dataclass
class Emulator:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def received(self) -> list[dict[str, Any]]:
        reply = httpx.get(f"{self.url}/_emulator/events", timeout=10)
        reply.raise_for_status()
        data = reply.json()
        assert isinstance(data, list)
        return data

    def event_ids(self) -> list[str]:
        return [item["event"]["event_id"] for item in self.received()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def emulator(tmp: Path, *args: str) -> Iterator[Emulator]:
    log = tmp / "emulator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CAPIC, "emulator", "--port", "0", "--token", ACCESS_TOKEN, *args],
            stdout=subprocess.PIPE,
            stderr=out,
            env=base_env(),
        )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert "listening on " in line, line
    emu = Emulator(proc, line.split("listening on ", 1)[1].strip(), log)
    try:
        yield emu
    finally:
        emu.stop()
        proc.stdout.close()


@dataclass
class Service:
    """One ``capic serve`` process; ``stdout``/``stderr`` are files (greppable afterwards)."""

    args: list[str]
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def stdout(self) -> Path:
        return self.workdir / f"serve-{self.runs}.out"

    @property
    def stderr(self) -> Path:
        return self.workdir / f"serve-{self.runs}.err"

    def start(self, *, wait: bool = True, timeout: float = 30.0) -> Service:
        self.runs += 1
        argv = [
            *CAPIC, "serve", *self.args,
            "--port", str(self.port), "--admin-port", str(self.admin_port),
        ]  # fmt: skip
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=err, env=self.env, cwd=self.workdir
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            return httpx.get(f"{self.admin}/readyz", timeout=2).status_code == 200

        try:
            _wait_for(ready, timeout, "capic serve", self.proc)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nstderr:\n{self.stderr.read_text()}") from None

    def exit_code(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else 0
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def output(self) -> str:
        """Everything every run of the process wrote."""
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.workdir.glob("serve-*.*"))
        )

    def post(
        self, path: str, body: Any, *, headers: Mapping[str, str] | None = None, token: bool = True
    ) -> httpx.Response:
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        sent = {"content-type": "application/json", **(headers or {})}
        if token and path == "/v1/events":
            sent.setdefault("authorization", f"Bearer {INGEST_TOKEN}")
        return httpx.post(f"{self.url}{path}", content=data, headers=sent, timeout=30)

    def metrics(self) -> str:
        return httpx.get(f"{self.admin}/metrics", timeout=10).text


@contextlib.contextmanager
def service(
    tmp: Path, args: list[str], *, env: Mapping[str, str] | None = None, start: bool = True
) -> Iterator[Service]:
    svc = Service(list(args), base_env(**(env or {})), tmp)
    try:
        if start:
            svc.start()
        yield svc
    finally:
        svc.stop()


_BUILT: dict[str, Path] = {}


def build_bundle(tmp: Path, environment: str = "production", project: Path = SHOP) -> Path:
    """The bundle of ``project`` for ``environment``, built through the CLI as a deployment
    builds it. The unchanged shop is built once per test process (bundles are reproducible);
    each test gets its own copy."""
    if project == SHOP:
        built = _BUILT.get(environment)
        if built is None:
            built = _BUILT[environment] = _build(
                Path(tempfile.mkdtemp(prefix="capic-shop-")), environment, project
            )
        copy = tmp / built.name
        if not copy.exists():
            shutil.copy(built, copy)
        return copy
    return _build(tmp, environment, project)


def _build(tmp: Path, environment: str, project: Path) -> Path:
    out = tmp / f"dist-{environment}"
    done = subprocess.run(
        [*CAPIC, "build", str(project), "--env", environment, "-o", str(out)],
        capture_output=True,
        text=True,
        env=base_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def purchase(i: int, **extra: Any) -> dict[str, Any]:
    """A /v1/events envelope: a Purchase with event id ``p-<i>``."""
    event = {
        "name": "Purchase",
        "id": f"p-{i}",
        "value": 10 + i % 90,
        "url": "https://shop.example.com/checkout/done",
        "user": {"email": f"buyer{i}@example.com", "phone": "+1 650 555 0123"},
        **extra,
    }
    request = {
        "ip": "203.0.113.7",
        "headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"},
        "cookies": {"_fbp": "fb.1.1767225600123.1098765432"},
    }
    return {"event": event, "request": request}
