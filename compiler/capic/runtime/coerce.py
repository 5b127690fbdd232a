"""Value coercions used by generated rule code.

Every function takes whatever an event carried (JSON values, strings from query strings and
form posts, numbers from a data layer) and returns a value of the target type or None. None
means "no usable value": the generated code then leaves the field out or counts a rejection.
None of these functions raises, whatever the input; they never guess either (an ambiguous
"1,5" is not a number, a 12.5 is not an integer). ``docs/normalization.md`` has the table.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "OUT_OF_RANGE",
    "amount",
    "count",
    "currency",
    "out_of_range",
    "to_bool",
    "to_event_time",
    "to_int",
    "to_number",
    "to_string",
]

# Decimal numbers as people and JSON write them: optional sign, digits with an optional
# fraction, optional exponent. Python's float() also takes "nan", "inf", "1_000" and
# non-ASCII digits; none of those is a price.
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
# "1,299.00" / "1,000,000": commas as thousands separators, only in groups of three. "1,5"
# (a European decimal comma) does not match and is rejected rather than read as 15 or 1.5.
_THOUSANDS: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
# More digits than any amount or timestamp has; also keeps int() below Python's digit limit.
_MAX_DIGITS: Final = 400
# JSON integers Meta (and orjson) take: signed 64 bits.
_INT64: Final = 2**63


class _OutOfRange:
    """The marker :func:`amount` and :func:`count` leave where the value was a number no
    field can carry (not finite, beyond 64 bits): validation then rejects the event instead
    of sending it without the value. Never encoded: an event holding it is never valid."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OUT_OF_RANGE"

    def __reduce__(self) -> str:
        return "OUT_OF_RANGE"


OUT_OF_RANGE: Final[Any] = _OutOfRange()

_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "off"})

# Epoch values above these are milliseconds, microseconds, nanoseconds (1e11 s is the year
# 5138, so no real seconds value is that large; 1e11 ms is 1973).
_MS_ABOVE: Final = 1e11
_US_ABOVE: Final = 1e14
_NS_ABOVE: Final = 1e17


def _finite(x: float) -> int | float | None:
    return x if math.isfinite(x) else None


def _parse_number_text(text: str) -> int | float | None:
    text = text.strip()
    if not text or len(text) > _MAX_DIGITS:
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return _finite(float(text))
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
        return int(text) if "." not in text else _finite(float(text))
    return None


def to_number(v: object) -> int | float | None:
    """A finite int or float: "12.50" -> 12.5, "12" -> 12, "1,299.00" -> 1299.0, 3 -> 3.

    bool, NaN, ±inf, "1,5", "$12", "" and non-numbers give None.
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return _finite(v)
    if isinstance(v, Decimal):
        if not _sane_decimal(v):
            return None
        return int(v) if v == v.to_integral_value() else _finite(float(v))
    if isinstance(v, str):
        return _parse_number_text(v)
    return None


def _sane_decimal(v: Decimal) -> bool:
    # Finite (a signalling NaN raises on comparison) and not astronomically large (int() of
    # Decimal("1E+999999999") would try to build a billion-digit integer).
    return v.is_finite() and v.adjusted() <= _MAX_DIGITS


def to_int(v: object) -> int | None:
    """An int: 3 -> 3, "3" -> 3, 3.0 -> 3, "1,000" -> 1000. A fraction (3.5) gives None: an
    integer field (num_items, quantity) must not be silently truncated."""
    n = to_number(v)
    if n is None or isinstance(n, int):
        return n
    return int(n) if n.is_integer() else None


def to_string(v: object) -> str | None:
    """A string: text is trimmed (blank -> None); ints and integral floats print without a
    fraction (12.0 -> "12", so an ID read as a float stays the same ID); other floats use the
    shortest repr ("12.5"); bools print as JSON does ("true"); NaN/inf and containers give
    None."""
    if isinstance(v, str):
        text = v.strip()
        return text or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        try:
            return str(v)
        except ValueError:  # beyond Python's int-to-str digit limit
            return None
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, Decimal):
        if not _sane_decimal(v):
            return None
        return str(int(v)) if v == v.to_integral_value() else format(v, "f")
    return None


def to_bool(v: object) -> bool | None:
    """True/False from bools, 0/1, and the usual words ("true", "yes", "on", "1", ...)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal) and not v.is_finite():
        return None
    if isinstance(v, int | float | Decimal):
        if v == 1:
            return True
        if v == 0:
            return False
        return None
    if isinstance(v, str):
        word = v.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _epoch_seconds(x: float) -> int | None:
    if not math.isfinite(x) or x <= 0:
        return None
    if x > _NS_ABOVE:
        x /= 1e9
    elif x > _US_ABOVE:
        x /= 1e6
    elif x > _MS_ABOVE:
        x /= 1e3
    seconds = int(x)
    return seconds if seconds > 0 else None  # 0 is "unset", not 1970


