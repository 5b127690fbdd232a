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

Generated modules import every name from here; the implementations live in one module per
kind of function: :mod:`~capic.runtime._stdlib_ops` (operators, equality, regex, arithmetic),
:mod:`~capic.runtime._stdlib_strings` (text and lists), :mod:`~capic.runtime._stdlib_numbers`
(numbers and times) and :mod:`~capic.runtime._stdlib_web` (URLs and click ids). They are
imported, not wrapped: a call costs what it did when they lived here.

:data:`IMPLEMENTATIONS` maps each ``expr`` function of :data:`capic.model.stdlib.FUNCTIONS` to
the name of its implementation in this module (the code generator's table).
"""

from __future__ import annotations

from capic.runtime._stdlib_numbers import number, parse_time, round_, to_int
from capic.runtime._stdlib_ops import (
    REGEX_FLAGS,
    add,
    coalesce2,
    compile_regex,
    contains,
    copy_json,
    div,
    ends_with,
    eq,
    ge,
    gt,
    icontains,
    iends_with,
    iequals,
    in_,
    istarts_with,
    iter_list,
    le,
    lt,
    matches,
    mul,
    ne,
    neg,
    not_in,
    starts_with,
    sub,
    truthy,
)
from capic.runtime._stdlib_strings import (
    coalesce,
    concat,
    exists,
    first,
    join,
    len_,
    lower,
    replace,
    sha256,
    split,
    string,
    sum_,
    trim,
    upper,
)
from capic.runtime._stdlib_web import (
    fbc_from_url,
    fbclid,
    url_host,
    url_param,
    valid_fbc,
    valid_fbp,
)

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
