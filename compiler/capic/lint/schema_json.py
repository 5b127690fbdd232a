"""JSON semantics as the schema evaluator applies them to lint instances, whose values may be
:class:`~capic.lint.values.Dynamic` sentinels (expressions) or representative lists
(:class:`~capic.lint.values.ReprList`): JSON types, JSON equality, whether a value holds a
sentinel and which types a sentinel may have, and the schemas' compiled patterns.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from capic.lint.schema_finding import UnsupportedSchema
from capic.lint.values import Dynamic, ReprList

__all__ = ["compiled", "contains_dynamic", "dynamic_type", "is_type", "json_equal"]


def is_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "null":
        return value is None
    if json_type == "array":
        return isinstance(value, list)
    if json_type == "object":
        return isinstance(value, dict)
    raise UnsupportedSchema(f"unknown type {json_type!r}")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, Dynamic) or isinstance(b, Dynamic):
        return False
    return bool(type(a) is type(b) or (is_type(a, "number") and is_type(b, "number"))) and bool(
        a == b
    )


def contains_dynamic(value: Any) -> bool:
    if isinstance(value, Dynamic | ReprList):
        return True
    if isinstance(value, list):
        return any(contains_dynamic(v) for v in value)
    if isinstance(value, dict):
        return any(contains_dynamic(v) for v in value.values())
    return False


def dynamic_type(value: Dynamic, expected: Any, strict: bool) -> bool:
    types = expected if isinstance(expected, list) else [expected]
    for t in types:
        allowed = value.allows(t)
        if allowed is True or (allowed is None and not strict and t != "null"):
            return True
    return False


@functools.cache
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
