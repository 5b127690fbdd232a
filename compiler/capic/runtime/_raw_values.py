"""A raw ``user_data`` value before its key's rule: its text (:func:`as_text`), and whether it
already is a SHA-256 digest (:func:`is_sha256`), which is sent as it is (lowercased).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Final

__all__ = ["as_text", "is_sha256"]

_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")


def is_sha256(s: str) -> bool:
    """True if ``s`` is a SHA-256 hex digest (64 hex characters, either case)."""
    return len(s) == 64 and _HEX64.fullmatch(s) is not None


def as_text(value: object) -> str | None:
    """The text of a raw user_data value, or None if it has no sensible text form.

    Integers (and integral floats, as spreadsheets produce) become their decimal digits; bools,
    NaN/inf, containers and other objects have no meaning as customer information."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float | Decimal):
            if not math.isfinite(value):
                return None
            if isinstance(value, Decimal) and value.adjusted() > 100:
                return None  # int() of Decimal("1E+999999999") would build a huge integer
            if value == int(value):
                return str(int(value))
            return str(value)
    except (ValueError, OverflowError):  # ints beyond Python's str() digit limit
        return None
    return None
