"""The runtime's fast paths give exactly what the general paths give (behaviour, never timing)."""

from __future__ import annotations

import calendar
import collections
import datetime
import hashlib
import itertools
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

import pytest

from capic import api
from capic.runtime import Context
from capic.runtime.coerce import to_event_time
from capic.runtime.hashing import MEMO_KEYS, MEMO_LIMIT, UserDataBuilder
from capic.runtime.normalize import _EMAIL, HASHED_KEYS, normalize
from capic.runtime.paths import get1, obj
from capic.runtime.payload import event_time
from capic.runtime.validate import FUTURE_EVENT_TIME

NOW = 1_772_550_000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def compile_text(text: str) -> ModuleType:
    result = api.parse(text, "rules.capi")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    return api.load_compiled(api.compile_project(result.project))


# --------------------------------------------------------------------------- event_time

RULES = """
pixel p { id = "1" access_token = env("T") }
rule "r" {
  when event.kind == "buy"
  send AddToCart to p {
    event_time = event.time
    action_source = "website"
    event_source_url = "https://shop.example.com/"
    user {
      em = event.customer.email
      ph = event.customer.phone
      fn = event.customer.first
      ln = event.customer.last
      db = event.customer.dob
      ge = event.customer.gender
      ct = event.customer.city
      st = event.customer.state
      zp = event.customer.zip
      country = event.customer.country
      external_id = event.customer.id
      client_user_agent = event.ua
      fbp = event.fbp
    }
  }
}
"""


@pytest.fixture(scope="module")
def module() -> ModuleType:
    return compile_text(RULES)


def run(module: ModuleType, event: dict[str, Any]) -> tuple[list[Any], Context]:
    ctx = Context(now=lambda: float(NOW))
    return module.process(event, context=ctx), ctx


@pytest.mark.parametrize(
    "value",
    [
        NOW - 10,
        (NOW - 10) * 1000,
        (NOW - 10) * 1000 + 999,
        (NOW - 10) * 1_000_000,
        (NOW - 10) * 1_000_000_000,
        str((NOW - 10) * 1000),
        float(NOW - 10),
    ],
)
def test_integer_event_time_in_any_unit_is_converted(module: ModuleType, value: Any) -> None:
    out, ctx = run(module, {"kind": "buy", "time": value, "ua": "UA", "customer": {"id": "x"}})
    assert ctx.stats.rejected == {}
    assert [e.event["event_time"] for e in out] == [NOW - 10]


def test_milliseconds_as_int_and_as_string_agree(module: ModuleType) -> None:
    ms = (NOW + 3600) * 1000  # an hour ahead: both rejected the same way
    reasons = []
    for value in (ms, str(ms)):
        _, ctx = run(module, {"kind": "buy", "time": value, "ua": "UA", "customer": {"id": "x"}})
        reasons.append(dict(ctx.stats.rejected))
    assert reasons == [{FUTURE_EVENT_TIME: 1}] * 2


@pytest.mark.parametrize(
    "value",
    [1, 99_999_999_999, 100_000_000_000, 100_000_000_001, 0, -5, 10**30, True, 2**53 + 1],
)
def test_event_time_fast_path_equals_to_event_time(value: Any) -> None:
    assert event_time(value) == to_event_time(value)


# --------------------------------------------------------------------------- user_data