def _datetime_seconds(dt: datetime) -> int | None:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # naive times are UTC
    try:
        return _epoch_seconds(dt.timestamp())
    except (OverflowError, ValueError, OSError):
        return None


def to_event_time(v: object) -> int | None:
    """Unix seconds (int) for CAPI ``event_time``.

    Accepts epoch numbers (and numeric strings) in seconds, milliseconds (> 1e11),
    microseconds (> 1e14) or nanoseconds (> 1e17); ISO-8601 strings with "Z" or an offset
    (naive means UTC); ``datetime`` and ``date`` objects. Zero, negative and unreadable
    values give None.
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float | Decimal):
        try:
            return _epoch_seconds(float(v))
        except (OverflowError, ValueError):  # huge ints, signalling NaN
            return None
    if isinstance(v, datetime):
        return _datetime_seconds(v)
    if isinstance(v, date):
        return _datetime_seconds(datetime(v.year, v.month, v.day))
    if not isinstance(v, str):
        return None
    text = v.strip()
    number = _parse_number_text(text) if text[:1].isdigit() else None
    if number is not None:
        try:
            return _epoch_seconds(float(number))
        except OverflowError:  # an integer of more than 308 digits
            return None
    if not text or len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _datetime_seconds(parsed)


def currency(v: object) -> str | None:
    """An ISO 4217-shaped currency code: trimmed, uppercased, exactly three ASCII letters."""
    if not isinstance(v, str):
        return None
    code = v.strip().upper()
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code
    return None


def out_of_range(v: object) -> bool:
    """True for a number no Conversions API field can carry: not finite (``"1e400"``, NaN), or
    an integer beyond signed 64 bits (``"99999999999999999999999999"``). Such a value is a
    number, unlike ``"12,50"`` or ``"$12"``: dropping it would send an event without a value
    it had, so the runtime rejects the event instead (see :mod:`capic.runtime.validate`)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return not -_INT64 <= v < _INT64
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, Decimal):
        return not v.is_finite() or v.adjusted() >= 19 or not -_INT64 <= int(v) < _INT64
    if not isinstance(v, str):
        return False
    text = v.strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if _INTEGER.fullmatch(text):
        digits = text.lstrip("+-").lstrip("0")
        return len(digits) > 19 or not -_INT64 <= int(text) < _INT64
    if _NUMBER.fullmatch(text):
        return len(text) > _MAX_DIGITS or not math.isfinite(float(text))
    return False


def amount(v: object) -> Any:
    """:func:`to_number` for custom_data numbers, except that a number no field can carry
    (``"1e400"``, 30 digits) gives :data:`OUT_OF_RANGE` instead of None: it is then kept in
    place, and validation rejects the event instead of sending it without the value."""
    n = to_number(v)
    if n is not None and (type(n) is not int or -_INT64 <= n < _INT64):
        return n
    return OUT_OF_RANGE if n is not None or out_of_range(v) else None


def count(v: object) -> Any:
    """:func:`to_int`, with :data:`OUT_OF_RANGE` as :func:`amount` gives it."""
    n = to_int(v)
    if n is not None and -_INT64 <= n < _INT64:
        return n
    return OUT_OF_RANGE if n is not None or out_of_range(v) else None
