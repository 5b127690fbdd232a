"""Normalization of customer information (``user_data``) before SHA-256 hashing.

One normalizer per hashed key, following Meta's documented rules and, where the documentation
is silent, Meta's reference normalizers (the Parameter Builder library). Which keys are hashed
is a fact of ``schemas/user_data.schema.json`` (``x-capic-hashed``), read through
:mod:`capic.meta.catalog`; this module maps each key to its rule, and refuses to load if a
hashed key has none. ``docs/normalization.md`` describes every rule and lists each deliberate
deviation from the reference with its reason.

The rules live by kind of value: :mod:`capic.runtime._text_keys` (e-mail, names, city, ZIP
code, external ID), :mod:`capic.runtime._table_keys` (state, country, gender: table lookups),
:mod:`capic.runtime._phone_key` over :mod:`capic.runtime._phone` (phone numbers),
:mod:`capic.runtime._dates` (dates of birth) and :mod:`capic.runtime._raw_values` (a raw
value's text, digests). This module is the public entry point and re-exports their public
names.

This module is on the per-event hot path: tables, regexes and translate maps are built at
import, lookups of values that repeat (state, country, gender) are cached, and the common
shapes of every key take fast paths whose answers equal the general path's (tests compare
them). The normalizers are the rule modules' own functions, never wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Final, NamedTuple

from capic.meta import catalog
from capic.runtime import _dates, _phone
from capic.runtime._phone_key import PhoneNormalizer, phone_normalizer
from capic.runtime._raw_values import as_text, is_sha256
from capic.runtime._table_keys import norm_country, norm_gender, norm_state
from capic.runtime._text import INVISIBLE, WHITESPACE, clean_text

# _EMAIL: re-exported from its old home (a test compares the e-mail fast path with it).
from capic.runtime._text_keys import _EMAIL as _EMAIL
from capic.runtime._text_keys import (
    norm_city,
    norm_email,
    norm_external_id,
    norm_name,
    norm_zip,
    prefix_of_name,
)

__all__ = [
    "DOB_ORDERS",
    "HASHED_KEYS",
    "INVISIBLE",
    "WHITESPACE",
    "MemoSize",
    "Normalizer",
    "PhoneNormalizer",
    "as_text",
    "bound_normalizers",
    "clean_text",
    "is_sha256",
    "memoized",
    "normalize",
    "region_code",
]

#: Accepted values of ``dob_order``: how to read a date whose day and month are both <= 12.
DOB_ORDERS: Final = _dates.DOB_ORDERS
_WS: Final = WHITESPACE

Normalizer = Callable[[str], str | None]

# key -> normalizer of a stripped, non-empty text that is not already a digest. Phone and dates
# of birth also depend on the configuration; see bound_normalizers(). Every key the schema
# marks hashed must be here (checked below), and no other.
_CONTEXT_FREE: Final[dict[str, Normalizer]] = {
    "em": norm_email,
    "fn": norm_name,
    "ln": norm_name,
    "ge": norm_gender,
    "ct": norm_city,
    "st": norm_state,
    "zp": norm_zip,
    "country": norm_country,
    "external_id": norm_external_id,
    # Legacy match keys of Meta's Python SDK (deprecated in the schema; the linter says so):
    # first five letters and first letter of the normalized name, day, month, year of birth.
    "f5first": prefix_of_name(5),
    "f5last": prefix_of_name(5),
    "fi": prefix_of_name(1),
    "dobd": _dates.norm_day,
    "dobm": _dates.norm_month,
    "doby": _dates.norm_year,
}
# Normalizers that depend on the configuration: (phone region, dob_order) -> normalizer.
_CONFIGURED: Final[dict[str, Callable[[str | None, str], Normalizer]]] = {
    "ph": lambda region, dob_order: phone_normalizer(region),
    "db": lambda region, dob_order: _dates.dob_normalizer(dob_order),
}

#: The ``user_data`` keys that are normalized and SHA-256 hashed (``x-capic-hashed`` in the
#: schema).
HASHED_KEYS: Final = catalog.hashed_keys()
if _CONTEXT_FREE.keys() | _CONFIGURED.keys() != HASHED_KEYS:  # pragma: no cover - a defect
    raise ImportError(
        "user_data.schema.json and capic.runtime.normalize disagree on the hashed keys: "
        f"{sorted(HASHED_KEYS ^ (_CONTEXT_FREE.keys() | _CONFIGURED.keys()))}"
    )


class MemoSize(NamedTuple):
    """How many digests a :class:`~capic.runtime.hashing.UserDataBuilder` remembers for one
    key: by raw text (the value as the event had it; 0: none), and by normalized text (for
    values whose raw forms differ but normalize alike: ZIP+4 codes of one ZIP code)."""

    raw: int
    normalized: int = 0


# Normalizers of values that repeat from event to event (a shop's customers share first and
# last names, cities, states, countries and genders): their digests are worth remembering.
_REPEATING: Final[tuple[Normalizer, ...]] = (
    norm_name,
    norm_gender,
    norm_city,
    norm_state,
    norm_country,
)
#: How many raw values -> digests a builder remembers per key, by default.
MEMO_SIZE: Final = 4096
# Dates of birth repeat too: a century of customers has about 36,500 of them, most are born
# within some 70 years, and remembering those is what makes the memo pay. ZIP codes: some
# 42,000 in the US, written with or without their +4 part.
_LARGE_MEMO: Final = 32768


def memoized() -> dict[str, MemoSize]:
    """The hashed keys whose digests a :class:`~capic.runtime.hashing.UserDataBuilder`
    remembers (their values repeat across a shop's customers), with how many of each."""
    sizes = {key: MemoSize(MEMO_SIZE) for key, fn in _CONTEXT_FREE.items() if fn in _REPEATING}
    sizes["db"] = MemoSize(_LARGE_MEMO)
    # ZIP+4 codes rarely repeat as written, the ZIP codes they give do: by value only.
    sizes["zp"] = MemoSize(0, _LARGE_MEMO)
    return sizes


@lru_cache(maxsize=32)
def bound_normalizers(region: str | None, dob_order: str) -> dict[str, Normalizer]:
    """Every hashed key's normalizer for one configuration (``region`` from region_code()).

    Each takes a stripped, non-empty text that is not a digest; the one of ``ph`` also takes
    the event's country (see :class:`PhoneNormalizer`). The dict is shared: read it, don't
    change it."""
    table = dict(_CONTEXT_FREE)
    for key, make in _CONFIGURED.items():
        table[key] = make(region, dob_order)
    return table


@lru_cache(maxsize=64)
def region_code(default_country: str | None) -> str | None:
    """``default_country`` as a phonenumbers region ("us" -> "US"); ValueError if unknown."""
    if default_country is None:
        return None
    code = default_country.strip().upper()
    if code == "UK":
        code = "GB"
    if not _phone.supported_region(code):
        raise ValueError(
            f"default_country must be an ISO 3166-1 alpha-2 code, got {default_country!r}"
        )
    return str(code)


def normalize(
    key: str,
    value: object,
    *,
    default_country: str | None = None,
    dob_order: str = "mdy",
    country: object = None,
) -> str | None:
    """Normalize one raw value of the hashed ``user_data`` key ``key`` (see ``HASHED_KEYS``).

    Returns the normalized text to hash, the lowercased digest if ``value`` already is a
    SHA-256 hex digest, or None if the value is empty or invalid. ``country`` is the event's
    own ``user_data.country`` (raw): a phone number is read in that country when it names one,
    else in ``default_country``. Never raises for any value; raises ValueError for an unknown
    key, ``default_country`` or ``dob_order`` (configuration mistakes, not data).
    """
    if key not in HASHED_KEYS:
        raise ValueError(f"{key!r} is not a hashed user_data key")
    if dob_order not in DOB_ORDERS:
        raise ValueError(f"dob_order must be one of {sorted(DOB_ORDERS)}, got {dob_order!r}")
    normalizer = bound_normalizers(region_code(default_country), dob_order)[key]
    text = as_text(value)
    if text is None:
        return None
    text = text.strip(_WS)
    if not text:
        return None
    if is_sha256(text):
        return text.lower()
    if key == "ph":
        phone: PhoneNormalizer = normalizer  # type: ignore[assignment]
        return phone(text, country)
    return normalizer(text)
