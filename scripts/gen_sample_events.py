#!/usr/bin/env python3
"""Deterministic generator of the samples' event streams (``samples/*/events.jsonl``).

    python scripts/gen_sample_events.py            # (re)write both files
    python scripts/gen_sample_events.py --check    # exit 1 if a committed file is out of date
    python scripts/gen_sample_events.py --out DIR  # write DIR/<sample>/events.jsonl instead

Each line is one envelope as capic's edge server sees it::

    {"event": {...}, "request": {"ip": ..., "headers": {...}, "cookies": {...}, "url": ...}}

``storefront``: Adobe Web SDK (alloy) traffic from an online shop, XDM-shaped, covering every
rule of ``samples/storefront`` plus events no rule matches, and the edge cases capic must cope
with (missing fields, malformed and pre-hashed e-mails, unicode names, national phone formats,
ZIP+4, product lists of 0..20 items, a retried duplicate, ad clicks with an ``_fbc`` cookie).

``app-and-store``: Adobe Mobile SDK (Edge) events from the shop's iOS and Android app, and
point-of-sale transactions uploaded by the stores.

The output depends only on the seeds below (no clock, no ``uuid4``, no set iteration), so
re-running gives identical bytes. Timestamps sit on one fixed afternoon; runs shift them to the
present with ``--rebase-time``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STOREFRONT_SEED = 20260303
APP_STORE_SEED = 20260304
#: The fixed afternoon every event happens on (UTC).
BASE = datetime(2026, 3, 3, 14, 0, 0, tzinfo=UTC)
SHOP = "https://shop.example.com"
EDGE = "https://edge.shop.example.com"
DATASTREAM = "5d1a2c3b-7e4f-4a60-9b21-8c0d3e6f1a47"
ALLOY = {
    "name": "https://ns.adobe.com/experience/alloy",
    "version": "2.19.2",
    "environment": "browser",
}
ZERO_IDFA = "00000000-0000-0000-0000-000000000000"
NEWLINE = b"\n"

Json = dict[str, Any]

# ----------------------------------------------------------------------------- helpers


def make_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(ts: datetime) -> str:
    """ISO-8601 with milliseconds and Z, as the Web SDK writes xdm.timestamp."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def iso_local(ts: datetime, offset_hours: int) -> str:
    """ISO-8601 with a UTC offset and no fraction, as POS systems write local times."""
    return ts.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def fbp_cookie(rng: random.Random, created: datetime) -> str:
    return f"fb.1.{ms(created)}.{rng.randrange(10**9, 2**31)}"


_FBCLID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def fbclid(rng: random.Random) -> str:
    return "IwAR" + "".join(rng.choice(_FBCLID_CHARS) for _ in range(57))


def ecid(rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(38))


def money(x: float) -> float:
    return round(x + 1e-9, 2)


def slug(name: str) -> str:
    out = "".join(
        c.lower() if c.isalnum() else "-" for c in name.encode("ascii", "ignore").decode()
    )
    return "-".join(p for p in out.split("-") if p)


# ----------------------------------------------------------------------------- storefront data

CATALOG: list[tuple[str, str, float]] = [
    ("TS-1001-NVY", "Organic Cotton Tee – Navy", 24.00),
    ("TS-1001-WHT", "Organic Cotton Tee – White", 24.00),
    ("TS-1002-BLK", "Heavyweight Pocket Tee – Black", 32.00),
    ("HD-2001-GRY", "Loopback Hoodie – Heather Grey", 68.00),
    ("HD-2002-OLV", "Zip Hoodie – Olive", 74.50),
    ("JK-3001-IND", "Selvedge Denim Jacket", 148.00),
    ("JK-3002-BLK", "Packable Rain Shell", 119.00),
    ("PT-4001-KHK", "Slim Chino – Khaki", 79.00),
    ("PT-4002-IND", "Straight Jean – Rinse", 98.00),
    ("SH-5001-WHT", "Court Sneaker – White", 110.00),
    ("SH-5002-BRN", "Suede Chukka – Tobacco", 165.00),
    ("SK-6001-MUL", "Merino Socks (3-pack)", 27.99),
    ("SK-6002-BLK", "Everyday Ankle Socks (6-pack)", 19.99),
    ("BG-7001-CAM", "Waxed Canvas Tote", 58.00),
    ("BG-7002-BLK", "Roll-top Backpack 22L", 129.00),
    ("AC-8001-BLK", "Leather Belt – Black", 45.00),
    ("AC-8002-NVY", "Wool Beanie – Navy", 29.00),
    ("AC-8003-TRT", "Recycled Sunglasses – Tortoise", 65.00),
    ("AC-8004-GRN", "Stainless Water Bottle 750 ml", 24.50),
    ("KN-9001-CRM", "Fisherman Sweater – Cream", 135.00),
    ("KN-9002-BRG", "Cashmere Crew – Burgundy", 189.00),
    ("DR-1101-SGE", "Linen Shirt Dress – Sage", 88.00),
    ("SH-5003-PNK", "Canvas Low-top – Blush", 64.00),
    ("GC-0050-USD", "Gift Card $50", 50.00),
]
SEARCH_TERMS = [
    "linen shirt",
    "hoodie",
    "white sneakers",
    "rain jacket",
    "socks",
    "gift card",
    "tote bag",
    "cashmere",
    "Zoë collab",
    "jeans 32x32",
]
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.3.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.6261.119 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3.1 Safari/605.1.15",
    "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1",
]
#: The Facebook in-app browser: visitors who arrive from an ad click.
FB_IN_APP_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/452.0.0.38.110;FBBV/563301347;FBDV/iPhone15,2;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]"
)
REFERRERS = [
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.instagram.com/",
    "https://news.example.org/gift-guide-2026",
    None,
]


