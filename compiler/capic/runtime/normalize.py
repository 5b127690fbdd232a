"""Normalization of customer information (``user_data``) before SHA-256 hashing.

One normalizer per key, following Meta's documented rules and, where the documentation is
silent, Meta's reference normalizers (the Parameter Builder library). ``docs/normalization.md``
describes every rule and lists each deliberate deviation from the reference with its reason.

This module is on the per-event hot path: tables, regexes and translate maps are built at
import, lookups of values that repeat (country, state, gender, city) are cached, and the
common phone shapes avoid the ``phonenumbers`` parser (about 100 µs a call) when the result
provably equals what the parser would give.
"""

from __future__ import annotations

import calendar
import math
import re
import time
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from functools import cache, lru_cache, partial
from typing import Any, Final

from capic.runtime import _geo

__all__ = ["DOB_ORDERS", "HASHED_KEYS", "WHITESPACE", "is_sha256", "normalize"]

#: The ``user_data`` keys that are normalized and SHA-256 hashed.
HASHED_KEYS: Final = frozenset(
    {"em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id"}
)
#: Accepted values of ``dob_order``: how to read a date whose day and month are both <= 12.
DOB_ORDERS: Final = frozenset({"mdy", "dmy", "ymd"})

# Whitespace as JavaScript's \s and String.prototype.trim see it. The reference normalizers are
# JavaScript, and Python's notion differs (it also counts U+001C..U+001F and U+0085, and not
# U+FEFF), which the reference tests pin down for external_id.
WHITESPACE: Final = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS: Final = WHITESPACE
_ASCII_PUNCT: Final = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_DELETE_WS: Final = str.maketrans("", "", _WS)
_DELETE_WS_PUNCT: Final = str.maketrans("", "", _WS + _ASCII_PUNCT)
_DELETE_WS_DASH: Final = str.maketrans("", "", _WS + "-")

_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")
_NOT_AZ: Final = re.compile(r"[^a-z]+")
_NOT_AZ09: Final = re.compile(r"[^a-z0-9]+")


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


def _nfc_lower(text: str) -> str:
    # Composed and decomposed forms of "é" hash differently; NFC makes them one value.
    return unicodedata.normalize("NFC", text).lower()


