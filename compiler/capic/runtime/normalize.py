"""Normalization of customer information (``user_data``) before SHA-256 hashing.

One normalizer per hashed key, following Meta's documented rules and, where the documentation
is silent, Meta's reference normalizers (the Parameter Builder library). Which keys are hashed
is a fact of ``schemas/user_data.schema.json`` (``x-capic-hashed``), read through
:mod:`capic.meta.catalog`; this module holds the rules, and refuses to load if a hashed key
has none. ``docs/normalization.md`` describes every rule and lists each deliberate deviation
from the reference with its reason.

This module is on the per-event hot path: tables, regexes and translate maps are built at
import, lookups of values that repeat (state, country, gender) are cached, and the common
shapes of every key take fast paths whose answers equal the general path's (tests compare
them). Phone numbers are in :mod:`capic.runtime._phone`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Final, NamedTuple, Protocol

from capic.meta import catalog
from capic.runtime import _dates, _geo, _phone
from capic.runtime._text import INVISIBLE, WHITESPACE, clean_text, nfc

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

_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")
_NOT_AZ: Final = re.compile(r"[^a-z]+")
_ASCII_NON_ALNUM: Final = "".join(chr(c) for c in range(128) if not chr(c).isalnum())
_DELETE_ASCII_NON_ALNUM: Final = str.maketrans("", "", _ASCII_NON_ALNUM)
_DELETE_WS: Final = str.maketrans("", "", _WS)
_DELETE_WS_DASH: Final = str.maketrans("", "", _WS + "-")
#: Unicode categories whose characters stay in names (letters, marks, numbers, symbols) and in
#: cities (letters, marks, decimal digits). ASCII keeps letters and digits only in both.
_NAME_CATEGORIES: Final = frozenset(
    {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Sm", "Sc", "Sk", "So"}
)
_CITY_CATEGORIES: Final = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd"})


def is_sha256(s: str) -> bool:
    """True if ``s`` is a SHA-256 hex digest (64 hex characters, either case)."""
    return len(s) == 64 and _HEX64.fullmatch(s) is not None


def _fold_key(text: str) -> str:
    """Lookup key for the geo tables: lowercase a-z only, accents folded ("Québec" -> quebec)."""
    text = text.lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return _NOT_AZ.sub("", text)


def _keep(text: str, categories: frozenset[str]) -> str:
    """The characters of ``text`` (lowercase, clean) that are ASCII letters or digits, or
    non-ASCII characters of one of the Unicode ``categories``; NFC again if any went (a
    removal can leave combining marks out of canonical order)."""
    category = unicodedata.category
    kept = "".join(c for c in text if (c.isalnum() if c.isascii() else category(c) in categories))
    return nfc(kept) if len(kept) != len(text) else kept


# --------------------------------------------------------------------------------------------
# em

_EMAIL: Final = re.compile(
    # Local part: dot-separated runs of anything but the RFC 5322 specials and whitespace (what
    # the reference accepts, non-ASCII included), or a quoted string. Domain: dot-separated
    # labels of letters, digits, hyphens (non-ASCII allowed for IDNs) and a top-level domain of
    # two or more letters or an "xn--" IDN label; or an IPv4 literal.
    r'(?:[^<>()\[\]\\.,;:\s@"]+(?:\.[^<>()\[\]\\.,;:\s@"]+)*|"[^"\\\r\n]+")'
    r"@(?:\[[0-9]{1,3}(?:\.[0-9]{1,3}){3}\]"
    r"|(?:[a-z0-9\-\u0080-\U0010ffff]+\.)+(?:[a-z\u0080-\U0010ffff]{2,}|xn--[a-z0-9\-]+))"
)
_ANY_WS: Final = re.compile(r"\s")
# The everyday ASCII shape: every text it matches also matches _EMAIL (its local-part and
# label characters are a subset of _EMAIL's, its top-level domain is 2+ letters), and it is
# about twice as fast. Texts it does not match go to _EMAIL. The quantifiers are possessive
# (no backtracking): a label ends with its dot and the top-level domain has none, so giving
# characters back never makes a match.
_PLAIN_EMAIL: Final = re.compile(
    r"[a-z0-9_+\-]++(?:\.[a-z0-9_+\-]++)*+@(?:[a-z0-9\-]++\.)++[a-z]{2,}+"
)


def _norm_email(text: str) -> str | None:
    text = text.lower()
    if not text.isascii():
        text = clean_text(text)
        # The pattern's non-ASCII ranges would let Unicode spaces into the domain.
        if _ANY_WS.search(text):
            return None
    if _PLAIN_EMAIL.fullmatch(text) is not None or _EMAIL.fullmatch(text) is not None:
        return text
    return None


# --------------------------------------------------------------------------------------------
# fn, ln (and the legacy SDK keys f5first, f5last, fi)


def _norm_name(text: str) -> str | None:
    if text.isascii():
        if text.isalnum():  # the common case: nothing to remove
            return text.lower()
        joined = text.replace(" ", "")  # "Jean Luc": spaces only, without the translate map
        if joined.isalnum():
            return joined.lower()
        return text.lower().translate(_DELETE_ASCII_NON_ALNUM) or None
    # Letters of every script with their marks, digits and symbols stay; punctuation (also
    # Unicode's: dashes, typographic apostrophes), whitespace and control characters go: the
    # docs say "no punctuation".
    return _keep(clean_text(text.lower()), _NAME_CATEGORIES) or None


def _prefix_of_name(length: int) -> Callable[[str], str | None]:
    def norm(text: str) -> str | None:
        name = _norm_name(text)
        if name is None:
            return None
        return name[:length] if name.isascii() else nfc(name[:length])

    return norm


# --------------------------------------------------------------------------------------------
# ct (and unmapped st)


def _city(text: str) -> str | None:
    if text.isascii():
        out = text.replace(" ", "")  # "San Francisco": spaces only, without the translate map
        out = (out if out.isalnum() else out.translate(_DELETE_ASCII_NON_ALNUM)).lower()
    else:
        # The docs allow UTF-8 in cities ("zürich"); the reference drops every non-ASCII letter.
        # Letters with their combining marks (a Devanagari or Thai word without its vowel signs
        # is another word) and decimal digits stay.
        out = _keep(clean_text(text.lower()), _CITY_CATEGORIES)
    # A city starts with a letter (reference): "123" or "9London" are not cities.
    return out if out and out[0].isalpha() else None


# --------------------------------------------------------------------------------------------
# st, country


@lru_cache(maxsize=1024)
def _state(text: str) -> str | None:
    key = _fold_key(text)
    if len(key) == 2:
        return key
    if key:
        code = _geo.state_code(key)
        if code is not None:
            return code
    # Not a US state or Canadian province: the documented rule for other regions is
    # "lowercase, no punctuation, no special characters, no spaces" (the reference instead
    # keeps the first two letters, which makes "Bavaria" and "Baden-Württemberg" both "ba").
    return _city(text)


@lru_cache(maxsize=512)
def _country(text: str) -> str | None:
    key = _fold_key(text)
    if len(key) == 2:
        key = _geo.COUNTRY_TWO_LETTER_ALIASES.get(key, key)
        return key if key in _geo.ISO_ALPHA2 else None
    # Anything that is not an ISO 3166-1 country, whole, is dropped (the reference sends the
    # first two letters, e.g. "Japão" -> "ja", which is no country at all).
    return _geo.country_code(key) if key else None


# --------------------------------------------------------------------------------------------
# zp

# A US ZIP or ZIP+4 ("94103", "94103-1234", "94103 1234", "941031234"): the first 5 digits.
_US_ZIP: Final = re.compile(r"([0-9]{5})(?:[-\s]?[0-9]{4})?(?=-|$)")


def _norm_zip(text: str) -> str | None:
    if text.isascii():
        # The common US shapes, without the regex: "94103-1234" and "94103".
        n = len(text)
        if n == 10 and text[5] == "-":
            zip5 = text[:5]
            if zip5.isdigit() and text[6:].isdigit():
                return zip5
        elif n == 5 and text.isdigit():
            return text
    else:
        text = clean_text(text)
    text = text.lower()
    us = _US_ZIP.match(text)
    if us is not None:
        return us.group(1)
    # Docs: lowercase, no spaces, no dash ("M1 1AE" -> "m11ae", Japan "100-0001" -> "1000001").
    out = text.translate(_DELETE_WS_DASH)
    if not out.isascii():
        out = nfc(out)  # a removed dash can bring a combining mark to its base
    if len(out) == 9 and out.isascii() and out.isdigit():
        return out[:5]  # a ZIP+4 written with stray separators ("9410 3-1234")
    return out if len(out) >= 2 else None


# --------------------------------------------------------------------------------------------
# ge


@lru_cache(maxsize=256)
def _gender(text: str) -> str | None:
    if not text.isascii():
        text = clean_text(text)
    return _geo.GENDER_SYNONYMS.get(text.lower())


# --------------------------------------------------------------------------------------------
# external_id


def _norm_external_id(text: str) -> str | None:
    # Meta's reference (and its pixel) lowercase and remove all whitespace, then hash; the
    # same ID must produce the same hash on every channel, so nothing else is touched.
    if text.isascii():
        if text.isprintable() and " " not in text:
            return text.lower()  # printable ASCII without a space has no whitespace to remove
        return text.translate(_DELETE_WS).lower() or None
    return nfc(clean_text(text).translate(_DELETE_WS).lower()) or None


# --------------------------------------------------------------------------------------------
# ph


class PhoneNormalizer(Protocol):
    """The normalizer of ``ph``: ``country`` is the event's own ``user_data.country`` value
    (raw, any form, or None), whose country is used before the configured default."""

    def __call__(self, text: str, country: object = None) -> str | None: ...


def _country_region(value: object) -> str | None:
    """The phone-numbering region of a ``user_data.country`` value (raw or hashed, a list
    gives its first country), or None if it names no country that has one."""
    if type(value) is str:
        return _region_of_text(value)
    if isinstance(value, list | tuple):
        for item in value:
            region = _country_region(item)
            if region is not None:
                return region
        return None
    text = as_text(value)
    return None if text is None else _region_of_text(text)


@lru_cache(maxsize=512)
def _region_of_text(value: str) -> str | None:
    text = value.strip(_WS)
    if not text:
        return None
    code = _country_by_digest().get(text.lower()) if len(text) == 64 else _country(text)
    if code is None:
        return None
    region = code.upper()
    return region if _phone.supported_region(region) else None


@lru_cache(maxsize=1)
def _country_by_digest() -> dict[str, str]:
    """SHA-256 digest -> ISO code of every country: an event's country may arrive hashed."""
    from capic.runtime.hashing import sha256_hex

    return {sha256_hex(code): code for code in _geo.ISO_ALPHA2}