@dataclass(frozen=True)
class Customer:
    id: str
    email: str | None
    phone: str | None
    first: str | None
    last: str | None
    birth: str | None = None
    gender: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    language: str = "en-US,en;q=0.9"

    def record(self) -> Json:
        """``event.data.customer``: only the fields the shop knows."""
        pairs = [
            ("id", self.id),
            ("email", self.email),
            ("phone", self.phone),
            ("firstName", self.first),
            ("lastName", self.last),
            ("birthDate", self.birth),
            ("gender", self.gender),
            ("city", self.city),
            ("state", self.state),
            ("postalCode", self.zip),
            ("country", self.country),
        ]
        return {k: v for k, v in pairs if v is not None}


PRE_HASHED = hashlib.sha256(b"hashed.shopper@example.com").hexdigest()

#: Hand-written shoppers: each carries at least one edge case the normalizer must handle.
EDGE_CUSTOMERS = [
    Customer("C-100001", "  John.Doe@Example.COM ", "(650) 555-0123", "John", "Doe",
             "02/16/1997", "male", "San Francisco", "CA", "94103-1234", "US"),
    Customer("C-100002", "zoe.mueller@example.de", "+49 (0)30 1234567", "Zoë", "Müller",
             "07/04/1988", "female", "Berlin", "Berlin", "10115", "DE", "de-DE,de;q=0.9,en;q=0.6"),
    Customer("C-100003", "jose.alvarez@example.com", "650.555.0188", "José", "Álvarez",
             "11/23/1979", "M", "San José", "California", "95112", "US", "es-US,es;q=0.9,en;q=0.8"),
    Customer("C-100004", "li.wei@example.cn", "+86 138 0013 8000", "伟", "李",
             "05/09/1992", "m", "上海", "上海", "200000", "CN", "zh-CN,zh;q=0.9"),
    Customer("C-100005", "amelia.obrien@example.co.uk", "+44 20 7946 0958", "Amelia", "O'Brien",
             "03/30/1985", "Female", "London", "Greater London", "SW1A 1AA", "GB", "en-GB,en;q=0.9"),
    Customer("C-100006", "oliver.smith@example.co.uk", "0044 20 7946 0959", "Oliver", "Smith",
             "12/01/1990", "m", "Manchester", None, "M1 1AE", "GB", "en-GB,en;q=0.9"),
    Customer("C-100007", "MJ+promo@gmail.com", "+1 (212) 555-0147", "Mary-Jane", "Watson",
             "06/15/1994", "f", "New York", " N.Y. ", "10001", "us"),
    Customer("C-100008", "jl.picard@example.fr", "+33 1 23 45 67 89", "Jean Luc", "Picard",
             "07/13/1965", "male", "Paris", "Île-de-France", "75001", "FR", "fr-FR,fr;q=0.9"),
    Customer("C-100009", "not-an-email", "555-0199", "Sam", "Taylor",
             None, None, "Austin", "TX", "73301", "United States"),
    Customer("C-100010", "jane.doe@", "tel: +1 650 555 1212", "Jane", "Doe",
             "1990-02-16", "F", "Palo Alto", "CA", "94301", "US"),
    Customer("C-100011", PRE_HASHED, None, "Alex", "Kim",
             None, None, "Seattle", "WA", "98101", "US"),
    Customer("C-100012", PRE_HASHED.upper(), "+1 206 555 0100", None, None,
             None, None, None, None, None, None),
    Customer("C-100013", "priya.nair@example.com", "(312) 555-0163", "Priya", "Nair",
             "13/45/1990", "x", "Coeur d'Alene", "Idaho", "941031234", "US"),
    Customer("C-100014", "m.rossi@example.it", "+39 06 6988 4711", "Marco", "Rossi",
             "04/03/1990", "male", "Roma", "RM", "00186", "IT", "it-IT,it;q=0.9"),
    Customer("C-100015", "lena.fischer@example.ch", "+41 44 668 18 00", "Lena", "Fischer",
             "09/09/1999", "female", "Zürich", "ZH", "8001", "CH", "de-CH,de;q=0.9"),
    Customer("C-100016", "ben.carter@example.com", "617-555-0134", "Ben", "Carter",
             "10/31/1982", "male", "Boston", "MA", " 02134 ", "US"),
    Customer("C-100017", "anna.kowalska@example.pl", "+48 22 123 45 67", "Anna", "Kowalska",
             None, "kobieta", "Kraków", None, "30-001", "PL", "pl-PL,pl;q=0.9"),
    Customer("C-100018", "SOPHIE.MARTIN@EXAMPLE.CA", "+1 416 555 0172", "Sophie", "Martin",
             "01/05/2001", "female", "Toronto", "Ontario", "M5V 2T6", "CA", "en-CA,fr-CA;q=0.8"),
    Customer("C-100019", "kenji.sato@example.jp", "090-1234-5678", "健二", "佐藤",
             "08/08/1987", "male", "東京", "東京都", "100-0001", "JP", "ja-JP,ja;q=0.9"),
    Customer("C-100020", "only.email@example.com", None, None, None),
]  # fmt: skip

FIRST_NAMES = [
    ("Emma", "female"), ("Liam", "male"), ("Olivia", "female"), ("Noah", "male"),
    ("Ava", "female"), ("Ethan", "male"), ("Mia", "female"), ("Lucas", "male"),
    ("Chloé", "female"), ("Mateo", "male"), ("Aisha", "female"), ("Daniel", "male"),
]  # fmt: skip
LAST_NAMES = ["Johnson", "Garcia", "Nguyen", "Patel", "Brown", "Hernández", "Lee", "Wilson"]
US_PLACES = [
    ("Portland", "OR", "97205", "503"),
    ("Denver", "CO", "80202", "303"),
    ("Chicago", "IL", "60601", "312"),
    ("Miami", "FL", "33131", "305"),
    ("Austin", "TX", "78701", "512"),
    ("Brooklyn", "NY", "11201", "718"),
    ("San Diego", "CA", "92101", "619"),
    ("Minneapolis", "MN", "55401", "612"),
]
PHONE_SHAPES: list[Callable[[str, str], str]] = [
    lambda area, line: f"({area}) 555-{line}",
    lambda area, line: f"{area}-555-{line}",
    lambda area, line: f"+1 {area} 555 {line}",
    lambda area, line: f"{area}.555.{line}",
    lambda area, line: f"1{area}555{line}",
    lambda area, line: f"+1-{area}-555-{line} ext. 12",
]


