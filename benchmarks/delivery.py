"""Delivery throughput and memory: ``capic run`` (the real CLI, in a subprocess) against the
local Graph API emulator, with batches of 1,000.

For each stream size it generates that many raw Purchase records as JSON Lines (untimed, in a
temporary directory), starts the emulator on 127.0.0.1 in this process, runs
``capic run PROJECT --env bench --events FILE --endpoint URL --max-batch 1000`` and reports
wall time, events/s, CPU time of capic and of the emulator, and capic's peak RSS (``ru_maxrss``
of the child from ``wait4``, the kernel's high-water mark, plus ``VmRSS`` samples taken while it
runs). Memory must stay flat as the stream grows: the peaks of all sizes are printed side by
side. Exit codes: 0 ok, 1 a run failed or the emulator did not receive every event.

    .venv/bin/python benchmarks/delivery.py [--events 100000,1000000] [--profile]
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

import _common

BATCH = 1000
SEED = 11


def capic_command() -> list[str]:
    """The real CLI: the venv's ``capic`` script next to this Python, else ``python -m capic``."""
    script = Path(sys.executable).with_name("capic")
    if script.exists():
        return [str(script)]
    found = shutil.which("capic")
    return [found] if found else [sys.executable, "-m", "capic"]


def write_events(path: Path, n: int) -> None:
    dumps = orjson.dumps
    with path.open("wb", buffering=1 << 20) as out:
        for record in _common.iter_records(n, SEED):
            out.write(dumps(record))
            out.write(b"\n")


class RssSampler(threading.Thread):
    """Samples ``VmRSS`` of a process every ``interval`` seconds while it lives."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self.hwm_kib = 0
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        status = Path(f"/proc/{self.pid}/status")
        while not self._halt.is_set():
            try:
                text = status.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.perf_counter() - start, int(line.split()[1])))
                elif line.startswith("VmHWM:"):
                    self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def at(self, fraction: float) -> int | None:
        """The RSS sample nearest to ``fraction`` of the run's duration (KiB)."""
        if not self.samples:
            return None
        end = self.samples[-1][0]
        return min(self.samples, key=lambda s: abs(s[0] - fraction * end))[1]


def run_once(
    n: int, events: Path, project: Path, workdir: Path, *, profile: Path | None
) -> dict[str, object]:
    from capic.emulator import start

    env = dict(os.environ)
    env[_common.TOKEN_ENV] = _common.BENCH_TOKEN
    env.pop("CAPIC_UPDATE_GOLDEN", None)
    workdir.mkdir(parents=True, exist_ok=True)
    stderr_path = workdir / "stderr.txt"
    stdout_path = workdir / "stdout.txt"
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    with start(token=_common.BENCH_TOKEN, keep=0) as emulator:
        if profile is None:
            cmd = capic_command()
        else:
            cmd = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "capic"]
        cmd += [
            "run",
            str(project),
            "--env",
            _common.ENVIRONMENT,
            "--events",
            str(events),
            "--endpoint",
            emulator.url,
            "--max-batch",
            str(BATCH),
            "--outbox",
            str(workdir / "outbox.sqlite"),
            "--summary-format",
            "json",
        ]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=err)
            sampler = RssSampler(proc.pid)
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            sampler.stop()
        stats = emulator.stats()
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    received = _received_count(stats)
    stderr_text = stderr_path.read_text(errors="replace")
    return {
        "n": n,
        "wall": wall,
        "rc": proc.returncode,
        "capic_cpu": usage.ru_utime + usage.ru_stime,
        "emulator_cpu": (self_after.ru_utime + self_after.ru_stime)
        - (self_before.ru_utime + self_before.ru_stime),
        "peak_kib": max(usage.ru_maxrss, sampler.hwm_kib),  # ru_maxrss is KiB on Linux
        "rss": [sampler.at(f) for f in (0.1, 0.5, 0.9)],
        "trajectory": [sampler.at(f / 10) for f in range(1, 11)],
        "received": received,
        "stats": stats,
        "summary": _summary(stderr_text),
        "stderr_tail": stderr_text.strip().splitlines()[-12:],
    }