CUSTOMERS: list[dict[str, Any]] = [
    {
        "email": "  Mary.Smith123@Example.COM ",
        "phone": "+1 (650) 555-0123",
        "first": "Mary",
        "last": "O'Brien",
        "dob": "19800229",
        "gender": "F",
        "city": "San Francisco",
        "state": "California",
        "zip": "94103-1234",
        "country": "US",
        "id": "User-1",
    },
    {
        "email": "not an email",
        "phone": "",
        "first": "  ",
        "last": None,
        "dob": "02291981",
        "gender": "x",
        "city": "123",
        "state": "Bavaria",
        "zip": 94103,
        "country": "Atlantis",
        "id": ["a", "A", "b", None, ""],
    },
    {
        "email": "A" * 64,
        "phone": "(650) 555-0123",
        "first": "Zoë",
        "last": "a" * 64,
        "dob": "1997-02-16",
        "gender": ["m", "female", "??"],
        "city": "Zürich",
        "state": "ca",
        "zip": "M1 1AE",
        "country": "united kingdom",
        "id": 12.0,
    },
]
FIELDS = {
    "em": "email",
    "ph": "phone",
    "fn": "first",
    "ln": "last",
    "db": "dob",
    "ge": "gender",
    "ct": "city",
    "st": "state",
    "zp": "zip",
    "country": "country",
    "external_id": "id",
}


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_generated_user_data_equals_the_builder(module: ModuleType, customer: dict) -> None:
    builder = UserDataBuilder()
    fields: dict[str, Any] = {k: customer[v] for k, v in FIELDS.items()}
    fields["client_user_agent"] = "UA"
    expected_invalid: collections.Counter[str] = collections.Counter()
    expected = builder.build(fields, expected_invalid)
    event = {"kind": "buy", "time": NOW, "ua": "UA", "customer": customer}
    ctx = Context(now=lambda: float(NOW), validate=False)
    out = module.process(event, context=ctx)
    assert len(out) == 1
    ud = out[0].event["user_data"]
    assert ud == expected
    assert list(ud) == list(expected)  # same key order, so the same JSON
    assert ctx.stats.invalid_values == expected_invalid


def test_memoized_keys_give_the_same_digests_every_time() -> None:
    builder = UserDataBuilder(default_country="us")
    values = ["Mary", " mary ", "MARY", "", "   ", "!!!", "a" * 64, 12, None, ["Ann", "ann"]]
    for key in sorted(MEMO_KEYS):
        put = builder.hasher(key)
        assert put is not None
        for value in values * 3:
            out: dict[str, object] = {}
            invalid: collections.Counter[str] = collections.Counter()
            put(out, value, invalid)
            fresh_invalid: collections.Counter[str] = collections.Counter()
            fresh = UserDataBuilder(default_country="us").build({key: value}, fresh_invalid)
            assert (out, invalid) == (fresh, fresh_invalid), (key, value)


def test_memo_is_bounded_and_stays_correct() -> None:
    builder = UserDataBuilder()
    put = builder.hasher("ct")
    assert put is not None
    for n in range(MEMO_LIMIT * 2 + 10):
        out: dict[str, object] = {}
        put(out, f"City{n}", None)
        assert out == {"ct": sha(f"city{n}")}


def test_hasher_only_for_hashed_keys() -> None:
    builder = UserDataBuilder()
    assert {k for k in HASHED_KEYS if builder.hasher(k) is not None} == HASHED_KEYS
    assert builder.hasher("fbp") is None


# --------------------------------------------------------------------------- normalizers


def _valid_dates() -> Iterator[str]:
    year = datetime.datetime.now(datetime.UTC).year
    for y in (1899, 1900, 1955, 1996, 2000, 2023, year, year + 1, 9999):
        for m in range(0, 14):
            for d in (0, 1, 15, 28, 29, 30, 31, 32):
                yield f"{y:04d}{m:02d}{d:02d}"


def _compact_oracle(text: str) -> str | None:
    """What an 8-digit date of birth must give: YYYYMMDD when valid, else MMDDYYYY (mdy)."""
    year = datetime.datetime.now(datetime.UTC).year

    def valid(y: int, m: int, d: int) -> bool:
        return 1900 <= y <= year and 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]

    y, m, d = int(text[:4]), int(text[4:6]), int(text[6:])
    if valid(y, m, d):
        return text
    # Not YYYYMMDD: the general reading of MM DD YYYY (a group > 12 is the day).
    n1, n2, n3 = int(text[:2]), int(text[2:4]), int(text[4:])
    if n1 > 12 and n2 <= 12:
        n1, n2 = n2, n1
    return f"{n3:04d}{n1:02d}{n2:02d}" if valid(n3, n1, n2) else None


@pytest.mark.parametrize(
    "text", [*_valid_dates(), "02291980", "02291981", "12311999", "31121999", "00000000"]
)
def test_compact_dates(text: str) -> None:
    assert normalize("db", text, dob_order="mdy") == _compact_oracle(text)
    # The fast path and the general path (the same digits with a non-digit around) agree.
    assert normalize("db", text) == normalize("db", f"#{text}#")