def generated_customers(rng: random.Random, n: int) -> list[Customer]:
    out = []
    for i in range(n):
        first, gender = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 5 + 3) % len(LAST_NAMES)]
        city, state, zip5, area = US_PLACES[i % len(US_PLACES)]
        line = f"01{rng.randrange(0, 100):02d}"
        phone = PHONE_SHAPES[i % len(PHONE_SHAPES)](area, line)
        local = slug(f"{first}.{last}").replace("-", ".")
        domain = rng.choice(["gmail.com", "outlook.com", "icloud.com", "yahoo.com", "example.net"])
        zip_code = zip5 if i % 3 else f"{zip5}-{rng.randrange(1000, 10000)}"
        year = rng.randrange(1958, 2006)
        birth = f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/{year}"
        out.append(
            Customer(
                f"C-1002{i:02d}",
                f"{local}{rng.randrange(1, 99)}@{domain}",
                phone,
                first,
                last,
                birth,
                gender if i % 4 else gender[0].upper(),
                city,
                state,
                zip_code,
                "US" if i % 5 else "us",
            )
        )
    return out


@dataclass
class Visitor:
    """One browser: its cookies, network and (once logged in) the customer behind it."""

    ecid: str
    ua: str | None
    ip: str
    fbp: str | None
    language: str
    customer: Customer | None = None
    fbclid: str | None = None
    fbc: str | None = None
    extra_cookies: dict[str, str] = field(default_factory=dict)


