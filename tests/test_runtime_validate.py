"""Per-event validation and server-event assembly (through compiled modules)."""

from __future__ import annotations

import hashlib
from types import ModuleType
from typing import Any

import pytest

from capic import api
from capic.runtime import Context, Rejection
from capic.runtime.validate import (
    BROAD_USER_DATA,
    EMPTY_USER_DATA,
    FUTURE_EVENT_TIME,
    INVALID_ACTION_SOURCE,
    INVALID_EVENT_TIME,
    INVALID_URL,
    LONG_EVENT_NAME,
    MISSING_ACTION_SOURCE,
    MISSING_EVENT_TIME,
    MISSING_URL,
    MISSING_USER_AGENT,
    OLD_EVENT_TIME,
    validate_event,
)

NOW = 1_772_550_000.0
H = "a" * 64


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def compile_text(text: str) -> ModuleType:
    result = api.parse(text, "rules.capi")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    return api.load_compiled(api.compile_project(result.project))


def good(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": int(NOW) - 10,
        "action_source": "website",
        "event_source_url": "https://shop.example.com/",
        "user_data": {"em": H, "client_user_agent": "UA"},
        "custom_data": {"currency": "USD", "value": 10},
    }
    for key, value in changes.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"event_name": "x" * 51}, LONG_EVENT_NAME),
        ({"event_time": ...}, MISSING_EVENT_TIME),
        ({"event_time": "1772550000"}, INVALID_EVENT_TIME),
        ({"event_time": int(NOW) - 7 * 86400 - 1}, OLD_EVENT_TIME),
        ({"event_time": int(NOW) - 7 * 86400 + 1}, None),
        ({"event_time": int(NOW) + 61}, FUTURE_EVENT_TIME),
        ({"event_time": int(NOW) + 60}, None),
        ({"action_source": ...}, MISSING_ACTION_SOURCE),
        ({"action_source": "web"}, INVALID_ACTION_SOURCE),
        ({"action_source": ["website"]}, INVALID_ACTION_SOURCE),
        ({"event_source_url": ...}, MISSING_URL),
        ({"event_source_url": "shop.example.com"}, INVALID_URL),
        ({"event_source_url": "HTTPS://shop.example.com"}, None),
        ({"user_data": {"em": H}}, MISSING_USER_AGENT),
        ({"user_data": {}, "action_source": "email"}, EMPTY_USER_DATA),
        ({"user_data": ..., "action_source": "email"}, EMPTY_USER_DATA),
        ({"user_data": {"fn": H, "ge": H}, "action_source": "email"}, BROAD_USER_DATA),
        ({"user_data": {"db": H, "client_user_agent": "UA"}}, BROAD_USER_DATA),
        ({"user_data": {"ct": H, "zp": H, "client_user_agent": "UA"}}, BROAD_USER_DATA),
        ({"user_data": {"fbp": "fb.1.1.1"}, "action_source": "app"}, "app event without app_data"),
        ({"action_source": "app", "app_data": {"advertiser_tracking_enabled": 1}}, None),
        (
            {"action_source": "business_messaging"},
            "business_messaging event without messaging_channel",
        ),
        ({"action_source": "business_messaging", "messaging_channel": "whatsapp"}, None),
        ({"custom_data": {"currency": "EUR"}}, "Purchase without custom_data.value"),
        ({"custom_data": ...}, "Purchase without custom_data.currency"),
        (
            {"custom_data": {"currency": "XYZ", "value": 1}},
            "custom_data.currency is not an ISO 4217 code",
        ),
        (
            {"custom_data": {"currency": "EUR", "value": float("inf")}},
            "custom_data.value out of range",
        ),
        ({"custom_data": {"currency": "EUR", "value": 2**64}}, "custom_data.value out of range"),
        ({"custom_data": {"currency": "EUR", "value": -1}}, "custom_data.value is negative"),
        (
            {"referrer_url": "https://r.example/" + "r" * 9000},
            "referrer_url longer than 8,192 characters",
        ),
        ({"event_name": "Lead", "custom_data": ...}, None),
    ],
)
def test_validate_event(changes: dict[str, Any], reason: str | None) -> None:
    assert validate_event(good(**changes), NOW) == reason


RULES = """
pixel p { id = "1" access_token = env("T") }
rule "r" {
  when event.kind == "buy"
  send Purchase to p {
    event_id = event.id
    event_time = event.time
    action_source = event.source ?? "website"
    event_source_url = event.url
    opt_out = event.opt_out
    user {
      em = event.email
      ph = event.phone
      client_user_agent = event.ua
      fbp = event.fbp
    }
    custom {
      value = event.value
      currency = event.currency
      num_items = event.n
      contents = [for i in event.items : {id = i.sku, quantity = i.q}]
      nested { a = event.a  b = null }
      empty { x = event.missing }
    }
  }
}
"""


@pytest.fixture(scope="module")
def module() -> ModuleType:
    return compile_text(RULES)


def incoming(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "kind": "buy",
        "id": 12345,
        "time": "2026-03-03T15:04:05Z",
        "url": "https://shop.example.com/thanks",
        "email": "  John.Doe@Example.COM ",
        "ua": "UA",
        "value": "12.50",
        "currency": " usd ",
        "n": "3",
        "items": [{"sku": "A", "q": 1}, {"q": 2}],
        "a": 1,
    }
    event.update(changes)
    return event


