"""The Ingestor: one incoming event to queue items and an outcome; bad values reject the event
with a reason and never raise (issue 10, items 2 and 4)."""

from __future__ import annotations

import re
import threading
from types import ModuleType
from typing import Any

import orjson
import pytest

from capic import api
from capic.runtime import Context
from capic.runtime.destinations import Destinations
from capic.runtime.ingest import NOT_AN_OBJECT, Ingestor

NOW = 1_772_550_000.0
RULES = """
pixel shop { id = "1234567890123456" access_token = env("T") app_secret = env("APP") }
rule "buy" {
  when event.kind == "buy"
  send Purchase to shop {
    event_id = event.id
    event_time = event.time
    action_source = "website"
    event_source_url = event.url
    user { em = event.email  client_user_agent = "UA" }
    custom {
      currency = event.currency
      value = event.value
      note = event.note
    }
  }
}
rule "lead" {
  when event.kind == "lead"
  send Lead to shop {
    event_time = event.time
    action_source = "email"
    user { em = event.email }
    custom { value = event.value }
  }
}
"""


@pytest.fixture(scope="module")
def module() -> ModuleType:
    result = api.parse(RULES, "rules.capi")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    return api.load_compiled(api.compile_project(result.project))


@pytest.fixture
def ingestor(module: ModuleType) -> Ingestor:
    return Ingestor(
        module, Destinations(module, dry_run=True), context_factory=lambda: Context(now=lambda: NOW)
    )


def buy(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "kind": "buy",
        "id": "order-1",
        "time": NOW - 10,
        "url": "https://shop.example/thanks",
        "email": "a@b.example",
        "currency": "usd",
        "value": "12.50",
    }
    event.update(changes)
    return event


def test_an_accepted_event_becomes_encoded_items(ingestor: Ingestor) -> None:
    outcome = ingestor.process(buy(), {"ip": "203.0.113.9"}, index=7)
    assert (outcome.index, outcome.status, outcome.reason) == (7, "accepted", None)
    assert outcome.rules == ("buy",)
    [item] = outcome.items
    sent = orjson.loads(item.body)
    assert item.event_id == sent["event_id"] == "order-1"
    assert sent["custom_data"] == {"currency": "USD", "value": 12.5}
    assert item.destination.pixel_id == "1234567890123456"
    assert item.destination.app_secret is not None  # the reference travels, never a value
    assert item.destination.app_secret.describe() == 'env("APP")'


def test_an_event_without_event_id_gets_one_stored_with_it(ingestor: Ingestor) -> None:
    first = ingestor.process({"kind": "lead", "time": NOW - 5, "email": "x@y.example"})
    second = ingestor.process({"kind": "lead", "time": NOW - 5, "email": "x@y.example"})
    ids = [outcome.items[0].event_id for outcome in (first, second)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    assert orjson.loads(first.items[0].body)["event_id"] == ids[0]


def test_unmatched_and_not_an_object(ingestor: Ingestor) -> None:
    assert ingestor.process({"kind": "view"}).status == "unmatched"
    for bad in ([1, 2], "text", None, 3):
        outcome = ingestor.process(bad, index=2)
        assert (outcome.status, outcome.reason, outcome.items) == ("rejected", NOT_AN_OBJECT, ())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"currency": "US$"}, "Purchase without custom_data.currency"),
        ({"currency": "XYZ"}, "custom_data.currency is not an ISO 4217 code"),
        ({"value": "12,50"}, "Purchase without custom_data.value"),
        ({"value": None}, "Purchase without custom_data.value"),
        ({"value": "1e400"}, "custom_data.value out of range"),
        ({"value": "99999999999999999999999999"}, "custom_data.value out of range"),
        ({"value": -5}, "custom_data.value is negative"),
        (
            {"url": "https://shop.example/" + "x" * 20_000_000},
            "event_source_url longer than 8,192 characters",
        ),
        ({"note": 10**30}, "a number wider than 64 bits"),
        ({"note": "n" * 70_000}, "event larger than 65,536 bytes"),
    ],
)
def test_a_bad_value_rejects_the_event_with_a_reason(
    ingestor: Ingestor, changes: dict[str, Any], reason: str
) -> None:
    outcome = ingestor.process(buy(**changes), index=3)
    assert (outcome.status, outcome.reason, outcome.items) == ("rejected", reason, ())
    assert outcome.rules == ("buy",)
    stats = ingestor.stats()
    assert stats.rejected == {reason: 1} and stats.emitted == 0


def test_a_failing_rule_module_rejects_only_that_event(module: ModuleType) -> None:
    class Broken:
        PIXELS = module.PIXELS
        RULES = module.RULES

        @staticmethod
        def process(event: Any, request: Any = None, *, context: Context) -> list[Any]:
            raise KeyError("boom")

    broken = Ingestor(Broken, Destinations(module, dry_run=True))  # type: ignore[arg-type]
    outcome = broken.process(buy())
    assert outcome.status == "rejected" and outcome.failed
    assert outcome.reason == "internal error (KeyError)"


def test_every_thread_has_its_context_and_the_counts_add_up(ingestor: Ingestor) -> None:
    def work() -> None:
        for _ in range(50):
            ingestor.process(buy())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = ingestor.stats()
    assert stats.emitted == 200 and stats.matched == {"buy": 200}
