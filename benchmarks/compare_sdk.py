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

Before timing, it checks that capic and the SDK send the same hashes for the keys where the
SDK follows Meta's rules (em, ph with a country code, ct, zp, ge; fn, ln, db, st and country
agree on these records too). Each round is timed in CPU time of this process and in wall-clock
time; both tables are printed, and the ratios use CPU time, which other processes' load on a
shared machine disturbs far less. The last two lines are ``ratio=`` (capic events/s / SDK
events/s) and ``floor_ratio=`` (capic time / floor time). Exit codes: 0 ok, 1 hash mismatch, 2 the SDK
or capic's code generator is not available.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/compare_sdk.py [--n 10000] [--rounds 5] [--seed 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

import _common
from _common import BENCH_TOKEN, PIXEL_ID, Summary

BATCH = 1000
#: The hashed keys, in the order the floor hashes them.
HASHED = ("em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id")
#: Keys where the SDK applies Meta's rules: capic must send the very same hashes.
MUST_AGREE = ("em", "ph", "ct", "zp", "ge")
#: Keys where the SDK is weaker than Meta's rules but the generated records are plain enough
#: for both to agree (reported, not required).
MAY_AGREE = ("fn", "ln", "db", "st", "country")
_CUSTOMER_KEY = {
    "em": "email",
    "ph": "phone",
    "fn": "first_name",
    "ln": "last_name",
    "db": "dob",
    "ge": "gender",
    "ct": "city",
    "st": "state",
    "zp": "zip",
    "country": "country",
    "external_id": "id",
}


# --------------------------------------------------------------------------------------------
# SDK


def load_sdk() -> tuple[Callable[[Sequence[dict]], Any], Callable[[dict], dict]]:
    """(batch function, one-event normalizer) of the SDK contender; ImportError if missing."""
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.content import Content
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.adobjects.serverside.gender import Gender
    from facebook_business.adobjects.serverside.user_data import UserData

    try:  # what FacebookAdsApi.call() applies to the params before requests form-encodes them
        from facebook_business.api import _top_level_param_json_encode as encode_params
    except ImportError:  # pragma: no cover - older/newer SDK layouts

        def encode_params(params: dict) -> dict:
            return {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}

    genders = {"m": Gender.MALE, "f": Gender.FEMALE}
    website = ActionSource.WEBSITE

    def event_of(r: dict) -> Any:
        c = r["customer"]
        o = r["order"]
        item = o["items"][0]
        user = UserData(
            email=c["email"],
            phone=c["phone"],
            first_name=c["first_name"],
            last_name=c["last_name"],
            date_of_birth=c["dob"],
            gender=genders[c["gender"]],
            city=c["city"],
            state=c["state"],
            zip_code=c["zip"],
            country_code=c["country"],
            external_id=c["id"],
            client_ip_address=r["ip"],
            client_user_agent=r["user_agent"],
            fbc=r["fbc"],
            fbp=r["fbp"],
        )
        custom = CustomData(
            value=o["value"],
            currency=o["currency"],
            order_id=o["id"],
            content_type="product",
            contents=[
                Content(product_id=item["sku"], quantity=item["quantity"], item_price=item["price"])
            ],
        )
        return Event(
            event_name="Purchase",
            event_time=r["time"],
            event_id=o["id"],
            event_source_url=r["url"],
            action_source=website,
            user_data=user,
            custom_data=custom,
        )

    def batch(records: Sequence[dict]) -> Any:
        request = EventRequest(events=[event_of(r) for r in records], pixel_id=PIXEL_ID)
        return encode_params(request.get_params())

    def one(r: dict) -> dict:
        return event_of(r).normalize()

    return batch, one


# --------------------------------------------------------------------------------------------
# capic


def load_capic(root: Path) -> tuple[Callable[[Sequence[dict]], bytes], Callable[[dict], dict]]:
    from capic.runtime.delivery.destination import Destination
    from capic.runtime.delivery.transport import build_body
    from capic.runtime.secrets import SecretRef

    module = _common.compile_module(root)
    process = module.process
    dumps = orjson.dumps
    dest = Destination(PIXEL_ID, _common.API_VERSION, SecretRef.env(_common.TOKEN_ENV))

    def batch(records: Sequence[dict]) -> bytes:
        bodies = [dumps(e.event) for r in records for e in process(r)]
        return build_body(dest, BENCH_TOKEN, bodies)

    def one(r: dict) -> dict:
        emitted = process(r)
        if len(emitted) != 1:
            raise SystemExit(f"the benchmark rule emitted {len(emitted)} events for one record")
        return emitted[0].event

    return batch, one


# --------------------------------------------------------------------------------------------
# floor


