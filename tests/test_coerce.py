"""capic.runtime.coerce: the coercions generated rule code uses (never raise, never guess)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capic.runtime.coerce import currency, to_bool, to_event_time, to_int, to_number, to_string

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", 12.5),
        ("12", 12),
        (" -3 ", -3),
        ("+4", 4),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1,299.00", 1299.0),
        ("1,000,000", 1000000),
        (7, 7),
        (7.25, 7.25),
        (Decimal("19.99"), 19.99),
        (Decimal("20"), 20),
        ("1,5", None),  # a decimal comma or a typo: not guessed
        ("12,34,567", None),
        ("$12", None),
        ("1_000", None),
        ("nan", None),
        ("inf", None),
        ("1e999", None),
        ("١٢", None),  # non-ASCII digits
        ("", None),
        (True, None),
        (NAN, None),
        (INF, None),
        (Decimal("NaN"), None),
        (Decimal("sNaN"), None),
        (Decimal("1E+999999999"), None),
        (None, None),
        ([1], None),
    ],
)
def test_to_number(value: object, expected: object) -> None:
    result = to_number(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3),
        (3.0, 3),
        ("3.0", 3),
        ("1,000", 1000),
        (3.5, None),  # an item count is not silently truncated
        ("3.5", None),
        (False, None),
        ("three", None),
    ],
)
def test_to_int(value: object, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  SKU-1 ", "SKU-1"),
        ("   ", None),
        (12, "12"),
        (12.0, "12"),  # an ID read as a float stays the same ID
        (12.5, "12.5"),
        (1e16, "10000000000000000"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+2"), "100"),
        (True, "true"),
        (False, "false"),
        (NAN, None),
        (Decimal("NaN"), None),
        pytest.param(10**5000, None, id="int-past-str-limit"),
        ({"a": 1}, None),
        (None, None),
    ],
)
def test_to_string(value: object, expected: str | None) -> None:
    assert to_string(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (" Yes ", True),
        ("TRUE", True),
        ("on", True),
        ("no", False),
        ("0", False),
        ("off", False),
        (2, None),
        ("maybe", None),
        (Decimal("sNaN"), None),
        (None, None),
    ],
)
def test_to_bool(value: object, expected: bool | None) -> None:
    assert to_bool(value) is expected


T = 1700000000  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T, T),
        (T + 0.9, T),
        (T * 1000, T),  # milliseconds
        (T * 1000 + 999, T),
        (T * 1_000_000, T),  # microseconds
        (T * 1_000_000_000, T),  # nanoseconds
        (str(T), T),
        (f" {T * 1000} ", T),
        (f"{T}.5", T),
        (Decimal(T), T),
        ("2023-11-14T22:13:20Z", T),
        ("2023-11-14T22:13:20.123Z", T),
        ("2023-11-14T23:13:20+01:00", T),
        ("2023-11-14T22:13:20", T),  # naive is UTC
        ("2023-11-14 22:13:20", T),
        ("2023-11-14", T - (22 * 3600 + 13 * 60 + 20)),
        (datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), T),
        (datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1))), T),
        (datetime(2023, 11, 14, 22, 13, 20), T),
        (date(2023, 11, 14), T - (22 * 3600 + 13 * 60 + 20)),
        (0, None),
        (-5, None),
        ("-5", None),
        (NAN, None),
        (INF, None),
        (10**400, None),
        ("9" * 400, None),  # an integer too large for a float: no traceback
        ("1" + ",000" * 110, None),
        (True, None),
        ("yesterday", None),
        ("2023-13-01", None),
        ("", None),
        (None, None),
    ],
)
def test_to_event_time(value: object, expected: int | None) -> None:
    result = to_event_time(value)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("usd ", "USD"),
        ("EUR", "EUR"),
        (" gbp", "GBP"),
        ("US", None),
        ("USDT", None),
        ("U$D", None),
        ("ÜSD", None),
        ("", None),
        (840, None),
        (None, None),
    ],
)
def test_currency(value: object, expected: str | None) -> None:
    assert currency(value) == expected


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(),
    st.decimals(),
    st.text(),
    st.text(alphabet="0123456789.,+-eE: TZ"),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.binary(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=800, deadline=None)
@given(anything)
def test_coercions_never_raise(value: object) -> None:
    number = to_number(value)
    assert number is None or (type(number) in (int, float) and not isinstance(number, bool))
    integer = to_int(value)
    assert integer is None or type(integer) is int
    text = to_string(value)
    assert text is None or (isinstance(text, str) and text)
    assert to_bool(value) in (True, False, None)
    seconds = to_event_time(value)
    assert seconds is None or (type(seconds) is int and seconds > 0)
    code = currency(value)
    assert code is None or (len(code) == 3 and code.isupper())
