"""Static validation of send actions (and the lint configuration) against capic's JSON Schemas.

The instance of a send (:meth:`capic.lint.values.Analyzer.instance`) holds real values where
the source has literals and :class:`~capic.lint.values.Dynamic` sentinels where it has
expressions. This module evaluates Draft 2020-12 schemas over such instances with
three-valued semantics:

* as an *assertion*, a sentinel satisfies every keyword it cannot be checked against (enum,
  const, pattern, lengths, ranges) and every type its static type allows: a key given by an
  expression satisfies ``required``; a literal of the wrong type or outside an enum fails;
* as a *condition* (the ``if`` of ``if``/``then``, a branch of ``anyOf``), a sentinel satisfies
  nothing it cannot be checked against, so ``if action_source == "website"`` applies only to a
  literal "website";
* ``not`` fails only when its subschema is certainly valid.

The evaluator implements the keywords capic's schemas use (it refuses a schema with any other
keyword, so a schema change cannot be silently ignored). It is small and fast: ``capic check``
never imports ``jsonschema``, and a test compares its verdicts with ``jsonschema`` on concrete
instances. Each failure becomes a :class:`SchemaFinding` naming the schema document, the JSON
pointer of the failing subschema and the ``if`` branches it came from, so that checks can claim
the failures they explain.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin

from capic.lint.values import Dynamic, ReprList
from capic.meta import catalog
from capic.resources import schema_names

Pointer = tuple[str | int, ...]
Path = tuple[str | int, ...]

#: Keywords that only annotate.
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$defs", "$comment", "$anchor", "title", "description", "examples",
        "default", "deprecated", "readOnly", "writeOnly", "format", "contentMediaType",
        "contentEncoding",
    }
)  # fmt: skip
#: Keywords this evaluator implements.
_SUPPORTED = frozenset(
    {
        "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "type", "enum", "const",
        "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "items", "prefixItems", "minItems", "maxItems",
        "uniqueItems", "contains", "properties", "patternProperties", "additionalProperties",
        "required", "dependentRequired", "minProperties", "maxProperties", "propertyNames",
    }
)  # fmt: skip
#: Keywords whose subschemas are maps of name -> schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {"not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames"}
)


class UnsupportedSchema(ValueError):
    """A schema uses a keyword the evaluator does not implement."""


@dataclass(frozen=True, slots=True)
class SchemaFinding:
    """One failure of an instance against the schemas."""

    #: The JSON Schema keyword that failed (required, type, enum, additionalProperties, ...).
    kind: str
    #: Path of the value the keyword applies to (for required/additionalProperties/
    #: dependentRequired: the object; ``key`` names the member).
    path: Path
    #: The missing (required, dependentRequired) or unexpected (additionalProperties) key.
    key: str | None
    #: The failing value (None for a missing key).
    instance: Any
    #: The keyword's value in the schema (the enum, the pattern, the type, ...).
    expected: Any
    #: The schema document and JSON pointer of the subschema holding the keyword.
    document: str
    pointer: Pointer
    #: The ``if`` branches on the way, outermost first (e.g. ("business_messaging", "whatsapp")).
    branches: tuple[str, ...]
    #: The subschema holding the keyword.
    schema: dict[str, Any]
    #: For dependentRequired: the key whose presence requires ``key``.
    trigger: str | None = None

    @property
    def target(self) -> Path:
        """Path of the member concerned (the object path plus ``key`` when there is one)."""
        return (*self.path, self.key) if self.key is not None else self.path

    def description(self) -> str | None:
        """The schema's description of the value concerned, when it has one."""
        if self.key is not None:
            prop = self.schema.get("properties", {}).get(self.key)
            if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                return str(prop["description"])
            return None
        desc = self.schema.get("description")
        return desc if isinstance(desc, str) else None


