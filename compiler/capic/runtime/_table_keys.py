"""Normalizers of the ``user_data`` keys read through the tables of :mod:`capic.runtime._geo`:
``st`` (US states and Canadian provinces; other regions as free text), ``country`` and ``ge``.

Their values repeat from event to event, so each lookup is cached. The public entry point is
:mod:`capic.runtime.normalize`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from capic.runtime import _geo
from capic.runtime._text import clean_text
from capic.runtime._text_keys import norm_city

__all__ = ["norm_country", "norm_gender", "norm_state"]

_NOT_AZ: Final = re.compile(r"[^a-z]+")


def _fold_key(text: str) -> str:
    """Lookup key for the geo tables: lowercase a-z only, accents folded ("Québec" -> quebec)."""
    text = text.lower()
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return _NOT_AZ.sub("", text)


# --------------------------------------------------------------------------------------------
# st, country


@lru_cache(maxsize=1024)
def norm_state(text: str) -> str | None:
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
    return norm_city(text)


@lru_cache(maxsize=512)
def norm_country(text: str) -> str | None:
    key = _fold_key(text)
    if len(key) == 2:
        key = _geo.COUNTRY_TWO_LETTER_ALIASES.get(key, key)
        return key if key in _geo.ISO_ALPHA2 else None
    # Anything that is not an ISO 3166-1 country, whole, is dropped (the reference sends the
    # first two letters, e.g. "Japão" -> "ja", which is no country at all).
    return _geo.country_code(key) if key else None


# --------------------------------------------------------------------------------------------
# ge


@lru_cache(maxsize=256)
def norm_gender(text: str) -> str | None:
    if not text.isascii():
        text = clean_text(text)
    return _geo.GENDER_SYNONYMS.get(text.lower())