def _summary(stderr_text: str) -> dict[str, object] | None:
    """The run's JSON summary (the last line of stderr that parses as a JSON object)."""
    for line in reversed(stderr_text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _received_count(stats: dict[str, object]) -> int | None:
    for key in ("events_received", "accepted", "received"):
        value = stats.get(key)
        if isinstance(value, int):
            return value
    return None


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        default="100000,1000000",
        help="comma-separated stream sizes (default 100000,1000000)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the smallest run and print hot spots"
    )
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s.replace("_", "")) for s in args.events.split(",") if s.strip()})
    except ValueError:
        parser.error("--events takes comma-separated integers")
    if not sizes or min(sizes) < 1:
        parser.error("--events needs positive sizes")

    print(_common.machine_line())
    print(f"capic run {' '.join(capic_command())} ... --max-batch {BATCH} against the emulator")
    tmp = Path(tempfile.mkdtemp(prefix="capic-delivery-")) if args.keep is None else args.keep
    results = []
    failed = False
    try:
        project = _common.write_project(tmp / "project")
        events = tmp / f"events-{max(sizes)}.jsonl"
        started = time.perf_counter()
        write_events(events, max(sizes))
        print(
            f"generated {max(sizes):,} events ({events.stat().st_size / 2**20:,.0f} MiB of JSON "
            f"Lines) in {time.perf_counter() - started:.1f}s (untimed)",
            flush=True,
        )
        for n in sizes:
            path = events
            if n != max(sizes):
                path = tmp / f"events-{n}.jsonl"
                with events.open("rb") as src, path.open("wb") as dst:
                    for i, line in enumerate(src):
                        if i >= n:
                            break
                        dst.write(line)
            prof = tmp / f"run-{n}.prof" if args.profile and n == sizes[0] else None
            result = run_once(n, path, project, tmp / f"run-{n}", profile=prof)
            results.append(result)
            ok = result["rc"] == 0 and result["received"] in (None, n)
            failed |= not ok
            summary = result["summary"] if isinstance(result["summary"], dict) else {}
            delivery = summary.get("delivery") if isinstance(summary.get("delivery"), dict) else {}
            print(
                f"  {n:>9,} events: {result['wall']:.1f}s wall, {n / result['wall']:,.0f} "
                f"events/s, exit {result['rc']}, emulator accepted {result['received']}; "
                f"capic: sent {delivery.get('sent')} in {delivery.get('requests')} requests, "
                f"retried {delivery.get('retried')}, {summary.get('duration')}s after start-up",
                flush=True,
            )
            if not ok:
                print("    capic stderr (tail):")
                for line in result["stderr_tail"]:
                    print(f"      {line}")
            if prof is not None:
                print(f"--- cProfile of capic run ({n:,} events), by own time")
                pstats.Stats(str(prof)).sort_stats("tottime").print_stats(30)
                pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(30)
        print(
            f"{'events':>10} {'wall s':>8} {'events/s':>10} {'capic CPU s':>12} "
            f"{'emulator CPU s':>15} {'peak RSS MiB':>13} {'RSS MiB at 10/50/90%':>22}"
        )
        for r in results:
            rss = "/".join(mib(k) for k in r["rss"])
            print(
                f"{r['n']:>10,} {r['wall']:>8.1f} {r['n'] / r['wall']:>10,.0f} "
                f"{r['capic_cpu']:>12.1f} {r['emulator_cpu']:>15.1f} "
                f"{mib(r['peak_kib']):>13} {rss:>22}"
            )
        for r in results:
            steps = " ".join(mib(k) for k in r["trajectory"])
            print(f"RSS MiB of capic at 10%, 20% .. 100% of the {r['n']:,}-event run: {steps}")
        if len(results) > 1:
            peaks = "  ".join(f"{r['n']:,}: {mib(r['peak_kib'])} MiB" for r in results)
            growth = results[-1]["peak_kib"] / results[0]["peak_kib"] - 1
            print(f"peak RSS side by side: {peaks}  (growth {growth:+.1%})")
        print(f"load average after: {_common.load_average()}")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