EMAILS = [
    "mary.smith123@example.com",
    "Mary.Smith+tag@Mail.Example.CO.UK",
    "a_b-c@x-y.io",
    "a..b@example.com",
    ".a@example.com",
    "a@example",
    "a@example.c",
    "a@-example.com",
    "a@example.com.",
    "a@@example.com",
    'very."odd"@example.com',
    '"quoted name"@example.com',
    "user@[192.168.0.1]",
    "üser@exämple.de",
    "user@example.xn--p1ai",
    "user@123.456",
    "a b@example.com",
    "a@b.cd",
    "@example.com",
]


@pytest.mark.parametrize("text", EMAILS)
def test_email_fast_path_equals_the_full_pattern(text: str) -> None:
    lowered = text.lower()
    expected = lowered if text.isascii() and _EMAIL.fullmatch(lowered) else None
    if text.isascii():
        assert normalize("em", text) == expected


# --------------------------------------------------------------------------- paths


class Broken(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("boom")


class Sub(dict[str, Any]):
    pass


VALUES: list[Any] = [
    {"a": 1, "b": None},
    Sub(a=2),
    Broken(),
    collections.OrderedDict(a=3),
    None,
    [1, 2],
    "a",
    3,
    1.5,
    True,
]


@pytest.mark.parametrize(("value", "key"), list(itertools.product(VALUES, ["a", "b", "c"])))
def test_obj_get_equals_get1(value: Any, key: str) -> None:
    assert obj(value).get(key) == get1(value, key)


# --------------------------------------------------------------------------- sections, validation


def _reference_prune(value: Any) -> Any:
    """prune as specified: object members that are null, "" or empty (as written or once
    pruned) left out at every depth; null list items too, and items that were objects whose
    members all were."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None or v == "":
                continue
            p = _reference_prune(v)
            if isinstance(p, dict | list) and not p:
                continue
            out[k] = p
        return out
    if isinstance(value, list):
        items = []
        for v in value:
            if v is None:
                continue
            p = _reference_prune(v)
            if isinstance(p, dict) and not p and v:
                continue
            items.append(p)
        return items
    return value


PRUNE_CASES: list[Any] = [
    {},
    [],
    {"a": 1, "b": "x"},
    {"a": None},
    {"a": {}, "b": []},
    {"a": {"b": None}, "c": 1},
    [{"id": "A", "quantity": 1}, {"id": "B", "quantity": None}],
    [{"id": "A"}, {}, {"x": None}, None, [None], 3],
    {"contents": [{"id": "A", "item_price": 1.5}], "value": None, "currency": "USD"},
    {"contents": [{"id": None}], "nested": {"deep": [{"x": None, "y": [None, {"z": None}]}]}},
    [[{"a": 1}], {"b": {"c": {"d": None}}}],
]


@pytest.mark.parametrize("value", PRUNE_CASES)
def test_prune_fast_paths_agree_with_the_reference(value: Any) -> None:
    from capic.runtime.payload import prune, put_pruned

    got = prune(value)
    assert got == _reference_prune(value)
    if got == value:
        assert got is value  # nothing removed: the very same object
    section: dict[str, Any] = {}
    if isinstance(value, dict | list):
        put_pruned(section, "k", value)
        expected = _reference_prune({"k": value})
        assert section == expected


def test_generated_sections_drop_nulls_like_prune() -> None:
    module = compile_text(
        """
pixel p {
  id = "1"
  access_token = env("T")
}
rule "r" {
  when event.type == "buy"
  send AddToCart to p {
    event_time = event.time
    action_source = "website"
    event_source_url = "https://shop.example.com/"
    user { em = event.email  client_user_agent = "ua" }
    custom {
      currency = event.currency
      value = event.value
      content_type = "product"
      extra = event.extra
      contents = [for i in event.items : {id = i.sku, quantity = i.qty}]
    }
  }
}
"""
    )
    ctx = Context(now=lambda: NOW)
    base: dict[str, Any] = {"type": "buy", "time": NOW - 10, "email": "a@b.co"}
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {"content_type": "product"}),
        (
            {"currency": "usd", "value": "5", "extra": {"a": None}, "items": [{"sku": "S"}]},
            {"currency": "USD", "value": 5.0, "content_type": "product", "contents": [{"id": "S"}]},
        ),
        (
            {"extra": {}, "items": [{"qty": None}, None]},
            {"content_type": "product"},
        ),
        (
            {"extra": [None, {"b": None, "c": 1, "d": ""}], "items": "nope"},
            {"content_type": "product", "extra": [{"c": 1}]},
        ),
    ]
    for extra, custom in cases:
        (emitted,) = module.process({**base, **extra}, context=ctx)
        assert emitted.event["custom_data"] == custom
        assert list(emitted.event["custom_data"]) == list(custom)


def test_validation_with_a_constant_action_source_agrees() -> None:
    from capic.runtime.validate import validate_event, validate_timed_user

    events: list[dict[str, Any]] = [
        {"event_name": "Purchase", "event_time": NOW, "action_source": "website"},
        {
            "event_name": "Purchase",
            "event_time": NOW,
            "action_source": "website",
            "event_source_url": "ftp://x",
            "user_data": {"client_user_agent": "ua", "em": "e"},
        },
        {
            "event_name": "Purchase",
            "event_time": NOW,
            "action_source": "website",
            "event_source_url": "HTTPS://x",
            "user_data": {"client_user_agent": "ua", "em": "e"},
        },
        {"event_name": "Lead", "event_time": NOW - 9 * 86400, "action_source": "email"},
        {"event_name": "Lead", "event_time": NOW + 61, "action_source": "app"},
        {"event_name": "Lead", "event_time": "1", "action_source": "chat"},
        {"event_name": "Lead", "action_source": "chat", "user_data": {"em": "e"}},
        {"event_name": "Lead", "event_time": NOW, "action_source": "chat"},
        {
            "event_name": "Lead",
            "event_time": NOW,
            "action_source": "chat",
            "user_data": {"ge": "g"},
        },
        {
            "event_name": "Lead",
            "event_time": NOW,
            "action_source": "chat",
            "user_data": {"em": "e"},
        },
    ]
    for ev in events:
        website = ev["action_source"] == "website"
        assert validate_timed_user(ev, NOW, website) == validate_event(ev, NOW), ev
        assert validate_timed_user(ev, NOW, None) == validate_event(ev, NOW), ev


def test_send_spec_trusts_only_valid_constant_sources() -> None:
    from capic.runtime.payload import SendSpec

    def spec(**kw: Any) -> SendSpec:
        args: dict[str, Any] = {"rule": "r", "pixel": "p", "event_name": "Lead", "keys": ()}
        return SendSpec(**{**args, **kw})

    assert spec(action_source="website").website is True
    assert spec(action_source="email").website is False
    assert spec().website is None
    assert spec(action_source="Website").website is None
    assert spec(action_source="website", keys=("action_source",)).website is None
    assert spec(action_source="website", event_name="x" * 51).website is None


def test_generated_section_conversions_count_like_begin() -> None:
    module = compile_text(
        """
pixel p {
  id = "1"
  access_token = env("T")
}
rule "r" {
  when event.type == "buy"
  send AddToCart to p {
    event_time = event.time
    action_source = "website"
    event_source_url = "https://shop.example.com/"
    user { em = event.email  client_user_agent = "ua" }
    custom {
      currency = event.currency
      value = event.value
      num_items = event.n
    }
  }
}
"""
    )
    base: dict[str, Any] = {"type": "buy", "time": NOW - 10, "email": "a@b.co"}
    ctx = Context(now=lambda: NOW)
    (emitted,) = module.process({**base, "currency": "eur", "value": "abc", "n": "3"}, context=ctx)
    assert emitted.event["custom_data"] == {"currency": "EUR", "num_items": 3}
    assert ctx.stats.invalid_values == {"custom_data.value": 1}
    ctx = Context(now=lambda: NOW)
    (emitted,) = module.process({**base, "value": [1], "currency": "??"}, context=ctx)
    assert "custom_data" not in emitted.event  # empty after its conversions: left out
    assert ctx.stats.invalid_values == {"custom_data.value": 1, "custom_data.currency": 1}
    # A rejected event counts no section conversions (as Sender.begin did not reach them).
    ctx = Context(now=lambda: NOW)
    assert module.process({**base, "time": "never", "value": "abc"}, context=ctx) == []
    assert ctx.stats.invalid_values == {}


def test_tune_allocator_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from capic.runtime import tuning

    applied = tuning.tune_allocator()
    assert isinstance(applied, bool)
    assert tuning.tune_allocator() is applied  # idempotent
    monkeypatch.setattr(sys, "platform", "darwin")
    assert tuning.tune_allocator() is False

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("no libc")

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(tuning.ctypes, "CDLL", broken)
    assert tuning.tune_allocator() is False
