"""Scale-out speed (issue 14): delivered events/s for 1, 2 and 4 ``capic worker`` processes.

A real ``redis-server`` (append-only file on, ``appendfsync everysec``) and the Graph API
emulator answering every request after ``--latency`` seconds (100 ms: Meta's order of
magnitude) stand in for production. Each worker has one request in flight
(``--concurrency 1``) and a fixed batch size (``--batch``), so one worker delivers at most
``batch / latency`` events/s and the figure says how well workers add up. For each count the
workers start idle, a burst of ``--events`` events is appended to 8 partition streams in one
go, and the clock runs until the group's lag and pending are drained (every event deleted from
the streams after Meta's answer): that time is the "lag drained after a burst" figure, and
``events / time`` the delivered events/s. The CPU time the emulator and Redis used during the
drain is printed beside it (percent of one core), so a saturated stand-in is visible.

    .venv/bin/python benchmarks/scale.py [--events 6000] [--batch 100] [--latency 0.1]

The machine is shared (2 cores, several agents): the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

import _common

ROOT = Path(__file__).resolve().parent.parent
CAPIC = [sys.executable, "-m", "capic"]
TOKEN = _common.BENCH_TOKEN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPIC_")}
    env.update(PYTHONPATH=str(ROOT / "compiler"), BENCH_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
    return env


@contextlib.contextmanager
def _redis(tmp: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (scripts/setup-system.sh installs it)")
    port = _free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp)]
    argv += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()
    try:
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def _emulator(latency: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    argv = ["nice", "-n", "5", *CAPIC, "emulator", "--token", TOKEN, "--latency", str(latency)]
    argv += ["--keep", "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    try:
        yield line.split("listening on ", 1)[1].strip(), proc
    finally:
        proc.terminate()
        proc.wait(10)


def _items(n: int, tag: str) -> list[Any]:
    from capic.runtime.delivery import Destination, QueueItem
    from capic.runtime.secrets import SecretRef

    dest = Destination(_common.PIXEL_ID, _common.API_VERSION, SecretRef.env("BENCH_TOKEN"))
    now = int(time.time())
    out = []
    for i in range(n):
        event_id = f"{tag}-{i}"
        body = {
            "event_name": "Purchase",
            "event_time": now,
            "action_source": "website",
            "event_id": event_id,
            "event_source_url": "https://shop.example/checkout",
            "user_data": {
                "em": hashlib.sha256(f"user{i}@example.com".encode()).hexdigest(),
                "client_ip_address": "203.0.113.7",
                "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            },
            "custom_data": {"currency": "USD", "value": 10 + i % 90},
        }
        out.append(QueueItem(dest, orjson.dumps(body), event_id))
    return out


def measure(url: str, emulator: str, emu_pid: int, redis_pid: int, workers: int,
            args: argparse.Namespace) -> dict[str, float]:  # fmt: skip
    from capic.queue import Namespace, QueueURL
    from capic.queue.connection import connect
    from capic.queue.producer import RedisProducer, register

    ns = Namespace(f"bench{workers}", "bench", 8)
    client = connect(QueueURL.parse(url))
    register(client, ns, url)
    producer = RedisProducer(client, ns, where=url)
    argv = [*CAPIC, "worker", "--queue", url, "--group", "bench", "--endpoint", emulator]
    argv += ["--only", ns.name, "--max-batch", str(args.batch), "--max-age", "0.05"]
    argv += ["--concurrency", "1"]
    procs = [
        subprocess.Popen([*argv, "--consumer", f"w{n}"], env=_env(), stderr=subprocess.DEVNULL)
        for n in range(workers)
    ]
    try:
        # The workers start (imports, group) before the burst: wait until each has read once.
        deadline = time.monotonic() + 120
        while not client.exists(ns.stream(0)) or (
            len(client.xinfo_consumers(ns.stream(0), "bench")) < workers
        ):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("the workers did not start")
            time.sleep(0.05)
        items = _items(args.events, ns.name)
        cpu = (_cpu_seconds(emu_pid), _cpu_seconds(redis_pid))
        started = time.monotonic()
        for start in range(0, len(items), 1000):
            producer.append(items[start : start + 1000])
        appended = time.monotonic() - started
        while producer.depth() > 0:
            time.sleep(0.01)
        seconds = time.monotonic() - started
        used = (_cpu_seconds(emu_pid) - cpu[0], _cpu_seconds(redis_pid) - cpu[1])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        client.close()
    return {
        "workers": workers,
        "seconds": seconds,
        "appended": appended,
        "events_per_s": args.events / seconds,
        "emulator_cpu": 100 * used[0] / seconds,
        "redis_cpu": 100 * used[1] / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6000, help="events per burst")
    parser.add_argument("--batch", type=int, default=100, help="events per Graph API request")
    parser.add_argument("--latency", type=float, default=0.1, help="emulator answer time (s)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(_common.machine_line())
    print(
        f"{args.events:,} events per burst, batches of {args.batch}, one request in flight per "
        f"worker, emulator answering after {args.latency * 1000:.0f} ms, 8 partitions"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="capic-scale-") as tmp, _redis(Path(tmp)) as (
        url,
        redis_proc,
    ), _emulator(args.latency) as (emulator, emu_proc):  # fmt: skip
        for workers in counts:
            result = measure(url, emulator, emu_proc.pid, redis_proc.pid, workers, args)
            results.append(result)
            ceiling = workers * args.batch / args.latency
            print(
                f"{workers} worker(s): {result['events_per_s']:,.0f} events/s "
                f"(ceiling {ceiling:,.0f}), burst drained in {result['seconds']:.2f} s "
                f"(appended in {result['appended']:.2f} s); CPU: emulator "
                f"{result['emulator_cpu']:.0f}%, redis {result['redis_cpu']:.0f}%"
            )
    base = results[0]["events_per_s"]
    for result in results[1:]:
        print(
            f"speed-up with {result['workers']:.0f} workers: {result['events_per_s'] / base:.2f}x"
        )
    print(f"load average after: {_common.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
