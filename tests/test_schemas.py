"""capic's JSON Schemas: well-formed, documented, self-consistent, and right about Meta's rules.

Every rule is checked with a good and a bad instance, and the bad ones are checked to fail at
the offending location (the linter turns each error into a diagnostic at that key).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from capic.meta.catalog import registry, validator
from capic.resources import data_dir, load_schema, schema_names

NAMES = [
    "action_sources",
    "app_data",
    "append_attribution",
    "bundle_manifest",
    "config",
    "conversion_leads",
    "custom_data",
    "dataset_quality",
    "graph_api_version",
    "pyproject_tool_capic",
    "server_event",
    "standard_events",
    "user_data",
]

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
EXTINFO = [
    "i2",
    "com.example",
    "1",
    "1.0",
    "17.5",
    "iPhone15,2",
    "en_US",
    "PST",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
]


def errors(name: str, instance: Any) -> list[ValidationError]:
    return sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))


def where(name: str, instance: Any) -> list[tuple[list[Any], str]]:
    """(path, keyword) of every error: what the linter needs to place a diagnostic."""
    return [(list(e.absolute_path), str(e.validator)) for e in errors(name, instance)]


def website_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_name": "ViewContent",
        "event_time": 1760000000,
        "action_source": "website",
        "event_source_url": "https://shop.example.com/p/1",
        "user_data": {"client_user_agent": UA, "client_ip_address": "2001:db8::1"},
    }
    event.update(overrides)
    return event


def app_event(**app_data: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"advertiser_tracking_enabled": 1, "extinfo": list(EXTINFO)}
    data.update(app_data)
    return {
        "event_name": "Purchase",
        "event_time": 1760000000,
        "action_source": "app",
        "user_data": {"madid": "38400000-8cf0-11bd-b23e-10b96e40000d"},
        "custom_data": {"currency": "USD", "value": 1.5},
        "app_data": data,
    }


def subschemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in {"examples", "enum", "const", "default"} and not key.startswith("x-"):
                yield from subschemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from subschemas(value, f"{path}/{i}")


# -- form ---------------------------------------------------------------------------------------


def test_the_published_schemas() -> None:
    assert schema_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_2020_12_with_id_title_description_examples(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://capic.dev/schemas/{name}.schema.json"
    assert schema["title"]
    assert len(schema["description"]) > 40
    assert schema["examples"]


@pytest.mark.parametrize("name", NAMES)
def test_file_is_plain_json_with_a_final_newline(name: str) -> None:
    text = (data_dir("schemas") / f"{name}.schema.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == load_schema(name)


@pytest.mark.parametrize("name", NAMES)
def test_own_examples_validate(name: str) -> None:
    for example in load_schema(name)["examples"]:
        assert where(name, example) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_property_has_a_description(name: str) -> None:
    missing = []
    for path, node in subschemas(load_schema(name)):
        for key, prop in node.get("properties", {}).items():
            if path.endswith("/if") or "/if/" in path or "/then" in path:
                continue  # conditions and consequences refine properties described elsewhere
            if not (isinstance(prop, dict) and prop.get("description")):
                missing.append(f"{path}/properties/{key}")
    assert missing == []


@pytest.mark.parametrize("name", NAMES)
def test_examples_of_subschemas_validate(name: str) -> None:
    root = validator(name)
    for path, node in subschemas(load_schema(name)):
        if path == "#" or "examples" not in node:
            continue
        sub = root.evolve(schema=node)
        for example in node["examples"]:
            assert list(sub.iter_errors(example)) == [], (path, example)


def test_registry_resolves_every_id_offline() -> None:
    reg = registry()
    for name in NAMES:
        schema_id = load_schema(name)["$id"]
        assert reg.contents(schema_id) == load_schema(name)


def test_unsure_facts_are_marked_in_descriptions() -> None:
    """Facts the fact sheet marks [U] (or lists as open questions) say so."""
    server = load_schema("server_event")["properties"]
    assert "[U]" in server["event_name"]["description"]  # case sensitivity
    assert "[U]" in server["customer_segmentation"]["description"]  # placement
    assert "[U]" in server["attribution_data"]["description"]
    assert "[U]" in load_schema("server_event")["description"]  # future skew, 62 days
    app = load_schema("app_data")["properties"]
    assert "[U]" in app["application_tracking_enabled"]["description"]
    assert "[U]" in app["extinfo"]["description"]
    user = load_schema("user_data")["properties"]
    for key in ("partner_id", "partner_name", "ig_account_id", "instagram_business_account_id"):
        assert "[U]" in user[key]["description"], key
    assert (
        "not meta's formula"
        in load_schema("user_data")["x-capic-match-weights-description"].lower()
    )


# -- server_event -------------------------------------------------------------------------------


def test_minimal_events_are_valid() -> None:
    assert where("server_event", website_event()) == []
    assert where("server_event", app_event()) == []


def test_required_top_level_fields() -> None:
    event = website_event()
    for key in ("event_name", "event_time", "action_source", "user_data"):
        broken = copy.deepcopy(event)
        del broken[key]
        found = errors("server_event", broken)
        assert [(list(e.path), e.validator) for e in found] == [([], "required")], key
        assert repr(key) in found[0].message


def test_enums_and_types_of_server_event_fields() -> None:
    assert where("server_event", website_event(action_source="web")) == [
        (["action_source"], "enum")
    ]
    assert where("server_event", website_event(event_time="1760000000")) == [
        (["event_time"], "type")
    ]
    # milliseconds instead of seconds
    assert where("server_event", website_event(event_time=1760000000000)) == [
        (["event_time"], "maximum")
    ]
    assert where("server_event", website_event(opt_out="yes")) == [(["opt_out"], "type")]
    assert where("server_event", website_event(messaging_channel="sms")) == [
        (["messaging_channel"], "enum")
    ]
    assert where("server_event", website_event(customer_segmentation="vip")) == [
        (["customer_segmentation"], "enum")
    ]


def test_custom_event_name_is_at_most_50_characters() -> None:
    assert where("server_event", website_event(event_name="E" * 50)) == []
    assert where("server_event", website_event(event_name="E" * 51)) == [
        (["event_name"], "maxLength")
    ]
    assert where("server_event", website_event(event_name="")) == [(["event_name"], "minLength")]


def test_unknown_top_level_key_is_rejected() -> None:
    found = errors("server_event", website_event(event_source_uri="https://x.example"))
    assert [(list(e.path), e.validator) for e in found] == [([], "additionalProperties")]
    assert "event_source_uri" in found[0].message


def test_event_source_url_needs_http_or_https() -> None:
    assert where("server_event", website_event(event_source_url="HTTPS://x.example/a")) == []
    assert where("server_event", website_event(event_source_url="ftp://x.example/a")) == [
        (["event_source_url"], "pattern")
    ]
    assert where("server_event", website_event(event_source_url="shop.example.com")) == [
        (["event_source_url"], "pattern")
    ]


def test_original_event_data() -> None:
    ok = {"event_name": "Purchase", "event_time": 1759000000, "order_id": "o1", "event_id": "e1"}
    assert where("server_event", website_event(original_event_data=ok)) == []
    assert where("server_event", website_event(original_event_data={"order": "o1"})) == [
        (["original_event_data"], "additionalProperties")
    ]


def test_attribution_data() -> None:
    ok = {"attribution_share": 0.3, "attribution_model": "linear", "attr_window": 7}
    assert where("server_event", website_event(attribution_data=ok)) == []
    bad = {"attribution_model": "last_view", "attribution_share": 2}
    assert where("server_event", website_event(attribution_data=bad)) == [
        (["attribution_data", "attribution_model"], "enum"),
        (["attribution_data", "attribution_share"], "maximum"),
    ]


# -- LDU ----------------------------------------------------------------------------------------


def test_ldu_requires_country() -> None:
    event = website_event(data_processing_options=["LDU"], data_processing_options_state=0)
    assert where("server_event", event) == [([], "required")]
    assert "data_processing_options_country" in errors("server_event", event)[0].message


def test_ldu_requires_state_unless_an_ip_is_present() -> None:
    with_ip = website_event(data_processing_options=["LDU"], data_processing_options_country=1)
    assert where("server_event", with_ip) == []
    without_ip = copy.deepcopy(with_ip)
    del without_ip["user_data"]["client_ip_address"]
    found = errors("server_event", without_ip)
    assert [(list(e.path), e.validator) for e in found] == [([], "required")]
    assert "data_processing_options_state" in found[0].message
    without_ip["data_processing_options_state"] = 1000
    assert where("server_event", without_ip) == []


def test_ldu_off_needs_nothing() -> None:
    assert where("server_event", website_event(data_processing_options=[])) == []


def test_ldu_codes() -> None:
    base = {"data_processing_options": ["LDU"], "data_processing_options_country": 0}
    for state in (0, 1000, 1013):
        assert (
            where("server_event", website_event(**base, data_processing_options_state=state)) == []
        )
    for state in (1, 999, 1014):
        assert where(
            "server_event", website_event(**base, data_processing_options_state=state)
        ) == [(["data_processing_options_state"], "enum")]
    assert where(
        "server_event",
        website_event(data_processing_options=["LDU"], data_processing_options_country=2),
    ) == [(["data_processing_options_country"], "enum")]
    assert where("server_event", website_event(data_processing_options=["GDPR"])) == [
        (["data_processing_options", 0], "const")
    ]


# -- standard events ----------------------------------------------------------------------------


def test_purchase_without_currency_fails_at_custom_data() -> None:
    event = website_event(event_name="Purchase", custom_data={"value": 10.0})
    found = errors("server_event", event)
    assert [(list(e.path), e.validator) for e in found] == [(["custom_data"], "required")]
    assert found[0].message == "'currency' is a required property"


def test_purchase_without_custom_data_fails_at_the_event() -> None:
    found = errors("server_event", website_event(event_name="Purchase"))
    assert [(list(e.path), e.validator) for e in found] == [([], "required")]
    assert "'custom_data'" in found[0].message


def test_purchase_with_currency_and_value_passes() -> None:
    event = website_event(event_name="Purchase", custom_data={"currency": "EUR", "value": 0})
    assert where("server_event", event) == []


def test_purchase_value_must_be_a_number() -> None:
    event = website_event(event_name="Purchase", custom_data={"currency": "EUR", "value": "9.99"})
    assert where("server_event", event) == [(["custom_data", "value"], "type")]


def test_other_events_and_custom_events_need_no_custom_data() -> None:
    for name in ("Lead", "AddToCart", "PageView", "purchase", "MyCustomEvent"):
        assert where("server_event", website_event(event_name=name)) == [], name


def test_standard_events_schema_alone() -> None:
    assert where("standard_events", {"event_name": "Purchase"}) == [([], "required")]
    assert where("standard_events", {"event_name": "Purchase", "custom_data": {}}) == [
        (["custom_data"], "required"),
        (["custom_data"], "required"),
    ]
    # no event_name: no branch applies (the server_event schema reports the missing name)
    assert where("standard_events", {}) == []


def test_recommended_keys_are_standard_custom_data_keys() -> None:
    standard = set(load_schema("custom_data")["properties"])
    schema = load_schema("standard_events")
    names = schema["x-capic-standard-events"]
    assert len(names) == len(set(names)) == 18
    branches = {b["if"]["properties"]["event_name"]["const"]: b["then"] for b in schema["allOf"]}
    assert set(branches) == set(names)
    for name, then in branches.items():
        assert set(then["x-capic-recommended"]) <= standard, name
        assert set(then.get("x-capic-catalog-ads-any-of", [])) <= standard, name
        assert then["description"].startswith(name)


# -- action sources -----------------------------------------------------------------------------


def test_action_source_branches_cover_the_enum() -> None:
    enum = load_schema("server_event")["properties"]["action_source"]["enum"]
    branches = [
        b["if"]["properties"]["action_source"]["const"]
        for b in load_schema("action_sources")["allOf"]
    ]
    assert sorted(branches) == sorted(enum)
    assert len(enum) == 9


def test_action_source_annotations_name_real_keys() -> None:
    event_keys = set(load_schema("server_event")["properties"])
    user_keys = set(load_schema("user_data")["properties"])
    custom_keys = set(load_schema("custom_data")["properties"])
    schema = load_schema("action_sources")
    thens = [schema, *(b["then"] for b in schema["allOf"])]
    for then in thens:
        assert set(then.get("x-capic-recommended-event-keys", [])) <= event_keys
        assert set(then.get("x-capic-recommended-user-data", [])) <= user_keys
        assert set(then.get("x-capic-recommended-custom-data", [])) <= custom_keys
        for ids in then.get("x-capic-channel-user-data", {}).values():
            assert set(ids) <= user_keys
    offline = [
        b["if"]["properties"]["action_source"]["const"]
        for b in schema["allOf"]
        if b["then"]["x-capic-offline"]
    ]
    assert offline == ["physical_store"]
    channels = load_schema("server_event")["properties"]["messaging_channel"]["enum"]
    messaging = next(
        b["then"]
        for b in schema["allOf"]
        if b["if"]["properties"]["action_source"]["const"] == "business_messaging"
    )
    assert sorted(messaging["x-capic-channel-user-data"]) == sorted(channels)


def test_website_without_client_user_agent_fails_at_user_data() -> None:
    event = website_event()
    del event["user_data"]["client_user_agent"]
    found = errors("server_event", event)
    assert [(list(e.path), e.validator) for e in found] == [(["user_data"], "required")]
    assert "'client_user_agent'" in found[0].message


def test_website_without_event_source_url_fails() -> None:
    event = website_event()
    del event["event_source_url"]
    found = errors("server_event", event)
    assert [(list(e.path), e.validator) for e in found] == [([], "required")]
    assert "'event_source_url'" in found[0].message


def test_non_website_events_do_not_need_a_url_or_user_agent() -> None:
    for source in ("email", "phone_call", "chat", "physical_store", "system_generated", "other"):
        event = {
            "event_name": "Lead",
            "event_time": 1760000000,
            "action_source": source,
            "user_data": {"em": "a@b.example"},
        }
        assert where("server_event", event) == [], source


def test_app_requires_app_data_once() -> None:
    event = app_event()
    del event["app_data"]
    found = errors("server_event", event)
    assert [(list(e.path), e.validator) for e in found] == [([], "required")]
    assert "'app_data'" in found[0].message
    # missing extinfo is reported once (by app_data), not again by action_sources
    no_extinfo = app_event()
    del no_extinfo["app_data"]["extinfo"]
    assert where("server_event", no_extinfo) == [(["app_data"], "required")]


def test_business_messaging_needs_channel_and_its_ids() -> None:
    base = {
        "event_name": "Lead",
        "event_time": 1760000000,
        "action_source": "business_messaging",
    }
    assert where("server_event", {**base, "user_data": {"page_id": "1"}}) == [([], "required")]
    whatsapp = {
        **base,
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": "1", "ctwa_clid": "abc"},
    }
    assert where("server_event", whatsapp) == []
    del whatsapp["user_data"]["ctwa_clid"]
    found = errors("server_event", whatsapp)
    assert [(list(e.path), e.validator) for e in found] == [(["user_data"], "required")]
    assert "'ctwa_clid'" in found[0].message
    messenger = {
        **base,
        "messaging_channel": "messenger",
        "user_data": {"page_id": "1", "page_scoped_user_id": "2"},
    }
    assert where("server_event", messenger) == []
    for account_key in ("instagram_business_account_id", "ig_account_id"):
        instagram = {
            **base,
            "messaging_channel": "instagram",
            "user_data": {account_key: "1", "ig_sid": "2"},
        }
        assert where("server_event", instagram) == [], account_key
    instagram_without_account = {
        **base,
        "messaging_channel": "instagram",
        "user_data": {"ig_sid": "2"},
    }
    assert where("server_event", instagram_without_account) == [(["user_data"], "anyOf")]


# -- user_data ----------------------------------------------------------------------------------


def test_unknown_user_data_key_fails() -> None:
    found = errors("user_data", {"email": "a@b.example"})
    assert [(list(e.path), e.validator) for e in found] == [([], "additionalProperties")]
    assert "'email'" in found[0].message
    assert where(
        "server_event", website_event(user_data={"client_user_agent": UA, "emial": "x"})
    ) == [(["user_data"], "additionalProperties")]


def test_empty_user_data_fails() -> None:
    assert where("user_data", {}) == [([], "minProperties")]


def test_hashed_keys_take_a_string_or_a_list_of_strings() -> None:
    assert where("user_data", {"em": "a@b.example"}) == []
    assert where("user_data", {"em": ["a@b.example", "c@d.example"]}) == []
    assert where("user_data", {"em": []}) == [(["em"], "minItems")]
    assert where("user_data", {"em": ""}) == [(["em"], "minLength")]
    assert where("user_data", {"zp": 94103}) == [(["zp"], "type")]
    assert where("user_data", {"ph": ["16505551212", 16505551212]}) == [(["ph", 1], "type")]


def test_single_valued_keys_reject_lists() -> None:
    assert where("user_data", {"client_ip_address": ["1.2.3.4"]}) == [
        (["client_ip_address"], "type")
    ]


def test_integer_keys() -> None:
    assert where("user_data", {"fb_login_id": 1234, "lead_id": 5678}) == []
    assert where("user_data", {"fb_login_id": "1234"}) == [(["fb_login_id"], "type")]


def test_partner_keys_come_together() -> None:
    assert where("user_data", {"partner_id": "x", "partner_name": "liveramp"}) == []
    assert where("user_data", {"partner_name": "liveramp", "em": "a"}) == [
        ([], "dependentRequired")
    ]
    assert where("user_data", {"partner_id": "x", "em": "a"}) == [([], "dependentRequired")]


def test_fbc_and_fbp_format() -> None:
    good = {
        "fbc": "fb.1.1554763741205.AbCdEf",
        "fbp": "fb.1.1596403881668.1116446470.AQIAAQEC",
    }
    assert where("user_data", good) == []
    assert where("user_data", {"fbc": "fb.1.1554763741.AbCdEf"}) == [(["fbc"], "pattern")]
    assert where("user_data", {"fbp": "1116446470"}) == [(["fbp"], "pattern")]


def test_user_data_annotations_name_real_keys() -> None:
    schema = load_schema("user_data")
    keys = set(schema["properties"])
    for subset in schema["x-capic-too-broad-subsets"]:
        assert set(subset) <= keys
    for unit in schema["x-capic-match-weights"]:
        assert set(unit.split("+")) <= keys, unit
    assert set(schema["x-capic-aliases"].values()) <= keys
    assert not set(schema["x-capic-aliases"]) & keys
    for key, prop in schema["properties"].items():
        assert isinstance(prop["x-capic-hashed"], bool), key
        assert isinstance(prop["x-capic-array"], bool), key


# -- custom_data --------------------------------------------------------------------------------


def test_currency_is_uppercase_iso_4217() -> None:
    """Decision: only the canonical uppercase code is valid; 'usd' is reported (with the fix)."""
    assert where("custom_data", {"currency": "USD"}) == []
    assert where("custom_data", {"currency": "usd"}) == [(["currency"], "enum")]
    assert where("custom_data", {"currency": "US"}) == [(["currency"], "enum")]
    assert where("custom_data", {"currency": "XXX"}) == [(["currency"], "enum")]
    currencies = load_schema("custom_data")["properties"]["currency"]["enum"]
    assert all(len(c) == 3 and c.isupper() for c in currencies)
    assert {"USD", "EUR", "GBP", "JPY", "DKK", "INR", "BRL"} <= set(currencies)
    assert "BGN" not in currencies  # withdrawn when Bulgaria joined the euro (2026-01-01)


def test_contents_items_need_id_and_quantity() -> None:
    ok = {"contents": [{"id": "SKU-1", "quantity": 1, "item_price": 9.5, "brand": "Acme"}]}
    assert where("custom_data", ok) == []
    found = errors("custom_data", {"contents": [{"id": "SKU-1"}]})
    assert [(list(e.path), e.validator) for e in found] == [(["contents", 0], "required")]
    assert "'quantity'" in found[0].message
    assert where("custom_data", {"contents": [{"id": "a", "quantity": 1, "colour": "red"}]}) == [
        (["contents", 0], "additionalProperties")
    ]
    assert where("custom_data", {"contents": [{"id": "a", "quantity": 1.5}]}) == [
        (["contents", 0, "quantity"], "type")
    ]


def test_content_type_and_delivery_category_enums() -> None:
    assert where("custom_data", {"content_type": "product_group"}) == []
    assert where("custom_data", {"content_type": "products"}) == [(["content_type"], "enum")]
    assert where("custom_data", {"delivery_category": "curbside"}) == []
    assert where("custom_data", {"delivery_category": "pickup"}) == [
        (["delivery_category"], "enum")
    ]


def test_custom_keys_are_allowed() -> None:
    assert where("custom_data", {"loyalty_tier": "gold", "score": 3, "nested": {"a": 1}}) == []


def test_standard_custom_data_types() -> None:
    assert where("custom_data", {"num_items": 2.5}) == [(["num_items"], "type")]
    assert where("custom_data", {"content_ids": ["a", 2]}) == []
    assert where("custom_data", {"content_ids": "a"}) == [(["content_ids"], "type")]
    assert where("custom_data", {"status": True}) == []
    assert where("custom_data", {"status": "completed"}) == []
    assert where("custom_data", {"customer_segmentation": "customer_in_loyalty_program"}) == []


# -- app_data -----------------------------------------------------------------------------------


def test_extinfo_must_have_exactly_16_strings() -> None:
    assert where("server_event", app_event(extinfo=EXTINFO[:15])) == [
        (["app_data", "extinfo"], "minItems")
    ]
    assert where("server_event", app_event(extinfo=[*EXTINFO, ""])) == [
        (["app_data", "extinfo"], "maxItems")
    ]
    as_int = list(EXTINFO)
    as_int[9] = 1920
    assert where("app_data", {"advertiser_tracking_enabled": 1, "extinfo": as_int}) == [
        (["extinfo", 9], "type")
    ]


def test_extinfo_index_0_and_4() -> None:
    android = list(EXTINFO)
    android[0] = "a2"
    assert where("app_data", {"advertiser_tracking_enabled": 0, "extinfo": android}) == []
    bad_version = list(EXTINFO)
    bad_version[0] = "i1"
    assert where("app_data", {"advertiser_tracking_enabled": 0, "extinfo": bad_version}) == [
        (["extinfo", 0], "enum")
    ]
    no_os = list(EXTINFO)
    no_os[4] = ""
    assert where("app_data", {"advertiser_tracking_enabled": 0, "extinfo": no_os}) == [
        (["extinfo", 4], "minLength")
    ]


def test_tracking_flags_accept_0_1_and_booleans() -> None:
    for flag in (0, 1, True, False):
        assert where("app_data", {"advertiser_tracking_enabled": flag, "extinfo": EXTINFO}) == []
    for flag in (2, "1", None):
        assert where("app_data", {"advertiser_tracking_enabled": flag, "extinfo": EXTINFO}) == [
            (["advertiser_tracking_enabled"], "enum")
        ]


def test_app_data_required_and_unknown_keys() -> None:
    assert where("app_data", {"extinfo": EXTINFO}) == [([], "required")]
    assert where("app_data", {"advertiser_tracking_enabled": 1}) == [([], "required")]
    assert where(
        "app_data", {"advertiser_tracking_enabled": 1, "extinfo": EXTINFO, "idfa": "x"}
    ) == [([], "additionalProperties")]


# -- config -------------------------------------------------------------------------------------


def test_config_project_table() -> None:
    assert where("config", {"project": {"name": "shop"}}) == []
    assert where("config", {"project": {}}) == [(["project"], "required")]
    assert where("config", {"project": {"name": "shop", "colour": "red"}}) == [
        (["project"], "additionalProperties")
    ]
    assert where("config", {"project": {"name": "shop", "dob_order": "ddmmyyyy"}}) == [
        (["project", "dob_order"], "enum")
    ]
    assert where("config", {"lint": {}}) == []  # [project] is optional
    assert where("config", {"tool": {}}) == [([], "additionalProperties")]


def test_config_api_version() -> None:
    project = load_schema("config")["$defs"]["project"]
    assert project["properties"]["api_version"]["default"] == "v25.0"
    for version in ("v25.0", "v26.0", "v9.0"):
        assert where("config", {"project": {"name": "p", "api_version": version}}) == []
    for version in ("v25", "25.0", "v25.0.1", "V25.0"):
        assert where("config", {"project": {"name": "p", "api_version": version}}) == [
            (["project", "api_version"], "pattern")
        ], version


def test_config_default_country_is_alpha_2_in_either_case() -> None:
    for good in ("GB", "gb", "US", "us"):
        assert where("config", {"project": {"name": "p", "default_country": good}}) == [], good
    for bad in ("UK", "uk", "USA", "Gb"):
        assert where("config", {"project": {"name": "p", "default_country": bad}}) == [
            (["project", "default_country"], "enum")
        ], bad


def test_config_lint_table() -> None:
    lint = {
        "select": ["CAP", "ALL"],
        "ignore": ["CAP301"],
        "extend-select": ["CAP9"],
        "per-file-ignores": {"legacy/**/*.capi": ["CAP1"]},
        "fail-level": "info",
        "options": {"event-time-too-old": {"max-age-days": 3}},
    }
    assert where("config", {"lint": lint}) == []
    assert where("config", {"lint": {"fail-level": "fatal"}}) == [(["lint", "fail-level"], "enum")]
    assert where("config", {"lint": {"select": ["cap101"]}}) == [(["lint", "select", 0], "pattern")]
    assert where("config", {"lint": {"per-file-ignores": {"a.capi": "CAP1"}}}) == [
        (["lint", "per-file-ignores", "a.capi"], "type")
    ]
    assert where("config", {"lint": {"options": {"EventTime": {}}}}) == [
        (["lint", "options"], "pattern")
    ]
    assert where("config", {"lint": {"fail_level": "error"}}) == [
        (["lint"], "additionalProperties")
    ]


def test_pyproject_tool_capic_holds_the_lint_keys_directly() -> None:
    assert where("pyproject_tool_capic", {"select": ["CAP"], "fail-level": "warning"}) == []
    assert where("pyproject_tool_capic", {"lint": {"select": ["CAP"]}}) == [
        ([], "additionalProperties")
    ]
    assert where("pyproject_tool_capic", {"ignore": ["x"]}) == [(["ignore", 0], "pattern")]


# -- bundle manifest ----------------------------------------------------------------------------


def manifest(**overrides: Any) -> dict[str, Any]:
    base = copy.deepcopy(load_schema("bundle_manifest")["examples"][0])
    base.update(overrides)
    return base


def test_manifest_required_keys_and_no_signature() -> None:
    broken = manifest()
    del broken["files"]
    assert where("bundle_manifest", broken) == [([], "required")]
    assert where("bundle_manifest", manifest(signature="abc")) == [([], "additionalProperties")]
    no_metadata = manifest()
    del no_metadata["metadata"]
    assert where("bundle_manifest", no_metadata) == []
    assert where("bundle_manifest", manifest(metadata={"git_commit": "abc", "any": [1]})) == []


def test_manifest_format_version_and_created() -> None:
    assert where("bundle_manifest", manifest(bundle_format_version=2)) == [
        (["bundle_format_version"], "const")
    ]
    assert where("bundle_manifest", manifest(created="2026-07-01 12:00:00")) == [
        (["created"], "pattern")
    ]


@pytest.mark.parametrize(
    "path",
    ["rules.py", "sources/purchase.capi", "a/b/c.json", "..hidden", "a/..b", ".capic/x"],
)
def test_manifest_accepts_relative_paths(path: str) -> None:
    files = {path: {"sha256": "0" * 64, "size": 1}}
    assert where("bundle_manifest", manifest(files=files)) == []


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../b", "a/..", "/etc/passwd", "./a", "a/./b", "a//b", "a/", "C:/x", "a\\b", ".."],
)
def test_manifest_rejects_unsafe_paths(path: str) -> None:
    files = {path: {"sha256": "0" * 64, "size": 1}}
    assert where("bundle_manifest", manifest(files=files)) == [(["files"], "pattern")]
    rules = [{"name": "r", "events": ["Lead"], "pixels": ["shop"], "file": path}]
    assert where("bundle_manifest", manifest(rules=rules)) == [(["rules", 0, "file"], "pattern")]


def test_manifest_file_entries() -> None:
    assert where("bundle_manifest", manifest(files={"a": {"sha256": "A" * 64, "size": 1}})) == [
        (["files", "a", "sha256"], "pattern")
    ]
    assert where("bundle_manifest", manifest(files={"a": {"sha256": "0" * 64}})) == [
        (["files", "a"], "required")
    ]


def test_manifest_token_refs() -> None:
    def with_token(kind: str, name: str) -> dict[str, Any]:
        pixel = manifest()["pixels"][0]
        pixel["token_ref"] = {"kind": kind, "name": name}
        return manifest(pixels=[pixel])

    assert where("bundle_manifest", with_token("env", "META_CAPI_TOKEN")) == []
    assert where("bundle_manifest", with_token("secret", "meta-token")) == []
    assert where("bundle_manifest", with_token("literal", "EAAB...")) == [
        (["pixels", 0, "token_ref", "kind"], "enum")
    ]
    assert where("bundle_manifest", with_token("env", "meta-token")) == [
        (["pixels", 0, "token_ref", "name"], "pattern")
    ]


def test_manifest_pixel_test_event_code() -> None:
    pixel = manifest()["pixels"][0]
    for code in (None, "TEST123"):
        assert where("bundle_manifest", manifest(pixels=[{**pixel, "test_event_code": code}])) == []
    missing = dict(pixel)
    del missing["test_event_code"]
    assert where("bundle_manifest", manifest(pixels=[missing])) == [(["pixels", 0], "required")]