class Storefront:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[datetime, int, Json]] = []
        self.order_no = 10230
        self.seq = 0

    # -------------------------------------------------------------- visitors
    def visitor(self, customer: Customer | None, *, ad_click: bool = False) -> Visitor:
        rng = self.rng
        first_seen = BASE - timedelta(
            days=rng.randrange(0, 80),
            seconds=rng.randrange(86400),
            milliseconds=rng.randrange(1000),
        )
        if rng.random() < 0.3:
            ip = f"2001:db8:{rng.randrange(0x10000):x}:{rng.randrange(0x10000):x}::{rng.randrange(1, 0xFFFF):x}"
        else:
            net = rng.choice(["203.0.113", "198.51.100", "192.0.2"])
            ip = f"{net}.{rng.randrange(1, 255)}"
        v = Visitor(
            ecid=ecid(rng),
            ua=FB_IN_APP_UA if ad_click else rng.choice(USER_AGENTS),
            ip=ip,
            fbp=fbp_cookie(rng, first_seen),
            language=customer.language if customer else "en-US,en;q=0.9",
            customer=customer,
        )
        v.extra_cookies["kndctr_7A1B3C5D9E0F2A4B6C8D0E1F_AdobeOrg_identity"] = "CiY" + "".join(
            rng.choice(_FBCLID_CHARS) for _ in range(40)
        )
        if ad_click:
            v.fbclid = fbclid(rng)
        return v

    # -------------------------------------------------------------- envelope
    def emit(
        self,
        ts: datetime | None,
        v: Visitor,
        event_type: str,
        url: str | None,
        *,
        page_name: str | None = None,
        referrer: str | None = None,
        products: list[Json] | None = None,
        order: Json | None = None,
        data: Json | None = None,
        xdm_extra: Json | None = None,
        event_id: str | bool | None = True,
        with_customer: bool = False,
        sort_time: datetime | None = None,
    ) -> Json:
        rng = self.rng
        xdm: Json = {"_id": make_uuid(rng), "eventType": event_type}
        if ts is not None:
            xdm["timestamp"] = iso(ts)
        identity: Json = {
            "ECID": [{"id": v.ecid, "authenticatedState": "ambiguous", "primary": True}]
        }
        c = v.customer
        if c is not None and c.email is not None:
            identity["Email"] = [
                {"id": c.email, "authenticatedState": "authenticated", "primary": False}
            ]
        if c is not None and c.phone is not None and with_customer:
            identity["Phone"] = [
                {"id": c.phone, "authenticatedState": "authenticated", "primary": False}
            ]
        xdm["identityMap"] = identity
        web: Json = {}
        if url is not None:
            web["webPageDetails"] = {"URL": url, "name": page_name or "page"}
        if referrer is not None:
            web["webReferrer"] = {"URL": referrer}
        if web:
            xdm["web"] = web
        if order is not None or event_type.startswith("commerce."):
            commerce: Json = {event_type.split(".", 1)[1]: {"value": 1}}
            if order is not None:
                commerce["order"] = order
            xdm["commerce"] = commerce
        if products is not None:
            xdm["productListItems"] = products
        if xdm_extra:
            xdm.update(xdm_extra)
        xdm["implementationDetails"] = ALLOY
        body: Json = {}
        if event_id is True:
            body["meta"] = {"conversionData": {"eventId": make_uuid(rng)}}
        elif isinstance(event_id, str):
            body["meta"] = {"conversionData": {"eventId": event_id}}
        if with_customer and c is not None:
            body["customer"] = c.record()
        if data:
            body.update(data)
        event: Json = {"xdm": xdm}
        if body:
            event["data"] = body
        headers: Json = {}
        if v.ua is not None:
            headers["user-agent"] = v.ua
        headers["accept-language"] = v.language
        headers["content-type"] = "text/plain;charset=UTF-8"
        headers["origin"] = SHOP
        if url is not None:
            headers["referer"] = url
        cookies: Json = {}
        if v.fbp is not None:
            cookies["_fbp"] = v.fbp
        if v.fbc is not None:
            cookies["_fbc"] = v.fbc
        cookies.update(v.extra_cookies)
        request = {
            "ip": v.ip,
            "headers": headers,
            "cookies": cookies,
            "url": f"{EDGE}/ee/v2/interact?configId={DATASTREAM}&requestId={make_uuid(rng)}",
        }
        envelope = {"event": event, "request": request}
        when = sort_time or ts or BASE
        self.seq += 1
        self.events.append((when, self.seq, envelope))
        return envelope

    # -------------------------------------------------------------- catalogue
    def item(self, sku: str, qty: int | None = 1) -> Json:
        name, price = next((n, p) for s, n, p in CATALOG if s == sku)
        out: Json = {"SKU": sku, "name": name}
        if qty is not None:
            out["quantity"] = qty
        out["priceTotal"] = money(price * (qty or 1))
        out["currencyCode"] = "USD"
        return out

    def basket(self, n: int) -> list[Json]:
        skus = self.rng.sample([s for s, _, _ in CATALOG], k=min(n, len(CATALOG)))
        return [self.item(s, self.rng.choice([1, 1, 1, 2, 3])) for s in skus]

    def product_url(self, sku: str) -> str:
        name = next(n for s, n, _ in CATALOG if s == sku)
        return f"{SHOP}/products/{slug(name)}-{sku.lower()}"

    def next_order(self) -> str:
        self.order_no += 1
        return f"SO-2026-{self.order_no:06d}"

    # -------------------------------------------------------------- journeys
    def session(self, v: Visitor, start: datetime, depth: int) -> datetime:
        """A browsing session: landing page, maybe a search, product views, and a funnel as
        deep as ``depth`` (0 browse only .. 4 purchase). Returns the time it ended."""
        rng = self.rng
        t = start
        landing = f"{SHOP}/"
        referrer = rng.choice(REFERRERS)
        if v.fbclid is not None:
            landing = f"{SHOP}/?fbclid={v.fbclid}&utm_source=facebook&utm_medium=paid_social"
            referrer = "https://m.facebook.com/"
            v.fbc = f"fb.1.{ms(t)}.{v.fbclid}"
        self.emit(
            t, v, "web.webpagedetails.pageViews", landing, page_name="home", referrer=referrer
        )
        if rng.random() < 0.45:
            t += timedelta(seconds=rng.randrange(5, 40), milliseconds=rng.randrange(1000))
            term = rng.choice(SEARCH_TERMS)
            hits = self.basket(rng.randrange(0, 6))
            self.emit(
                t,
                v,
                "siteSearch",
                f"{SHOP}/search?q={term.replace(' ', '+')}",
                page_name="search results",
                products=hits or None,
                xdm_extra={"siteSearch": {"term": term, "resultCount": len(hits)}},
            )
        viewed: list[Json] = []
        for _ in range(rng.randrange(1, 3)):
            t += timedelta(seconds=rng.randrange(8, 90), milliseconds=rng.randrange(1000))
            sku = rng.choice(CATALOG)[0]
            url = self.product_url(sku)
            self.emit(t, v, "web.webpagedetails.pageViews", url, page_name="product detail")
            product = self.item(sku, None)
            self.emit(
                t + timedelta(milliseconds=350),
                v,
                "commerce.productViews",
                url,
                page_name="product detail",
                products=[product],
            )
            viewed.append(product)
        if depth < 1:
            return t
        cart: list[Json] = []
        for product in viewed[: rng.randrange(1, len(viewed) + 1)]:
            t += timedelta(seconds=rng.randrange(3, 30), milliseconds=rng.randrange(1000))
            line = self.item(product["SKU"], rng.choice([1, 1, 2]))
            cart.append(line)
            self.emit(
                t,
                v,
                "commerce.productListAdds",
                self.product_url(line["SKU"]),
                page_name="product detail",
                products=[line],
            )
        if rng.random() < 0.25:
            extra = self.basket(rng.randrange(1, 4))
            cart.extend(extra)
        if depth < 2:
            return t
        t += timedelta(seconds=rng.randrange(20, 120))
        self.emit(
            t,
            v,
            "commerce.checkouts",
            f"{SHOP}/checkout",
            page_name="checkout",
            products=cart,
            with_customer=v.customer is not None,
        )
        if depth < 3:
            return t
        t += timedelta(seconds=rng.randrange(30, 180))
        self.emit(
            t,
            v,
            "commerce.paymentInfoAdded",
            f"{SHOP}/checkout/payment",
            page_name="checkout payment",
            products=cart,
            with_customer=v.customer is not None,
        )
        if depth < 4:
            return t
        t += timedelta(seconds=rng.randrange(10, 60))
        self.purchase(t, v, cart)
        return t

    def purchase(
        self,
        t: datetime,
        v: Visitor,
        cart: list[Json],
        *,
        total: float | str | None = None,
        currency: str | None = "USD",
        event_id: str | bool | None = True,
        data: Json | None = None,
    ) -> Json:
        order_id = self.next_order()
        value = money(sum(p["priceTotal"] for p in cart)) if total is None else total
        order: Json = {"purchaseID": order_id}
        if currency is not None:
            order["currencyCode"] = currency
        order["priceTotal"] = value
        order["payments"] = [
            {
                "paymentType": self.rng.choice(["credit_card", "paypal", "apple_pay"]),
                "paymentAmount": value,
                "currencyCode": currency or "USD",
            }
        ]
        return self.emit(
            t,
            v,
            "commerce.purchases",
            f"{SHOP}/checkout/confirmation?order={order_id}",
            page_name="order confirmation",
            referrer=f"{SHOP}/checkout/payment",
            products=cart,
            order=order,
            with_customer=v.customer is not None,
            event_id=event_id,
            data=data,
        )

    def simple(
        self,
        t: datetime,
        v: Visitor,
        event_type: str,
        path: str,
        name: str,
        data: Json | None = None,
    ) -> Json:
        return self.emit(
            t,
            v,
            event_type,
            f"{SHOP}{path}",
            page_name=name,
            data=data,
            with_customer=v.customer is not None,
        )

    # -------------------------------------------------------------- the afternoon
    def build(self) -> list[Json]:
        rng = self.rng
        known = EDGE_CUSTOMERS + generated_customers(rng, 16)

        def start() -> datetime:
            return BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600 - 1800), milliseconds=rng.randrange(1000)
            )

        # Known shoppers: deep funnels; a quarter arrive from a Meta ad (fbclid -> _fbc).
        for i, c in enumerate(known):
            v = self.visitor(c, ad_click=i % 4 == 1)
            depth = (4, 4, 3, 2, 4, 1, 4, 0)[i % 8]
            self.session(v, start(), depth)
        # Anonymous browsers: shallow sessions, some abandoned carts.
        for i in range(18):
            v = self.visitor(None, ad_click=i % 6 == 0)
            self.session(v, start(), (0, 0, 1, 2, 0, 1)[i % 6])
        self.signups(known)
        self.edge_cases(known)
        self.noise()
        self.events.sort(key=lambda e: (e[0], e[1]))
        return [e for _, _, e in self.events]

    def signups(self, known: list[Customer]) -> None:
        """Registrations, leads, newsletter and club subscriptions."""
        rng = self.rng
        for i, c in enumerate(known[:30:2]):
            v = self.visitor(c)
            t = BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600 - 600), milliseconds=rng.randrange(1000)
            )
            self.emit(
                t,
                v,
                "web.webpagedetails.pageViews",
                f"{SHOP}/account/register",
                page_name="register",
            )
            self.simple(
                t + timedelta(seconds=rng.randrange(40, 200)),
                v,
                "account.registered",
                "/account/register",
                "register",
            )
            if i % 3 == 0:
                t2 = t + timedelta(seconds=rng.randrange(300, 900))
                self.simple(
                    t2,
                    v,
                    "newsletter.subscribed",
                    "/newsletter",
                    "newsletter",
                    data={
                        "subscription": {
                            "plan": "newsletter-weekly",
                            "price": "0",
                            "predictedLtv": "14.50",
                        }
                    },
                )
        forms = ["contact-form", "wholesale-inquiry", "store-appointment", "personal-styling"]
        for i, c in enumerate(known[1:40:3]):
            v = self.visitor(c, ad_click=i % 5 == 0)
            t = BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600 - 600), milliseconds=rng.randrange(1000)
            )
            form: Json | None = {"form": {"name": forms[i % len(forms)]}} if i % 6 else None
            self.simple(t, v, "lead.submitted", "/contact", "contact", data=form)
        # Club memberships are paid: one Purchase and one Subscribe from the same event.
        for i, c in enumerate(known[3:30:5]):
            v = self.visitor(c)
            t = BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600 - 600), milliseconds=rng.randrange(1000)
            )
            plan, price, ltv = [
                ("club-gold", "99.00", "310.50"),
                ("club-silver", "49.00", "128.00"),
            ][i % 2]
            self.purchase(
                t,
                v,
                [
                    {
                        "SKU": plan.upper(),
                        "name": f"Club membership ({plan[5:]})",
                        "quantity": 1,
                        "priceTotal": float(price),
                        "currencyCode": "USD",
                    }
                ],
                data={"subscription": {"plan": plan, "price": price, "predictedLtv": ltv}},
            )

    def edge_cases(self, known: list[Customer]) -> None:
        """Events that exercise the corners: each is commented with what it tests."""
        rng = self.rng
        john = self.visitor(known[0], ad_click=True)
        t = BASE + timedelta(hours=1, minutes=7, seconds=13, milliseconds=482)
        john.fbc = f"fb.1.{ms(t - timedelta(minutes=3))}.{john.fbclid}"
        # A purchase of 20 different products, then the same event again (a retried beacon).
        big = [self.item(sku, 1 + k % 3) for k, (sku, _, _) in enumerate(CATALOG[:20])]
        first = self.purchase(t, john, big)
        dup = json.loads(json.dumps(first))
        self.events.append((t + timedelta(seconds=2), self.seq + 1, dup))
        self.seq += 1
        # An empty cart at checkout (0 items) and an order total sent as a string.
        zoe = self.visitor(known[1])
        t = BASE + timedelta(hours=2, minutes=11, seconds=48, milliseconds=20)
        self.emit(
            t,
            zoe,
            "commerce.checkouts",
            f"{SHOP}/checkout",
            page_name="checkout",
            products=[],
            with_customer=True,
        )
        self.purchase(
            t + timedelta(minutes=4),
            zoe,
            [self.item("KN-9002-BRG")],
            total="189.00",
            currency="eur",
        )
        # No event id: the Purchase rule falls back to the order id.
        jose = self.visitor(known[2])
        self.purchase(
            BASE + timedelta(hours=3, minutes=2, seconds=5, milliseconds=771),
            jose,
            [self.item("SH-5001-WHT"), self.item("SK-6001-MUL", 2)],
            event_id=None,
        )
        # No currency on the order (the rule defaults to USD); a line without quantity and one
        # without SKU (left out of contents).
        li = self.visitor(known[3])
        lines = [
            self.item("BG-7001-CAM", None),
            {"name": "Gift wrap", "quantity": 1, "priceTotal": 5.0, "currencyCode": "USD"},
            self.item("AC-8002-NVY", 2),
        ]
        self.purchase(
            BASE + timedelta(hours=1, minutes=44, seconds=31, milliseconds=96),
            li,
            lines,
            currency=None,
        )
        # A cart of 12 items from a visitor without cookies (blocked) and without a user agent.
        bare = self.visitor(known[4])
        bare.fbp = None
        bare.ua = None
        bare.extra_cookies.clear()
        self.emit(
            BASE + timedelta(hours=2, minutes=50, seconds=2, milliseconds=640),
            bare,
            "commerce.productListAdds",
            f"{SHOP}/cart",
            page_name="cart",
            products=self.basket(12),
        )
        # A timestamp with a UTC offset instead of Z (and a UK number written 0044...), and one
        # event without any timestamp.
        oli = self.visitor(known[5])
        t = BASE + timedelta(hours=1, minutes=20, seconds=37)
        env = self.emit(
            t,
            oli,
            "commerce.productListAdds",
            self.product_url("JK-3002-BLK"),
            page_name="product detail",
            products=[self.item("JK-3002-BLK")],
            with_customer=True,
        )
        env["event"]["xdm"]["timestamp"] = iso_local(t, 1)
        self.emit(
            None,
            oli,
            "web.webpagedetails.pageViews",
            f"{SHOP}/stores",
            page_name="store locator",
            sort_time=t + timedelta(minutes=1),
        )
        # A registration with a malformed e-mail and a pre-hashed one.
        for c in (known[8], known[10], known[11]):
            v = self.visitor(c)
            self.simple(
                BASE
                + timedelta(
                    hours=rng.randrange(1, 3),
                    minutes=rng.randrange(60),
                    milliseconds=rng.randrange(1000),
                ),
                v,
                "account.registered",
                "/account/register",
                "register",
            )
        # A lead with nothing but an ECID, and one with no event id at all.
        anon = self.visitor(None)
        self.simple(
            BASE + timedelta(minutes=95, seconds=12, milliseconds=305),
            anon,
            "lead.submitted",
            "/contact",
            "contact",
            data={"form": {"name": "contact-form"}},
        )
        self.emit(
            BASE + timedelta(minutes=97, seconds=40, milliseconds=918),
            anon,
            "lead.submitted",
            f"{SHOP}/contact",
            page_name="contact",
            event_id=False,
        )

    def noise(self) -> None:
        """Traffic no rule forwards."""
        rng = self.rng
        for i in range(14):
            v = self.visitor(None)
            t = BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600), milliseconds=rng.randrange(1000)
            )
            kind = i % 7
            if kind == 0:
                self.emit(
                    t,
                    v,
                    "web.webinteraction.linkClicks",
                    f"{SHOP}/",
                    page_name="home",
                    event_id=False,
                    xdm_extra={
                        "web": {
                            "webInteraction": {
                                "name": "footer:instagram",
                                "URL": "https://www.instagram.com/exampleshop",
                                "type": "exit",
                                "linkClicks": {"value": 1},
                            },
                            "webPageDetails": {"URL": f"{SHOP}/", "name": "home"},
                        }
                    },
                )
            elif kind == 1:
                self.emit(
                    t,
                    v,
                    "commerce.productListRemovals",
                    f"{SHOP}/cart",
                    page_name="cart",
                    products=[self.item(rng.choice(CATALOG)[0])],
                )
            elif kind == 2:
                # A page view without a URL (a single-page-app route change gone wrong).
                self.emit(t, v, "web.webpagedetails.pageViews", None)
            elif kind == 3:
                # A search for whitespace only.
                self.emit(
                    t,
                    v,
                    "siteSearch",
                    f"{SHOP}/search?q=+++",
                    page_name="search results",
                    xdm_extra={"siteSearch": {"term": "   ", "resultCount": 0}},
                )
            elif kind == 4:
                # A product view without products (the data layer was not ready).
                self.emit(t, v, "commerce.productViews", f"{SHOP}/products/", products=[])
            elif kind == 5:
                # A free order (a replacement shipment): no value, so no Purchase.
                self.purchase(t, v, [self.item("SK-6002-BLK")], total=0)
            else:
                self.emit(
                    t,
                    v,
                    "decisioning.propositionDisplay",
                    f"{SHOP}/",
                    page_name="home",
                    event_id=False,
                    xdm_extra={
                        "_experience": {
                            "decisioning": {
                                "propositions": [{"id": make_uuid(rng), "scope": "__view__"}]
                            }
                        }
                    },
                )