def _phone_normalizer(region: str | None) -> PhoneNormalizer:
    decide = _phone.decide
    extract = _phone.extract
    separators = _phone.SEPARATORS
    nanp = _phone.NANP_REGIONS
    # Raw user_data.country text -> its phone region ("" when it names none): the event's
    # country is looked up once per distinct spelling.
    regions: dict[str, str] = {}
    get_region = regions.get

    def norm_phone(text: str, country: object = None) -> str | None:
        where = region
        if country is not None:
            if type(country) is str:
                found = get_region(country)
                if found is None:
                    if len(regions) >= _REGIONS_LIMIT:
                        regions.clear()
                    found = regions[country] = _country_region(country) or ""
            else:
                found = _country_region(country) or ""
            if found:
                where = found
        if text.isascii():  # _phone.extract's first step, inline: most numbers stop here
            raw = text.encode().translate(None, separators)
            n = len(raw)
            if raw.isdigit():
                # "NXX NXX XXXX" in the US or Canada: _phone.decide's first shortcut, inline.
                if n == 10 and raw[0] > 49 and raw[3] > 49 and where in nanp:
                    return "1" + raw.decode()
                return decide(False, raw.decode(), where)
            if raw[:1] == b"+" and raw[1:].isdigit():
                # "+1 NXX NXX XXXX" (anywhere): _phone.decide's first shortcut, inline.
                if n == 12 and raw[1] == 49 and raw[2] > 49 and raw[5] > 49:
                    return raw[1:].decode()
                return decide(True, raw[1:].decode(), where)
        found_number = extract(text)
        return None if found_number is None else decide(*found_number, where)

    return norm_phone


