"""capic against Meta's Python SDK (facebook-business) and against the floor.

Three contenders turn the same N raw Purchase records into request bodies of 1,000 events,
in one process, in alternating order, for several rounds (medians are reported):

* ``SDK``: ``Event``/``UserData``/``CustomData``/``Content`` objects and
  ``EventRequest(...).get_params()`` (which runs ``normalize()``: normalization, SHA-256 and a
  ``json.dumps`` per event) plus the top-level JSON encoding ``execute()`` applies to ``data``
  before handing the form to ``requests``. No network.
* ``capic``: the compiled rule module of a one-rule project (``module.process(record)``) plus
  the request bodies exactly as the Deliverer builds them (``orjson.dumps`` per event, joined
  by ``transport.build_body``).
* ``floor``: SHA-256 of the 11 already-normalized customer-information strings and one orjson
  encoding per batch, nothing else.

Two sets of records (``--variant``): ``repeating`` draws first names, last names and cities
from small pools, as a shop's customers share them; ``unique`` gives every record its own, so
that nothing a cache or memo remembered is found again. Every round gets new records (made
before it is timed), so values repeat only as the variant says, never from round to round.
The cyclic garbage collector is paused while each contender is timed, for all of them alike.

``--baseline REV`` also times the capic of another commit (e.g. the parent commit) on the same
records, in a worker process whose rounds alternate with the others (see ``_baseline.py``),
and prints how much of the baseline's excess time over the floor is left.

Before timing, it checks that capic and the SDK send the same hashes for the keys where the
SDK follows Meta's rules (em, ph with a country code, ct, zp, ge; fn, ln, db, st and country
agree on these records too), and that the baseline sends the same user_data. Each round is
timed in CPU time of the process that runs the contender and in wall-clock time; both tables
are printed, and the ratios use CPU time, which other processes' load on a shared machine
disturbs far less. The last two lines are ``ratio=`` (capic events/s / SDK events/s) and
``floor_ratio=`` (capic time / floor time) of the first variant run. Exit codes: 0 ok, 1 hash
mismatch, 2 the SDK or capic's code generator is not available.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/compare_sdk.py [--n 10000] [--rounds 5] [--seed 7]
        [--variant repeating|unique|both] [--baseline 615edf4] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _baseline
import _common
from _common import Summary
from _contenders import (
    BATCH,
    VARIANT_TEXT,
    VARIANTS,
    check_agreement,
    fastest_sha256,
    load_capic,
    load_sdk,
    make_floor,
    prepare_floor,
    user_data_digest,
)

# --------------------------------------------------------------------------------------------
# timing


class Records:
    """Fresh records for every round, so that values repeat only as the variant says (round 0
    is for the checks and the warm-up). A round's records are made before it is timed."""

    def __init__(self, n: int, seed: int, now: int) -> None:
        self.n, self.seed, self.now = n, seed, now
        self._cache: dict[tuple[str, int, bool], list[dict]] = {}
        self._floor: dict[tuple[str, int], list[tuple[tuple[str, ...], dict, dict]]] = {}

    def get(self, variant: str, r: int, *, national: bool = False) -> list[dict]:
        key = (variant, r, national)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[1] >= r}
            self._cache[key] = _common.make_records(
                self.n,
                self.seed + r,
                national_phone=national,
                unique=variant == "unique",
                now=self.now,
                start=r * self.n,
            )
        return self._cache[key]

    def floor(self, variant: str, r: int) -> list[tuple[tuple[str, ...], dict, dict]]:
        if (variant, r) not in self._floor:
            self._floor = {k: v for k, v in self._floor.items() if k[1] >= r}
            self._floor[(variant, r)] = prepare_floor(self.get(variant, r))
        return self._floor[(variant, r)]


#: One timed pass of a contender over the records of round r: (CPU seconds, wall seconds).
Pass = Callable[[int], tuple[float, float]]


