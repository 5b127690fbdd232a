"""How fast is `capic check`? Cold, warm, and after one file changed, on generated projects.

    python benchmarks/check_speed.py [--sizes 10 100 1000] [--repeat 3] [--keep DIR]
    python benchmarks/check_speed.py --one-file [--repeat 15]

For each size the script generates a project (capic.toml, pixels, shared elements, three
environments, and N rule files of about 40 lines, each with a different rule: standard and
custom events, website/app/email sources), then runs `capic check` in a subprocess (so the
times include interpreter start-up and imports, as a user or CI sees them):

* cold: without the parse cache (``.capic_cache/`` deleted first);
* warm: again, every file unchanged (parsed trees come from the cache);
* re-check: after changing one rule file (a new value in its condition).

It prints wall times (median of ``--repeat`` runs), lines per second, and how time grows with
the number of files. It is a measurement, not a test: run it by hand (``make bench``).

``--one-file`` measures what a pre-commit hook costs: ``capic check rules/purchase.capi`` in a
copy of ``samples/storefront`` (the file unchanged since the last run, and edited before each
run), against ``capic --version`` (interpreter and CLI start-up) measured in the same run,
interleaved, so that the ratio holds whatever else the machine is doing. Target: 2.5x.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTS = [
    ("Purchase", "website"),
    ("AddToCart", "website"),
    ("ViewContent", "website"),
    ("Lead", "email"),
    ("CompleteRegistration", "website"),
    ("Subscribe", "app"),
    ('"QuizCompleted"', "website"),
    ("Search", "website"),
]

PIXELS = """\
pixel shop {
  id            = "1234567890123456"
  access_token  = env("META_CAPI_TOKEN")
  browser_pixel = true
}