def fastest_sha256() -> tuple[Callable[[bytes], Any], str]:
    """The quickest SHA-256 constructor here (OpenSSL's or CPython's built-in module)."""
    candidates: list[tuple[str, Callable[[bytes], Any]]] = [("hashlib.sha256", hashlib.sha256)]
    for module_name in ("_sha2", "_sha256"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        candidates.append((f"{module_name}.sha256", module.sha256))
        break
    sample = [f"value-{n}@example.com".encode() for n in range(2000)]
    best: tuple[float, str, Callable[[bytes], Any]] | None = None
    for name, fn in candidates:
        elapsed = min(_time_hashes(fn, sample) for _ in range(3))
        if best is None or elapsed < best[0]:
            best = (elapsed, name, fn)
    assert best is not None
    return best[2], best[1]


def _time_hashes(fn: Callable[[bytes], Any], sample: list[bytes]) -> float:
    start = time.perf_counter()
    for b in sample:
        fn(b).hexdigest()
    return time.perf_counter() - start


def prepare_floor(records: Sequence[dict]) -> list[tuple[tuple[str, ...], dict, dict]]:
    """Per record: the 11 normalized strings (capic's normalization, computed here untimed),
    the pass-through user_data fields, and the rest of the event, ready to encode."""
    from capic.runtime.normalize import normalize

    prepared = []
    for r in records:
        c = r["customer"]
        o = r["order"]
        normalized = []
        for key in HASHED:
            value = normalize(key, c[_CUSTOMER_KEY[key]], default_country="us", dob_order="mdy")
            assert value is not None, (key, c[_CUSTOMER_KEY[key]])
            normalized.append(value)
        clear = {
            "client_ip_address": r["ip"],
            "client_user_agent": r["user_agent"],
            "fbc": r["fbc"],
            "fbp": r["fbp"],
        }
        item = o["items"][0]
        base = {
            "event_name": "Purchase",
            "event_time": r["time"],
            "event_id": o["id"],
            "action_source": "website",
            "event_source_url": r["url"],
            "custom_data": {
                "currency": o["currency"],
                "value": o["value"],
                "order_id": o["id"],
                "content_type": "product",
                "contents": [
                    {"id": item["sku"], "quantity": item["quantity"], "item_price": item["price"]}
                ],
            },
        }
        prepared.append((tuple(normalized), clear, base))
    return prepared


def make_floor(sha: Callable[[bytes], Any]) -> Callable[[Sequence[Any]], bytes]:
    dumps = orjson.dumps

    def batch(prepared: Sequence[Any]) -> bytes:
        events = []
        for (em, ph, fn, ln, db, ge, ct, st, zp, country, xid), clear, base in prepared:
            user = {
                "em": sha(em.encode()).hexdigest(),
                "ph": sha(ph.encode()).hexdigest(),
                "fn": sha(fn.encode()).hexdigest(),
                "ln": sha(ln.encode()).hexdigest(),
                "db": sha(db.encode()).hexdigest(),
                "ge": sha(ge.encode()).hexdigest(),
                "ct": sha(ct.encode()).hexdigest(),
                "st": sha(st.encode()).hexdigest(),
                "zp": sha(zp.encode()).hexdigest(),
                "country": sha(country.encode()).hexdigest(),
                "external_id": sha(xid.encode()).hexdigest(),
                **clear,
            }
            events.append({**base, "user_data": user})
        return dumps({"data": events, "access_token": BENCH_TOKEN, "partner_agent": "capic"})

    return batch


# --------------------------------------------------------------------------------------------
# checks


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def check_agreement(
    records: Sequence[dict],
    national: Sequence[dict],
    sdk_one: Callable[[dict], dict],
    capic_one: Callable[[dict], dict],
    floor: Sequence[tuple[tuple[str, ...], dict, dict]],
    sha: Callable[[bytes], Any],
) -> bool:
    """Compare the hashes capic sends with the SDK's and with the floor's; print a summary."""
    agree = dict.fromkeys(HASHED, 0)
    floor_agree = 0
    national_agree = 0
    for r, nat, (normalized, _, _) in zip(records, national, floor, strict=True):
        ours = capic_one(r)["user_data"]
        theirs = sdk_one(r)["user_data"]
        for key in HASHED:
            if _first(ours.get(key)) == _first(theirs.get(key)):
                agree[key] += 1
        expected = [sha(s.encode()).hexdigest() for s in normalized]
        if [_first(ours.get(k)) for k in HASHED] == expected:
            floor_agree += 1
        if _first(capic_one(nat)["user_data"].get("ph")) == _first(ours.get("ph")):
            national_agree += 1
    n = len(records)
    ok = all(agree[k] == n for k in MUST_AGREE) and floor_agree == n and national_agree == n
    print(
        "hash agreement capic vs SDK (must): "
        + ", ".join(f"{k} {agree[k]}/{n}" for k in MUST_AGREE)
    )
    print(
        "hash agreement capic vs SDK (these records): "
        + ", ".join(f"{k} {agree[k]}/{n}" for k in MAY_AGREE)
        + f"; external_id {agree['external_id']}/{n} (the SDK sends it raw, unhashed)"
    )
    print(f"hash agreement capic vs floor (all 11 keys): {floor_agree}/{n}")
    print(
        f"national-format phones with default_country us hash like +1 numbers: {national_agree}/{n}"
    )
    print("hash agreement: " + ("ok" if ok else "MISMATCH"))
    return ok


# --------------------------------------------------------------------------------------------
# timing


def run_rounds(
    contenders: list[tuple[str, Callable[[Sequence[Any]], Any], Sequence[Any]]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(CPU seconds, wall seconds) per contender and round, in rotating order."""
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    wall: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    for _, fn, data in contenders:  # warm-up: imports, caches, first-call costs
        fn(data[:BATCH])
    k = len(contenders)
    for r in range(rounds):
        order = contenders[r % k :] + contenders[: r % k]
        for name, fn, data in order:
            gc.collect()
            start_cpu = time.process_time()
            start = time.perf_counter()
            for chunk in _common.chunks(data, BATCH):
                fn(chunk)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
        line = "  ".join(
            f"{name} {cpu[name][-1] / len(data) * 1e6:.1f}/{wall[name][-1] / len(data) * 1e6:.1f}"
            for name, _, data in contenders
        )
        print(f"  round {r + 1}/{rounds} (µs/event, CPU/wall): {line}", flush=True)
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
            start = time.process_time()
            for fields in forms[name]:
                build(fields)
            times[name].append((time.process_time() - start) / len(pairs) * 1e6)
    intl, nat = (statistics.median(times[name]) for name in names)
    return (
        f"phone alone (normalize + SHA-256, CPU, {len(pairs)} US numbers, median of {rounds}): "
        f"'+1 (650) 555-0123' {intl:.1f} µs, '(650) 555-0123' with default_country us "
        f"{nat:.1f} µs ({nat - intl:+.1f} µs per national number)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="records (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--seed", type=int, default=7, help="record generator seed")
    parser.add_argument("--profile", action="store_true", help="cProfile capic's path too")
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        parser.error("--n and --rounds must be positive")
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
        from capic import api

        api.compile_project  # noqa: B018 - the code generator is what this measures
        with tempfile.TemporaryDirectory(prefix="capic-bench-") as tmp:
            root = _common.write_project(Path(tmp) / "bench")
            capic_batch, capic_one = load_capic(root)
    except ImportError as exc:
        print(f"compare_sdk: capic's code generator is not importable ({exc})")
        return 2

    print(_common.machine_line())
    print(
        "allocator: capic.runtime.tuning.tune_allocator() "
        + ("applied" if tuned else "not applied (not glibc, or mallopt failed): C library defaults")
        + " for this whole process: SDK, capic and floor all run with the same malloc settings"
    )
    sha, sha_name = fastest_sha256()
    records = _common.make_records(args.n, args.seed)
    national = _common.make_records(args.n, args.seed, national_phone=True)
    floor_data = prepare_floor(records)
    floor_batch = make_floor(sha)
    print(
        f"records: {args.n} Purchase events (seed {args.seed}), batches of {BATCH}, "
        f"{args.rounds} alternating rounds; floor hashes with {sha_name}"
    )
    if not check_agreement(records, national, sdk_one, capic_one, floor_data, sha):
        return 1

    contenders: list[tuple[str, Callable[[Sequence[Any]], Any], Sequence[Any]]] = [
        ("SDK", sdk_batch, records),
        ("capic", capic_batch, records),
        ("floor", floor_batch, floor_data),
        ("capic national phones", capic_batch, national),
    ]
    cpu, wall = run_rounds(contenders, args.rounds)
    for label, times in (("wall-clock time", wall), ("CPU time of this process", cpu)):
        summaries = {name: Summary(name, tuple(t), args.n) for name, t in times.items()}
        sdk, capic, floor, nat = (summaries[n] for n, _, _ in contenders)
        print(f"{label}, median of {args.rounds} rounds:")
        print(_common.TABLE_HEADER)
        for s in summaries.values():
            print(s.row())
        print(
            f"  ratio {sdk.median / capic.median:.2f}, floor_ratio "
            f"{capic.median / floor.median:.2f}, capic national-format phone path "
            f"{nat.us_per_event - capic.us_per_event:+.1f} µs/event"
        )
    share = sum(1 for r in national if not r["customer"]["phone"].startswith("+")) / args.n
    print(
        f"national-format phone path: 'capic national phones' runs the same records with "
        f"{share:.0%} of the phones written '(650) 555-0123' instead of '+1 (650) 555-0123' "
        "(default_country us adds the 1; the SDK cannot, so it is not compared there)"
    )
    print(phone_path(records, national, max(args.rounds, 3)))
    print(f"load average after: {_common.load_average()}")
    if args.profile:
        profile("capic", capic_batch, records)
    # The ratios come from CPU time: on a shared machine, wall-clock time also measures the
    # other processes' load (both are printed above; on an idle machine they agree).
    print(f"ratio={sdk.median / capic.median:.2f}")
    print(f"floor_ratio={capic.median / floor.median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