def ctx(**kwargs: Any) -> Context:
    return Context(now=lambda: 1772550245.0, uuid=lambda: "u", **kwargs)


def test_payload_assembly(module: ModuleType) -> None:
    context = ctx()
    [out] = module.process(incoming(), context=context)
    assert out.rule == "r" and out.pixel == "p" and out.test_event_code is None
    assert out.event == {
        "event_name": "Purchase",
        "event_id": "12345",
        "event_time": 1772550245,
        "action_source": "website",
        "event_source_url": "https://shop.example.com/thanks",
        "user_data": {"em": sha("john.doe@example.com"), "client_user_agent": "UA"},
        "custom_data": {
            "value": 12.5,
            "currency": "USD",
            "num_items": 3,
            "contents": [{"id": "A", "quantity": 1}, {"quantity": 2}],
            "nested": {"a": 1},
        },
    }
    assert list(out.event)[:3] == ["event_name", "event_id", "event_time"]
    assert context.stats.emitted == 1
    assert context.stats.matched == {"r": 1}


def test_invalid_values_are_dropped_and_counted(module: ModuleType) -> None:
    context = ctx()
    [out] = module.process(incoming(n="three", phone="not a phone", fbp=None), context=context)
    assert "num_items" not in out.event["custom_data"]
    assert "ph" not in out.event["user_data"]
    assert context.stats.invalid_values == {"custom_data.num_items": 1, "ph": 1}


def test_a_purchase_whose_currency_or_value_fails_conversion_is_rejected(
    module: ModuleType,
) -> None:
    # Meta rejects a Purchase without them: it is rejected here, never sent without them.
    context = ctx()
    assert module.process(incoming(currency="dollars", value="lots"), context=context) == []
    assert context.stats.rejected == {"Purchase without custom_data.currency": 1}
    assert context.stats.invalid_values == {"custom_data.currency": 1, "custom_data.value": 1}


def test_rejections_are_counted_with_their_reason(module: ModuleType) -> None:
    seen: list[Rejection] = []
    context = ctx(on_reject=seen.append)
    assert module.process(incoming(time="yesterday"), context=context) == []
    assert module.process(incoming(time="2026-02-01T00:00:00Z"), context=context) == []
    assert module.process(incoming(ua=None), context=context) == []
    assert module.process(incoming(source="web"), context=context) == []
    assert module.process(incoming(kind="view"), context=context) == []
    assert context.stats.rejected == {
        INVALID_EVENT_TIME: 1,
        OLD_EVENT_TIME: 1,
        MISSING_USER_AGENT: 1,
        INVALID_ACTION_SOURCE: 1,
    }
    assert context.stats.unmatched == 1
    assert context.stats.events == 5
    assert [r.reason for r in seen] == [
        INVALID_EVENT_TIME,
        OLD_EVENT_TIME,
        MISSING_USER_AGENT,
        INVALID_ACTION_SOURCE,
    ]
    assert seen[0] == Rejection("r", "p", "Purchase", INVALID_EVENT_TIME)


def test_validation_can_be_turned_off(module: ModuleType) -> None:
    [out] = module.process(incoming(ua=None), context=ctx(validate=False))
    assert out.event["user_data"] == {"em": sha("john.doe@example.com")}


def test_time_offset_and_probe(module: ModuleType) -> None:
    [out] = module.process(incoming(time=1772550245 - 1000), context=ctx(time_offset=1000))
    assert out.event["event_time"] == 1772550245
    probe = ctx(probe=True)
    for t in (100, 300, 200):
        assert module.process(incoming(time=t), context=probe) == []
    assert probe.stats.max_event_time == 300


def test_event_is_not_a_dict(module: ModuleType) -> None:
    context = ctx()
    not_objects: list[Any] = [None, [], "x", 1]
    for event in not_objects:
        assert module.process(event, context=context) == []
    assert context.stats.unmatched == 4


def test_request_header_names_are_case_insensitive() -> None:
    module = compile_text(
        """
        pixel p { id = "1" access_token = env("T") }
        rule "r" {
          send Lead to p {
            event_time = 1772550245
            action_source = "website"
            event_source_url = "https://x.example/"
            user { client_user_agent = request.headers["user-agent"] em = "a@b.co" }
          }
        }
        """
    )
    request = {"headers": {"User-Agent": "UA/1"}}
    [out] = module.process({}, request, context=ctx())
    assert out.event["user_data"]["client_user_agent"] == "UA/1"
    assert request == {"headers": {"User-Agent": "UA/1"}}  # the caller's request is untouched


def test_prune() -> None:
    from capic.runtime.payload import prune

    same = {"a": [1, {"b": 2}], "c": 0, "d": False, "e": [""]}
    assert prune(same) is same
    # Empty members are left out like nulls: "", [] and {} as written or once pruned.
    assert prune(
        {"a": None, "b": [None, 1, {"c": None}], "d": {"e": None}, "f": {}, "g": "", "h": []}
    ) == {"b": [1]}
    assert prune([None]) == []
    assert prune("x") == "x"
