"""How the schema evaluator dispatches keywords: the evaluation context (:class:`Ctx`), the
handler registry (handlers register with :func:`handler`; the keywords one handler takes are
one group) and the per-schema plan of handlers to run (:func:`plan`).

The handlers are in :mod:`capic.lint.schema_applicators` (keywords over subschemas) and
:mod:`capic.lint.schema_assertions` (keywords over the value); :mod:`capic.lint.schema` imports
both, so every handler is registered before a plan is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from capic.lint.schema_finding import Path, Pointer, SchemaFinding

if TYPE_CHECKING:
    from capic.lint.schema import Evaluator

__all__ = ["COMPOSITION", "VALUE_ASSERTIONS", "Ctx", "Handler", "handler", "plan"]


class Ctx:
    """One evaluation: where we are in the schemas and whether sentinels satisfy assertions."""

    __slots__ = ("branches", "doc", "out", "strict")

    def __init__(
        self, doc: str, strict: bool, out: list[SchemaFinding] | None, branches: tuple[str, ...]
    ) -> None:
        self.doc = doc
        self.strict = strict
        self.out = out
        self.branches = branches

    def probe(self, strict: bool) -> Ctx:
        return Ctx(self.doc, strict, None, self.branches)


Handler = Callable[["Evaluator", dict[str, Any], Pointer, Any, Path, Ctx], bool]
_HANDLERS: dict[str, Handler] = {}
#: Keyword groups handled by one handler: the plan runs it once, for the first one present.
_GROUP_OF: dict[str, tuple[str, ...]] = {}
#: Keywords that combine subschemas over the same value (they handle sentinels themselves).
COMPOSITION = frozenset({"$ref", "allOf", "anyOf", "oneOf", "not", "if"})
#: Keywords a sentinel cannot be checked against: unknown (pass as assertions, fail as conditions).
VALUE_ASSERTIONS = frozenset(
    {
        "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
        "uniqueItems", "contains", "required", "dependentRequired", "minProperties",
        "maxProperties", "propertyNames",
    }
)  # fmt: skip


def handler(*keywords: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``keywords`` (several: one group)."""

    def register(fn: Handler) -> Handler:
        for keyword in keywords:
            _HANDLERS[keyword] = fn
            if len(keywords) > 1:
                _GROUP_OF[keyword] = keywords
        return fn

    return register


_PLANS: dict[int, tuple[dict[str, Any], tuple[tuple[str, Handler], ...]]] = {}


def plan(schema: dict[str, Any]) -> tuple[tuple[str, Handler], ...]:
    """The keywords of a schema object to run, each group once (cached per schema object)."""
    cached = _PLANS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    steps: list[tuple[str, Handler]] = []
    done: set[tuple[str, ...]] = set()
    for keyword in schema:
        fn = _HANDLERS.get(keyword)
        if fn is None:
            continue
        group = _GROUP_OF.get(keyword)
        if group is not None:
            if group in done:
                continue
            done.add(group)
        steps.append((keyword, fn))
    planned = tuple(steps)
    _PLANS[id(schema)] = (schema, planned)
    return planned