def time_pass(fn: Callable[[Sequence[Any]], Any], data: Sequence[Any]) -> tuple[float, float]:
    """Run ``fn`` over ``data`` in batches; CPU and wall seconds. The cyclic garbage collector
    is paused while timing, for every contender alike (the baseline worker does the same): a
    collection would land in whichever contender happens to allocate the triggering object."""
    gc.collect()
    gc.disable()
    try:
        start_cpu = time.process_time()
        start = time.perf_counter()
        for chunk in _common.chunks(data, BATCH):
            fn(chunk)
        return time.process_time() - start_cpu, time.perf_counter() - start
    finally:
        gc.enable()


def local_pass(data: Records, fn: Callable[[Sequence[Any]], Any], variant: str, kind: str) -> Pass:
    """A contender of this process on the records (``kind`` "records" or "national") or the
    floor's prepared values (``kind`` "floor") of ``variant``."""

    def run(r: int) -> tuple[float, float]:
        if kind == "floor":
            return time_pass(fn, data.floor(variant, r))
        return time_pass(fn, data.get(variant, r, national=kind == "national"))

    return run


def run_rounds(
    contenders: list[tuple[str, Pass]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(CPU seconds, wall seconds) per contender and round; the order rotates every round."""
    cpu: dict[str, list[float]] = {name: [] for name, _ in contenders}
    wall: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for _, run in contenders:  # warm-up: imports, caches, first-call costs
        run(0)
    k = len(contenders)
    for r in range(rounds):
        for name, run in contenders[r % k :] + contenders[: r % k]:
            c, w = run(r + 1)
            cpu[name].append(c)
            wall[name].append(w)
        print(f"  round {r + 1}/{rounds} done", flush=True)
    return cpu, wall


def profile(name: str, fn: Callable[[Sequence[Any]], Any], data: Sequence[Any]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for chunk in _common.chunks(data, BATCH):
        fn(chunk)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print(f"--- cProfile of {name} over {len(data)} records (sorted by own time)")
    print(out.getvalue())


def phone_path(records: Sequence[dict], national: Sequence[dict], rounds: int) -> str:
    """CPU µs per number of capic's user_data builder on phones alone: the "+1 ..." form and
    the national form of the same US numbers (default_country us), alternating."""
    from capic.runtime.hashing import UserDataBuilder

    build = UserDataBuilder(default_country="us", dob_order="mdy").build
    pairs = [
        (r["customer"]["phone"], n["customer"]["phone"])
        for r, n in zip(records, national, strict=True)
        if not n["customer"]["phone"].startswith("+")
    ]
    if not pairs:
        return "no national-format numbers in these records"
    forms = {
        "+1 (650) 555-0123": [{"ph": p} for p, _ in pairs],
        "(650) 555-0123": [{"ph": q} for _, q in pairs],
    }
    times: dict[str, list[float]] = {name: [] for name in forms}
    names = list(forms)
    for r in range(rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            times[name].append(time_pass(lambda f: [build(x) for x in f], forms[name])[0])
    intl, nat = (statistics.median(times[name]) / len(pairs) * 1e6 for name in names)
    return (
        f"phone alone (normalize + SHA-256, CPU, {len(pairs)} US numbers, median of {rounds}): "
        f"'+1 (650) 555-0123' {intl:.1f} µs, '(650) 555-0123' with default_country us "
        f"{nat:.1f} µs ({nat - intl:+.1f} µs per national number)"
    )


# --------------------------------------------------------------------------------------------
# report


def report_variant(
    variant: str,
    names: Sequence[str],
    cpu: dict[str, list[float]],
    wall: dict[str, list[float]],
    n: int,
    baseline: str | None,
) -> dict[str, float]:
    """Print the tables of one variant; returns its floor ratios (CPU medians) by contender.

    The spread of a ratio is shown as its per-round values (each round's time over the
    floor's time in the same round) from min to max."""
    print(f"{variant} values ({VARIANT_TEXT[variant]}), median of {len(cpu['floor'])} rounds:")
    for label, times in (("wall-clock time", wall), ("CPU time", cpu)):
        print(f" {label}" + (" (the baseline's: of its worker process)" if baseline else ""))
        print(_common.TABLE_HEADER)
        for name in names:
            print(Summary(name, tuple(times[name]), n).row())
    floor = cpu["floor"]
    ratios: dict[str, float] = {}
    for name in names:
        if name in ("SDK", "floor"):
            continue
        ratios[name] = statistics.median(cpu[name]) / statistics.median(floor)
        rounds = sorted(t / f for t, f in zip(cpu[name], floor, strict=True))
        excess = (statistics.median(cpu[name]) - statistics.median(floor)) / n * 1e6
        print(
            f"  {name:<22} floor_ratio {ratios[name]:.2f} (rounds {rounds[0]:.2f} .. "
            f"{rounds[-1]:.2f}), {excess:.1f} µs/event above the floor"
        )
    if baseline is not None:
        now, before = ratios["capic"] - 1, ratios[baseline] - 1
        print(
            f"  excess over the floor: capic {now:.2f} x the floor, {baseline} {before:.2f} x: "
            f"{now / before:.0%} of the baseline's"
        )
    sdk = statistics.median(cpu["SDK"]) / statistics.median(cpu["capic"])
    print(f"  ratio (SDK time / capic time) {sdk:.2f}")
    return ratios


# --------------------------------------------------------------------------------------------
# main


def worker(args: argparse.Namespace) -> int:
    """The baseline worker (see _baseline.py): capic from PYTHONPATH, requests on stdin."""
    import capic
    from capic.runtime.tuning import tune_allocator

    tune_allocator()
    records = Records(args.n, args.seed, args.now)
    with tempfile.TemporaryDirectory(prefix="capic-bench-base-") as tmp:
        batch, one = load_capic(_common.write_project(Path(tmp) / "bench"))
    print(f"capic from {Path(capic.__file__).parent}", flush=True)
    for line in sys.stdin:
        command, variant, r = line.split()
        data = records.get(variant, int(r))
        if command == "round":
            c, w = time_pass(batch, data)
            print(f"{c!r} {w!r}", flush=True)
        else:
            print(user_data_digest(one, data), flush=True)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="records (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--seed", type=int, default=7, help="record generator seed")
    parser.add_argument(
        "--variant", choices=(*VARIANTS, "both"), default="both", help="records (default both)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time the capic of commit REV (e.g. the parent commit), in a worker process",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile capic's path too")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        parser.error("--n and --rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    # One clock for the records of this process and of the baseline worker: same records.
    args.now = int(time.time())
    # Process-wide glibc malloc settings (what `capic run` applies to itself), set before any
    # contender runs, so that every contender shares them.
    try:
        from capic.runtime.tuning import tune_allocator

        tuned = tune_allocator()
    except ImportError:
        tuned = False
    try:
        sdk_batch, sdk_one = load_sdk()
    except ImportError as exc:
        print(
            f"compare_sdk: the facebook-business SDK is not importable ({exc}); "
            "install the bench extra: pip install -e '.[bench]'"
        )
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="capic-bench-") as tmp:
            capic_batch, capic_one = load_capic(_common.write_project(Path(tmp) / "bench"))
    except ImportError as exc:
        print(f"compare_sdk: capic's code generator is not importable ({exc})")
        return 2

    print(_common.machine_line())
    print(
        "allocator: capic.runtime.tuning.tune_allocator() "
        + ("applied" if tuned else "not applied (not glibc, or mallopt failed): C library defaults")
        + " for this whole process: SDK, capic and floor all run with the same malloc settings"
    )
    variants = VARIANTS if args.variant == "both" else (args.variant,)
    sha, sha_name = fastest_sha256()
    print(
        f"records: {args.n} Purchase events per round, new ones every round (seed {args.seed}), "
        f"batches of {BATCH}, {args.rounds} alternating rounds; floor hashes with {sha_name}; "
        "garbage collector paused while timing"
    )
    data = Records(args.n, args.seed, args.now)
    contenders: list[tuple[str, Pass]] = []
    names: dict[str, list[str]] = {}
    with contextlib.ExitStack() as stack:
        base: _baseline.Worker | None = None
        base_name: str | None = None
        if args.baseline:
            base_name = f"capic {_baseline.describe(args.baseline)}"
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="capic-base-")))
            try:
                path = _baseline.export(args.baseline, tmp)
            except RuntimeError as exc:
                print(f"compare_sdk: cannot export {args.baseline}: {exc}")
                return 2
            worker_args = ["--n", str(args.n), "--seed", str(args.seed), "--now", str(args.now)]
            base = _baseline.Worker(Path(__file__).resolve(), path, worker_args)
            stack.callback(base.close)
            print(f"baseline: {base_name}, {base.origin}")
        for variant in variants:
            records = data.get(variant, 0)
            national = data.get(variant, 0, national=True) if variant == "repeating" else None
            print(f"{variant} values: {VARIANT_TEXT[variant]}")
            ok = check_agreement(records, national, sdk_one, capic_one, data.floor(variant, 0), sha)
            if base is not None:
                same = base.ask(f"digest {variant} 0") == user_data_digest(capic_one, records)
                print(f"  user_data identical to {base_name}'s: {'yes' if same else 'NO'}")
                ok = ok and same
            print("  hash agreement: " + ("ok" if ok else "MISMATCH"))
            if not ok:
                return 1
            entries: list[tuple[str, Pass]] = [
                ("SDK", local_pass(data, sdk_batch, variant, "records")),
                ("capic", local_pass(data, capic_batch, variant, "records")),
                ("floor", local_pass(data, make_floor(sha), variant, "floor")),
            ]
            if base is not None and base_name is not None:
                request = functools.partial(lambda v, w, r: w.round(f"{v} {r}"), variant, base)
                entries.insert(2, (base_name, request))
            if national is not None:
                entries.append(
                    ("capic national phones", local_pass(data, capic_batch, variant, "national"))
                )
            names[variant] = [name for name, _ in entries]
            contenders += [(f"{variant}/{name}", run) for name, run in entries]
        cpu, wall = run_rounds(contenders, args.rounds)

    ratios: dict[str, dict[str, float]] = {}
    for variant in variants:
        sub_cpu = {name: cpu[f"{variant}/{name}"] for name in names[variant]}
        sub_wall = {name: wall[f"{variant}/{name}"] for name in names[variant]}
        ratios[variant] = report_variant(
            variant, names[variant], sub_cpu, sub_wall, args.n, base_name
        )
    if "repeating" in variants:
        national_records = data.get("repeating", 0, national=True)
        print(phone_path(data.get("repeating", 0), national_records, 3))
    print(f"load average after: {_common.load_average()}")
    if args.profile:
        for variant in variants:
            profile(f"capic ({variant} values)", capic_batch, data.get(variant, 0))
    # The ratios come from CPU time: on a shared machine, wall-clock time also measures the
    # other processes' load (both are printed above; on an idle machine they agree).
    first = variants[0]
    for variant in variants[1:]:
        print(f"floor_ratio_{variant}={ratios[variant]['capic']:.2f}")
    if base_name is not None:
        for variant in variants:
            print(f"baseline_floor_ratio_{variant}={ratios[variant][base_name]:.2f}")
    sdk_capic = statistics.median(cpu[f"{first}/SDK"]) / statistics.median(cpu[f"{first}/capic"])
    print(f"ratio={sdk_capic:.2f}")
    print(f"floor_ratio={ratios[first]['capic']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
