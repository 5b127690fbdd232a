"""The rule language's functions on numbers and times: ``number``, ``int``, ``round`` and
``parse_time`` (over :mod:`capic.runtime.coerce`, which reads numbers and event times for the
whole runtime).

Semantics are documented in :mod:`capic.runtime.stdlib`, the public entry point (generated
modules import these names from there).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from capic.runtime._stdlib_ops import _finite
from capic.runtime.coerce import to_event_time, to_number

__all__ = ["number", "parse_time", "round_", "to_int"]


# ----------------------------------------------------------------------------- numbers


def number(v: Any) -> int | float | None:
    """A number from a number or its text (``"12.50"`` -> 12.5, ``"3"`` -> 3, ``"1,299.00"``
    -> 1299.0); null otherwise (see :func:`capic.runtime.coerce.to_number`)."""
    if type(v) is int:
        return v
    return to_number(v)


def to_int(v: Any) -> int | None:
    """An integer (truncated toward zero) from a number or its text."""
    n = number(v)
    if n is None:
        return None
    if type(n) is int:
        return n
    try:
        return int(n)
    except (ValueError, OverflowError):
        return None


def round_(v: Any, digits: Any = 0) -> int | float | None:
    """Round half away from zero to ``digits`` decimals (as written in decimal, so
    ``round(2.675, 2)`` is 2.68); an integer when ``digits`` is 0 or less."""
    n = number(v)
    d = to_int(digits) if digits is not None else None
    if n is None or d is None or not -15 <= d <= 15:
        return None
    if type(n) is int and d >= 0:
        return n
    try:
        q = Decimal(repr(n) if type(n) is float else str(n)).quantize(
            Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP
        )
    except (InvalidOperation, ValueError):
        return None
    if d <= 0:
        return int(q)
    return _finite(float(q))


# ----------------------------------------------------------------------------- time


def _seconds(moment: datetime) -> int | None:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return math.floor(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


def parse_time(v: Any, fmt: Any = None) -> int | None:
    """Unix seconds from ISO-8601 text (a missing zone is UTC) or epoch seconds, milliseconds,
    microseconds or nanoseconds (numbers or digit strings, told apart by size: see
    :func:`capic.runtime.coerce.to_event_time`), or from text in the strptime format ``fmt``."""
    if v is None or isinstance(v, bool):
        return None
    if fmt is not None:
        if not isinstance(v, str) or not isinstance(fmt, str):
            return None
        try:
            return _seconds(datetime.strptime(v.strip(), fmt))
        except (ValueError, TypeError, OverflowError):
            return None
    return to_event_time(v)