def dotted(path: Path) -> str:
    """``("custom_data", "contents", 0, "id")`` -> ``custom_data.contents[0].id``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out or "(event)"


# ----------------------------------------------------------------------------- JSON semantics


def _is_type(value: Any, json_type: str) -> bool:
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
    return bool(type(a) is type(b) or (_is_type(a, "number") and _is_type(b, "number"))) and bool(
        a == b
    )


def _contains_dynamic(value: Any) -> bool:
    if isinstance(value, Dynamic | ReprList):
        return True
    if isinstance(value, list):
        return any(_contains_dynamic(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_dynamic(v) for v in value.values())
    return False


# ----------------------------------------------------------------------------- the evaluator


class _Ctx:
    """One evaluation: where we are in the schemas and whether sentinels satisfy assertions."""

    __slots__ = ("branches", "doc", "out", "strict")

    def __init__(
        self, doc: str, strict: bool, out: list[SchemaFinding] | None, branches: tuple[str, ...]
    ) -> None:
        self.doc = doc
        self.strict = strict
        self.out = out
        self.branches = branches

    def probe(self, strict: bool) -> _Ctx:
        return _Ctx(self.doc, strict, None, self.branches)


class Evaluator:
    """Evaluates capic's schemas (every document under ``schemas/``, linked by ``$id``)."""

    def __init__(self) -> None:
        self.by_id: dict[str, str] = {}
        self._verified: set[str] = set()
        for name in schema_names():
            self.by_id[str(catalog.schema(name).get("$id", name))] = name

    def _use(self, name: str) -> dict[str, Any]:
        """A document, verified on first use (so one odd schema cannot break the others)."""
        doc = catalog.schema(name)
        if name not in self._verified:
            self._verify(doc, name, ())
            self._verified.add(name)
        return doc

    # ------------------------------------------------------------------ set-up
    def _verify(self, node: Any, doc: str, pointer: Pointer) -> None:
        if not isinstance(node, dict):
            if isinstance(node, bool):
                return
            raise UnsupportedSchema(f"{doc}#{_pointer_text(pointer)}: a schema must be an object")
        for key, value in node.items():
            if key.startswith("x-") or key in _ANNOTATIONS - {"$defs"}:
                continue
            if key not in _SUPPORTED and key != "$defs":
                raise UnsupportedSchema(
                    f"{doc}#{_pointer_text(pointer)}: unsupported keyword {key!r}"
                )
            if key in _SCHEMA_MAPS:
                for name, sub in value.items():
                    self._verify(sub, doc, (*pointer, key, name))
            elif key in _SCHEMA_LISTS:
                for i, sub in enumerate(value):
                    self._verify(sub, doc, (*pointer, key, i))
            elif key in _SCHEMA_VALUES:
                self._verify(value, doc, (*pointer, key))

    @functools.lru_cache(maxsize=256)  # noqa: B019  (one evaluator per process)
    def _resolve(self, doc: str, ref: str) -> tuple[str, Pointer, Any]:
        base = str(catalog.schema(doc).get("$id", doc))
        url, fragment = urldefrag(urljoin(base, ref))
        target = self.by_id.get(url)
        if target is None:
            raise UnsupportedSchema(f"{doc}: cannot resolve $ref {ref!r}")
        node: Any = self._use(target)
        pointer: list[str | int] = []
        for raw in fragment.split("/")[1:] if fragment else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            step: str | int = int(part) if isinstance(node, list) else part
            node = node[step]
            pointer.append(step)
        return target, tuple(pointer), node

    # ------------------------------------------------------------------ API
    def validate(self, document: str, instance: Any) -> list[SchemaFinding]:
        """Every failure of ``instance`` against schema ``document``, in path order."""
        out: list[SchemaFinding] = []
        self._eval(self._use(document), (), instance, (), _Ctx(document, False, out, ()))
        seen: set[tuple[Any, ...]] = set()
        unique: list[SchemaFinding] = []
        for f in out:
            ident = (f.kind, f.path, f.key, f.document, f.pointer)
            if ident not in seen:
                seen.add(ident)
                unique.append(f)
        unique.sort(key=lambda f: (tuple(str(p) for p in f.target), f.kind))
        return unique

    # ------------------------------------------------------------------ evaluation
    def _fail(
        self,
        ctx: _Ctx,
        kind: str,
        schema: dict[str, Any],
        pointer: Pointer,
        path: Path,
        instance: Any,
        key: str | None = None,
        trigger: str | None = None,
    ) -> bool:
        if ctx.out is not None:
            ctx.out.append(
                SchemaFinding(
                    kind=kind,
                    path=path,
                    key=key,
                    instance=instance,
                    expected=schema.get(kind),
                    document=ctx.doc,
                    pointer=pointer,
                    branches=ctx.branches,
                    schema=schema,
                    trigger=trigger,
                )
            )
        return False

    def _eval(self, schema: Any, pointer: Pointer, value: Any, path: Path, ctx: _Ctx) -> bool:
        """Evaluate; record failures in ``ctx.out`` (if any); return validity."""
        if schema is True:
            return True
        if schema is False:
            return self._fail(ctx, "false", {}, pointer, path, value)
        ok = True
        unknown = isinstance(value, Dynamic)
        for keyword, handler in _plan(schema):
            if unknown and keyword not in _COMPOSITION:
                if keyword == "type":
                    if not _dynamic_type(value, schema["type"], ctx.strict):
                        ok = self._fail(ctx, "type", schema, pointer, path, value)
                elif ctx.strict and keyword in _VALUE_ASSERTIONS:
                    ok = False
                if not ok and ctx.out is None:
                    return False
                continue
            if not handler(self, schema, pointer, value, path, ctx):
                ok = False
                if ctx.out is None:
                    return False
        return ok

    def _sub(
        self,
        schema: Any,
        pointer: Pointer,
        value: Any,
        path: Path,
        ctx: _Ctx,
        doc: str | None = None,
    ) -> bool:
        if doc is None or doc == ctx.doc:
            return self._eval(schema, pointer, value, path, ctx)
        inner = _Ctx(doc, ctx.strict, ctx.out, ctx.branches)
        return self._eval(schema, pointer, value, path, inner)


