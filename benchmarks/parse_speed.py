"""Front-end speed on a large generated project: lines per second for a cold parse (no cache,
one process and in parallel), for filling the parse cache, and for a warm load from the cache.

    .venv/bin/python benchmarks/parse_speed.py                 # 2,000 rule files, ~100k lines
    .venv/bin/python benchmarks/parse_speed.py --files 500 --repeat 3

Every measurement is a full ``capic.api.load`` (discovery, reading, parsing, resolution into
the IR); "parse only" runs the parser alone over the same files in this process. The project
is generated into a temporary directory and deleted afterwards. Run it by hand: it is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from capic import api
from capic.syntax.parser import parse_text

CONFIG = """\
[project]
name = "bench"
default_environment = "development"
default_country = "US"
"""

SHARED = """\
# Shared pixels, environments and elements of the generated project.
pixel shop {
  id            = "1234567890123456"
  access_token  = env("META_CAPI_TOKEN")
  browser_pixel = true
}

environment development { test_event_code = "TEST12345" }
environment staging { test_event_code = env("CAPI_TEST_EVENT_CODE") }
environment production { }

element xdm        = event.xdm
element event_type = xdm.eventType
element event_id   = event.data.meta.conversionData.eventId
element event_time = parse_time(xdm.timestamp)
element page_url   = xdm.web.webPageDetails.URL
element products   = xdm.productListItems ?? []
element customer   = event.data.customer
element email      = xdm.identityMap.Email[0].id ?? customer.email
element phone      = xdm.identityMap.Phone[0].id ?? customer.phone
"""

RULE = """\
# Generated rule {n}: one funnel step of campaign {n}.
# The campaign team owns it; the thresholds come from the media plan.
# noqa comments and trailing comments are part of what the parser handles.
rule "Campaign_{n:04d}_Purchase" {{
  when event_type == "commerce.purchases"
    and xdm.marketing.campaign == "c-{n:04d}"
    and number(xdm.commerce.order.priceTotal ?? 0) > {threshold}


  send Purchase to shop {{
    event_id         = event_id ?? xdm.commerce.order.purchaseID   # stable across retries
    event_time       = event_time
    action_source    = "website"
    event_source_url = page_url
    referrer_url     = xdm.web.webReferrer.URL
    opt_out          = false
    user {{
      em                = email
      ph                = phone
      fn                = customer.firstName
      ln                = customer.lastName
      db                = customer.birthDate
      ge                = customer.gender
      st                = customer.state
      ct                = customer.city
      zp                = customer.postalCode
      country           = customer.country ?? "us"
      external_id       = customer.id
      client_ip_address = request.ip
      client_user_agent = request.headers["user-agent"]
      fbp               = request.cookies["_fbp"]
      fbc               = request.cookies["_fbc"]
    }}
    custom {{
      currency     = upper(xdm.commerce.order.currencyCode ?? "USD")
      value        = round(number(xdm.commerce.order.priceTotal), 2)
      order_id     = xdm.commerce.order.purchaseID
      content_type = "product"
      content_ids  = [for p in products : p.SKU]
      contents     = [for p in products : {{id = p.SKU, quantity = p.quantity ?? 1}} if exists(p.SKU)]
      num_items    = sum([for p in products : p.quantity ?? 1])
      net_revenue  = round(number(xdm.commerce.order.priceTotal) - number(xdm.commerce.order.taxAmount ?? 0), 2)
      status       = "completed"
      content_name = products[0].name
      predicted_ltv = number(event.data.subscription.predictedLtv) * 1.5
      delivery_category = "home_delivery"   # noqa: M007
      campaign     = concat("c-", "{n:04d}")
    }}
  }}
}}
"""


def generate(root: Path, files: int) -> int:
    """Write the project; returns its number of lines."""
    (root / "capic.toml").write_text(CONFIG)
    (root / "shared.capi").write_text(SHARED)
    rules = root / "rules"
    lines = SHARED.count("\n")
    for n in range(files):
        sub = rules / f"group_{n // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        text = RULE.format(n=n, threshold=n % 50)
        (sub / f"campaign_{n:04d}.capi").write_text(text)
        lines += text.count("\n")
    return lines


def _cpu() -> float:
    """CPU seconds of this process and its (finished) worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds: the best of ``repeat`` runs by CPU time. On a shared machine the
    CPU seconds are the steadier measure; lines/s per core divides by them."""
    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        fn()
        runs.append((time.perf_counter() - start, _cpu() - cpu))
    return min(runs, key=lambda r: r[1])


def load_clean(root: Path, *, use_cache: bool, jobs: int | None) -> None:
    results, problems = api.load([root], use_cache=use_cache, jobs=jobs)
    assert not problems and len(results) == 1
    assert results[0].ok, results[0].diagnostics[:3]


def clear_cache(root: Path) -> None:
    shutil.rmtree(root / ".capic_cache", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="rule files (default 2000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="capic-bench-") as tmp:
        root = Path(tmp)
        lines = generate(root, args.files)
        files = args.files + 1
        texts = [(p.read_text(), p.name) for p in sorted(root.rglob("*.capi"))]
        parse_text(*texts[0])  # build the parser once, as every real run does

        def parse_only() -> None:
            for text, name in texts:
                parse_text(text, name)

        def cache_fill() -> None:
            clear_cache(root)
            load_clean(root, use_cache=True, jobs=args.jobs)

        rows = [
            ("parse only, 1 process", timed(parse_only, args.repeat)),
            (
                "cold load, 1 process",
                timed(lambda: load_clean(root, use_cache=False, jobs=1), args.repeat),
            ),
            (
                f"cold load, {args.jobs} processes",
                timed(lambda: load_clean(root, use_cache=False, jobs=args.jobs), args.repeat),
            ),
            (f"cache fill, {args.jobs} processes", timed(cache_fill, args.repeat)),
            (
                "warm load (cache)",
                timed(lambda: load_clean(root, use_cache=True, jobs=args.jobs), args.repeat),
            ),
        ]

    print(f"capic front end: {files} files, {lines:,} lines")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    width = max(len(name) for name, _ in rows)
    print(
        f"{'measurement'.ljust(width)}  {'wall s':>7}  {'cpu s':>7}  {'lines/s':>9}  "
        f"{'lines/cpu-s':>11}  {'files/s':>8}"
    )
    for name, (wall, cpu) in rows:
        print(
            f"{name.ljust(width)}  {wall:7.2f}  {cpu:7.2f}  {lines / wall:9,.0f}  "
            f"{lines / cpu:11,.0f}  {files / wall:8,.0f}"
        )
    print(
        f"warm load is {rows[1][1][1] / rows[4][1][1]:.1f}x cheaper (CPU) than a cold "
        "single-process load"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
