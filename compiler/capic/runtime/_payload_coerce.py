"""Conversions of server-event fields to the types Meta expects: the top-level keys
(``event_time``, ``event_id`` ...) and the members of sections (``custom_data.value``,
``app_data.advertiser_tracking_enabled`` ...), each with the type that needs no conversion.

Used by :class:`capic.runtime.payload.SendSpec` and by generated modules that convert their
sections themselves (through :mod:`capic.runtime.payload`, the public entry point). Per-event
hot path: the fast paths give the same answers as the general conversions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from capic.runtime.coerce import amount, count, currency, to_bool, to_event_time, to_int, to_string
from capic.runtime.validate import INVALID_EVENT_TIME

__all__ = [
    "SECTION_COERCIONS",
    "TOP_COERCIONS",
    "Coerce",
    "event_time",
    "flag",
    "section_conversion",
]

Coerce = Callable[[Any], Any]


def flag(v: Any) -> int | None:
    """A 0/1 flag (``app_data.advertiser_tracking_enabled``) from a bool, 0/1 or a word."""
    b = to_bool(v)
    return None if b is None else int(b)


class _AlwaysConvert:
    """A type no value has: the conversion of a key that names it is never skipped."""

    __slots__ = ()


#: Below this an integer event_time is already unix seconds (to_event_time reads larger
#: integers as milliseconds, microseconds or nanoseconds).
_SECONDS_UP_TO: Final = 100_000_000_000


def event_time(v: Any) -> int | None:
    """:func:`~capic.runtime.coerce.to_event_time`, with a fast path for integer unix seconds
    (the same answer: ``int(float(v))`` is ``v`` for these). Integers in milliseconds and
    beyond are converted like the same number written as a string."""
    if type(v) is int and 0 < v <= _SECONDS_UP_TO:
        return v
    return to_event_time(v)


def _currency(v: Any) -> str | None:
    """:func:`~capic.runtime.coerce.currency`, with a fast path for a code that is already
    three uppercase ASCII letters (the same answer)."""
    if type(v) is str and len(v) == 3 and v.isascii() and v.isalpha() and v.isupper():
        return v
    return currency(v)


#: Top-level server-event keys converted to the type Meta expects. The type is the one that
#: needs no conversion (event_time always goes through :func:`event_time`: an integer may be
#: in milliseconds).
TOP_COERCIONS: Final[dict[str, tuple[Coerce, type, str | None]]] = {
    "event_time": (event_time, _AlwaysConvert, INVALID_EVENT_TIME),
    "event_id": (to_string, str, None),
    "opt_out": (to_bool, bool, None),
    "data_processing_options_country": (to_int, int, None),
    "data_processing_options_state": (to_int, int, None),
}
#: Section key -> {key: (conversion, type that needs none)}.
SECTION_COERCIONS: Final[dict[str, dict[str, tuple[Coerce, type]]]] = {
    "custom_data": {
        "value": (amount, float),
        "predicted_ltv": (amount, float),
        "net_revenue": (amount, float),
        "currency": (_currency, type(None)),
        "num_items": (count, int),
    },
    "app_data": {
        "advertiser_tracking_enabled": (flag, type(None)),
        "application_tracking_enabled": (flag, type(None)),
    },
}


def section_conversion(section: str, key: str) -> tuple[Coerce, type]:
    """(conversion, type it leaves as is) of ``section.key`` in ``SECTION_COERCIONS``, for
    generated modules that convert their sections themselves (KeyError if there is none)."""
    return SECTION_COERCIONS[section][key]