# ----------------------------------------------------------------------------- app-and-store

APP_ID = "com.example.shop"
APP_VERSIONS = [("7.7.1", "771"), ("7.8.0", "780"), ("7.8.2", "782")]
IOS_DEVICES = [
    # model, screen w, h, density, cores, storage GB
    ("iPhone15,2", 1179, 2556, "3.00", 6, 256),
    ("iPhone14,7", 1170, 2532, "3.00", 6, 128),
    ("iPhone16,1", 1179, 2556, "3.00", 6, 512),
    ("iPad13,18", 1640, 2360, "2.00", 8, 64),
]
ANDROID_DEVICES = [
    ("Pixel 8", 1080, 2400, "2.63", 9, 128),
    ("SM-S921B", 1080, 2340, "3.00", 8, 256),
    ("OnePlus 12", 1440, 3168, "3.50", 8, 512),
    ("moto g54 5G", 1080, 2400, "2.75", 8, 128),
]
MANUFACTURERS = {"iPh": "Apple", "iPa": "Apple", "Pix": "Google", "SM-": "samsung",
                 "One": "OnePlus", "mot": "motorola"}  # fmt: skip
CARRIERS = ["T-Mobile", "Verizon", "AT&T", "Vodafone", None]
ZONES = [
    ("America/New_York", "EST"),
    ("America/Chicago", "CST"),
    ("America/Los_Angeles", "PST"),
    ("Europe/London", "GMT"),
]
STORES = [
    ("SF-UNION-01", "Union Square", -8, "110123456789012"),
    ("NYC-SOHO-02", "SoHo", -5, "110123456789013"),
    ("CHI-LOOP-03", "The Loop", -6, "110123456789014"),
]
POS_UA = "acme-pos-bridge/3.4.1 (linux; x86_64)"