pixel app_events {
  id           = "6543210987654321"
  access_token = env("META_APP_TOKEN")
}
"""

ELEMENTS = """\
element xdm        = event.xdm
element event_type = xdm.eventType
element event_id   = event.data.meta.conversionData.eventId
element event_time = parse_time(xdm.timestamp)
element page_url   = xdm.web.webPageDetails.URL
element order      = xdm.commerce.order
element products   = xdm.productListItems ?? []
element customer   = event.data.customer
element email      = xdm.identityMap.Email[0].id ?? customer.email
element phone      = customer.phone
element shopper_id = customer.id
element client_ip  = request.ip
element user_agent = request.headers["user-agent"]
element fbp        = request.cookies["_fbp"]
element fbc        = request.cookies["_fbc"]
element contents   = [for p in products : {id = p.SKU, quantity = p.quantity ?? 1}]
"""

ENVIRONMENTS = """\
environment development { test_event_code = "TEST12345" }
environment staging { test_event_code = env("CAPI_TEST_EVENT_CODE") }
environment production { }
"""


def rule_file(i: int, marker: str = "") -> str:
    event, source = EVENTS[i % len(EVENTS)]
    pixel = "app_events" if source == "app" else "shop"
    app = (
        "    app {\n"
        "      advertiser_tracking_enabled = event.device.att\n"
        "      extinfo {\n"
        '        version    = "i2"\n'
        "        os_version = event.device.os\n"
        "      }\n"
        "    }\n"
        if source == "app"
        else ""
    )
    url = "    event_source_url = page_url\n" if source == "website" else ""
    return (
        f"# Rule {i}: {event} from {source}.{marker}\n"
        f'rule "Rule_{i:05d}" {{\n'
        f'  when event_type == "type.{i}" and number(order.priceTotal ?? 0) >= {i % 7}\n'
        "\n"
        f"  send {event} to {pixel} {{\n"
        "    event_id         = event_id ?? order.purchaseID\n"
        "    event_time       = event_time\n"
        f'    action_source    = "{source}"\n'
        f"{url}"
        "    user {\n"
        "      em                = email\n"
        "      ph                = phone\n"
        "      external_id       = shopper_id\n"
        "      client_ip_address = client_ip\n"
        "      client_user_agent = user_agent\n"
        "      fbp               = fbp\n"
        "      fbc               = fbc\n"
        "    }\n"
        f"{app}"
        "    custom {\n"
        f'      currency     = upper(order.currencyCode ?? "USD")\n'
        "      value        = number(order.priceTotal) ?? 0\n"
        '      content_type = "product"\n'
        "      content_ids  = [for p in products : p.SKU]\n"
        "      contents     = contents\n"
        "      num_items    = len(products)\n"
        f'      order_id     = concat("o-", string(order.purchaseID ?? {i}))\n'
        "    }\n"
        "  }\n"
        "}\n"
    )


def generate(root: Path, files: int) -> int:
    """Write a project of ``files`` rule files; return its number of lines."""
    if root.exists():
        shutil.rmtree(root)
    (root / "rules").mkdir(parents=True)
    (root / "capic.toml").write_text(f'[project]\nname = "bench{files}"\n', encoding="utf-8")
    (root / "pixels.capi").write_text(PIXELS, encoding="utf-8")
    (root / "elements.capi").write_text(ELEMENTS, encoding="utf-8")
    (root / "environments.capi").write_text(ENVIRONMENTS, encoding="utf-8")
    for i in range(files):
        (root / "rules" / f"r{i:05d}.capi").write_text(rule_file(i), encoding="utf-8")
    return sum(p.read_text(encoding="utf-8").count("\n") for p in root.rglob("*.capi"))


def run_check(root: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of capic and its worker processes) of one `capic check`."""
    command = [sys.executable, "-m", "capic", "check", str(root), "--output-format", "concise"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(
            f"capic check failed ({done.returncode}):\n{done.stderr}{done.stdout[-2000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def measure(root: Path, files: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Median (wall, cpu) of cold, warm and re-check runs."""
    runs: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "recheck": []}
    for n in range(repeat):
        shutil.rmtree(root / ".capic_cache", ignore_errors=True)
        runs["cold"].append(run_check(root))
        runs["warm"].append(run_check(root))
        changed = (n * 7919) % files
        target = root / "rules" / f"r{changed:05d}.capi"
        target.write_text(rule_file(changed, f" changed {n}"), encoding="utf-8")
        runs["recheck"].append(run_check(root))
    return {
        kind: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for kind, values in runs.items()
    }


def startup() -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "capic", "version"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "storefront"


def _timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_file(repeat: int) -> None:
    """`capic check FILE` against `capic --version`, interleaved in one run."""
    base = Path(tempfile.mkdtemp(prefix="capic-one-file-"))
    try:
        root = base / "storefront"
        shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".capic_cache"))
        # As in a rules repository: a git top level with a .gitignore (which capic reads).
        (root / ".git").mkdir()
        (root / ".gitignore").write_text(".capic_cache/\n__pycache__/\n*.sarif\n", encoding="utf-8")
        target = root / "rules" / "purchase.capi"
        original = target.read_text(encoding="utf-8")
        capic = [sys.executable, "-m", "capic"]
        check = [*capic, "check", "rules/purchase.capi"]
        # Byte code as an installed package has it (pip compiles on install), kept out of the
        # source tree; PYTHONDONTWRITEBYTECODE would make every run compile every module.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        for _ in range(2):  # fill the caches, as any earlier run of the hook has
            _timed(check, root, env)
            _timed([*capic, "--version"], root, env)
        runs: dict[str, list[tuple[float, float]]] = {"version": [], "unchanged": [], "edited": []}
        load_before = os.getloadavg()
        for n in range(repeat):
            runs["version"].append(_timed([*capic, "--version"], root, env))
            runs["unchanged"].append(_timed(check, root, env))
            target.write_text(original + f"# edit {n}\n", encoding="utf-8")
            runs["edited"].append(_timed(check, root, env))
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(
        f"one-file check of samples/storefront/rules/purchase.capi ({os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}, Python "
        f"{sys.version.split()[0]}, median of {repeat}, interleaved)"
    )
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    for kind in ("version", "unchanged", "edited"):
        label = "capic --version" if kind == "version" else f"capic check FILE ({kind})"
        print(
            f"  {label:<32} {wall[kind]:.3f} s wall  {cpu[kind]:.3f} s cpu"
            + ("" if kind == "version" else f"  x{wall[kind] / wall['version']:.2f} of start-up")
        )
    print(f"ratio_unchanged={wall['unchanged'] / wall['version']:.2f}")
    print(f"ratio_edited={wall['edited'] / wall['version']:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--repeat", type=int, help="runs per measurement (median; default 3, 15 with --one-file)"
    )
    parser.add_argument("--keep", type=Path, help="generate the projects here and keep them")
    parser.add_argument(
        "--one-file", action="store_true", help="only the one-file (pre-commit) measurement"
    )
    args = parser.parse_args(argv)
    if args.one_file:
        one_file(args.repeat or 15)
        return
    args.repeat = args.repeat or 3
    base = args.keep or Path(tempfile.mkdtemp(prefix="capic-check-speed-"))
    print(
        f"capic check speed ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"Python {sys.version.split()[0]}, median of {args.repeat}); start-up "
        f"(capic version): {startup():.2f} s wall"
    )
    print("wall = elapsed seconds; cpu = CPU seconds of capic and its parse workers")
    header = f"{'files':>6} {'lines':>7}"
    for kind in ("cold", "warm", "re-check"):
        header += f" | {kind + ' wall':>13} {'cpu':>6} {'lines/s':>8}"
    print(header)
    rows = []
    try:
        for size in args.sizes:
            root = base / f"p{size}"
            lines = generate(root, size)
            result = measure(root, size, args.repeat)
            rows.append((size, lines, result))
            line = f"{size:>6} {lines:>7}"
            for kind in ("cold", "warm", "recheck"):
                wall, cpu = result[kind]
                line += f" | {wall:>13.2f} {cpu:>6.2f} {lines / wall:>8.0f}"
            print(line, flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    if len(rows) > 1:
        print("growth (wall time; per-file cost relative to the smallest project):")
        first_size, _, first = rows[0]
        for size, _, result in rows[1:]:
            for kind in ("cold", "warm", "recheck"):
                ratio = result[kind][0] / first[kind][0]
                factor = ratio / (size / first_size)
                print(
                    f"  {size:>5} files, {kind:<7}: x{ratio:.1f} time for x{size // first_size} "
                    f"files ({factor:.2f} of the per-file cost)"
                )


if __name__ == "__main__":
    main()
