"""capic.meta.catalog: typed views of the schemas."""

from __future__ import annotations

import dataclasses

import pytest
from jsonschema import Draft202012Validator

from capic.meta import catalog
from capic.resources import load_schema


def test_standard_events() -> None:
    events = catalog.standard_events()
    assert isinstance(events, tuple)
    assert len(events) == 18
    assert {"Purchase", "Lead", "AddToCart", "ViewContent", "PageView", "Donate"} <= set(events)
    assert "MobileAppInstall" not in events


def test_action_sources() -> None:
    assert set(catalog.action_sources()) == {
        "email",
        "website",
        "app",
        "phone_call",
        "chat",
        "physical_store",
        "system_generated",
        "business_messaging",
        "other",
    }


def test_user_data_keys() -> None:
    keys = catalog.user_data_keys()
    em = keys["em"]
    assert (em.name, em.hashed, em.array, em.type) == ("em", True, True, "string")
    assert em.description
    ip = keys["client_ip_address"]
    assert (ip.hashed, ip.array, ip.type) == (False, False, "string")
    assert keys["fb_login_id"].type == "integer"
    assert keys["lead_id"].type == "integer"
    assert keys["f5first"].deprecated and keys["f5first"].hashed
    assert not keys["em"].deprecated
    with pytest.raises(dataclasses.FrozenInstanceError):
        em.hashed = False  # type: ignore[misc]


def test_user_data_keys_returns_a_copy() -> None:
    keys = catalog.user_data_keys()
    del keys["em"]
    assert "em" in catalog.user_data_keys()


def test_hashed_keys() -> None:
    hashed = catalog.hashed_keys()
    assert {
        "em",
        "ph",
        "fn",
        "ln",
        "db",
        "ge",
        "ct",
        "st",
        "zp",
        "country",
        "external_id",
    } <= hashed
    never = {
        "client_ip_address",
        "client_user_agent",
        "fbc",
        "fbp",
        "subscription_id",
        "fb_login_id",
        "lead_id",
        "anon_id",
        "madid",
        "page_id",
        "page_scoped_user_id",
        "ctwa_clid",
        "ig_account_id",
        "ig_sid",
        "partner_id",
        "partner_name",
    }
    assert not hashed & never
    assert never <= set(catalog.user_data_keys())


def test_too_broad_subsets() -> None:
    subsets = catalog.too_broad_subsets()
    assert frozenset({"fn", "ge"}) in subsets
    assert frozenset({"ln", "ge"}) in subsets
    assert frozenset({"db", "client_user_agent"}) in subsets
    assert frozenset({"ct", "country", "st", "zp", "ge", "client_user_agent"}) in subsets
    assert len(subsets) == 4


def test_match_weights() -> None:
    weights = catalog.match_weights()
    assert weights["em"] == weights["ph"] == weights["fbc"] == 3.0
    assert weights["external_id"] == 2.0
    assert weights["fn+ln"] == 1.0
    assert weights["zp"] == pytest.approx(0.3)
    assert "fn" not in weights
    assert catalog.match_ipv4_factor() == pytest.approx(0.8)
    weights["em"] = 0
    assert catalog.match_weights()["em"] == 3.0


def test_user_data_aliases() -> None:
    assert catalog.user_data_aliases() == {"email": "em", "phone": "ph", "gen": "ge", "zip": "zp"}


def test_required_and_recommended_custom_keys() -> None:
    assert catalog.required_custom_keys("Purchase") == ("currency", "value")
    assert catalog.required_custom_keys("Lead") == ()
    assert catalog.required_custom_keys("MyCustomEvent") == ()
    purchase = catalog.recommended_custom_keys("Purchase")
    assert set(purchase) == {
        "content_ids",
        "content_type",
        "contents",
        "currency",
        "num_items",
        "value",
    }
    assert catalog.recommended_custom_keys("Search")[-2:] == ("search_string", "value")
    assert "predicted_ltv" in catalog.recommended_custom_keys("Subscribe")
    assert "status" in catalog.recommended_custom_keys("CompleteRegistration")
    assert catalog.recommended_custom_keys("Contact") == ()
    assert catalog.recommended_custom_keys("purchase") == ()  # names are case-sensitive
    assert catalog.catalog_ads_keys("Purchase") == ("contents", "content_ids")
    assert catalog.catalog_ads_keys("AddToCart") == ("contents",)
    assert catalog.catalog_ads_keys("Lead") == ()


