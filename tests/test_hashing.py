"""capic.runtime.hashing: SHA-256 convention and the user_data builder."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.meta import catalog
from capic.runtime import clickids
from capic.runtime.hashing import (
    MEMO_KEYS,
    NEVER_HASHED_KEYS,
    TRIMMED_KEYS,
    UserDataBuilder,
    sha256_hex,
)
from capic.runtime.normalize import HASHED_KEYS

EMPTY_DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HEX64 = re.compile(r"[0-9a-f]{64}")


# Hash examples published in Meta's documentation (capi-facts.md §3.4).
@pytest.mark.parametrize(
    ("normalized", "digest"),
    [
        (
            "john_smith@gmail.com",
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
        ),
        ("16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
        ("mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
        ("valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
        ("19970216", "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"),
        ("us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"),
        ("", EMPTY_DIGEST),
    ],
)
def test_sha256_hex_matches_meta_examples(normalized: str, digest: str) -> None:
    assert sha256_hex(normalized) == digest


def test_build_normalizes_and_hashes_a_full_record() -> None:
    fields: dict[str, object] = {
        "em": "  John_Smith@Gmail.com ",
        "ph": "(650) 555-1212",
        "fn": "Mary",
        "ln": "O'Brien",
        "db": "2/16/1997",
        "ge": "Female",
        "ct": "San Francisco",
        "st": "California",
        "zp": "94103-1234",
        "country": "United States",
        "external_id": " User-123 ",
    }
    out = UserDataBuilder(default_country="US").build(fields)
    expected = {
        "em": "john_smith@gmail.com",
        "ph": "16505551212",
        "fn": "mary",
        "ln": "obrien",
        "db": "19970216",
        "ge": "f",
        "ct": "sanfrancisco",
        "st": "ca",
        "zp": "94103",
        "country": "us",
        "external_id": "user-123",
    }
    assert out == {key: sha256_hex(value) for key, value in expected.items()}
    assert out["em"] == "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"


def test_lists_give_distinct_digests_in_input_order() -> None:
    out = UserDataBuilder().build(
        {"em": ["B@x.com", "a@x.com", " b@X.com ", None, "", "a@x.com"], "ph": ["+1 650 555 1212"]}
    )
    assert out == {
        "em": [sha256_hex("b@x.com"), sha256_hex("a@x.com")],
        "ph": [sha256_hex("16505551212")],
    }


def test_invalid_values_are_counted_and_left_out() -> None:
    invalid: Counter[str] = Counter()
    out = UserDataBuilder().build(
        {
            "em": ["not-an-email", "ok@example.com", "also bad"],
            "ge": "x",
            "ph": "",
            "ct": None,
            "db": True,
            "zp": {"nested": 1},
            "country": "   ",
        },
        invalid,
    )
    assert out == {"em": [sha256_hex("ok@example.com")]}
    # Blank and missing values are not invalid, merely absent.
    assert invalid == Counter({"em": 2, "ge": 1, "db": 1, "zp": 1})


def test_an_all_invalid_list_is_left_out() -> None:
    invalid: Counter[str] = Counter()
    assert UserDataBuilder().build({"em": ["x", "y"], "fn": []}, invalid) == {}
    assert invalid == Counter({"em": 2})


def test_digests_pass_through_lowercased_and_are_not_hashed_again() -> None:
    digest = sha256_hex("john_smith@gmail.com")
    out = UserDataBuilder().build({"em": digest.upper(), "ph": [digest, digest.upper()]})
    assert out == {"em": digest, "ph": [digest]}


def test_never_hashed_and_unknown_keys_pass_through_untouched() -> None:
    fields: dict[str, object] = {
        "client_ip_address": "2001:db8::1",
        "client_user_agent": "Mozilla/5.0",
        "fbc": "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
        "fbp": "fb.1.1558571054389.1098115397",
        "fb_login_id": 1234567890,
        "lead_id": "525645896321548",
        "madid": ["38400000-8cf0-11bd-b23e-10b96e40000d"],
        "x_custom": " kept as is ",  # unknown key: the linter reports it
        "subscription_id": None,
    }
    out = UserDataBuilder().build(fields)
    assert out == {key: value for key, value in fields.items() if value is not None}
    assert out["fb_login_id"] == 1234567890


def test_legacy_sdk_keys_are_hashed_as_the_schema_says() -> None:
    # f5first, f5last, fi, dobd, dobm, doby: hashed by Meta's SDK, deprecated in the schema.
    out = UserDataBuilder().build(
        {"f5first": "Mary-Jane", "f5last": " O'Brien", "fi": "Zoë", "dobd": "7", "dobm": "02"}
    )
    assert out == {
        "f5first": sha256_hex("maryj"),
        "f5last": sha256_hex("obrie"),
        "fi": sha256_hex("z"),
        "dobd": sha256_hex("07"),
        "dobm": sha256_hex("02"),
    }
    invalid: Counter[str] = Counter()
    assert UserDataBuilder().build({"doby": "1899", "dobd": "32", "dobm": "13"}, invalid) == {}
    assert invalid == Counter({"doby": 1, "dobd": 1, "dobm": 1})


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("  fb.1.1554763741205.AbCd  ", "fb.1.1554763741205.AbCd"),
        ("\tfb.1.1558571054389.1098115397\n", "fb.1.1558571054389.1098115397"),
        ("", None),
        ("   ", None),
    ],
)
def test_click_ids_and_ip_are_trimmed_and_blank_ones_left_out(raw: str, sent: str | None) -> None:
    for key in ("fbc", "fbp", "client_ip_address"):
        out = UserDataBuilder().build({key: raw, "client_user_agent": " UA "})
        assert out.get(key) == sent, key
        assert out["client_user_agent"] == " UA "  # not an identifier: untouched


def test_key_sets() -> None:
    assert catalog.hashed_keys() == HASHED_KEYS
    assert {"em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id"} < (
        HASHED_KEYS
    )
    assert not HASHED_KEYS & NEVER_HASHED_KEYS
    assert set(catalog.user_data_keys()) == HASHED_KEYS | NEVER_HASHED_KEYS
    assert {"client_ip_address", "client_user_agent", "fbc", "fbp", "fb_login_id"} <= (
        NEVER_HASHED_KEYS
    )


def test_numbers_and_decimals_are_read_as_digits() -> None:
    out = UserDataBuilder(default_country="US").build(
        {"ph": 6505551212, "external_id": Decimal("42"), "zp": 94103.0}
    )
    assert out == {
        "ph": sha256_hex("16505551212"),
        "external_id": sha256_hex("42"),
        "zp": sha256_hex("94103"),
    }


def test_configuration_is_checked_once() -> None:
    with pytest.raises(ValueError):
        UserDataBuilder(default_country="Atlantis")
    with pytest.raises(ValueError):
        UserDataBuilder(dob_order="yyyy-mm-dd")
    assert UserDataBuilder(dob_order="dmy").build({"db": "03/04/1990"}) == {
        "db": sha256_hex("19900403")
    }


scalars = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789+-() ./@aeAE\u00a0"),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.decimals(),
)
field_values = st.one_of(
    scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(), scalars)
)
field_keys = st.one_of(st.sampled_from(sorted(HASHED_KEYS | NEVER_HASHED_KEYS)), st.text())


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(field_keys, field_values, max_size=12),
    st.sampled_from([None, "US", "GB", "FR"]),
)
def test_build_never_raises_and_only_emits_digests(
    fields: dict[str, object], region: str | None
) -> None:
    invalid: Counter[str] = Counter()
    out = UserDataBuilder(default_country=region).build(fields, invalid)
    for key, value in out.items():
        if key in TRIMMED_KEYS:
            assert value == clickids.clean(fields[key])
            continue
        if key not in HASHED_KEYS:
            assert value is fields[key]
            continue
        digests = value if isinstance(value, list) else [value]
        assert digests, key
        assert len(set(digests)) == len(digests)
        for digest in digests:
            assert isinstance(digest, str) and HEX64.fullmatch(digest), (key, digest)
            assert digest != EMPTY_DIGEST
    assert set(invalid) <= HASHED_KEYS
    assert all(count > 0 for count in invalid.values())


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1))
def test_hash_is_sha256_of_utf8(text: str) -> None:
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["94103", "94103-1234", " 94103 1234", "941031234", "M1 1AE"]),
            st.sampled_from(["19700215", "02/15/1970", "1970-02-15", "Mary", "mary ", "CA"]),
            st.text("0123456789- abAB", max_size=11),
        ),
        max_size=30,
    )
)
def test_memos_give_what_a_fresh_builder_gives(values: list[str]) -> None:
    # Raw-text memos and the normalized-text memo of ZIP codes, filled in any order.
    builder = UserDataBuilder()
    for key in sorted(MEMO_KEYS):
        put = builder.hasher(key)
        assert put is not None
        for value in values:
            out: dict[str, object] = {}
            invalid: Counter[str] = Counter()
            put(out, value, invalid)
            fresh_invalid: Counter[str] = Counter()
            assert (out, invalid) == (
                UserDataBuilder().build({key: value}, fresh_invalid),
                fresh_invalid,
            ), (key, value)
