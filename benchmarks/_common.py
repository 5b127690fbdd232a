"""Shared helpers of the benchmark scripts: machine description, timing summaries, the
generated Purchase records and the small capic project that forwards them.

Run the scripts from the repository root with the project's venv, e.g.
``.venv/bin/python benchmarks/compare_sdk.py``. Nothing here is imported by capic itself.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIXEL_ID = "1234567890123456"
API_VERSION = "v25.0"
TOKEN_ENV = "META_CAPI_TOKEN"
BENCH_TOKEN = "bench-token"
ENVIRONMENT = "bench"

# --------------------------------------------------------------------------------------------
# machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine_line() -> str:
    return (
        f"machine: {os.cpu_count()} cores, {cpu_model()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"load average {load_average()}"
    )


# --------------------------------------------------------------------------------------------
# timing


@dataclass(frozen=True)
class Summary:
    """Seconds per round, summarized per event."""

    name: str
    seconds: tuple[float, ...]
    events: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def us_per_event(self) -> float:
        return self.median / self.events * 1e6

    @property
    def events_per_s(self) -> float:
        return self.events / self.median

    @property
    def spread(self) -> float:
        """(max - min) / median, the noise between rounds."""
        return (max(self.seconds) - min(self.seconds)) / self.median

    def row(self) -> str:
        lo = min(self.seconds) / self.events * 1e6
        hi = max(self.seconds) / self.events * 1e6
        return (
            f"{self.name:<28} {self.us_per_event:>10.1f} {self.events_per_s:>12,.0f} "
            f"{lo:>9.1f} .. {hi:<9.1f} {self.spread * 100:>6.1f}%"
        )


TABLE_HEADER = (
    f"{'contender':<28} {'µs/event':>10} {'events/s':>12} {'min .. max µs/event':>22} {'spread':>7}"
)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------------------------
# records

_FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Dorothy",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Edward",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
]
_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
]
# (city, state code, first three ZIP digits, area code)
_PLACES = (
    ("San Francisco", "CA", "941", "415"),
    ("Palo Alto", "CA", "943", "650"),
    ("Los Angeles", "CA", "900", "213"),
    ("San Diego", "CA", "921", "619"),
    ("Seattle", "WA", "981", "206"),
    ("Portland", "OR", "972", "503"),
    ("Denver", "CO", "802", "303"),
    ("Austin", "TX", "787", "512"),
    ("Dallas", "TX", "752", "214"),
    ("Houston", "TX", "770", "713"),
    ("Chicago", "IL", "606", "312"),
    ("St. Louis", "MO", "631", "314"),
    ("Minneapolis", "MN", "554", "612"),
    ("Detroit", "MI", "482", "313"),
    ("Atlanta", "GA", "303", "404"),
    ("Miami", "FL", "331", "305"),
    ("Orlando", "FL", "328", "407"),
    ("New York", "NY", "100", "212"),
    ("Brooklyn", "NY", "112", "718"),
    ("Boston", "MA", "021", "617"),
    ("Philadelphia", "PA", "191", "215"),
    ("Washington", "DC", "200", "202"),
    ("Baltimore", "MD", "212", "410"),
    ("Phoenix", "AZ", "850", "602"),
    ("Las Vegas", "NV", "891", "702"),
    ("Salt Lake City", "UT", "841", "801"),
    ("Nashville", "TN", "372", "615"),
    ("Charlotte", "NC", "282", "704"),
    ("Columbus", "OH", "432", "614"),
    ("Pittsburgh", "PA", "152", "412"),
)
_DOMAINS = (
    "Example.COM",
    "Gmail.com",
    "YAHOO.com",
    "Outlook.com",
    "icloud.com",
    "Mail.Example.org",
)
# International numbers written with their country code (+CC), the shapes checkout forms send.
# For all of them the SDK and Meta's rules agree (no trunk "0" after the country code).
_INTL_PHONES = (
    lambda r: f"+44 20 7946 {r.randrange(10000):04d}",
    lambda r: f"+44 7700 {r.randrange(900000, 1000000)}",
    lambda r: f"+49 30 {r.randrange(1000000, 10000000)}",
    lambda r: (
        f"+33 1 {r.randrange(10, 100)} {r.randrange(10, 100)} {r.randrange(10, 100)} "
        f"{r.randrange(10, 100)}"
    ),
    lambda r: f"+61 2 {r.randrange(9000, 10000)} {r.randrange(10000):04d}",
)
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
_PRODUCTS = tuple((f"SKU-{n:05d}", round(4.99 + n * 3.5, 2)) for n in range(200))


def _nanp(rng: random.Random, area: str) -> tuple[str, str]:
    exchange = str(rng.randrange(200, 1000))
    line = f"{rng.randrange(10000):04d}"
    return f"+1 ({area}) {exchange}-{line}", f"({area}) {exchange}-{line}"


# Syllables of the made-up names of the unique-values records: all three letters long, so that
# a name spells exactly one sequence of syllables and different numbers give different names.
_SYLLABLES = (
    "bar", "cel", "dov", "fen", "gal", "han", "jor", "kel", "lin", "mar", "nes", "per", "quo",
    "ros", "sal", "tam", "ulv", "ven", "wyn", "yar", "zed", "bri", "cor", "dal", "els", "fir",
    "gor", "hel", "ist", "kav",
)  # fmt: skip
_CITY_FORMS = ("{}", "{}ville", "Port {}", "{} Springs", "Lake {}", "{}ton", "East {}")


def unique_name(n: int, offset: int) -> str:
    """A capitalized made-up name, distinct for every ``n`` (and ``offset`` shifts the range,
    so first names, last names and cities are distinct from each other too)."""
    n += offset
    out = []
    while True:  # bijective base-30: every n has exactly one spelling
        n, digit = divmod(n, len(_SYLLABLES))
        out.append(_SYLLABLES[digit])
        if n == 0:
            break
        n -= 1
    return "".join(out).capitalize()


def make_record(
    i: int, rng: random.Random, now: int, *, national_phone: bool = False, unique: bool = False
) -> dict:
    """One raw Purchase record: what a shop's order system hands over, before any cleaning.

    ``national_phone``: US numbers written without the country code ("(650) 555-0123"); the
    project's default_country (us) supplies it. Otherwise every number carries "+CC".
    ``unique``: first names, last names and cities never repeat (record ``i`` has its own),
    so that nothing a normalizer caches or memoizes is found again.
    """
    first = rng.choice(_FIRST)
    last = rng.choice(_LAST)
    city, state, zip3, area = rng.choice(_PLACES)
    if unique:
        first = unique_name(i, 930)
        last = unique_name(i, 30_000)
        city = rng.choice(_CITY_FORMS).format(unique_name(i, 200_000))
    if rng.random() < 0.85:
        intl, national = _nanp(rng, area)
        phone = national if national_phone else intl
    else:
        phone = rng.choice(_INTL_PHONES)(rng)
    year = rng.randrange(1950, 2006)
    dob = f"{year}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    sku, price = rng.choice(_PRODUCTS)
    quantity = rng.choice((1, 1, 1, 2, 3))
    order_id = f"ORD-{i:09d}"
    return {
        "type": "purchase",
        "time": now - rng.randrange(0, 3600),
        "url": "https://shop.example.com/checkout/complete",
        "customer": {
            "email": f"  {first}.{last}{rng.randrange(1, 100000)}@{rng.choice(_DOMAINS)} ",
            "phone": phone,
            "first_name": first,
            "last_name": last,
            "dob": dob,
            "gender": rng.choice(("m", "f")),
            "city": city,
            "state": state,
            "zip": f"{zip3}{rng.randrange(100):02d}-{rng.randrange(10000):04d}",
            "country": "US",
            "id": f"User-{rng.randrange(10**8):08d}",
        },
        "ip": f"203.0.{rng.randrange(114)}.{rng.randrange(1, 255)}",
        "user_agent": rng.choice(_USER_AGENTS),
        "fbc": f"fb.1.{(now - 86400) * 1000 + rng.randrange(10**6)}.IwAR{rng.randrange(10**12)}",
        "fbp": f"fb.1.{(now - 86400 * 30) * 1000 + rng.randrange(10**6)}.{rng.randrange(10**10)}",
        "order": {
            "id": order_id,
            "value": round(price * quantity, 2),
            "currency": "USD",
            "items": [{"sku": sku, "quantity": quantity, "price": price}],
        },
    }


def make_records(
    n: int,
    seed: int,
    *,
    national_phone: bool = False,
    unique: bool = False,
    now: int = 0,
    start: int = 0,
) -> list[dict]:
    """``n`` records; ``now`` (unix seconds, default: the clock) anchors their times; ``start``
    numbers them from there (unique names follow the number, so ranges that do not overlap
    share no name)."""
    rng = random.Random(seed)
    now = now or int(time.time())
    return [
        make_record(start + i, rng, now, national_phone=national_phone, unique=unique)
        for i in range(n)
    ]


def iter_records(n: int, seed: int) -> Iterator[dict]:
    """The same records as :func:`make_records`, one at a time (for streams of millions)."""
    rng = random.Random(seed)
    now = int(time.time())
    for i in range(n):
        yield make_record(i, rng, now)


# --------------------------------------------------------------------------------------------
# the capic project

CAPIC_TOML = f"""\
[project]
name = "bench"
default_environment = "{ENVIRONMENT}"
default_country = "us"
dob_order = "mdy"
api_version = "{API_VERSION}"
"""

PROJECT_CAPI = f"""\
# The benchmark project: one Purchase rule whose elements read the raw record fields.
pixel shop {{
  id           = "{PIXEL_ID}"
  access_token = env("{TOKEN_ENV}")
  api_version  = "{API_VERSION}"
}}

