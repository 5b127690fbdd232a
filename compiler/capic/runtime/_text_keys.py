"""Normalizers of the ``user_data`` keys written as free text: ``em``, ``fn`` and ``ln`` (and
the legacy SDK keys ``f5first``, ``f5last``, ``fi``), ``ct``, ``zp`` and ``external_id``.

Each takes a stripped, non-empty text that is not a digest (see
:func:`capic.runtime.normalize.normalize`, the public entry point, and ``docs/normalization.md``).
These are on the per-event hot path: translate maps and regexes are built at import, and the
common shapes take fast paths whose answers equal the general path's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final

from capic.runtime._text import WHITESPACE, clean_text, nfc

__all__ = [
    "norm_city",
    "norm_email",
    "norm_external_id",
    "norm_name",
    "norm_zip",
    "prefix_of_name",
]

_WS: Final = WHITESPACE
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


def norm_email(text: str) -> str | None:
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


def norm_name(text: str) -> str | None:
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


def prefix_of_name(length: int) -> Callable[[str], str | None]:
    def norm(text: str) -> str | None:
        name = norm_name(text)
        if name is None:
            return None
        return name[:length] if name.isascii() else nfc(name[:length])

    return norm


# --------------------------------------------------------------------------------------------
# ct (and unmapped st)


def norm_city(text: str) -> str | None:
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
# zp

# A US ZIP or ZIP+4 ("94103", "94103-1234", "94103 1234", "941031234"): the first 5 digits.
_US_ZIP: Final = re.compile(r"([0-9]{5})(?:[-\s]?[0-9]{4})?(?=-|$)")


def norm_zip(text: str) -> str | None:
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
# external_id


def norm_external_id(text: str) -> str | None:
    # Meta's reference (and its pixel) lowercase and remove all whitespace, then hash; the
    # same ID must produce the same hash on every channel, so nothing else is touched.
    if text.isascii():
        if text.isprintable() and " " not in text:
            return text.lower()  # printable ASCII without a space has no whitespace to remove
        return text.translate(_DELETE_WS).lower() or None
    return nfc(clean_text(text).translate(_DELETE_WS).lower()) or None
