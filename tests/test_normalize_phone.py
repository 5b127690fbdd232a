"""Phone numbers (docs/normalization.md, "Phone numbers"): the event's own country, numbers
that cannot exist dropped, vanity letters, and the shortcuts equal to the parser."""

from __future__ import annotations

import collections

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.runtime import _phone
from capic.runtime.hashing import UserDataBuilder, sha256_hex
from capic.runtime.normalize import normalize


def ph(raw: object, default: str | None = None, country: object = None) -> str | None:
    return normalize("ph", raw, default_country=default, country=country)


@pytest.mark.parametrize(
    ("raw", "default", "country", "expected"),
    [
        # A French number is French only if the event says so: never a "US" 1 + 10 digits.
        ("01 42 86 83 26", "US", None, None),
        ("01 42 86 83 26", "US", "FR", "33142868326"),
        ("01 42 86 83 26", None, "France", "33142868326"),
        ("0612345678", "US", None, None),
        ("0612345678", "US", " fr ", "33612345678"),
        ("0612345678", "US", sha256_hex("fr"), "33612345678"),  # the country arrives hashed
        ("0612345678", "US", ["Atlantis", "FR"], "33612345678"),  # first country it names
        ("(650) 555-0123", "GB", "US", "16505550123"),  # the event's country wins
        ("(650) 555-0123", "US", "Atlantis", "16505550123"),  # no country: the default
        ("(650) 555-0123", "US", "Antarctica", "16505550123"),  # no numbering plan: default
        ("(650) 555-0123", "US", "FR", None),  # not a French number
        ("+1 (650) 555-0123", "GB", "FR", "16505550123"),  # "+" says where it is
        ("020 7946 0958", None, "United Kingdom", "442079460958"),
        ("442079460958", "US", None, "442079460958"),  # a country code typed without "+"
        ("(555) 123-4567", "US", None, "15551234567"),  # fictional, but a possible US number
    ],
)
def test_the_events_country_then_the_default(
    raw: str, default: str | None, country: object, expected: str | None
) -> None:
    assert ph(raw, default, country) == expected


@pytest.mark.parametrize("raw", ["911", "411", "123", "1234", "12345", "0911", "+1 911", "1"])
@pytest.mark.parametrize("default", [None, "US", "GB", "DE"])
def test_three_to_five_digits_are_never_phones(raw: str, default: str | None) -> None:
    assert ph(raw, default) is None


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("1-800-FLOWERS", None, "18003569377"),  # never "1800"
        ("1-800-FLOWERS", "US", "18003569377"),
        ("1-800-GO-FEDEX", None, "18004633339"),
        ("CALL-NOW-555", None, None),  # a word and three digits
        ("Phone: 555, please call", None, None),
        ("Call me at +1 (650) 555-0123 today!", None, "16505550123"),
        ("Tel: 650.555.0123.", "US", "16505550123"),
        ("+44 123", None, None),  # too short for the UK
        ("+999 1234 5678", None, None),  # no such country code
        ("+1-555-123-4567-890-123-456-789", None, None),  # E.164 has at most 15 digits
        ("123456", None, "123456"),  # six digits without a region: kept, as the reference
        ("(555) 123-4567", None, "5551234567"),
        ("0012345678", None, None),  # "00": international, and +1 2345678 cannot exist
        ("+39 06 1234 5678", None, "390612345678"),
        ("＋４４ ２０ ７９４６ ０９５８", None, "442079460958"),  # fullwidth
        ("٠٢٠ ٧٩٤٦ ٠٩٥٨", "GB", "442079460958"),  # Arabic-Indic digits
        ("+44\u200b20 7946 0958", None, "442079460958"),  # a zero-width space
    ],
)
def test_what_is_a_phone_number(raw: str, default: str | None, expected: str | None) -> None:
    assert ph(raw, default) == expected


