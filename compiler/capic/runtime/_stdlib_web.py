"""The rule language's functions on URLs and click ids: ``url_host``, ``url_param``,
``fbclid``, ``fbc_from_url``, ``valid_fbc`` and ``valid_fbp``.

Semantics are documented in :mod:`capic.runtime.stdlib`, the public entry point (generated
modules import these names from there).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capic.runtime import clickids
from capic.runtime._stdlib_numbers import parse_time
from capic.runtime._stdlib_ops import _is_number

__all__ = ["fbc_from_url", "fbclid", "url_host", "url_param", "valid_fbc", "valid_fbp"]


# ----------------------------------------------------------------------------- urls


def url_host(v: Any) -> str | None:
    """The host name of an absolute URL, lowercased."""
    if not isinstance(v, str):
        return None
    try:
        host = urlsplit(v.strip()).hostname
    except ValueError:
        return None
    return host or None


def url_param(v: Any, name: Any) -> str | None:
    """The first value of a query parameter of a URL."""
    if not isinstance(v, str) or not isinstance(name, str):
        return None
    try:
        query = urlsplit(v.strip()).query
        values = parse_qs(query, keep_blank_values=True).get(name)
    except ValueError:
        return None
    return values[0] if values else None


# ----------------------------------------------------------------------------- click ids
# Wrappers of capic.runtime.clickids, the one home of fbc/fbp logic (capi-facts §10).


def fbclid(url: Any) -> str | None:
    """The ``fbclid`` query value of a URL, verbatim (case kept), or null."""
    return clickids.fbclid_from_url(url)


def _milliseconds(time: Any) -> int | None:
    """Unix milliseconds from epoch milliseconds (13 digits, as a number or text), epoch
    seconds, or ISO-8601 text."""
    if type(time) is str and time.strip().isdigit() and len(time.strip()) == 13:
        return int(time.strip())
    if _is_number(time) and not isinstance(time, bool):
        if not 0 < time < 1e14 or not math.isfinite(time):
            return None
        return int(time) if time >= 1e11 else math.floor(time * 1000)
    seconds = parse_time(time)
    return seconds * 1000 if seconds is not None else None


def fbc_from_url(url: Any, time: Any) -> str | None:
    """``fb.1.<time in ms>.<fbclid>`` for the ``fbclid`` of a landing URL, as the Meta Pixel
    would build ``_fbc`` (subdomain index 1); null when the URL has no fbclid or the time
    cannot be read. Generated modules pass ``now()`` when the rule gives no time."""
    ms = _milliseconds(time)
    if ms is None:
        return None
    return clickids.fbc_from_url(url, ms)


def valid_fbc(v: Any) -> bool:
    """True when ``v`` has the shape of an ``fbc``: fb.<index>.<13-digit ms>.<fbclid>."""
    return clickids.is_valid_fbc(v)


def valid_fbp(v: Any) -> bool:
    """True when ``v`` has the shape of an ``fbp``: fb.<index>.<13-digit ms>.<number>."""
    return clickids.is_valid_fbp(v)
