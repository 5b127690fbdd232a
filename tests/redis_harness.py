"""A real ``redis-server`` for the queue tests: started on a free port of 127.0.0.1 in a
temporary directory with the append-only file on, stopped afterwards (or killed and started
again by the tests that need it). No mocks or fakes: with ``CI=true`` a missing
``redis-server`` fails the test (``require_tool``). Imported explicitly, not a conftest."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import require_tool

_names = itertools.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    directory: Path
    fsync: str = "everysec"
    #: Extra server settings, e.g. ``["--appendonly", "no"]`` (the later one wins).
    extra: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> RedisServer:
        binary = require_tool("redis-server", "the Redis queue tests run a real server")
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.directory), "--save", "", "--daemonize", "no"]
        argv += ["--appendonly", "yes", "--appendfsync", self.fsync, "--loglevel", "warning"]
        argv += self.extra
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log)
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"redis-server exited with {self.proc.returncode}: "
                    + (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        raise AssertionError(f"redis-server on port {self.port} not ready after {timeout} s")

    def kill(self) -> None:
        """``kill -9``: what was acknowledged survives through the append-only file."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=10)


@contextlib.contextmanager
def redis_server(
    tmp: Path, *, fsync: str = "everysec", extra: list[str] | None = None
) -> Iterator[RedisServer]:
    server = RedisServer(tmp / f"redis-{next(_names)}-{os.getpid()}", fsync, list(extra or []))
    server.start()
    try:
        yield server
    finally:
        server.stop()