environment {ENVIRONMENT} {{
}}

element customer = event.customer
element order    = event.order

rule "Purchase" {{
  when event.type == "purchase"

  send Purchase to shop {{
    event_id         = order.id
    event_time       = event.time
    action_source    = "website"
    event_source_url = event.url
    user {{
      em                = customer.email
      ph                = customer.phone
      fn                = customer.first_name
      ln                = customer.last_name
      db                = customer.dob
      ge                = customer.gender
      ct                = customer.city
      st                = customer.state
      zp                = customer.zip
      country           = customer.country
      external_id       = customer.id
      client_ip_address = event.ip
      client_user_agent = event.user_agent
      fbc               = event.fbc
      fbp               = event.fbp
    }}
    custom {{
      currency     = order.currency
      value        = order.value
      order_id     = order.id
      content_type = "product"
      contents     = [for p in order.items : {{id = p.sku, quantity = p.quantity, item_price = p.price}}]
    }}
  }}
}}
"""


def write_project(root: Path) -> Path:
    """Write the benchmark project into ``root`` (created); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "capic.toml").write_text(CAPIC_TOML)
    (root / "bench.capi").write_text(PROJECT_CAPI)
    return root


def compile_module(root: Path) -> Any:
    """Load, compile and import the benchmark project (its rule module)."""
    from capic import api
    from capic.diagnostics import Severity

    result = api.load_project(root, use_cache=False)
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    if result.project is None or errors:
        text = "\n".join(str(d) for d in result.diagnostics)
        raise SystemExit(f"the benchmark project does not load:\n{text}")
    source = api.compile_project(result.project, ENVIRONMENT)
    return api.load_compiled(source, name="capic_bench_rules")
