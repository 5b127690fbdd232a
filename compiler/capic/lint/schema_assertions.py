"""Handlers of the keywords that assert something of the value itself: ``type``, ``enum``,
``const``, ``pattern``, string lengths, numeric ranges, array sizes and ``uniqueItems``,
``required``, ``dependentRequired``, object sizes and ``propertyNames``.

Each registers itself with :func:`capic.lint.schema_keywords.handler` when this module is
imported (by :mod:`capic.lint.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from capic.lint.schema_finding import Path, Pointer
from capic.lint.schema_json import compiled, contains_dynamic, is_type, json_equal
from capic.lint.schema_keywords import Ctx, handler
from capic.lint.values import ReprList

if TYPE_CHECKING:
    from capic.lint.schema import Evaluator


@handler("type")
def _type(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    expected = schema["type"]
    types = expected if isinstance(expected, list) else [expected]
    if any(is_type(value, t) for t in types):
        return True
    return ev._fail(ctx, "type", schema, pointer, path, value)


def _scalar_key(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, int | float):
        return ("n", float(value))
    if value is None:
        return ("z", None)
    return None


_ENUM_SETS: dict[int, tuple[list[Any], frozenset[tuple[str, Any]]]] = {}


def _enum_set(options: list[Any]) -> frozenset[tuple[str, Any]]:
    cached = _ENUM_SETS.get(id(options))
    if cached is None or cached[0] is not options:
        keys = frozenset(k for k in map(_scalar_key, options) if k is not None)
        cached = (options, keys)
        _ENUM_SETS[id(options)] = cached
    return cached[1]


@handler("enum")
def _enum(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if contains_dynamic(value):
        return not ctx.strict
    options = schema["enum"]
    key = _scalar_key(value)
    if key is not None:
        if key in _enum_set(options):
            return True
    elif any(json_equal(value, option) for option in options):
        return True
    return ev._fail(ctx, "enum", schema, pointer, path, value)


@handler("const")
def _const(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if contains_dynamic(value):
        return not ctx.strict
    if json_equal(value, schema["const"]):
        return True
    return ev._fail(ctx, "const", schema, pointer, path, value)


@handler("pattern")
def _pattern(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, str) or compiled(schema["pattern"]).search(value):
        return True
    return ev._fail(ctx, "pattern", schema, pointer, path, value)


@handler("minLength", "maxLength")
def _length(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, str):
        return True
    ok = True
    if "minLength" in schema and len(value) < schema["minLength"]:
        ok = ev._fail(ctx, "minLength", schema, pointer, path, value)
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        ok = ev._fail(ctx, "maxLength", schema, pointer, path, value)
    return ok


_RANGES: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda v, bound: v >= bound,
    "maximum": lambda v, bound: v <= bound,
    "exclusiveMinimum": lambda v, bound: v > bound,
    "exclusiveMaximum": lambda v, bound: v < bound,
    "multipleOf": lambda v, bound: (
        (v / bound).is_integer() if isinstance(v / bound, float) else True
    ),
}


@handler(*_RANGES)
def _range(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not is_type(value, "number"):
        return True
    ok = True
    for keyword, test in _RANGES.items():
        if keyword in schema and not test(value, schema[keyword]):
            ok = ev._fail(ctx, keyword, schema, pointer, path, value)
    return ok


@handler("minItems", "maxItems", "uniqueItems")
def _array_size(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, list):
        return True
    if isinstance(value, ReprList):
        return not ctx.strict
    ok = True
    if "minItems" in schema and len(value) < schema["minItems"]:
        ok = ev._fail(ctx, "minItems", schema, pointer, path, value)
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        ok = ev._fail(ctx, "maxItems", schema, pointer, path, value)
    if schema.get("uniqueItems") is True:
        concrete = [v for v in value if not contains_dynamic(v)]
        for i, a in enumerate(concrete):
            if any(json_equal(a, b) for b in concrete[i + 1 :]):
                ok = ev._fail(ctx, "uniqueItems", schema, pointer, path, value)
                break
    return ok


@handler("required")
def _required(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, dict):
        return True
    ok = True
    for key in schema["required"]:
        if key not in value:
            ok = ev._fail(ctx, "required", schema, pointer, path, None, key=key)
    return ok


@handler("dependentRequired")
def _dependent(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, dict):
        return True
    ok = True
    for trigger, needed in schema["dependentRequired"].items():
        if trigger in value:
            for key in needed:
                if key not in value:
                    ok = ev._fail(
                        ctx,
                        "dependentRequired",
                        schema,
                        pointer,
                        path,
                        None,
                        key=key,
                        trigger=trigger,
                    )
    return ok


@handler("minProperties", "maxProperties", "propertyNames")
def _object_size(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, dict):
        return True
    ok = True
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        ok = ev._fail(ctx, "minProperties", schema, pointer, path, value)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        ok = ev._fail(ctx, "maxProperties", schema, pointer, path, value)
    if "propertyNames" in schema:
        for key in value:
            if not ev._eval(
                schema["propertyNames"],
                (*pointer, "propertyNames"),
                key,
                (*path, key),
                ctx.probe(ctx.strict),
            ):
                ok = ev._fail(ctx, "propertyNames", schema, pointer, path, key, key=key)
    return ok
