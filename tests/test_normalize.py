"""capic.runtime.normalize: the rules per key (docs/normalization.md), through normalize()."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.runtime.normalize import HASHED_KEYS, is_sha256, normalize

DIGEST = "A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3"


def n(
    key: str, value: object, *, default_country: str | None = None, dob_order: str = "mdy"
) -> str | None:
    return normalize(key, value, default_country=default_country, dob_order=dob_order)


# Worked examples of the fact sheet (capi-facts.md §3.4), "recommended" column.
@pytest.mark.parametrize(
    ("key", "raw", "country", "expected"),
    [
        ("em", "  John.Doe@Example.COM ", None, "john.doe@example.com"),
        ("em", "jane+promo@gmail.com", None, "jane+promo@gmail.com"),
        ("em", "not-an-email", None, None),
        ("ph", "+1 (650) 555-1212", None, "16505551212"),
        ("ph", "(650) 555-1212", "US", "16505551212"),
        ("ph", "650.555.1212", "US", "16505551212"),
        ("ph", "0044 20 7946 0958", None, "442079460958"),
        ("ph", "+44 020 7946 0958", None, "442079460958"),
        ("ph", "+49 (0)30 1234567", None, "49301234567"),
        ("ph", "tel: +1 650 555 1212", None, "16505551212"),
        ("fn", "  Mary ", None, "mary"),
        ("fn", "Valéry", None, "valéry"),
        ("ln", "O'Brien", None, "obrien"),
        ("fn", "Mary-Jane", None, "maryjane"),
        ("fn", "Jean Luc", None, "jeanluc"),
        ("db", "2/16/1997", None, "19970216"),
        ("db", "1997-02-16", None, "19970216"),
        ("db", "16.02.1997", None, "19970216"),
        ("db", "03/04/1990", None, "19900304"),
        ("ge", "Female", None, "f"),
        ("ge", " M ", None, "m"),
        ("ge", "x", None, None),
        ("ct", "San Francisco", None, "sanfrancisco"),
        ("ct", "St. Louis", None, "stlouis"),
        ("ct", "Coeur d'Alene", None, "coeurdalene"),
        ("ct", "Zürich", None, "zürich"),
        ("st", "California", None, "ca"),
        ("st", " N.Y. ", None, "ny"),
        ("st", "Bavaria", None, "bavaria"),
        ("zp", "94103-1234", None, "94103"),
        ("zp", "941031234", None, "94103"),
        ("zp", "M1 1AE", None, "m11ae"),
        ("zp", " 02134 ", None, "02134"),
        ("country", "United States", None, "us"),
        ("country", "U.S.A.", None, "us"),
        ("country", "UK", None, "gb"),
        ("external_id", " User-123 ", None, "user-123"),
    ],
)
def test_worked_examples(key: str, raw: str, country: str | None, expected: str | None) -> None:
    assert n(key, raw, default_country=country) == expected


def test_dob_order_decides_ambiguous_dates() -> None:
    assert n("db", "03/04/1990", dob_order="mdy") == "19900304"
    assert n("db", "03/04/1990", dob_order="dmy") == "19900403"
    assert n("db", "1990/03/04", dob_order="dmy") == "19900304"  # year first is always Y-M-D
    assert n("db", "1990-03-04", dob_order="ymd") == "19900304"
    # A day above 12 decides whatever the order says.
    assert n("db", "16/02/1997", dob_order="mdy") == "19970216"
    assert n("db", "02/16/1997", dob_order="dmy") == "19970216"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12月31日1990年", "19901231"),
        ("Born: 12-31-1990", "19901231"),
        ("19901231", "19901231"),
        ("02161997", "19970216"),  # not YYYYMMDD, so MMDDYYYY
        ("16021997", "19970216"),
        ("02-29-2001", None),
        ("02-30-2000", None),
        ("12/31/90", None),  # two-digit years are not guessed
        ("Dec 31, 1990", None),
        ("1899-12-31", None),
        ("01-01-1800", None),  # deviation: the reference accepts 1800..next year
        ("02-29-1900", None),  # deviation: 1900 was no leap year
        ("02-29-2000", "20000229"),
        ("13-13-1990", None),
        ("99999999", None),
        ("12-31", None),
        ("9" * 5000 + "-1-1", None),
    ],
)
def test_dob(raw: str, expected: str | None) -> None:
    assert n("db", raw) == expected


def test_dob_year_range_follows_the_clock() -> None:
    year = time.gmtime().tm_year
    assert n("db", f"01-01-{year}") == f"{year}0101"
    assert n("db", f"01-01-{year + 1}") is None
    assert n("db", "01-01-1900") == "19000101"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (650) 555-0123", "GB", "16505550123"),  # "+" wins over the default region
        ("1-650-555-0123", "US", "16505550123"),
        ("16505550123", "CA", "16505550123"),
        ("(555) 123-4567", "US", "15551234567"),  # unassigned range: still US
        ("(555) 123-4567", None, "5551234567"),  # no region: reference behaviour
        ("020 7946 0958", "GB", "442079460958"),
        ("020 7946 0958", "gb", "442079460958"),
        ("07911 123456", "GB", "447911123456"),
        ("030 1234567", "DE", "49301234567"),
        ("442079460958", "US", "442079460958"),  # country code without "+"
        ("011 44 20 7946 0958", "US", "442079460958"),  # US international prefix
        ("+33 1 42 86 83 26", None, "33142868326"),
        ("+39 06 1234 5678", None, "390612345678"),  # Italy keeps its leading zero
        ("+1-555-123-4567 ext. 123", None, "15551234567"),
        ("555-123-4567#123", None, "5551234567"),
        ("650 555 0123 x12", "US", "16505550123"),
        ("1-800-FLOWERS", "US", "18003569377"),
        ("01234567890", None, "1234567890"),
        ("0000", None, None),
        ("---", None, None),
        ("call me", "US", None),
    ],
)
def test_phone(raw: str, country: str | None, expected: str | None) -> None:
    assert n("ph", raw, default_country=country) == expected


@pytest.mark.parametrize(
    "raw",
    ["+1 (650) 555-0123", "+16505550123", "+1 650 555 0123", "+44 20 7946 0958", "+81 3 5843 2301"],
)
def test_phone_fast_paths_equal_the_parser(raw: str) -> None:
    # The same number in a form that must go through phonenumbers (letters around it).
    assert n("ph", raw) == n("ph", f"Phone: {raw} (mobile)")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("test@example..com", None),
        ("test@example", None),
        ("test @example.com", None),
        ("test@exam ple.com", None),
        ("test\u3000@example.com", None),
        ("a@b.co", "a@b.co"),
        ("user@xn--80ak6aa92e.xn--p1ai", "user@xn--80ak6aa92e.xn--p1ai"),
        ("Jörg@Example.de", "jörg@example.de"),
        ("user@[192.168.0.1]", "user@[192.168.0.1]"),
    ],
)
def test_email(raw: str, expected: str | None) -> None:
    assert n("em", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("O\u2019Brien", "obrien"),  # typographic apostrophe (deviation: Unicode punctuation)
        ("Mary–Jane", "maryjane"),
        ("José María", "josémaría"),
        ("Jose\u0301", "josé"),  # decomposed é is put in NFC form
        ("李明", "李明"),
        ("!!!", None),
        ("123", "123"),
    ],
)
def test_names(raw: str, expected: str | None) -> None:
    assert n("fn", raw) == expected
    assert n("ln", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("São Paulo", "sãopaulo"),  # deviation: UTF-8 kept
        ("Москва", "москва"),
        ("मुंबई", "मुंबई"),  # combining vowel signs stay
        ("New😀York", "newyork"),
        ("9London", None),
        ("!@#", None),
    ],
)
def test_city(raw: str, expected: str | None) -> None:
    assert n("ct", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tex.", "tx"),  # deviation: abbreviations map to the right code
        ("Penn.", "pa"),
        ("Calif.", "ca"),
        ("Québec", "qc"),
        ("Tëxas", "tx"),
        ("NewYorkCity", "newyorkcity"),  # a city, not a state name: no substring search
        ("Kansas City", "kansascity"),  # in Missouri and in Kansas
        ("Washington DC", "dc"),
        ("Washington State", "wa"),
        ("California, USA", "ca"),
        ("District of Columbia", "dc"),
        ("Baja California", "bajacalifornia"),  # Mexico, not California
        ("Carolina", "carolina"),  # deviation: not a state, full name kept
        ("Île-de-France", "îledefrance"),
        ("Nordrhein-Westfalen", "nordrheinwestfalen"),
        ("by", "by"),
        ("123", None),
    ],
)
def test_state(raw: str, expected: str | None) -> None:
    assert n("st", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("usa", "us"),
        ("DEU", "de"),
        ("Deutschland", "de"),
        ("España", "es"),
        ("Schweiz", "ch"),
        ("The Netherlands", "nl"),
        ("Côte d'Ivoire", "ci"),
        ("BrazilSouthAmerica", "br"),
        ("Nigeria", "ng"),
        ("Niger", "ne"),
        ("Japan2024", "jp"),
        ("U.K.", "gb"),  # deviation: uk is gb
        ("Japão", None),  # deviation: not a country, dropped
        ("xx", None),
        ("Ger.", None),
        ("123", None),
    ],
)
def test_country(raw: str, expected: str | None) -> None:
    assert n("country", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345-6789-extra", "12345"),
        ("94103 1234", "94103"),
        ("A1 B2", "a1b2"),  # deviation: no inner spaces
        ("100-0001", "1000001"),  # deviation: dashes removed, not cut
        ("-12345", "12345"),
        ("K1A 0A6", "k1a0a6"),
        ("1", None),
    ],
)
def test_zip(raw: str, expected: str | None) -> None:
    assert n("zp", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("external 123", "external123"),
        ("\u3000external\ufeff", "external"),
        ("external\x1fid", "external\x1fid"),  # not whitespace in JavaScript either
        ('JSON:{"id": 789}', 'json:{"id":789}'),
        ("2023-01-01T00:00:00.000Z", "2023-01-01t00:00:00.000z"),  # deviation: JS types
        (None, None),
    ],
)
def test_external_id(raw: str | None, expected: str | None) -> None:
    assert n("external_id", raw) == expected


@pytest.mark.parametrize("key", sorted(HASHED_KEYS))
def test_digests_pass_through_lowercased(key: str) -> None:
    assert n(key, DIGEST) == DIGEST.lower()
    assert n(key, f"  {DIGEST}\n") == DIGEST.lower()


@pytest.mark.parametrize("key", sorted(HASHED_KEYS))
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n\u00a0", [], {}, True, float("nan")])
def test_blank_and_non_values_give_none(key: str, blank: object) -> None:
    assert n(key, blank) is None


def test_numbers_are_read_as_their_digits() -> None:
    assert n("ph", 16505550123) == "16505550123"
    assert n("zp", 94103) == "94103"
    assert n("external_id", 42) == "42"
    assert n("zp", 94103.0) == "94103"
    assert n("external_id", Decimal("7")) == "7"
    assert n("ph", 10**5000) is None  # past Python's int-to-str limit: no text form
    assert n("zp", Decimal("1E+999999999")) is None


def test_is_sha256() -> None:
    assert is_sha256(DIGEST)
    assert is_sha256(DIGEST.lower())
    assert not is_sha256(DIGEST[:-1])
    assert not is_sha256("g" + DIGEST[1:])


def test_configuration_mistakes_raise() -> None:
    with pytest.raises(ValueError):
        normalize("email", "a@b.co")
    with pytest.raises(ValueError):
        normalize("ph", "123", default_country="XX")
    with pytest.raises(ValueError):
        normalize("db", "1990-01-01", dob_order="ydm")


values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789+-() ./#xX:tel@éü\u00a0\u2019–aA"),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(),
    st.lists(st.integers(), max_size=3),
    st.decimals(),
)
keys = st.sampled_from(sorted(HASHED_KEYS))
regions = st.sampled_from([None, "US", "GB", "de", "in", "BR"])
orders = st.sampled_from(["mdy", "dmy", "ymd"])


@settings(max_examples=1500, deadline=None)
@given(keys, values, regions, orders)
def test_never_raises_and_never_returns_empty(
    key: str, value: object, region: str | None, order: str
) -> None:
    out = normalize(key, value, default_country=region, dob_order=order)
    assert out is None or (isinstance(out, str) and out)


@settings(max_examples=1500, deadline=None)
@given(keys, values, orders)
def test_idempotent(key: str, value: object, order: str) -> None:
    once = normalize(key, value, dob_order=order)
    if once is not None:
        assert normalize(key, once, dob_order=order) == once


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["US", "GB", "DE", "FR", "IN", "BR", "JP"]), st.text("0123456789 +-()"))
def test_phone_with_region_is_idempotent(region: str, raw: str) -> None:
    once = normalize("ph", raw, default_country=region)
    if once is not None and len(once) >= 8:
        # E.164 digits read back in the same region give the same digits.
        assert normalize("ph", "+" + once, default_country=region) == once
