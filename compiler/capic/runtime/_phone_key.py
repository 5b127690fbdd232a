"""The normalizer of ``ph``: a phone number read in the event's own country (its
``user_data.country``, raw or hashed) when that names one, else in the configured default region.

The numbering rules are in :mod:`capic.runtime._phone`; this module binds them to a region and
inlines their commonest shapes (per-event hot path). The public entry point is
:mod:`capic.runtime.normalize`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, Protocol

from capic.runtime import _geo, _phone
from capic.runtime._raw_values import as_text
from capic.runtime._table_keys import norm_country
from capic.runtime._text import WHITESPACE

__all__ = ["PhoneNormalizer", "phone_normalizer"]

_WS: Final = WHITESPACE


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
    code = _country_by_digest().get(text.lower()) if len(text) == 64 else norm_country(text)
    if code is None:
        return None
    region = code.upper()
    return region if _phone.supported_region(region) else None


@lru_cache(maxsize=1)
def _country_by_digest() -> dict[str, str]:
    """SHA-256 digest -> ISO code of every country: an event's country may arrive hashed."""
    from capic.runtime.hashing import sha256_hex

    return {sha256_hex(code): code for code in _geo.ISO_ALPHA2}


def phone_normalizer(region: str | None) -> PhoneNormalizer:
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
