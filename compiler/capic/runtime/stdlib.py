"""The rule language's standard library and operators, as generated modules call them.

Every function takes JSON-like values (None, bool, int, float, str, list, dict) and never
raises: an argument of the wrong type gives ``None`` (``null`` in the language). The semantics
documented in ``docs/language.md`` and :mod:`capic.model.stdlib`:

- comparisons (``==``, ``!=``, ``<`` ..., ``in``, ``contains``, ``starts_with`` ...) with a
  null operand are false; values of different kinds are never equal (``1 == "1"`` and
  ``true == 1`` are false; ``1 == 1.0`` is true); ``<`` and friends order two numbers or two
  strings and are false otherwise;
- ``??`` treats only null as missing; ``coalesce`` also skips ``""``;
- arithmetic works on numbers only (``"2" + 1`` is null; so is a division by zero);
- ``matches`` searches (not full-matches) a string with a regex compiled once at import.

The context functions ``now()`` and ``uuid()`` live on the per-event scope
(:class:`capic.runtime.context.EventScope`), not here.

:data:`IMPLEMENTATIONS` maps each ``expr`` function of :data:`capic.model.stdlib.FUNCTIONS` to
the name of its implementation in this module (the code generator's table).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from capic.runtime import clickids
from capic.runtime.coerce import to_event_time, to_number

__all__ = [
    "IMPLEMENTATIONS",
    "REGEX_FLAGS",
    "add",
    "coalesce",
    "coalesce2",
    "compile_regex",
    "concat",
    "contains",
    "copy_json",
    "div",
    "ends_with",
    "eq",
    "exists",
    "fbc_from_url",
    "fbclid",
    "first",
    "ge",
    "gt",
    "icontains",
    "iends_with",
    "iequals",
    "in_",
    "istarts_with",
    "iter_list",
    "join",
    "le",
    "len_",
    "lower",
    "lt",
    "matches",
    "mul",
    "ne",
    "neg",
    "not_in",
    "number",
    "parse_time",
    "replace",
    "round_",
    "sha256",
    "split",
    "starts_with",
    "string",
    "sub",
    "sum_",
    "to_int",
    "trim",
    "truthy",
    "upper",
    "url_host",
    "url_param",
    "valid_fbc",
    "valid_fbp",
]

#: Language function -> implementation in this module (context functions excluded).
IMPLEMENTATIONS: dict[str, str] = {
    "lower": "lower",
    "upper": "upper",
    "trim": "trim",
    "number": "number",
    "int": "to_int",
    "round": "round_",
    "string": "string",
    "concat": "concat",
    "replace": "replace",
    "split": "split",
    "join": "join",
    "len": "len_",
    "coalesce": "coalesce",
    "first": "first",
    "sum": "sum_",
    "exists": "exists",
    "fbclid": "fbclid",
    "fbc_from_url": "fbc_from_url",
    "valid_fbc": "valid_fbc",
    "valid_fbp": "valid_fbp",
    "url_host": "url_host",
    "url_param": "url_param",
    "parse_time": "parse_time",
    "sha256": "sha256",
}

#: Binary operators of the language -> implementation in this module.
OPERATORS: dict[str, str] = {
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in_",
    "not_in": "not_in",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "iequals": "iequals",
    "icontains": "icontains",
    "istarts_with": "istarts_with",
    "iends_with": "iends_with",
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
}


# ----------------------------------------------------------------------------- kinds


def _is_number(v: Any) -> bool:
    t = type(v)
    if t is int or t is float:
        return True
    return isinstance(v, int | float) and not isinstance(v, bool)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _text(v: Any) -> str | None:
    """The text of a scalar (numbers and bools via :func:`string`); None for the rest."""
    if type(v) is str:
        return v
    if v is None or isinstance(v, list | tuple | dict | Mapping):
        return None
    return string(v)


def truthy(v: Any) -> bool:
    """Truth in conditions: null, false, 0, "", [] and {} are false."""
    return bool(v)


def _same(a: Any, b: Any) -> bool:
    """Structural equality without Python's ``True == 1``."""
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is tb and ta is not list and ta is not dict and ta is not tuple:
        try:
            return bool(a == b)
        except Exception:  # e.g. a signalling-NaN Decimal from a caller's own objects
            return False
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return ta is tb and a == b
    if isinstance(a, str) and isinstance(b, str):
        return str.__eq__(a, b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        return all(k in b and _same(v, b[k]) for k, v in a.items())
    return False


# ----------------------------------------------------------------------------- comparisons


def eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return _same(a, b)


def ne(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return not _same(a, b)


def _ordered(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return True
    return isinstance(a, str) and isinstance(b, str)


def lt(a: Any, b: Any) -> bool:
    return _ordered(a, b) and bool(a < b)


def le(a: Any, b: Any) -> bool:
    return _ordered(a, b) and bool(a <= b)


def gt(a: Any, b: Any) -> bool:
    return _ordered(a, b) and bool(a > b)


def ge(a: Any, b: Any) -> bool:
    return _ordered(a, b) and bool(a >= b)


def in_(a: Any, b: Any) -> bool:
    """``a in b``: an item of a list, a substring of a string, a key of an object."""
    if a is None or b is None:
        return False
    if isinstance(b, list | tuple):
        return any(_same(a, x) for x in b)
    if isinstance(b, str):
        return isinstance(a, str) and a in b
    if isinstance(b, Mapping):
        return isinstance(a, str) and a in b
    return False


def not_in(a: Any, b: Any) -> bool:
    """``a not in b``; false (like every comparison) when either side is null or of a kind
    that cannot contain ``a``."""
    if a is None or b is None:
        return False
    if isinstance(b, list | tuple):
        return not in_(a, b)
    if isinstance(b, str | Mapping) and isinstance(a, str):
        return not in_(a, b)
    return False


def contains(a: Any, b: Any) -> bool:
    """``a contains b``: a substring of a string, an item of a list, a key of an object."""
    if a is None or b is None:
        return False
    if isinstance(a, str):
        return isinstance(b, str) and b in a
    if isinstance(a, list | tuple):
        return any(_same(x, b) for x in a)
    if isinstance(a, Mapping):
        return isinstance(b, str) and b in a
    return False


def starts_with(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.startswith(b)


def ends_with(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.endswith(b)


def iequals(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.casefold() == b.casefold()


def icontains(a: Any, b: Any) -> bool:
    if not isinstance(b, str):
        return False
    if isinstance(a, str):
        return b.casefold() in a.casefold()
    if isinstance(a, list | tuple):
        folded = b.casefold()
        return any(isinstance(x, str) and x.casefold() == folded for x in a)
    return False


def istarts_with(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.casefold().startswith(b.casefold())


def iends_with(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.casefold().endswith(b.casefold())


#: The flags a regex literal may carry after its closing slash (``/pattern/i``).
REGEX_FLAGS: dict[str, re.RegexFlag] = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def compile_regex(pattern: str, flags: str) -> re.Pattern[str]:
    """The compiled regex of ``/pattern/flags`` (raises ``re.error`` for a bad pattern and
    KeyError for an unknown flag letter; the grammar admits only ``i``, ``m`` and ``s``)."""
    value = 0
    for ch in flags:
        value |= REGEX_FLAGS[ch]
    return re.compile(pattern, value)


def matches(pattern: re.Pattern[str], value: Any) -> bool:
    """``value matches /pattern/``: true when the pattern occurs in a string value."""
    return isinstance(value, str) and pattern.search(value) is not None


# ----------------------------------------------------------------------------- arithmetic


def _arith(result: Any) -> Any:
    if type(result) is float and not math.isfinite(result):
        return None
    return result


def add(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _arith(a + b)
    return None


def sub(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _arith(a - b)
    return None


def mul(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        try:
            return _arith(a * b)
        except OverflowError:
            return None
    return None


def div(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b) and b != 0:
        try:
            return _arith(a / b)
        except OverflowError:
            return None
    return None


def neg(a: Any) -> Any:
    return -a if _is_number(a) else None


def coalesce2(a: Any, b: Any) -> Any:
    """``a ?? b`` where both sides are already evaluated (inside comprehension sources)."""
    return a if a is not None else b


def copy_json(v: Any) -> Any:
    """A copy of a JSON value's lists and objects (a field whose value comes from a lookup
    table of the module sends a copy, so nothing done to the event changes the table)."""
    t = type(v)
    if t is dict:
        return {k: copy_json(x) for k, x in v.items()}
    if t is list:
        return [copy_json(x) for x in v]
    return v


def iter_list(v: Any) -> list[Any] | tuple[Any, ...]:
    """What a comprehension iterates: a list, or nothing at all."""
    if type(v) is list or type(v) is tuple:
        return v
    if isinstance(v, list | tuple):
        return v
    return ()


# ----------------------------------------------------------------------------- strings


def lower(v: Any) -> str | None:
    t = _text(v)
    return t.lower() if t is not None else None


def upper(v: Any) -> str | None:
    t = _text(v)
    return t.upper() if t is not None else None


def trim(v: Any) -> str | None:
    t = _text(v)
    return t.strip() if t is not None else None


def string(v: Any) -> str | None:
    """The text form of a value: numbers without a trailing ``.0``, ``true``/``false``,
    lists and objects as compact JSON."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return None
    if t is bool:
        return "true" if v else "false"
    if t is int:
        try:
            return str(v)
        except ValueError:  # beyond Python's digit limit
            return None
    if t is float:
        if not math.isfinite(v):
            return None
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return string(int(v))
    if isinstance(v, float):
        return string(float(v))
    if isinstance(v, list | tuple | dict):
        try:
            return orjson.dumps(v).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            return None
    return None


def concat(*args: Any) -> str:
    """The text forms of the arguments, joined; null arguments are skipped."""
    parts: list[str] = []
    for a in args:
        if a is None:
            continue
        s = string(a)
        if s is not None:
            parts.append(s)
    return "".join(parts)


def replace(v: Any, old: Any, new: Any) -> str | None:
    text, o, n = _text(v), _text(old), _text(new)
    if text is None or o is None or n is None:
        return None
    if not o:
        return text
    return text.replace(o, n)


def split(v: Any, sep: Any) -> list[str] | None:
    text, s = _text(v), _text(sep)
    if text is None or s is None:
        return None
    if not s:
        return list(text)
    return text.split(s)


def join(v: Any, sep: Any) -> str | None:
    s = _text(sep)
    if s is None or not isinstance(v, list | tuple):
        return None
    parts: list[str] = []
    for item in v:
        t = string(item) if item is not None else None
        if t is not None:
            parts.append(t)
    return s.join(parts)


def len_(v: Any) -> int | None:
    if v is None:
        return 0
    if isinstance(v, str | list | tuple | Mapping):
        return len(v)
    return None


def coalesce(*args: Any) -> Any:
    """The first argument that is neither null nor the empty string."""
    for a in args:
        if a is not None and not (isinstance(a, str) and a == ""):
            return a
    return None


def first(v: Any) -> Any:
    if isinstance(v, list | tuple) and v:
        return v[0]
    return None


def sum_(v: Any) -> int | float | None:
    """The sum of the numbers of a list (other items are ignored); null for a non-list."""
    if not isinstance(v, list | tuple):
        return None
    ints = 0
    floats: list[float] = []
    for item in v:
        t = type(item)
        if t is int:
            ints += item
        elif t is float:
            floats.append(item)
        elif _is_number(item):
            if isinstance(item, int):
                ints += int(item)
            else:
                floats.append(float(item))
    if not floats:
        return ints
    try:
        total = math.fsum([*floats, float(ints)]) if ints else math.fsum(floats)
    except OverflowError:
        return None
    return _finite(total)


def exists(v: Any) -> bool:
    return v is not None


def sha256(v: Any) -> str | None:
    text = _text(v)
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ----------------------------------------------------------------------------- numbers


def number(v: Any) -> int | float | None:
    """A number from a number or its text (``"12.50"`` -> 12.5, ``"3"`` -> 3, ``"1,299.00"``
    -> 1299.0); null otherwise (see :func:`capic.runtime.coerce.to_number`)."""
    if type(v) is int:
        return v
    return to_number(v)


def to_int(v: Any) -> int | None:
    """An integer (truncated toward zero) from a number or its text."""
    n = number(v)
    if n is None:
        return None
    if type(n) is int:
        return n
    try:
        return int(n)
    except (ValueError, OverflowError):
        return None


def round_(v: Any, digits: Any = 0) -> int | float | None:
    """Round half away from zero to ``digits`` decimals (as written in decimal, so
    ``round(2.675, 2)`` is 2.68); an integer when ``digits`` is 0 or less."""
    n = number(v)
    d = to_int(digits) if digits is not None else None
    if n is None or d is None or not -15 <= d <= 15:
        return None
    if type(n) is int and d >= 0:
        return n
    try:
        q = Decimal(repr(n) if type(n) is float else str(n)).quantize(
            Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP
        )
    except (InvalidOperation, ValueError):
        return None
    if d <= 0:
        return int(q)
    return _finite(float(q))


# ----------------------------------------------------------------------------- urls and time


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


def _seconds(moment: datetime) -> int | None:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return math.floor(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


def parse_time(v: Any, fmt: Any = None) -> int | None:
    """Unix seconds from ISO-8601 text (a missing zone is UTC) or epoch seconds, milliseconds,
    microseconds or nanoseconds (numbers or digit strings, told apart by size: see
    :func:`capic.runtime.coerce.to_event_time`), or from text in the strptime format ``fmt``."""
    if v is None or isinstance(v, bool):
        return None
    if fmt is not None:
        if not isinstance(v, str) or not isinstance(fmt, str):
            return None
        try:
            return _seconds(datetime.strptime(v.strip(), fmt))
        except (ValueError, TypeError, OverflowError):
            return None
    return to_event_time(v)


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
