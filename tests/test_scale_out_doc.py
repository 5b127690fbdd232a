"""docs/scale-out.md section 3, run as written: Redis, a scaffolded project, the emulator, two
serve nodes and two workers on one machine, then an order to each node, delivered. Only the
ports are changed (to free ones) so that the test runs next to anything else."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, require_tool
from tests.queue_harness import wait_until
from tests.redis_harness import free_port
from tests.serve_harness import base_env

pytestmark = pytest.mark.slow

DOC = REPO / "docs" / "scale-out.md"
PORTS = ("6379", "8099", "8080", "8081", "9090", "9091", "9101", "9102")


def _blocks() -> list[str]:
    text = DOC.read_text()
    section = text.split("## 3. Try it on one machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_guide_runs_two_serve_nodes_and_two_workers(tmp_path: Path) -> None:
    require_tool("redis-server", "the guide starts a real Redis")
    start, send = _blocks()
    ports = {port: str(free_port()) for port in PORTS}

    def local(script: str) -> str:
        return re.sub(r"\b(" + "|".join(PORTS) + r")\b", lambda m: ports[m.group(1)], script)

    exports = "\n".join(line for line in start.splitlines() if line.startswith("export "))
    env = base_env(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("META_CAPI_TOKEN")
    (tmp_path / "start.sh").write_text("set -e\n" + local(start))
    (tmp_path / "send.sh").write_text("set -e\n" + local(exports + "\n" + send))
    log = (tmp_path / "start.log").open("wb")
    launcher = subprocess.Popen(
        ["bash", "start.sh"], cwd=tmp_path, env=env, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert launcher.wait(180) == 0, (tmp_path / "start.log").read_text()
        for admin in (ports["9090"], ports["9091"]):
            wait_until(
                lambda a=admin: (
                    httpx.get(f"http://127.0.0.1:{a}/readyz", timeout=2).json()["status"] == "ready"
                ),
                60,
                f"serve node on {admin}",
            )
        for metrics in (ports["9101"], ports["9102"]):
            wait_until(
                lambda m=metrics: httpx.get(f"http://127.0.0.1:{m}/metrics", timeout=2).is_success,
                60,
                f"worker metrics on {metrics}",
            )
        done = subprocess.run(
            ["bash", "send.sh"], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.count('"accepted":1') == 2, done.stdout
        assert "shop:production:" in done.stdout
        emulator = f"http://127.0.0.1:{ports['8099']}/_emulator/events"
        wanted = {f"ord-{ports['8080']}", f"ord-{ports['8081']}"}
        wait_until(
            lambda: wanted <= {e["event"]["event_id"] for e in httpx.get(emulator).json()},
            60,
            "both orders delivered",
        )
    finally:
        log.close()
        _stop_group(launcher.pid)


def _stop_group(pgid: int) -> None:
    """SIGTERM to everything the guide started (its own process group), as `kill $(jobs -p)`
    would; SIGKILL what is left after 30 s."""
    os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
