"""States and countries are matched whole against curated tables, never found inside a longer
value (docs/normalization.md, "States and regions", "Countries"): a wrong hash is worse than
none."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.runtime import _geo
from capic.runtime.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Washington DC", "dc"),  # not wa
        ("Washington, D.C.", "dc"),
        ("W. Virginia", "wv"),  # not va
        ("West Virginia", "wv"),
        ("New Jersey", "nj"),  # not je (Jersey)
        ("Indiana", "in"),
        ("Washington State", "wa"),
        ("State of New York", "ny"),
        ("New York NY", "ny"),
        ("California, USA", "ca"),
        ("Ontario, Canada", "on"),
        ("British Columbia Province", "bc"),
        ("New South Wales", "newsouthwales"),  # not a US state or Canadian province
        ("Kansas City", "kansascity"),  # a city, in Missouri and in Kansas
        ("Baja California", "bajacalifornia"),  # a Mexican state
        ("Virginia Beach", "virginiabeach"),
        ("Ontario, USA", "ontariousa"),  # Ontario is no US state: not read as one
    ],
)
def test_states(raw: str, expected: str) -> None:
    assert normalize("st", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("New South Wales", None),  # not gb (Wales)
        ("New Jersey", None),  # not je
        ("Indiana", None),  # not in (India)
        ("Washington DC", None),
        ("Guinea-Bissau", "gw"),  # not gn (Guinea)
        ("Equatorial Guinea", "gq"),
        ("Niger", "ne"),
        ("Nigeria", "ng"),
        ("Dominica", "dm"),
        ("Dominican Republic", "do"),
        ("Germany, Europe", "de"),
        ("The Netherlands", "nl"),
        ("Republic of Ireland", "ie"),
        ("Sudan", "sd"),
        ("South Sudan", "ss"),
        ("Jersey", "je"),
        ("Germanyland", None),
        ("Japan Country", "jp"),
        ("America", "us"),
    ],
)
def test_countries(raw: str, expected: str | None) -> None:
    assert normalize("country", raw) == expected


STATE_NAMES = sorted({**_geo.US_STATES, **_geo.CA_PROVINCES}.items())
COUNTRY_NAMES = sorted((k, v) for k, v in _geo.COUNTRY_NAMES.items() if len(k) > 3)
junk = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


def whole_forms(table: dict[str, str], prefixes: tuple[str, ...], suffixes: dict[str, set[str]]):
    """Oracle: value -> codes of every way to write a whole name with at most one qualifier."""
    forms: dict[str, set[str]] = {}
    for name, code in table.items():
        forms.setdefault(name, set()).add(code)
        for prefix in prefixes:
            forms.setdefault(prefix + name, set()).add(code)
        for suffix in suffixes.get(code, suffixes.get("*", set())):
            forms.setdefault(name + suffix, set()).add(code)
    return forms


STATE_FORMS = whole_forms(_geo._STATE_FULL_NAMES, _geo._STATE_PREFIXES, _geo._STATE_SUFFIX_SETS)
COUNTRY_FORMS = whole_forms(
    _geo._COUNTRY_FULL_NAMES, _geo._COUNTRY_PREFIXES, _geo._COUNTRY_SUFFIX_SET
)


def expected_state(value: str) -> str:
    codes = STATE_FORMS.get(value, set())
    if value in _geo.STATE_NAMES:
        return _geo.STATE_NAMES[value]
    return next(iter(codes)) if len(codes) == 1 else value  # else the region's own name


def expected_country(value: str) -> str | None:
    if value in _geo.COUNTRY_NAMES:
        return _geo.COUNTRY_NAMES[value]
    codes = COUNTRY_FORMS.get(value, set())
    return next(iter(codes)) if len(codes) == 1 else None


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(STATE_NAMES), junk, junk)
def test_a_state_name_inside_a_longer_value_is_not_that_state(
    item: tuple[str, str], before: str, after: str
) -> None:
    name, _ = item
    for value in (before + name, name + after, before + name + after):
        assert normalize("st", value) == expected_state(value), value


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(COUNTRY_NAMES), junk, junk)
def test_a_country_name_inside_a_longer_value_is_not_that_country(
    item: tuple[str, str], before: str, after: str
) -> None:
    name, _ = item
    for value in (before + name, name + after, before + name + after):
        assert normalize("country", value) == expected_country(value), value


@pytest.mark.parametrize(("name", "code"), STATE_NAMES)
def test_every_state_name_with_its_qualifiers(name: str, code: str) -> None:
    for value in (name, f"{name} state", f"{name}, {code.upper()}", f"state of {name}"):
        if code in _geo.CA_PROVINCES.values() and "state" in value:
            continue
        assert normalize("st", value) == code, value