@dataclass
class Device:
    os: str  # "iOS" | "Android"
    model: tuple[str, int, int, str, int, int]
    os_version: str
    app_version: tuple[str, str]
    anon_id: str
    ad_id: str | None
    att: bool
    app_tracking: bool
    ip: str
    carrier: str | None
    zone: tuple[str, str]
    language: str
    customer: Customer | None


class AppAndStore:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[datetime, int, Json]] = []
        self.seq = 0
        self.order_no = 5100

    def add(self, t: datetime, envelope: Json) -> None:
        self.seq += 1
        self.events.append((t, self.seq, envelope))

    # -------------------------------------------------------------- app
    def device(self, i: int, customer: Customer | None) -> Device:
        rng = self.rng
        ios = i % 3 != 2
        model = (IOS_DEVICES if ios else ANDROID_DEVICES)[i % 4]
        os_version = rng.choice(["17.3.1", "17.4", "16.7.5"]) if ios else rng.choice(["14", "13"])
        att = (i % 4 != 3) if ios else True
        if ios:
            ad_id: str | None = make_uuid(rng).upper() if att else ZERO_IDFA
        else:
            ad_id = make_uuid(rng) if i % 7 != 5 else None  # "opt out of ads personalization"
        ip = (
            f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0xFFFF):x}"
            if i % 2
            else f"198.51.100.{rng.randrange(1, 255)}"
        )
        return Device(
            "iOS" if ios else "Android",
            model,
            os_version,
            rng.choice(APP_VERSIONS),
            "XZ" + make_uuid(rng).upper(),
            ad_id,
            att,
            i % 9 != 4,
            ip,
            None if model[0].startswith("iPad") else rng.choice(CARRIERS),
            ZONES[i % len(ZONES)],
            "en-GB" if ZONES[i % len(ZONES)][0] == "Europe/London" else "en-US",
            customer,
        )

    def app_event(
        self,
        t: datetime,
        d: Device,
        event_type: str,
        *,
        products: list[Json] | None = None,
        order: Json | None = None,
        event_id: bool = True,
    ) -> None:
        rng = self.rng
        model, width, height, density, cores, storage = d.model
        version, build = d.app_version
        identity: Json = {"ECID": [{"id": ecid(rng), "primary": True}]}
        if d.ad_id is not None:
            identity["IDFA" if d.os == "iOS" else "GAID"] = [{"id": d.ad_id}]
        if d.customer is not None and d.customer.email is not None:
            identity["Email"] = [{"id": d.customer.email, "authenticatedState": "authenticated"}]
        environment: Json = {
            "type": "application",
            "operatingSystem": d.os,
            "operatingSystemVersion": d.os_version,
            "language": d.language,
            "timezone": d.zone[0],
            "timezoneAbbreviation": d.zone[1],
        }
        if d.carrier is not None:
            environment["carrier"] = d.carrier
        xdm: Json = {
            "_id": make_uuid(rng),
            "eventType": event_type,
            "timestamp": iso(t),
            "application": {
                "id": APP_ID,
                "name": "Example Shop",
                "version": version,
                "build": build,
            },
            "device": {
                "manufacturer": MANUFACTURERS[model.split()[0][:3]],
                "model": model,
                "type": "tablet" if model.startswith("iPad") else "mobile",
                "screenWidth": width,
                "screenHeight": height,
                "screenDensity": density,
                "cpuCores": cores,
                "storageTotalGB": storage,
                "storageFreeGB": rng.randrange(4, storage // 2),
            },
            "environment": environment,
            "identityMap": identity,
        }
        if event_type == "application.install":
            xdm["application"]["installs"] = {"value": 1}
        elif event_type == "application.launch":
            xdm["application"]["launches"] = {"value": 1}
        if order is not None or event_type.startswith("commerce."):
            xdm["commerce"] = {event_type.split(".", 1)[1]: {"value": 1}}
            if order is not None:
                xdm["commerce"]["order"] = order
        if products is not None:
            xdm["productListItems"] = products
        app: Json = {}
        if event_id:
            app["eventId"] = make_uuid(rng)
        app["anonId"] = d.anon_id
        app["advertiserTrackingEnabled"] = d.att
        app["applicationTrackingEnabled"] = d.app_tracking
        data: Json = {"app": app}
        if d.customer is not None:
            data["customer"] = {"id": d.customer.id}
        ua = (
            f"ExampleShop/{version} ({model}; iOS {d.os_version}; Scale/{density[:4]})"
            if d.os == "iOS"
            else f"ExampleShop/{version} (Linux; Android {d.os_version}; {model})"
        )
        request = {
            "ip": d.ip,
            "headers": {
                "user-agent": ua,
                "accept-language": d.language,
                "content-type": "application/json",
            },
            "cookies": {},
            "url": f"{EDGE}/ee/v1/interact?configId={DATASTREAM}&requestId={make_uuid(rng)}",
        }
        self.add(t, {"event": {"xdm": xdm, "data": data}, "request": request})

    def app_session(self, i: int, d: Device, t: datetime) -> None:
        rng = self.rng
        if i % 4 == 0:
            self.app_event(t, d, "application.install")
            t += timedelta(seconds=rng.randrange(2, 10))
        self.app_event(t, d, "application.launch")
        steps = i % 5
        cart: list[Json] = []
        carted: set[str] = set()
        for _ in range(min(steps, 3)):
            t += timedelta(seconds=rng.randrange(10, 120), milliseconds=rng.randrange(1000))
            sku, name, price = rng.choice([p for p in CATALOG if p[0] not in carted])
            self.app_event(
                t,
                d,
                "commerce.productViews",
                products=[{"SKU": sku, "name": name, "priceTotal": price, "currencyCode": "USD"}],
            )
            if rng.random() < 0.6:
                qty = rng.choice([1, 1, 2])
                line = {
                    "SKU": sku,
                    "name": name,
                    "quantity": qty,
                    "priceTotal": money(price * qty),
                    "currencyCode": "USD",
                }
                cart.append(line)
                carted.add(sku)
                t += timedelta(seconds=rng.randrange(3, 40))
                self.app_event(t, d, "commerce.productListAdds", products=[line])
        if steps >= 3 and cart:
            t += timedelta(seconds=rng.randrange(60, 240))
            self.order_no += 1
            total = money(sum(p["priceTotal"] for p in cart))
            wallet = "apple_pay" if d.os == "iOS" else "google_pay"
            order = {
                "purchaseID": f"AO-2026-{self.order_no:06d}",
                "currencyCode": "USD",
                "priceTotal": total,
                "payments": [
                    {
                        "paymentType": "in_app_purchase" if i % 2 else wallet,
                        "paymentAmount": total,
                        "currencyCode": "USD",
                    }
                ],
            }
            self.app_event(t, d, "commerce.purchases", products=cart, order=order)

    # -------------------------------------------------------------- stores
    def pos(
        self,
        t: datetime,
        store: tuple[str, str, int, str],
        items: list[Json],
        customer: Json | None,
        *,
        kind: str = "sale",
        register: str = "01",
    ) -> None:
        code, name, offset, page_id = store
        self.order_no += 1
        total = money(sum(i["qty"] * i["unitPrice"] for i in items))
        if kind == "return":
            total = -total
        transaction: Json = {
            "receipt": f"{code.split('-')[0]}-{register}-{self.order_no:06d}",
            "type": kind,
            "completedAt": iso_local(t, offset),
            "register": register,
            "currency": "USD",
            "total": total,
            "tax": money(abs(total) * 0.0725),
            "items": items,
        }
        pos: Json = {
            "recordType": "transaction",
            "store": {"code": code, "name": name, "pageId": page_id},
            "transaction": transaction,
        }
        if customer is not None:
            pos["customer"] = customer
        request = {
            "ip": "192.0.2.10",
            "headers": {"user-agent": POS_UA, "content-type": "application/json"},
            "cookies": {},
            "url": f"{EDGE}/pos/v1/transactions?store={code}",
        }
        # POS systems upload in batches: the edge sees the record a few minutes later.
        self.add(t + timedelta(minutes=5), {"event": {"pos": pos}, "request": request})

    def pos_items(self, n: int) -> list[Json]:
        rng = self.rng
        out = []
        for sku, name, price in rng.sample(CATALOG, k=n):
            out.append(
                {
                    "sku": sku,
                    "description": name,
                    "brand": "Example Supply Co.",
                    "category": {
                        "TS": "tops",
                        "HD": "tops",
                        "JK": "outerwear",
                        "PT": "bottoms",
                        "SH": "footwear",
                        "SK": "accessories",
                        "BG": "bags",
                        "AC": "accessories",
                        "KN": "knitwear",
                        "DR": "dresses",
                        "GC": "gift cards",
                    }[sku[:2]],
                    "qty": rng.choice([1, 1, 1, 2]),
                    "unitPrice": price,
                }
            )
        return out

    @staticmethod
    def loyalty(c: Customer, variant: int) -> Json:
        """A POS customer record: loyalty members are known by e-mail and/or phone."""
        rec: Json = {"customerId": c.id, "loyaltyId": c.id.replace("C-", "L-")}
        if c.email is not None and variant != 2:
            rec["email"] = c.email
        if c.phone is not None and variant != 1:
            rec["phone"] = c.phone
        for key, value in (
            ("firstName", c.first),
            ("lastName", c.last),
            ("postalCode", c.zip),
            ("country", c.country),
        ):
            if value is not None and variant != 3:
                rec[key] = value
        return rec

    # -------------------------------------------------------------- the afternoon
    def build(self) -> list[Json]:
        rng = self.rng
        customers = EDGE_CUSTOMERS + generated_customers(random.Random(STOREFRONT_SEED), 24)
        for i in range(22):
            customer = customers[(i * 7) % len(customers)] if i % 3 == 0 else None
            d = self.device(i, customer)
            t = BASE + timedelta(
                seconds=rng.randrange(0, 4 * 3600 - 1200), milliseconds=rng.randrange(1000)
            )
            self.app_session(i, d, t)
        # An in-app purchase whose SDK event id is missing (the rule falls back to the order id).
        d = self.device(30, customers[0])
        t = BASE + timedelta(hours=2, minutes=33, seconds=9, milliseconds=154)
        self.app_event(
            t,
            d,
            "commerce.purchases",
            products=[
                {
                    "SKU": "GC-0050-USD",
                    "name": "Gift Card $50",
                    "quantity": 1,
                    "priceTotal": 50.0,
                    "currencyCode": "USD",
                }
            ],
            order={"purchaseID": "AO-2026-009999", "currencyCode": "USD", "priceTotal": 50.0},
            event_id=False,
        )
        for i in range(32):
            store = STORES[i % len(STORES)]
            t = BASE + timedelta(
                hours=3, seconds=rng.randrange(0, 4 * 3600), milliseconds=rng.randrange(1000)
            )
            items = self.pos_items(1 + (i * 3) % 6)
            if i % 8 == 7:
                customer = None  # a cash sale without a loyalty card: nothing to match on
            else:
                customer = self.loyalty(customers[(i * 5 + 1) % len(customers)], i % 5)
            kind = "return" if i % 11 == 10 else "sale"
            self.pos(t, store, items, customer, kind=kind, register=f"{1 + i % 4:02d}")
        self.events.sort(key=lambda e: (e[0], e[1]))
        return [e for _, _, e in self.events]


# ----------------------------------------------------------------------------- output


def render(events: list[Json]) -> bytes:
    lines = (json.dumps(e, ensure_ascii=False, separators=(", ", ": ")) for e in events)
    return ("\n".join(lines) + "\n").encode("utf-8")


def outputs() -> Iterator[tuple[str, bytes]]:
    yield "storefront", render(Storefront(STOREFRONT_SEED).build())
    yield "app-and-store", render(AppAndStore(APP_STORE_SEED).build())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed file is stale")
    parser.add_argument("--out", type=Path, default=REPO / "samples", help="samples directory")
    args = parser.parse_args(argv)
    stale = []
    for sample, data in outputs():
        target = args.out / sample / "events.jsonl"
        if args.check:
            if not target.is_file() or target.read_bytes() != data:
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target}: {data.count(NEWLINE)} events")
    if stale:
        print(
            "out of date (run scripts/gen_sample_events.py):", *stale, sep="\n  ", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
