"""Handlers of the keywords that apply subschemas: ``$ref``, ``allOf``, ``anyOf``, ``oneOf``,
``not``, ``if``/``then``/``else``, ``prefixItems``/``items``/``contains`` and
``properties``/``patternProperties``/``additionalProperties``.

Each registers itself with :func:`capic.lint.schema_keywords.handler` when this module is
imported (by :mod:`capic.lint.schema`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capic.lint.schema_finding import Path, Pointer
from capic.lint.schema_json import compiled
from capic.lint.schema_keywords import Ctx, handler
from capic.lint.values import ReprList

if TYPE_CHECKING:
    from capic.lint.schema import Evaluator


@handler("$ref")
def _ref(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    doc, target_pointer, target = ev._resolve(ctx.doc, schema["$ref"])
    return ev._sub(target, target_pointer, value, path, ctx, doc)


@handler("allOf")
def _all_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    ok = True
    for i, sub in enumerate(schema["allOf"]):
        if not ev._eval(sub, (*pointer, "allOf", i), value, path, ctx):
            ok = False
            if ctx.out is None:
                return False
    return ok


@handler("anyOf")
def _any_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    probe = ctx.probe(ctx.strict)
    if any(
        ev._eval(sub, (*pointer, "anyOf", i), value, path, probe)
        for i, sub in enumerate(schema["anyOf"])
    ):
        return True
    return ev._fail(ctx, "anyOf", schema, pointer, path, value)


@handler("oneOf")
def _one_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    subs = list(enumerate(schema["oneOf"]))
    possible = [
        i
        for i, s in subs
        if ev._eval(s, (*pointer, "oneOf", i), value, path, ctx.probe(ctx.strict))
    ]
    certain = [
        i for i, s in subs if ev._eval(s, (*pointer, "oneOf", i), value, path, ctx.probe(True))
    ]
    if ctx.strict:
        ok = len(certain) == 1 and len(possible) == 1
    else:
        ok = len(possible) >= 1 and len(certain) <= 1
    return ok or ev._fail(ctx, "oneOf", schema, pointer, path, value)


@handler("not")
def _not(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    # `not S` certainly holds when S certainly fails, possibly holds when S possibly fails.
    if ev._eval(schema["not"], (*pointer, "not"), value, path, ctx.probe(not ctx.strict)):
        return ev._fail(ctx, "not", schema, pointer, path, value)
    return True


@handler("if")
def _if(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    condition = schema["if"]
    if ev._eval(condition, (*pointer, "if"), value, path, ctx.probe(True)):
        if "then" not in schema:
            return True
        branches = ctx.branches
        for prop in condition.get("properties", {}).values() if isinstance(condition, dict) else ():
            if isinstance(prop, dict) and isinstance(prop.get("const"), str):
                branches = (*branches, prop["const"])
                break
        inner = Ctx(ctx.doc, ctx.strict, ctx.out, branches)
        return ev._eval(schema["then"], (*pointer, "then"), value, path, inner)
    if "else" in schema:
        return ev._eval(schema["else"], (*pointer, "else"), value, path, ctx)
    return True


@handler("prefixItems", "items", "contains")
def _items(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    # One handler for the three (it runs once per schema: see _ONCE).
    if not isinstance(value, list):
        return True
    ok = True
    representative = isinstance(value, ReprList)
    prefix = schema.get("prefixItems", [])
    start = 0
    if prefix and not representative:
        for i, (item, sub) in enumerate(zip(value, prefix, strict=False)):
            if not ev._eval(sub, (*pointer, "prefixItems", i), item, (*path, i), ctx):
                ok = False
        start = len(prefix)
    if "items" in schema:
        first = 0 if representative else start
        for i in range(first, len(value)):
            if not ev._eval(schema["items"], (*pointer, "items"), value[i], (*path, i), ctx):
                ok = False
    if "contains" in schema:
        if representative:
            if ctx.strict:
                return False
        elif not any(
            ev._eval(
                schema["contains"], (*pointer, "contains"), item, (*path, i), ctx.probe(ctx.strict)
            )
            for i, item in enumerate(value)
        ):
            ok = ev._fail(ctx, "contains", schema, pointer, path, value)
    return ok


@handler("properties", "patternProperties", "additionalProperties")
def _properties(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: Ctx
) -> bool:
    if not isinstance(value, dict):
        return True
    ok = True
    props: dict[str, Any] = schema.get("properties", {})
    patterns: dict[str, Any] = schema.get("patternProperties", {})
    if not patterns and "additionalProperties" not in schema:
        # The common case (conditions of if/then): only the named properties matter.
        for key, sub in props.items():
            if key in value and not ev._eval(
                sub, (*pointer, "properties", key), value[key], (*path, key), ctx
            ):
                ok = False
                if ctx.out is None:
                    return False
        return ok
    for key, item in value.items():
        matched = False
        if key in props:
            matched = True
            if not ev._eval(props[key], (*pointer, "properties", key), item, (*path, key), ctx):
                ok = False
        for pattern, sub in patterns.items():
            if compiled(pattern).search(key):
                matched = True
                if not ev._eval(
                    sub, (*pointer, "patternProperties", pattern), item, (*path, key), ctx
                ):
                    ok = False
        if not matched and "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            if extra is False:
                ok = ev._fail(ctx, "additionalProperties", schema, pointer, path, item, key=key)
            elif not ev._eval(extra, (*pointer, "additionalProperties"), item, (*path, key), ctx):
                ok = False
    return ok
