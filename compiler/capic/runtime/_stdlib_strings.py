"""The rule language's functions on text and lists: ``lower`` ... ``sha256``, with
``string``, the text form every other function uses for numbers and booleans.

Semantics are documented in :mod:`capic.runtime.stdlib`, the public entry point (generated
modules import these names from there).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import orjson

from capic.runtime._stdlib_ops import _finite, _is_number

__all__ = [
    "coalesce",
    "concat",
    "exists",
    "first",
    "join",
    "len_",
    "lower",
    "replace",
    "sha256",
    "split",
    "string",
    "sum_",
    "trim",
    "upper",
]


def _text(v: Any) -> str | None:
    """The text of a scalar (numbers and bools via :func:`string`); None for the rest."""
    if type(v) is str:
        return v
    if v is None or isinstance(v, list | tuple | dict | Mapping):
        return None
    return string(v)


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