#: How many distinct spellings of countries a phone normalizer remembers.
_REGIONS_LIMIT: Final = 512


# --------------------------------------------------------------------------------------------

Normalizer = Callable[[str], str | None]

# key -> normalizer of a stripped, non-empty text that is not already a digest. Phone and dates
# of birth also depend on the configuration; see bound_normalizers(). Every key the schema
# marks hashed must be here (checked below), and no other.
_CONTEXT_FREE: Final[dict[str, Normalizer]] = {
    "em": _norm_email,
    "fn": _norm_name,
    "ln": _norm_name,
    "ge": _gender,
    "ct": _city,
    "st": _state,
    "zp": _norm_zip,
    "country": _country,
    "external_id": _norm_external_id,
    # Legacy match keys of Meta's Python SDK (deprecated in the schema; the linter says so):
    # first five letters and first letter of the normalized name, day, month, year of birth.
    "f5first": _prefix_of_name(5),
    "f5last": _prefix_of_name(5),
    "fi": _prefix_of_name(1),
    "dobd": _dates.norm_day,
    "dobm": _dates.norm_month,
    "doby": _dates.norm_year,
}
# Normalizers that depend on the configuration: (phone region, dob_order) -> normalizer.
_CONFIGURED: Final[dict[str, Callable[[str | None, str], Normalizer]]] = {
    "ph": lambda region, dob_order: _phone_normalizer(region),
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
_REPEATING: Final[tuple[Normalizer, ...]] = (_norm_name, _gender, _city, _state, _country)
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
    if len(text) == 64 and _HEX64.fullmatch(text):
        return text.lower()
    if key == "ph":
        phone: PhoneNormalizer = normalizer  # type: ignore[assignment]
        return phone(text, country)
    return normalizer(text)