def _pointer_text(pointer: Pointer) -> str:
    return "/" + "/".join(str(p) for p in pointer) if pointer else ""


def _dynamic_type(value: Dynamic, expected: Any, strict: bool) -> bool:
    types = expected if isinstance(expected, list) else [expected]
    for t in types:
        allowed = value.allows(t)
        if allowed is True or (allowed is None and not strict and t != "null"):
            return True
    return False


Handler = Callable[[Evaluator, dict[str, Any], Pointer, Any, Path, _Ctx], bool]
_HANDLERS: dict[str, Handler] = {}
#: Keywords that combine subschemas over the same value (they handle sentinels themselves).
_COMPOSITION = frozenset({"$ref", "allOf", "anyOf", "oneOf", "not", "if"})
#: Keywords a sentinel cannot be checked against: unknown (pass as assertions, fail as conditions).
_VALUE_ASSERTIONS = frozenset(
    {
        "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
        "uniqueItems", "contains", "required", "dependentRequired", "minProperties",
        "maxProperties", "propertyNames",
    }
)  # fmt: skip


def _handler(*keywords: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for keyword in keywords:
            _HANDLERS[keyword] = fn
        return fn

    return register


@_handler("$ref")
def _ref(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    doc, target_pointer, target = ev._resolve(ctx.doc, schema["$ref"])
    return ev._sub(target, target_pointer, value, path, ctx, doc)


@_handler("allOf")
def _all_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    ok = True
    for i, sub in enumerate(schema["allOf"]):
        if not ev._eval(sub, (*pointer, "allOf", i), value, path, ctx):
            ok = False
            if ctx.out is None:
                return False
    return ok


@_handler("anyOf")
def _any_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    probe = ctx.probe(ctx.strict)
    if any(
        ev._eval(sub, (*pointer, "anyOf", i), value, path, probe)
        for i, sub in enumerate(schema["anyOf"])
    ):
        return True
    return ev._fail(ctx, "anyOf", schema, pointer, path, value)


@_handler("oneOf")
def _one_of(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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


@_handler("not")
def _not(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    # `not S` certainly holds when S certainly fails, possibly holds when S possibly fails.
    if ev._eval(schema["not"], (*pointer, "not"), value, path, ctx.probe(not ctx.strict)):
        return ev._fail(ctx, "not", schema, pointer, path, value)
    return True


@_handler("if")
def _if(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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
        inner = _Ctx(ctx.doc, ctx.strict, ctx.out, branches)
        return ev._eval(schema["then"], (*pointer, "then"), value, path, inner)
    if "else" in schema:
        return ev._eval(schema["else"], (*pointer, "else"), value, path, ctx)
    return True


@_handler("type")
def _type(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    expected = schema["type"]
    types = expected if isinstance(expected, list) else [expected]
    if any(_is_type(value, t) for t in types):
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


@_handler("enum")
def _enum(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    if _contains_dynamic(value):
        return not ctx.strict
    options = schema["enum"]
    key = _scalar_key(value)
    if key is not None:
        if key in _enum_set(options):
            return True
    elif any(json_equal(value, option) for option in options):
        return True
    return ev._fail(ctx, "enum", schema, pointer, path, value)


@_handler("const")
def _const(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    if _contains_dynamic(value):
        return not ctx.strict
    if json_equal(value, schema["const"]):
        return True
    return ev._fail(ctx, "const", schema, pointer, path, value)


@_handler("pattern")
def _pattern(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    if not isinstance(value, str) or _compiled(schema["pattern"]).search(value):
        return True
    return ev._fail(ctx, "pattern", schema, pointer, path, value)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@_handler("minLength", "maxLength")
def _length(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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


@_handler(*_RANGES)
def _range(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    if not _is_type(value, "number"):
        return True
    ok = True
    for keyword, test in _RANGES.items():
        if keyword in schema and not test(value, schema[keyword]):
            ok = ev._fail(ctx, keyword, schema, pointer, path, value)
    return ok


@_handler("prefixItems", "items", "contains")
def _items(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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


@_handler("minItems", "maxItems", "uniqueItems")
def _array_size(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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
        concrete = [v for v in value if not _contains_dynamic(v)]
        for i, a in enumerate(concrete):
            if any(json_equal(a, b) for b in concrete[i + 1 :]):
                ok = ev._fail(ctx, "uniqueItems", schema, pointer, path, value)
                break
    return ok


@_handler("properties", "patternProperties", "additionalProperties")
def _properties(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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
            if _compiled(pattern).search(key):
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


@_handler("required")
def _required(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
) -> bool:
    if not isinstance(value, dict):
        return True
    ok = True
    for key in schema["required"]:
        if key not in value:
            ok = ev._fail(ctx, "required", schema, pointer, path, None, key=key)
    return ok


@_handler("dependentRequired")
def _dependent(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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


@_handler("minProperties", "maxProperties", "propertyNames")
def _object_size(
    ev: Evaluator, schema: dict[str, Any], pointer: Pointer, value: Any, path: Path, ctx: _Ctx
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


#: Keyword groups handled by one handler: the plan runs it once, for the first one present.
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("prefixItems", "items", "contains"),
    ("minItems", "maxItems", "uniqueItems"),
    ("properties", "patternProperties", "additionalProperties"),
    ("minProperties", "maxProperties", "propertyNames"),
    ("minLength", "maxLength"),
    tuple(_RANGES),
)
_GROUP_OF: dict[str, tuple[str, ...]] = {kw: group for group in _GROUPS for kw in group}
_PLANS: dict[int, tuple[dict[str, Any], tuple[tuple[str, Handler], ...]]] = {}


def _plan(schema: dict[str, Any]) -> tuple[tuple[str, Handler], ...]:
    """The keywords of a schema object to run, each group once (cached per schema object)."""
    cached = _PLANS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    steps: list[tuple[str, Handler]] = []
    done: set[tuple[str, ...]] = set()
    for keyword in schema:
        handler = _HANDLERS.get(keyword)
        if handler is None:
            continue
        group = _GROUP_OF.get(keyword)
        if group is not None:
            if group in done:
                continue
            done.add(group)
        steps.append((keyword, handler))
    plan = tuple(steps)
    _PLANS[id(schema)] = (schema, plan)
    return plan


@functools.cache
def evaluator() -> Evaluator:
    return Evaluator()


def validate(instance: dict[str, Any]) -> list[SchemaFinding]:
    """Every schema failure of a send's instance (against ``server_event``), in path order."""
    return evaluator().validate("server_event", instance)
