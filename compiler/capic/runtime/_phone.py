"""Phone numbers for ``user_data.ph``: E.164 digits without ``+``, or None.

Two steps. :func:`extract` reads the text: a label before the number ("Tel:", "Phone:"), an
extension ("ext. 12", "#12") and trailing words are dropped, letters of a vanity number are
converted with the phone keypad (``1-800-FLOWERS``), and what is left is whether the number
starts with ``+`` and its digits. :func:`decide` then finds the E.164 number in a region:

- written with its country code (``+`` or the ``00`` prefix): it must be a valid or plausible
  number of that country (see :func:`_accept`); the parser drops a trunk prefix written after
  the country code (``+44 (0)20 ...``);
- written nationally, with a region: read in that region (the event's own country, else the
  configured default), valid or plausible there; else, if it does not start with a trunk
  ``0``, a *valid* number read as international (a country code typed without ``+``);
  anything else is dropped: a number is never rewritten into another country's format;
- written nationally, without a region: its digits without leading zeros (Meta's reference),
  if that leaves 6 to 15 digits.

Fewer than 6 digits, however written, are no phone number (911, 12345: service and short
codes).

"Plausible" means what libphonenumber calls possible (a length the country's numbers have,
local-only lengths excluded) *and* matching the country's general number pattern, so that
fictional numbers (``555-0123``) and new ranges keep their country code while impossible ones
(``01 42 86 83 26`` in the US) are dropped.

The parser (``phonenumbers``, 100 to 250 µs a call) is the definition: :func:`decide_full`.
:func:`decide` first tries shortcuts whose answers provably equal it (the proofs mirror
libphonenumber's parsing steps; a property test compares them over generated numbers).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any, Final

from capic.runtime._text import INVISIBLE, ascii_digits

__all__ = ["NANP_REGIONS", "SEPARATORS", "decide", "decide_full", "extract", "supported_region"]

#: E.164: at most 15 digits with the country code.
MAX_DIGITS: Final = 15
#: Fewer digits than this, however written, are a service or short code (911, 12345), not the
#: phone number of a person; so are fewer significant digits without country code or region.
MIN_DIGITS: Final = 6

#: The separators of the everyday shapes: digits and these, "+" first or nowhere.
SEPARATORS: Final = b" ().-/"
# Where a number starts: its first digit or "+".
_START: Final = re.compile(r"[+0-9]")
# A trailing extension ("ext. 123", "x12", "#123", ";ext=9"): not part of the E.164 number.
_EXTENSION: Final = re.compile(
    r"(?:#|;\s*ext\s*=|(?<![a-z])(?:ext(?:ension)?|x)\.?)\s*:?\s*[0-9]{1,7}\s*$", re.IGNORECASE
)
# Words after the number ("... today!", ", please call"): a space or a comma, then no digit.
_TRAILING_WORDS: Final = re.compile(r"[\s,;!?][^0-9]*$")
_LETTERS: Final = re.compile(r"[A-Za-z]")
_NON_DIGITS: Final = re.compile(r"[^0-9]+")
# The ITU E.161 keypad (what libphonenumber converts vanity numbers with).
_KEYPAD: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "22233344455566677778889999" * 2,
)
#: Fewer letters than this are typos or stray characters, not a vanity number.
_VANITY_LETTERS: Final = 3

_phonenumbers: Any = None


def _pn() -> Any:
    """The ``phonenumbers`` module, imported on first use (the import costs ~60 ms)."""
    global _phonenumbers
    if _phonenumbers is None:
        import phonenumbers

        _phonenumbers = phonenumbers
    return _phonenumbers


def supported_region(code: str) -> bool:
    """True if ``code`` (uppercase ISO 3166-1 alpha-2) has phone numbering metadata."""
    return code in _pn().SUPPORTED_REGIONS


# --------------------------------------------------------------------------------------------
# text -> (plus, digits)


def extract(text: str) -> tuple[bool, str] | None:
    """(written with "+", digits) of the phone number in ``text`` (stripped, non-empty), or
    None when there is no digit."""
    if text.isascii():
        raw = text.encode().translate(None, SEPARATORS)
        if raw.isdigit():
            return False, raw.decode()
        if raw[:1] == b"+" and raw[1:].isdigit():
            return True, raw[1:].decode()
    else:
        # Fullwidth digits and signs become ASCII (NFKC), other scripts' digits too.
        text = ascii_digits(INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))
    start = _START.search(text)
    if start is None:
        return None
    text = text[start.start() :]
    ext = _EXTENSION.search(text)
    if ext is not None:
        text = text[: ext.start()]
    words = _TRAILING_WORDS.search(text)
    if words is not None:
        text = text[: words.start()]
    if len(_LETTERS.findall(text)) >= _VANITY_LETTERS:
        text = text.translate(_KEYPAD)
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None
    return text[0] == "+", digits


# --------------------------------------------------------------------------------------------
# the definition: libphonenumber


def _parse(text: str, region: str | None) -> Any:
    pn = _pn()
    try:
        return pn.parse(text, region)
    except pn.NumberParseException:
        return None


@cache  # one entry per country calling code (about 215)
def _general(cc: int) -> tuple[frozenset[int], re.Pattern[str]] | None:
    """(possible lengths, general number pattern) of the numbers of calling code ``cc``, from
    the metadata libphonenumber checks possible lengths with (the code's main region, or the
    code's own for non-geographic codes); None for an unknown code."""
    pn = _pn()
    metadata = pn.PhoneMetadata.metadata_for_region_or_calling_code(
        cc, pn.region_code_for_country_code(cc)
    )
    desc = None if metadata is None else metadata.general_desc
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


def _accept(number: Any, *, plausible: bool = True) -> str | None:
    """E.164 digits of a parsed ``number`` if it is valid or (with ``plausible``) plausible."""
    pn = _pn()
    if number is None:
        return None
    ok = pn.is_valid_number(number)
    if not ok and plausible:
        general = _general(number.country_code)
        nsn = pn.national_significant_number(number)
        ok = general is not None and len(nsn) in general[0] and bool(general[1].fullmatch(nsn))
    if not ok:
        return None
    e164 = str(pn.format_number(number, pn.PhoneNumberFormat.E164))[1:]
    return e164 if len(e164) <= MAX_DIGITS else None


def decide_full(plus: bool, digits: str, region: str | None) -> str | None:
    """The E.164 digits of the number (``plus``, ``digits``) in ``region`` (or None), by the
    parser alone: the definition the shortcuts of :func:`decide` must equal."""
    if len(digits) < MIN_DIGITS:
        return None
    if plus or digits.startswith("00"):
        d = digits.lstrip("0")
        return _accept(_parse("+" + d, None)) if d else None
    if region is None:
        d = digits.lstrip("0")
        return d if MIN_DIGITS <= len(d) <= MAX_DIGITS else None
    found = _accept(_parse(digits, region))
    if found is None and digits[0] != "0":
        # A country code typed without "+" ("44 20 7946 0958"): only a valid number counts.
        found = _accept(_parse("+" + digits, None), plausible=False)
    return found


# --------------------------------------------------------------------------------------------
# shortcuts


@cache  # one entry per country calling code
def _intl_spec(cc: str) -> tuple[re.Pattern[str] | None, frozenset[int], re.Pattern[str]] | None:
    """What :func:`_intl_verbatim` needs of calling code ``cc``: its national-prefix-for-
    parsing pattern (None if it has none), possible lengths and general pattern; None if the
    shortcut cannot mirror the parser for it (unknown code, or a national-prefix transform
    rule, which rewrites digits)."""
    pn = _pn()
    code = int(cc)
    region = pn.region_code_for_country_code(code)
    metadata = pn.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    general = _general(code)
    if metadata is None or general is None or metadata.national_prefix_transform_rule:
        return None
    prefix = metadata.national_prefix_for_parsing
    return (re.compile(prefix) if prefix else None, *general)


#: Country calling code (text) -> (its length, :func:`_intl_spec`), for the codes the
#: shortcut can mirror; built on the first international number (:func:`_cc_specs`).
_CC_SPECS: dict[str, tuple[int, re.Pattern[str] | None, frozenset[int], re.Pattern[str]]] = {}


def _cc_specs() -> dict[str, tuple[int, re.Pattern[str] | None, frozenset[int], re.Pattern[str]]]:
    if not _CC_SPECS:
        for code in _pn().COUNTRY_CODE_TO_REGION_CODE:
            spec = _intl_spec(str(code))
            if spec is not None:
                _CC_SPECS[str(code)] = (len(str(code)), *spec)
    return _CC_SPECS


def _intl_verbatim(d: str) -> bool:
    """True if ``decide_full`` answers ``d`` itself for "+<d>" (``d`` without leading zero).

    The parser changes digits only by stripping a national (trunk) prefix right after the
    country code, applying a transform rule, or keeping a leading zero; none of that can
    happen if the rest doesn't start with "0" and the country's national-prefix pattern does
    not match it. The number is then accepted, valid or not, when the rest has a possible
    length and matches the general pattern (valid numbers always do). Country codes are
    prefix-free, so the one of 1, 2 or 3 digits that is known is libphonenumber's."""
    specs = _CC_SPECS or _cc_specs()
    spec = specs.get(d[:2]) or specs.get(d[:1]) or specs.get(d[:3])
    if spec is None or len(d) > MAX_DIGITS:
        return False
    n, prefix, lengths, general = spec
    rest = d[n:]
    if not rest or rest[0] == "0" or (prefix is not None and prefix.match(rest) is not None):
        return False
    return len(rest) in lengths and general.fullmatch(rest) is not None


@cache  # one entry per region at most (about 245)
def _national_spec(
    region: str,
) -> tuple[str, re.Pattern[str] | None, re.Pattern[str], frozenset[int], frozenset[int], Any]:
    """What :func:`_national_verbatim` needs of ``region``'s metadata. Raises LookupError for
    a region it can't mirror: one with a national-prefix transform rule, or one that is not
    the main region of its country code (libphonenumber checks its numbers' lengths with
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
    """E.164 digits of a national number exactly as ``decide_full`` finds them, without the
    parser; None where that is not certain.

    Mirrors libphonenumber's parse in a region: the number must not start with an
    international prefix or the country code; a national prefix at the start is removed
    unless the number fits the national pattern only with it, or the rest has a length the
    region rules out (too short, local-only, invalid); the national number must then have a
    possible length and match the general pattern, so that valid or not the answer is
    country code + national number; and no leading zero (Italian-style numbers keep it)."""
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
    if not 2 <= n <= 17 or national[0] == "0" or n not in possible:
        return None
    if pattern.fullmatch(national) is None or len(cc) + n > MAX_DIGITS:
        return None
    return cc + national


#: Regions whose national numbers are NANP numbers checked with the US metadata.
NANP_REGIONS: Final = frozenset({"US", "CA"})


def decide(plus: bool, digits: str, region: str | None) -> str | None:
    """:func:`decide_full`, with shortcuts for the common shapes."""
    n = len(digits)
    if n < MIN_DIGITS:
        return None
    if plus:
        if digits[0] != "0":
            # "+1 NXX NXX XXXX": possible and plausible in the NANP, no trunk prefix.
            if n == 11 and digits[0] == "1":
                if digits[1] in "23456789" and digits[4] in "23456789":
                    return digits
            elif _intl_verbatim(digits):
                return digits
        return decide_full(plus, digits, region)
    if region is None:
        if digits[0] != "0":
            return digits if n <= MAX_DIGITS else None
        return decide_full(plus, digits, region)
    if region in NANP_REGIONS:
        # "NXX NXX XXXX" (after a trunk "1"): a possible, plausible national number.
        if n == 10 and digits[0] in "23456789" and digits[3] in "23456789":
            return "1" + digits
        if n == 11 and digits[0] == "1" and digits[1] in "23456789" and digits[4] in "23456789":
            return digits
    elif not digits.startswith("00"):
        verbatim = _national_verbatim(region, digits)
        if verbatim is not None:
            return verbatim
    return decide_full(plus, digits, region)
