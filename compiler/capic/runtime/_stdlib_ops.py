"""The rule language's operators and the helpers generated code calls around them: kinds and
equality, comparisons (``==`` ... ``iends_with``, ``in``), regex matching, arithmetic, ``??``
inside comprehensions, copies of lookup-table values and comprehension sources.

Semantics are documented in :mod:`capic.runtime.stdlib`, the public entry point (generated
modules import these names from there).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "REGEX_FLAGS",
    "add",
    "coalesce2",
    "compile_regex",
    "contains",
    "copy_json",
    "div",
    "ends_with",
    "eq",
    "ge",
    "gt",
    "icontains",
    "iends_with",
    "iequals",
    "in_",
    "istarts_with",
    "iter_list",
    "le",
    "lt",
    "matches",
    "mul",
    "ne",
    "neg",
    "not_in",
    "starts_with",
    "sub",
    "truthy",
]


# ----------------------------------------------------------------------------- kinds


def _is_number(v: Any) -> bool:
    t = type(v)
    if t is int or t is float:
        return True
    return isinstance(v, int | float) and not isinstance(v, bool)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


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
        try:
            return _arith(a + b)
        except OverflowError:  # an integer too large for a float, with a float
            return None
    return None


def sub(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        try:
            return _arith(a - b)
        except OverflowError:  # an integer too large for a float, with a float
            return None
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
