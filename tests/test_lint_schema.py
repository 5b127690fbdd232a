"""The schema evaluator of the linter: the same verdicts as jsonschema on concrete instances,
and three-valued semantics for values known only at run time."""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from capic.lint.schema import UnsupportedSchema, evaluator, validate
from capic.lint.values import Dynamic, ReprList
from capic.meta import catalog

_WRONG = [123, 1.5, "x", True, None, [], {}, ["x"], [{"id": 1}]]


@functools.cache
def reference() -> Draft202012Validator:
    return Draft202012Validator(catalog.schema("server_event"), registry=catalog.registry())


def jsonschema_errors(instance: Any) -> set[tuple[str, tuple[Any, ...]]]:
    return {(str(e.validator), tuple(e.absolute_path)) for e in reference().iter_errors(instance)}


def our_errors(instance: Any) -> set[tuple[str, tuple[Any, ...]]]:
    return {(f.kind, f.path) for f in validate(instance)}


def corpus() -> list[dict[str, Any]]:
    examples = [e for e in catalog.schema("server_event")["examples"] if isinstance(e, dict)]
    out: list[dict[str, Any]] = []
    for example in examples:
        out.append(example)
        for key in list(example):
            removed = copy.deepcopy(example)
            del removed[key]
            out.append(removed)
            for wrong in _WRONG:
                changed = copy.deepcopy(example)
                changed[key] = wrong
                out.append(changed)
        for section in ("user_data", "custom_data", "app_data"):
            if not isinstance(example.get(section), dict):
                continue
            for key in list(example[section]):
                for wrong in [*_WRONG, "__delete__"]:
                    changed = copy.deepcopy(example)
                    if wrong == "__delete__":
                        del changed[section][key]
                    else:
                        changed[section][key] = wrong
                    out.append(changed)
            extra = copy.deepcopy(example)
            extra[section]["not_a_key"] = "x"
            out.append(extra)
    base = examples[0]
    for event, source, channel in [
        ("Purchase", "website", None),
        ("Lead", "app", None),
        ("Lead", "business_messaging", "instagram"),
        ("Lead", "business_messaging", "messenger"),
        ("Lead", "physical_store", None),
    ]:
        instance = {
            k: v
            for k, v in copy.deepcopy(base).items()
            if k not in {"custom_data", "event_source_url"}
        }
        instance.update(event_name=event, action_source=source)
        if channel:
            instance["messaging_channel"] = channel
        out.append(instance)
    return out


CORPUS = corpus()


def test_the_corpus_is_large_and_mixed() -> None:
    verdicts = [not jsonschema_errors(i) for i in CORPUS]
    assert len(CORPUS) > 250 and any(verdicts) and not all(verdicts)


@pytest.mark.parametrize("index", range(0, len(CORPUS), 1))
def test_same_failures_as_jsonschema(index: int) -> None:
    instance = CORPUS[index]
    assert our_errors(instance) == jsonschema_errors(instance), instance


def valid_send(**changes: Any) -> dict[str, Any]:
    instance: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": Dynamic("number"),
        "action_source": "website",
        "event_source_url": Dynamic(None),
        "user_data": {"em": Dynamic(None), "client_user_agent": Dynamic(None)},
        "custom_data": {"currency": Dynamic("string"), "value": Dynamic(None)},
    }
    instance.update(changes)
    return instance


def test_run_time_values_satisfy_what_cannot_be_checked() -> None:
    assert validate(valid_send()) == []
    assert validate(valid_send(action_source=Dynamic("string"))) == []


def test_a_known_type_that_contradicts_the_schema_fails() -> None:
    (finding,) = validate(valid_send(opt_out=Dynamic("string")))
    assert (finding.kind, finding.path) == ("type", ("opt_out",))


def test_conditions_apply_only_to_literals() -> None:
    # A run-time action source could be anything: no website requirement applies.
    instance = valid_send(action_source=Dynamic(None))
    del instance["event_source_url"]
    assert validate(instance) == []
    del valid_send()["event_source_url"]
    literal = valid_send()
    del literal["event_source_url"]
    assert [(f.kind, f.key, f.branches) for f in validate(literal)] == [
        ("required", "event_source_url", ("website",))
    ]


def test_comprehensions_have_unknown_length_but_checked_items() -> None:
    items = ReprList([{"id": Dynamic(None)}])
    findings = validate(valid_send(custom_data={"currency": "USD", "value": 1, "contents": items}))
    assert [(f.kind, f.path, f.key) for f in findings] == [
        ("required", ("custom_data", "contents", 0), "quantity")
    ]
    extinfo = ReprList([Dynamic("string")])
    app = {"advertiser_tracking_enabled": 1, "extinfo": extinfo}
    assert (
        validate(valid_send(action_source="app", app_data=app, event_source_url="https://x.y"))
        == []
    )


def test_ldu_not_applies_only_when_certain() -> None:
    ldu = valid_send(data_processing_options=["LDU"], data_processing_options_country=1)
    # No client_ip_address: the state is required.
    assert [f.key for f in validate(ldu)] == ["data_processing_options_state"]
    ldu["user_data"] = {**ldu["user_data"], "client_ip_address": Dynamic(None)}
    assert validate(ldu) == []
    unknown = valid_send(data_processing_options=Dynamic("list"))
    assert validate(unknown) == []


def test_unsupported_keywords_are_refused() -> None:
    with pytest.raises(UnsupportedSchema, match="unevaluatedProperties"):
        evaluator()._verify({"type": "object", "unevaluatedProperties": False}, "test", ())
