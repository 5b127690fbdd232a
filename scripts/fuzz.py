#!/usr/bin/env python3
"""Fuzz capic through its public entry points with mutated projects and bundles.

    python scripts/fuzz.py --inputs 1000                  # seed 1, report on stdout
    python scripts/fuzz.py --inputs 100000 --time-budget 7200 --crashes out/crashes
    python scripts/fuzz.py --seed 7 --replay 4242         # run one input again, verbosely

Inputs come from ``fuzz_mutations.py``: the corpus (``samples/``, ``tests/data/``) mutated on
the token level of the capic grammar, random bytes, and tampered bundles. Each input ``i`` is
a function of ``(seed, i)`` only, so a run and any single input are reproducible.

Per input, in this process (click's CliRunner, which reports an escaping exception where the
console script would print "internal error" and exit 2):

- a project: ``capic check`` (a rotating output format; the parse cache written), then, unless
  check failed to load it, ``capic compile`` (reading the cache) with CPython compiling the
  module it wrote, ``capic parse``, ``capic test`` for every second project that compiled,
  and for every clean project ``capic build`` and ``capic verify`` of its bundle;
- a bundle: ``capic verify`` (with and without the key), ``capic inspect``, and
  ``capic.bundle.load.load_bundle``.

Every ``--subprocess-every`` inputs the same project is also checked by the real console
script in a subprocess. A **crash** is a traceback or "internal error" in any output, an
exception escaping a call, an exit status outside 0-2, a generated module CPython refuses, a
bundle built from a clean project that does not verify, or more than 5 s of CPU time for one
input (a hard wall-clock stop at 30 s catches hangs). Crashes are grouped by signature; with
``--crashes DIR`` the first input of each signature is written there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_mutations import REPO, Mutated, Mutator, load_corpus

CPU_LIMIT = 5.0
WALL_LIMIT = 30
FORMATS = ["full", "concise", "json", "json-lines", "sarif", "github", "junit"]
_BAD_OUTPUT = re.compile(r"Traceback \(most recent call last\)|internal error")


class _Hang(BaseException):
    """Raised by the wall-clock alarm; a BaseException so that no `except Exception` in capic
    swallows it."""

    pass


@dataclass
class Crash:
    signature: str
    index: int
    detail: str


@dataclass
class Report:
    seed: int
    inputs: int = 0
    seconds: float = 0.0
    crashes: list[Crash] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)
    subprocesses: int = 0

    def signatures(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for c in self.crashes:
            entry = out.setdefault(c.signature, {"count": 0, "first": c.index, "detail": c.detail})
            entry["count"] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "inputs": self.inputs,
            "seconds": round(self.seconds, 1),
            "inputs_per_second": round(self.inputs / self.seconds, 2) if self.seconds else None,
            "crashes": len(self.crashes),
            "signatures": self.signatures(),
            "kinds": dict(self.kinds),
            "exit_statuses": dict(self.exits),
            "subprocess_runs": self.subprocesses,
        }


def _signature(step: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/capic/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"
    return f"{step}: {type(exc).__name__} in {where}"


class Fuzzer:
    def __init__(self, seed: int, work: Path, *, subprocess_every: int = 0, verbose: bool = False):
        from click.testing import CliRunner

        self.seed = seed
        self.work = work
        self.runner = CliRunner()
        self.subprocess_every = subprocess_every
        self.verbose = verbose
        self.corpus = load_corpus()
        self.key_dir = work / "keys"
        self.bundles = self._base_bundles()
        self.mutator = Mutator(self.corpus, self.bundles)

    # ------------------------------------------------------------------ set-up
    def _base_bundles(self) -> dict[str, bytes]:
        from capic.bundle.build import build_bundle
        from capic.bundle.sign import generate_keypair

        private, _ = generate_keypair(self.key_dir)
        out = {}
        built = build_bundle(
            REPO / "samples" / "storefront", "production", self.work / "base", sign_key=private
        )
        out["storefront-signed"] = built.path.read_bytes()
        fixture = REPO / "tests" / "data" / "upgrade" / "storefront-production-0.1.0.tar.gz"
        out["upgrade-0.1.0"] = fixture.read_bytes()
        return out

    # ------------------------------------------------------------------ running
    def _cli(
        self, step: str, args: list[str], report: Report, index: int
    ) -> tuple[int, str] | None:
        from capic.cli import cli

        result = self.runner.invoke(cli, args)
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        report.exits[f"{step} {result.exit_code}"] += 1
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            if isinstance(exc, _Hang):
                raise exc
            self._crash(
                report, index, _signature(step, exc), "".join(traceback.format_exception(exc))
            )
            return None
        if result.exit_code not in (0, 1, 2):
            self._crash(report, index, f"{step}: exit {result.exit_code}", output[-2000:])
            return None
        bad = _BAD_OUTPUT.search(output)
        if bad is not None:
            line = next((x for x in output.splitlines() if _BAD_OUTPUT.search(x)), bad.group(0))
            kind = re.sub(r"[0-9]+", "N", line.split("internal error:")[-1].strip())[:80]
            self._crash(report, index, f"{step}: {kind}", output[-2000:])
            return None
        return result.exit_code, output

    def _crash(self, report: Report, index: int, signature: str, detail: str) -> None:
        report.crashes.append(Crash(signature, index, detail))
        if self.verbose:
            print(f"CRASH #{index}: {signature}\n{detail}", file=sys.stderr)

    def run_one(self, index: int, report: Report) -> None:
        try:
            mutated = self.mutator.generate(self.seed, index)
        except Exception as exc:  # a bug of the fuzzer itself, not of capic: say so, go on
            report.kinds["not generated"] += 1
            print(f"input {index} not generated: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        report.kinds[mutated.kind] += 1
        where = self.work / f"in-{index % 4}"
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        cpu = time.process_time()
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(WALL_LIMIT)
        try:
            if mutated.kind == "bundle":
                self._bundle(mutated, where, report, index)
            else:
                self._project(mutated, where, report, index)
        except _Hang:
            self._crash(
                report, index, f"{mutated.kind}: hang over {WALL_LIMIT} s", repr(mutated.steps)
            )
        finally:
            signal.alarm(0)
        spent = time.process_time() - cpu
        if spent > CPU_LIMIT:
            self._crash(
                report,
                index,
                f"{mutated.kind}: over {CPU_LIMIT:.0f} s",
                f"{spent:.1f} s CPU {mutated.steps}",
            )

    def _project(self, mutated: Mutated, where: Path, report: Report, index: int) -> None:
        root = where / "project"
        for rel, data in mutated.files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        fmt = FORMATS[index % len(FORMATS)]
        checked = self._cli("check", ["check", str(root), "--output-format", fmt], report, index)
        if checked is None or checked[0] == 2:
            return
        module = where / "rules.py"
        compiled = self._cli(
            "compile",
            ["compile", str(root), "--env", "production", "-o", str(module)],
            report,
            index,
        )
        if compiled is not None and compiled[0] == 0:
            try:
                compile(module.read_text(encoding="utf-8"), "rules.py", "exec")
            except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
                self._crash(
                    report,
                    index,
                    f"python refuses the module: {type(exc).__name__}: {exc}"[:120],
                    repr(mutated.steps),
                )
        self._cli("parse", ["parse", str(root)], report, index)
        if compiled is not None and compiled[0] == 0 and index % 2 == 0:
            self._cli("test", ["test", str(root)], report, index)
        if checked[0] == 0 and compiled is not None and compiled[0] == 0:
            dist = where / "dist"
            built = self._cli(
                "build", ["build", str(root), "--env", "production", "-o", str(dist)], report, index
            )
            bundles = sorted(dist.glob("*.tar.gz"))
            if built is not None and built[0] == 0 and bundles:
                verified = self._cli("verify", ["verify", str(bundles[0])], report, index)
                if verified is not None and verified[0] != 0:
                    self._crash(
                        report,
                        index,
                        "a bundle built from a clean project does not verify",
                        verified[1][-1000:],
                    )
        if self.subprocess_every and index % self.subprocess_every == 0:
            self._subprocess(root, report, index)

    def _subprocess(self, root: Path, report: Report, index: int) -> None:
        report.subprocesses += 1
        script = Path(sys.executable).with_name("capic")
        command = (
            [str(script)]
            if script.exists()
            else [sys.executable, "-c", "from capic.cli import main; main()"]
        )
        try:
            done = subprocess.run(
                [*command, "check", str(root), "--no-cache"],
                capture_output=True,
                text=True,
                timeout=WALL_LIMIT,
                check=False,
                env={**os.environ, "CAPIC_NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired:
            self._crash(report, index, "subprocess check: hang", str(root))
            return
        output = done.stdout + done.stderr
        report.exits[f"subprocess check {done.returncode}"] += 1
        if done.returncode not in (0, 1, 2) or _BAD_OUTPUT.search(output):
            self._crash(report, index, f"subprocess check: exit {done.returncode}", output[-2000:])

    def _bundle(self, mutated: Mutated, where: Path, report: Report, index: int) -> None:
        from capic.bundle.load import BundleError, load_bundle

        path = where / "bundle.tar.gz"
        path.write_bytes(mutated.bundle)
        key = self.key_dir / "capic-signing.pub.pem"
        self._cli("verify", ["verify", str(path)], report, index)
        self._cli("verify", ["verify", str(path), "--key", str(key)], report, index)
        self._cli("inspect", ["inspect", str(path)], report, index)
        try:
            load_bundle(path, key=key if mutated.base != "upgrade-0.1.0" else None)
        except BundleError:
            pass
        except _Hang:
            raise
        except Exception as exc:
            self._crash(report, index, _signature("load_bundle", exc), traceback.format_exc())


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Hang


def run(
    seed: int,
    count: int,
    *,
    start: int = 0,
    time_budget: float | None = None,
    subprocess_every: int = 0,
    crashes_dir: Path | None = None,
    progress: bool = False,
) -> Report:
    """Fuzz inputs ``start`` .. ``start + count - 1`` of ``seed``."""
    report = Report(seed)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="capic-fuzz-") as tmp:
        fuzzer = Fuzzer(seed, Path(tmp), subprocess_every=subprocess_every)
        saved: set[str] = set()
        for index in range(start, start + count):
            if time_budget is not None and time.perf_counter() - began > time_budget:
                break
            before = len(report.crashes)
            fuzzer.run_one(index, report)
            report.inputs += 1
            if crashes_dir is not None:
                for crash in report.crashes[before:]:
                    if crash.signature not in saved:
                        saved.add(crash.signature)
                        _save(crashes_dir, fuzzer, crash)
            if progress and report.inputs % 500 == 0:
                rate = report.inputs / (time.perf_counter() - began)
                print(
                    f"{report.inputs} inputs, {len(report.crashes)} crashes, {rate:.1f}/s",
                    file=sys.stderr,
                    flush=True,
                )
    report.seconds = time.perf_counter() - began
    return report


def _save(directory: Path, fuzzer: Fuzzer, crash: Crash) -> None:
    mutated = fuzzer.mutator.generate(fuzzer.seed, crash.index)
    target = directory / f"{crash.index:06d}"
    target.mkdir(parents=True, exist_ok=True)
    if mutated.kind == "bundle":
        (target / "bundle.tar.gz").write_bytes(mutated.bundle)
    for rel, data in mutated.files.items():
        (target / "project" / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / "project" / rel).write_bytes(data)
    (target / "crash.txt").write_text(
        f"{crash.signature}\nreplay: python scripts/fuzz.py --seed {fuzzer.seed} --replay {crash.index}\n"
        f"mutations: {mutated.steps}\n\n{crash.detail}\n",
        encoding="utf-8",
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--start", type=int, default=0, help="first input index")
    parser.add_argument("--time-budget", type=float, help="stop after this many seconds")
    parser.add_argument("--subprocess-every", type=int, default=100, help="0: never")
    parser.add_argument(
        "--crashes", type=Path, help="write the first input of each crash signature here"
    )
    parser.add_argument("--replay", type=int, help="run this one input and print what happens")
    parser.add_argument("--memory-limit-mb", type=int, default=4096, help="address space limit")
    args = parser.parse_args()
    limit = args.memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if args.replay is not None:
        with tempfile.TemporaryDirectory(prefix="capic-fuzz-") as tmp:
            fuzzer = Fuzzer(args.seed, Path(tmp), subprocess_every=1, verbose=True)
            mutated = fuzzer.mutator.generate(args.seed, args.replay)
            print(f"input {args.replay}: {mutated.kind} from {mutated.base}: {mutated.steps}")
            report = Report(args.seed)
            fuzzer.run_one(args.replay, report)
            print(json.dumps(report.to_json(), indent=2))
            return 1 if report.crashes else 0
    report = run(
        args.seed,
        args.inputs,
        start=args.start,
        time_budget=args.time_budget,
        subprocess_every=args.subprocess_every,
        crashes_dir=args.crashes,
        progress=True,
    )
    print(json.dumps(report.to_json(), indent=2))
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