def test_custom_data_enums() -> None:
    currencies = catalog.currencies()
    assert isinstance(currencies, frozenset)
    assert {"USD", "EUR", "GBP", "JPY"} <= currencies
    assert "usd" not in currencies
    assert not {"XXX", "XTS"} & currencies
    assert len(currencies) > 150
    assert catalog.content_types() == ("product", "product_group")
    assert catalog.delivery_categories() == ("in_store", "curbside", "home_delivery")


def test_ldu_codes() -> None:
    assert catalog.ldu_country_codes() == (0, 1)
    assert catalog.ldu_state_codes() == (0, *range(1000, 1014))


def test_messaging_channels() -> None:
    assert set(catalog.messaging_channels()) == {"whatsapp", "messenger", "instagram"}


def test_key_sets() -> None:
    assert {"value", "currency", "contents", "order_id", "delivery_category"} <= (
        catalog.custom_data_standard_keys()
    )
    assert "loyalty_tier" not in catalog.custom_data_standard_keys()
    assert {
        "event_name",
        "event_time",
        "user_data",
        "custom_data",
        "action_source",
        "data_processing_options_state",
        "original_event_data",
    } <= catalog.server_event_keys()
    assert {"advertiser_tracking_enabled", "extinfo", "install_referrer"} <= catalog.app_data_keys()


def test_extinfo_length() -> None:
    assert catalog.extinfo_length() == 16


def test_schema_is_the_loaded_schema() -> None:
    assert catalog.schema("server_event") is load_schema("server_event")


def test_validator_resolves_cross_schema_refs() -> None:
    validator = catalog.validator("server_event")
    assert isinstance(validator, Draft202012Validator)
    assert catalog.validator("server_event") is validator
    event = {
        "event_name": "Lead",
        "event_time": 1760000000,
        "action_source": "email",
        "user_data": {"em": 5},
    }
    [error] = validator.iter_errors(event)
    assert list(error.absolute_path) == ["user_data", "em"]
    assert error.validator == "type"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("purchase", "Purchase"),
        ("PURCHASE", "Purchase"),
        ("AddToChart", "AddToCart"),
        ("add_to_cart", "AddToCart"),
        ("Purchace", "Purchase"),
        ("ViewContents", "ViewContent"),
        ("Subscription", "Subscribe"),
        ("Purchase", "Purchase"),
        ("xyz", None),
        ("foo", None),
        ("MobileAppInstall", None),
    ],
)
def test_suggest_event_names(name: str, expected: str | None) -> None:
    assert catalog.suggest(name, catalog.standard_events()) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("emial", "em"),
        ("email", "em"),
        ("phone", "ph"),
        ("zip", "zp"),
        ("first_name", "fn"),
        ("last_name", "ln"),
        ("fbclid", "fbc"),
        ("user_agent", "client_user_agent"),
        ("ip_address", "client_ip_address"),
        ("externalID", "external_id"),
        ("lastname", None),
        ("bar", None),
    ],
)
def test_suggest_user_data_keys(name: str, expected: str | None) -> None:
    assert catalog.suggest(name, catalog.user_data_keys()) == expected


def test_suggest_currencies_and_edge_cases() -> None:
    assert catalog.suggest("usd", catalog.currencies()) == "USD"
    assert catalog.suggest("dollar", catalog.currencies()) is None
    assert catalog.suggest("curency", catalog.custom_data_standard_keys()) == "currency"
    assert catalog.suggest("anything", []) is None
    assert catalog.suggest("", ["em"]) is None
    assert catalog.suggest("emial", ["em"], cutoff=0.9) is None
