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

The evaluator is in this module; the rest has one home each: :mod:`capic.lint.schema_finding`
(failures and their paths), :mod:`capic.lint.schema_json` (JSON semantics with sentinels),
:mod:`capic.lint.schema_keywords` (keyword dispatch), :mod:`capic.lint.schema_applicators` and
:mod:`capic.lint.schema_assertions` (the keyword handlers).
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urldefrag, urljoin

# Imported for their handlers, which register themselves (see schema_keywords).
from capic.lint import schema_applicators, schema_assertions  # noqa: F401
from capic.lint.schema_finding import Path, Pointer, SchemaFinding, UnsupportedSchema, dotted
from capic.lint.schema_json import dynamic_type, json_equal
from capic.lint.schema_keywords import COMPOSITION, VALUE_ASSERTIONS, Ctx, plan
from capic.lint.values import Dynamic
from capic.meta import catalog
from capic.resources import schema_names

__all__ = [
    "Evaluator",
    "Path",
    "Pointer",
    "SchemaFinding",
    "UnsupportedSchema",
    "dotted",
    "evaluator",
    "json_equal",
    "validate",
]

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
        self._eval(self._use(document), (), instance, (), Ctx(document, False, out, ()))
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
        ctx: Ctx,
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

    def _eval(self, schema: Any, pointer: Pointer, value: Any, path: Path, ctx: Ctx) -> bool:
        """Evaluate; record failures in ``ctx.out`` (if any); return validity."""
        if schema is True:
            return True
        if schema is False:
            return self._fail(ctx, "false", {}, pointer, path, value)
        ok = True
        unknown = isinstance(value, Dynamic)
        for keyword, handler in plan(schema):
            if unknown and keyword not in COMPOSITION:
                if keyword == "type":
                    if not dynamic_type(value, schema["type"], ctx.strict):
                        ok = self._fail(ctx, "type", schema, pointer, path, value)
                elif ctx.strict and keyword in VALUE_ASSERTIONS:
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
        ctx: Ctx,
        doc: str | None = None,
    ) -> bool:
        if doc is None or doc == ctx.doc:
            return self._eval(schema, pointer, value, path, ctx)
        inner = Ctx(doc, ctx.strict, ctx.out, ctx.branches)
        return self._eval(schema, pointer, value, path, inner)


def _pointer_text(pointer: Pointer) -> str:
    return "/" + "/".join(str(p) for p in pointer) if pointer else ""


@functools.cache
def evaluator() -> Evaluator:
    return Evaluator()


def validate(instance: dict[str, Any]) -> list[SchemaFinding]:
    """Every schema failure of a send's instance (against ``server_event``), in path order."""
    return evaluator().validate("server_event", instance)