def _keeps_word_char(c: str) -> bool:
    # Letters and combining marks (Devanagari or Thai vowel signs are marks, and a word without
    # them is a different word) and decimal digits.
    cat = unicodedata.category(c)
    return cat[0] in "LM" or cat == "Nd"


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
# about twice as fast. Texts it does not match go to _EMAIL.
_PLAIN_EMAIL: Final = re.compile(r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*@(?:[a-z0-9\-]+\.)+[a-z]{2,}")


def _norm_email(text: str) -> str | None:
    text = text.lower()
    if not text.isascii():
        # The pattern's non-ASCII ranges would let Unicode spaces into the domain.
        if _ANY_WS.search(text):
            return None
        text = unicodedata.normalize("NFC", text)
    if _PLAIN_EMAIL.fullmatch(text) is not None or _EMAIL.fullmatch(text) is not None:
        return text
    return None


# --------------------------------------------------------------------------------------------
# ph

_NON_DIGITS: Final = re.compile(r"[^0-9]+")
# Only digits and the usual separators: the shape for which the fast paths are proven.
_PLAIN_PHONE: Final = re.compile(r"\+?[0-9 ().\-/]+")
# "+" before the first digit means the number carries its country calling code.
_PLUS_FIRST: Final = re.compile(r"[^0-9]*\+")
# A trailing extension ("ext. 123", "x12", "#123", ";ext=9"): not part of the E.164 number.
_EXTENSION: Final = re.compile(
    r"(?:#|;\s*ext\s*=|(?<![a-z])(?:ext(?:ension)?|x)\.?)\s*:?\s*[0-9]{1,7}\s*$", re.IGNORECASE
)
# Regions whose national numbers have the NANP shape handled by the fast path.
_NANP_REGIONS: Final = frozenset({"US", "CA"})
_NXX: Final = frozenset("23456789")

_phonenumbers: Any = None
_cc_prefix_cache: dict[str, re.Pattern[str] | bool | None] = {}


def _pn() -> Any:
    """The ``phonenumbers`` module, imported on first use (the import costs ~60 ms)."""
    global _phonenumbers
    if _phonenumbers is None:
        import phonenumbers

        _phonenumbers = phonenumbers
    return _phonenumbers


def _cc_split(d: str) -> tuple[str, str] | None:
    """Split E.164 digits into (country code, rest) the way libphonenumber does (1-3 digits,
    first known code wins); None if no known country code starts ``d``."""
    table = _pn().COUNTRY_CODE_TO_REGION_CODE
    for n in (1, 2, 3):
        if len(d) > n and int(d[:n]) in table:
            return d[:n], d[n:]
    return None


def _national_prefix_pattern(cc: str) -> re.Pattern[str] | bool | None:
    """The national-prefix-for-parsing pattern of ``cc``'s main region; None if it has none;
    False if the region rewrites numbers (a transform rule), which the fast path can't mirror."""
    cached = _cc_prefix_cache.get(cc)
    if cached is not None or cc in _cc_prefix_cache:
        return cached
    pn = _pn()
    result: re.Pattern[str] | bool | None
    # Geographic codes parse with their main region's metadata, the others (800, 870, ...)
    # with the code's own.
    region = pn.region_code_for_country_code(int(cc))
    metadata = pn.PhoneMetadata.metadata_for_region_or_calling_code(int(cc), region)
    if metadata is None:
        result = None
    elif metadata.national_prefix_transform_rule:
        result = False
    elif metadata.national_prefix_for_parsing:
        result = re.compile(metadata.national_prefix_for_parsing)
    else:
        result = None
    _cc_prefix_cache[cc] = result
    return result


def _intl_is_verbatim(d: str) -> bool:
    """True if parsing "+<d>" cannot change the digits: then the parser's answer is ``d``
    whether the number is valid (E.164 = country code + untouched rest) or not (fallback ``d``).

    The parser changes digits only by stripping a national (trunk) prefix right after the
    country code ("+44 (0)20 ..."), applying a transform rule, or keeping a leading zero it
    would otherwise drop; none of that can happen if the rest doesn't start with "0" and the
    country's national-prefix pattern does not match it."""
    if d[0] == "1":  # NANP: the rest must look like NXX-NXX-XXXX, so no trunk "1" either
        return len(d) == 11 and d[1] in _NXX and d[4] in _NXX
    split = _cc_split(d)
    if split is None:
        return True  # unknown country code: the parser rejects it and the fallback is d
    cc, rest = split
    if not rest or rest[0] == "0":
        return False
    pattern = _national_prefix_pattern(cc)
    if pattern is False:
        return False
    return pattern is None or (not isinstance(pattern, bool) and pattern.match(rest) is None)


def _e164_digits(number: Any) -> str:
    pn = _pn()
    return str(pn.format_number(number, pn.PhoneNumberFormat.E164))[1:]


def _parse(text: str, region: str | None) -> Any:
    pn = _pn()
    try:
        return pn.parse(text, region)
    except pn.NumberParseException:
        return None


def _phone_international(text: str, d: str) -> str:
    """A number written with its country code ("+44 20 ...", "0044 20 ...")."""
    pn = _pn()
    for candidate in (text if "+" in text else None, "+" + d):
        if candidate is None:
            continue
        number = _parse(candidate, None)
        if number is not None and pn.is_valid_number(number):
            return _e164_digits(number)
    return d


@cache  # one entry per region at most (about 245)
def _national_spec(
    region: str,
) -> tuple[str, re.Pattern[str] | None, re.Pattern[str], frozenset[int], frozenset[int], Any]:
    """What _national_verbatim needs of ``region``'s metadata (see there). Raises LookupError
    for a region it can't mirror: one with a national-prefix transform rule, or one that is
    not the main region of its country code (libphonenumber length-checks its numbers with
    another region's metadata)."""
    pn = _pn()
    metadata = pn.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix_transform_rule:
        raise LookupError(region)
    cc = metadata.country_code
    desc = metadata.general_desc
    if pn.region_code_for_country_code(cc) != region or desc is None:
        raise LookupError(region)
    possible = frozenset(desc.possible_length or ())
    if not desc.national_number_pattern or not possible or -1 in possible:
        raise LookupError(region)
    prefix = metadata.national_prefix_for_parsing
    return (
        str(cc),
        re.compile(prefix) if prefix else None,
        re.compile(desc.national_number_pattern),
        possible,
        frozenset(desc.possible_length_local_only or ()),
        re.compile(metadata.international_prefix) if metadata.international_prefix else None,
    )


def _national_verbatim(region: str, digits: str) -> str | None:
    """E.164 digits of a plain national number (digits and separators only) exactly as
    ``_phone_national`` would find them, without the parser; None where that is not certain.

    Mirrors libphonenumber's parse in a region: the number must not start with an
    international prefix or the country code; a national prefix at the start is removed
    unless the number fits the national pattern only with it, or the rest has a length the
    region rules out (too short, local-only, invalid); the national number must then have a
    possible length, so that valid or not the answer is country code + national number, and
    no leading zero (Italian-style numbers keep it, which E.164 formatting handles)."""
    try:
        cc, prefix, pattern, possible, local, idd = _national_spec(region)
    except LookupError:
        return None
    if len(digits) < 3 or digits.startswith(cc) or (idd is not None and idd.match(digits)):
        return None
    national = digits
    match = prefix.match(digits) if prefix is not None else None
    if match is not None:
        rest = digits[match.end() :]
        viable = not (pattern.fullmatch(digits) and not pattern.fullmatch(rest))
        n = len(rest)
        if viable and n not in local and (n in possible or n > max(possible)):
            national = rest
    n = len(national)
    if not 2 <= n <= 17 or national[0] == "0" or (n not in possible and n not in local):
        return None
    return cc + national


def _phone_national(text: str, digits: str, region: str) -> str | None:
    """A number without a country code marker, read in the configured default region."""
    pn = _pn()
    number = _parse(text, region)
    if number is not None and pn.is_valid_number(number):
        return _e164_digits(number)
    # A number of the right length for the region counts as national even if its range is
    # unknown to the metadata (new ranges, fictional 555 numbers): the country code is added.
    if number is not None and pn.is_possible_number(number):
        return _e164_digits(number)
    # Perhaps it already carries a country code, just without "+" ("44 20 7946 0958").
    d = digits.lstrip("0")
    if d:
        number = _parse("+" + d, None)
        if number is not None and pn.is_valid_number(number):
            return _e164_digits(number)
    return d or None


# The North American shapes most traffic has: "+1 (650) 555-0123", "650.555.0123",
# "1-650-555-0123". Area code and exchange start with 2-9 (NANP rules), so no trunk prefix and
# no leading zero can hide in them.
_NANP_SHAPE: Final = re.compile(
    r"(\+?)(?:(1)[ .\-/]*)?(?:\(([2-9][0-9]{2})\)|([2-9][0-9]{2}))[ .\-/]*"
    r"([2-9][0-9]{2})[ .\-/]*([0-9]{4})"
)


def _norm_phone(region: str | None, text: str) -> str | None:
    nanp = _NANP_SHAPE.fullmatch(text)
    if nanp is not None:
        plus, trunk, area_paren, area, exchange, line = nanp.groups()
        number = (area_paren or area) + exchange + line
        if plus:
            # "+1 NXX NXX XXXX": the parser would answer these digits, valid or not (see
            # _intl_is_verbatim). "+NXX..." without the 1 is some other country: general path.
            if trunk:
                return "1" + number
        elif region is None:
            return "1" + number if trunk else number  # reference: digits, no leading zeros
        elif region in _NANP_REGIONS:
            # The parser reads 10 digits (after the trunk "1") as a possible national number
            # and answers "1" + those digits whether or not the range is assigned.
            return "1" + number
    return _norm_phone_general(region, text)


def _norm_phone_general(region: str | None, text: str) -> str | None:
    if text[:4].lower() == "tel:":
        text = text[4:]
    plain = _PLAIN_PHONE.fullmatch(text.strip(_WS)) is not None
    if not plain:
        ext = _EXTENSION.search(text)
        if ext is not None:
            text = text[: ext.start()]
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None
    if _PLUS_FIRST.match(text) or digits.startswith("00"):
        d = digits.lstrip("0")
        if not d:
            return None
        if plain and _intl_is_verbatim(d):
            return d
        return _phone_international(text, d)
    if region is None:
        # No country code and no default region: digits without leading zeros (reference).
        return digits.lstrip("0") or None
    if plain:
        verbatim = _national_verbatim(region, digits)
        if verbatim is not None:
            return verbatim
    return _phone_national(text, digits, region)


# --------------------------------------------------------------------------------------------
# fn, ln


def _norm_name(text: str) -> str | None:
    if text.isascii():
        if text.isalnum():  # the common case: nothing to remove
            return text.lower()
        out = text.lower().translate(_DELETE_WS_PUNCT)
    else:
        # Unicode punctuation goes too ("O’Brien" with a typographic apostrophe, "Mary–Jane"):
        # the docs say "no punctuation". Letters in any script, digits and symbols stay.
        out = "".join(
            c
            for c in _nfc_lower(text).translate(_DELETE_WS_PUNCT)
            if unicodedata.category(c)[0] != "P"
        )
    return out or None


# --------------------------------------------------------------------------------------------
# ct (and unmapped st)


@lru_cache(maxsize=2048)
def _city(text: str) -> str | None:
    if text.isascii():
        out = _NOT_AZ09.sub("", text.lower())
    else:
        # The docs allow UTF-8 in cities ("zürich"); the reference drops every non-ASCII letter.
        out = "".join(c for c in _nfc_lower(text) if _keeps_word_char(c))
    # A city starts with a letter (reference): "123" or "9London" are not cities.
    return out if out and out[0].isalpha() else None


# --------------------------------------------------------------------------------------------
# st, country


def _substring_lookup(key: str, table: tuple[tuple[str, str], ...]) -> str | None:
    """The code of the table name that starts earliest in ``key`` (longest on ties)."""
    best: str | None = None
    best_pos = len(key)
    for name, code in table:  # longest first, so the first hit at a position is the longest
        pos = key.find(name)
        if 0 <= pos < best_pos:
            best, best_pos = code, pos
            if pos == 0:
                break
    return best


@lru_cache(maxsize=1024)
def _state(text: str) -> str | None:
    key = _fold_key(text)
    if len(key) == 2:
        return key
    if key:
        code = _geo.STATE_NAMES.get(key)
        if code is None and key not in _geo.STATE_SUBSTRING_EXCLUDED:
            code = _substring_lookup(key, _geo.STATE_SUBSTRINGS)
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
    if not key:
        return None
    code = _geo.COUNTRY_NAMES.get(key)
    if code is None:
        code = _substring_lookup(key, _geo.COUNTRY_SUBSTRINGS)
    # Anything else is not an ISO 3166-1 country: dropped (the reference sends the first two
    # letters, e.g. "Japão" -> "ja", which is no country at all).
    return code


# --------------------------------------------------------------------------------------------
# zp

# A US ZIP or ZIP+4 ("94103", "94103-1234", "94103 1234", "941031234"): the first 5 digits.
_US_ZIP: Final = re.compile(r"([0-9]{5})(?:[-\s]?[0-9]{4})?(?=-|$)")


def _norm_zip(text: str) -> str | None:
    if text.isascii() and text[:5].isdigit():  # the common US shapes, without the regex
        if len(text) == 5:
            return text
        if len(text) == 10 and text[5] == "-" and text[6:].isdigit():
            return text[:5]
    text = text.lower()
    us = _US_ZIP.match(text)
    if us is not None:
        return us.group(1)
    # Docs: lowercase, no spaces, no dash ("M1 1AE" -> "m11ae", Japan "100-0001" -> "1000001").
    out = text.translate(_DELETE_WS_DASH)
    if len(out) == 9 and out.isascii() and out.isdigit():
        return out[:5]  # a ZIP+4 written with stray separators ("9410 3-1234")
    return out if len(out) >= 2 else None


# --------------------------------------------------------------------------------------------
# ge


@lru_cache(maxsize=256)
def _gender(text: str) -> str | None:
    return _geo.GENDER_SYNONYMS.get(text.lower())


# --------------------------------------------------------------------------------------------
# db

_DIGIT_GROUPS: Final = re.compile(r"[0-9]+")
# The common written shapes ("1997-02-16", "2/16/1997", "16.02.1997"), matched in one step.
_DATE_SHAPE: Final = re.compile(r"([0-9]{1,4})[-/. ]([0-9]{1,2})[-/. ]([0-9]{1,4})")
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_TWO_DIGITS: Final = tuple(f"{n:02d}" for n in range(32))
# The latest year accepted, and when to look at the clock again (the next New Year, UTC).
# Only a year above the cached one needs the clock, so ordinary dates never read it.
_this_year: list[int] = [0, 0]


def _current_year() -> int:
    now = time.time()
    if now >= _this_year[1]:
        year = time.gmtime(now).tm_year
        _this_year[0] = year
        _this_year[1] = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    return _this_year[0]


def _date(year: int, month: int, day: int) -> str | None:
    """``YYYYMMDD`` if the date exists and the year is 1900..this year (docs), else None."""
    if year < 1900 or not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return None
    if year > _this_year[0] and year > _current_year():
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    return str(year) + _TWO_DIGITS[month] + _TWO_DIGITS[day]


def _ymd(n1: int, n2: int, n3: int, dob_order: str) -> str | None:
    # The year is the first group > 31 among the first two, else the third (reference). A
    # year-first date is Y-M-D (ISO) unless the month slot holds a day > 12. Otherwise a group
    # > 12 must be the day; when both are <= 12, dob_order decides.
    if n1 > 31:
        return _date(n1, n3, n2) if n2 > 12 else _date(n1, n2, n3)
    if n2 > 31:
        return _date(n2, n1, n3) if n3 > 12 else _date(n2, n3, n1)
    if n1 > 12:
        return _date(n3, n2, n1)
    if n2 > 12 or dob_order != "dmy":
        return _date(n3, n1, n2)
    return _date(n3, n2, n1)


_MONTH_DAYS: Final = {f"{m:02d}": f"{_DAYS_IN_MONTH[m]:02d}" for m in range(1, 13)}


def _iso_date(text: str) -> str | None:
    """``YYYYMMDD`` of an ISO "YYYY-MM-DD" (what databases and JSON emit), checked as strings
    (zero-padded digits compare like numbers) to skip the int conversions; "" if ``text`` is
    not in that form with the month in the middle, for the general path to read."""
    y, m, d = text[:4], text[5:7], text[8:]
    last = _MONTH_DAYS.get(m)
    if last is None or not (y.isdigit() and d.isdigit() and y.isascii() and d.isascii()):
        return ""
    if not "01" <= d <= last or y < "1900":
        return None
    if y > str(_this_year[0]) and y > str(_current_year()):
        return None
    if m == "02" and d == "29":
        year = int(y)
        if not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return None
    return y + m + d


def _norm_dob(dob_order: str, text: str) -> str | None:
    if len(text) == 8 and text.isascii() and text.isdigit():
        # "YYYYMMDD" (or MMDDYYYY / DDMMYYYY): what the general path below does with one
        # group of 8 digits, without the regexes.
        return _compact_date(dob_order, text)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        iso = _iso_date(text)
        if iso != "":
            return iso
    shape = _DATE_SHAPE.fullmatch(text)
    if shape is not None:
        return _ymd(int(shape[1]), int(shape[2]), int(shape[3]), dob_order)
    groups = _DIGIT_GROUPS.findall(text)
    if len(groups) >= 3:
        first = groups[:3]
        # More than 4 significant digits is no day, month or year (and int() of a huge digit
        # run is refused by Python, so the check also keeps this total).
        if all(len(g.lstrip("0")) <= 4 for g in first):
            return _ymd(int(first[0]), int(first[1]), int(first[2]), dob_order)
        return None
    if len(groups) == 1 and len(groups[0]) == 8:
        return _compact_date(dob_order, groups[0])
    return None


def _compact_date(dob_order: str, g: str) -> str | None:
    """A date written as 8 ASCII digits."""
    # A valid YYYYMMDD is its own answer: checked as strings like _iso_date does (what _date
    # checks, without the int conversions).
    y, m, d = g[:4], g[4:6], g[6:]
    last = _MONTH_DAYS.get(m)
    if (
        last is not None
        and "01" <= d <= last
        and y >= "1900"
        and (y <= str(_this_year[0]) or y <= str(_current_year()))
        and not (m == "02" and d == "29")
    ):
        return g
    compact = _date(int(g[:4]), int(g[4:6]), int(g[6:]))
    if compact is not None or dob_order == "ymd":
        return compact
    # Not a valid YYYYMMDD: read it as MMDDYYYY / DDMMYYYY.
    return _ymd(int(g[:2]), int(g[2:4]), int(g[4:]), dob_order)


# --------------------------------------------------------------------------------------------
# external_id


def _norm_external_id(text: str) -> str | None:
    # Meta's reference (and its pixel) lowercase and remove all whitespace, then hash; the
    # same ID must produce the same hash on every channel, so nothing else is touched.
    if text.isascii() and text.isprintable() and " " not in text:
        return text.lower()  # printable ASCII without a space has no whitespace to remove
    return text.translate(_DELETE_WS).lower() or None


# --------------------------------------------------------------------------------------------

Normalizer = Callable[[str], str | None]

# key -> normalizer of a stripped, non-empty text that is not already a digest. Phone and date
# of birth also depend on the configuration; see bound_normalizers().
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
}


@lru_cache(maxsize=32)
def bound_normalizers(region: str | None, dob_order: str) -> dict[str, Normalizer]:
    """Every hashed key's normalizer for one configuration (``region`` from region_code()).

    Each takes a stripped, non-empty text that is not a digest. The dict is shared: read it,
    don't change it."""
    table = dict(_CONTEXT_FREE)
    table["ph"] = partial(_norm_phone, region)
    table["db"] = partial(_norm_dob, dob_order)
    assert table.keys() == HASHED_KEYS
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
    if code not in _pn().SUPPORTED_REGIONS:
        raise ValueError(
            f"default_country must be an ISO 3166-1 alpha-2 code, got {default_country!r}"
        )
    return str(code)


def normalize(
    key: str, value: object, *, default_country: str | None = None, dob_order: str = "mdy"
) -> str | None:
    """Normalize one raw value of the hashed ``user_data`` key ``key`` (see ``HASHED_KEYS``).

    Returns the normalized text to hash, the lowercased digest if ``value`` already is a
    SHA-256 hex digest, or None if the value is empty or invalid. Never raises for any value;
    raises ValueError for an unknown key, ``default_country`` or ``dob_order`` (configuration
    mistakes, not data).
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
    return normalizer(text)