def test_the_builder_reads_the_phone_in_the_events_country() -> None:
    builder = UserDataBuilder(default_country="US")
    invalid: collections.Counter[str] = collections.Counter()
    out = builder.build({"ph": ["01 42 86 83 26", "(650) 555-0123"], "country": "FR"}, invalid)
    assert out["ph"] == [sha256_hex("33142868326")]
    assert invalid == collections.Counter({"ph": 1})  # a US-looking number in a French event
    assert builder.build({"ph": "01 42 86 83 26"}, invalid) == {}


# -------------------------------------------------------------------------- shortcuts = parser

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
# Country calling codes and trunk prefixes, so that generated numbers hit the interesting cases.
_PREFIXES = ["", "0", "00", "1", "33", "44", "49", "39", "7", "86", "880", "1242", "011", "0044"]


@st.composite
def numbers(draw: st.DrawFn) -> tuple[bool, str]:
    prefix = draw(st.sampled_from(_PREFIXES))
    rest = draw(st.text("0123456789", min_size=1, max_size=14))
    digits = prefix + rest
    return draw(st.booleans()), digits


@settings(max_examples=4000, deadline=None)
@given(numbers(), st.sampled_from([None, *REGIONS]))
def test_shortcuts_equal_the_parser(number: tuple[bool, str], region: str | None) -> None:
    plus, digits = number
    assert _phone.decide(plus, digits, region) == _phone.decide_full(plus, digits, region)


@pytest.mark.parametrize("region", [None, "US", "CA", "GB", "DE", "FR", "IT", "BR", "JP", "IN"])
def test_shortcuts_on_everyday_numbers(region: str | None) -> None:
    for example_region in ("US", "CA", "GB", "DE", "FR", "IT", "BR", "JP", "IN", "AU", "MX"):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(example_region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            for text in (national, intl, intl[1:], "00" + intl[1:]):
                found = _phone.extract(text)
                assert found is not None
                assert _phone.decide(*found, region) == _phone.decide_full(*found, region), text


@settings(max_examples=2000, deadline=None)
@given(st.text("0123456789 +-().", min_size=1, max_size=24))
def test_the_plain_shape_reads_like_the_general_path(text: str) -> None:
    # The shortcut of extract() (digits and separators only) against its general path,
    # which a label in front of the number forces.
    text = text.strip()
    if text:
        assert _phone.extract(text) == _phone.extract("Tel: " + text)


@settings(max_examples=2000, deadline=None)
@given(
    st.text("0123456789 +-().#xtTel:aAbB\u200b", min_size=1, max_size=24),
    st.sampled_from([None, "US", "GB", "DE", "FR", "IN", "BR"]),
    st.sampled_from([None, "fr", "United States", "Deutschland", "xx", "in"]),
)
def test_normalize_equals_the_parser_on_what_it_extracts(
    text: str, region: str | None, country: str | None
) -> None:
    text = text.strip()
    if not text:
        return
    where = normalize("country", country) if country else None
    in_region = where.upper() if where else region
    found = _phone.extract(text)
    expected = None if found is None else _phone.decide_full(*found, in_region)
    assert ph(text, region, country) == expected


nanp_numbers = st.builds(
    lambda plus, trunk, area, exchange, line, sep, paren: (
        ("+" if plus else "")
        + (f"1{sep}" if trunk or plus else "")
        + (f"({area}){sep}" if paren else f"{area}{sep}")
        + f"{exchange}{sep}{line}"
    ),
    st.booleans(),
    st.booleans(),
    st.integers(100, 999).map(str),
    st.integers(100, 999).map(str),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.sampled_from(["", " ", "-", ".", "/", " - "]),
    st.booleans(),
)


@settings(max_examples=3000, deadline=None)
@given(nanp_numbers, st.sampled_from([None, "US", "CA", "GB", "JM", "FR"]))
def test_north_american_shapes_equal_the_parser(text: str, region: str | None) -> None:
    # The normalizer's inline shortcuts for "+1 NXX NXX XXXX" and "NXX NXX XXXX".
    found = _phone.extract(text)
    assert found is not None
    assert ph(text, region) == _phone.decide_full(*found, region)
    assert ph(text, None, region) == _phone.decide_full(*found, region)  # as the event's
