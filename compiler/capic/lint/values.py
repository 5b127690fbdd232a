"""What can be known about expressions without running them.

* :meth:`Analyzer.fold` folds constants (through element references) with the project's one
  constant evaluator (:mod:`capic.model.evaluate`): the value, or :data:`UNKNOWN`.
* :meth:`Analyzer.varies` tells whether an expression can give different values for different
  events (it reads the event or the request, or calls ``uuid()``/``now()``).
* :meth:`Analyzer.instance` builds the JSON instance of a send for schema validation: literal
  values are real values, dynamic expressions are :class:`Dynamic` sentinels (typed where the
  type is known) and a comprehension is a :class:`ReprList` holding one representative item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from capic.diagnostics import Span
from capic.model import ir
from capic.model.evaluate import UNKNOWN, Evaluator
from capic.model.stdlib import FUNCTIONS
from capic.model.types import infer_type, join_types, value_type
from capic.runtime.payload import KEEP_EMPTY

__all__ = ["UNKNOWN", "Analyzer", "Dynamic", "ReprList", "is_list_section"]


#: JSON Schema types satisfied by each static type of the language.
_JSON_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "number": frozenset({"number", "integer"}),
    "bool": frozenset({"boolean"}),
    "list": frozenset({"array"}),
    "object": frozenset({"object"}),
}
_TYPE_WORDS = {"bool": "a boolean", "list": "a list", "object": "an object", "number": "a number"}


@dataclass(frozen=True, slots=True)
class Dynamic:
    """A value known only at run time; ``type`` is its static type when known."""

    type: str | None
    #: Source text of the expression, for messages.
    source: str = field(default="", compare=False)

    def allows(self, json_type: str) -> bool | None:
        """True/False when the static type decides, None when unknown."""
        if self.type is None:
            return None
        return json_type in _JSON_TYPES.get(self.type, frozenset())

    def describe(self) -> str:
        if self.type is None:
            return "a value known at run time"
        return _TYPE_WORDS.get(self.type, f"a {self.type}")

    def __repr__(self) -> str:
        return f"<dynamic {self.type or 'value'}>"


class ReprList(list[Any]):
    """A list produced by a comprehension: one representative item, length unknown."""

    def __repr__(self) -> str:
        return f"<comprehension {list.__repr__(self)}>"


#: Functions whose result is (a case or whitespace variant of) one of their arguments.
_TRANSPARENT = frozenset({"coalesce", "first", "lower", "upper", "trim"})


class Analyzer:
    """Static facts about the expressions of one project (memoized per element)."""

    def __init__(self, project: ir.Project, poisoned: frozenset[Span] = frozenset()) -> None:
        self.project = project
        #: Spans of expressions the front end replaced by a null placeholder after an error:
        #: they are unknown, not null.
        self.poisoned = poisoned
        self.evaluator = Evaluator(project.elements, poisoned=poisoned)
        self._varies: dict[str, bool] = {}
        self._types: dict[str, str | None] = {}
        self._active: set[str] = set()
        self._refs_cache: dict[int, frozenset[str]] = {}
        self._type_cache: dict[int, str | None] = {}
        self._value_calls: dict[str, tuple[ir.Call, ...]] = {}
        self._element_values: dict[str, tuple[Any, dict[tuple[str | int, ...], str]]] = {}
        self._keys_cache: dict[int, frozenset[str]] = {}

    # ------------------------------------------------------------------ helpers
    def element(self, name: str) -> ir.Element | None:
        return self.project.elements.get(name)

    def _is_placeholder(self, expr: ir.Expr) -> bool:
        return isinstance(expr, ir.Const) and expr.value is None and expr.span in self.poisoned

    def _memo(
        self,
        table: dict[str, Any],
        key: str,
        compute: Callable[[ir.Expr], Any],
        default: Any,
        element: str | None = None,
    ) -> Any:
        """``compute(element.value)`` once per key (the element is ``key`` unless given);
        ``default`` for unknown elements and cycles."""
        if key in table:
            return table[key]
        name = element or key
        found = self.element(name)
        guard = f"{id(table)}\0{key}"
        if found is None or guard in self._active:
            return default
        self._active.add(guard)
        try:
            value = compute(found.value)
        finally:
            self._active.discard(guard)
        table[key] = value
        return value

    # ------------------------------------------------------------------ folding
    def fold(self, expr: ir.Expr) -> Any:
        """The constant value of ``expr``, or UNKNOWN (:mod:`capic.model.evaluate`)."""
        return self.evaluator.value(expr)

    def element_refs(self, expr: ir.Expr) -> frozenset[str]:
        """Names of the elements ``expr`` refers to directly (not through other elements)."""
        key = id(expr)
        cached = self._refs_cache.get(key)
        if cached is None:
            if isinstance(expr, ir.ElementRef):
                cached = frozenset({expr.name})
            elif isinstance(expr, ir.Const | ir.Root | ir.Var | ir.SecretRef):
                cached = frozenset()
            else:
                names: set[str] = set()
                for child in ir.children(expr):
                    names |= self.element_refs(child)
                cached = frozenset(names)
            self._refs_cache[key] = cached
        return cached

    # ------------------------------------------------------------------ variation
    def varies(self, expr: ir.Expr) -> bool:
        """Can ``expr`` differ between two events? (reads event/request, or calls uuid()/now())"""
        if isinstance(expr, ir.Root):
            return True
        if isinstance(expr, ir.Const):
            return self._is_placeholder(expr)
        if isinstance(expr, ir.ElementRef):
            return bool(self._memo(self._varies, expr.name, self.varies, True))
        if isinstance(expr, ir.Call):
            fn = FUNCTIONS.get(expr.func)
            if fn is None or not fn.pure:
                return True
        if isinstance(expr, ir.SecretRef | ir.Matcher):
            return True
        return any(self.varies(child) for child in ir.children(expr))

    def volatile_calls(self, expr: ir.Expr) -> list[ir.Call]:
        """Calls of impure functions (uuid(), now()) whose result always reaches the value:
        not the fallback of ``??`` nor a later argument of coalesce()."""
        found: list[ir.Call] = []
        seen: set[str] = set()

        def visit(node: ir.Expr) -> None:
            if isinstance(node, ir.ElementRef):
                element = self.element(node.name)
                if element is not None and node.name not in seen:
                    seen.add(node.name)
                    visit(element.value)
                return
            if isinstance(node, ir.Binary) and node.op == "??":
                visit(node.left)
                return
            if isinstance(node, ir.Cond):  # the test never reaches the value
                visit(node.then)
                visit(node.otherwise)
                return
            if isinstance(node, ir.Call):
                fn = FUNCTIONS.get(node.func)
                if fn is not None and not fn.pure and fn.context == "expr":
                    found.append(node)
                    return
                if node.func == "coalesce":
                    if node.args:
                        visit(node.args[0])
                    return
            for child in ir.children(node):
                visit(child)

        visit(expr)
        return found

    def value_calls(self, expr: ir.Expr, name: str) -> tuple[ir.Call, ...]:
        """Calls of ``name`` whose result *is* the value (possibly through element references,
        ``??``, coalesce/first, case and whitespace functions, list items): the outermost
        operation that shapes the value."""
        if isinstance(expr, ir.ElementRef):
            key = f"{name}\0{expr.name}"
            calls: tuple[ir.Call, ...] = self._memo(
                self._value_calls, key, lambda e: self.value_calls(e, name), (), element=expr.name
            )
            return calls
        if isinstance(expr, ir.Call) and expr.func == name:
            return (expr,)
        if isinstance(expr, ir.Call) and expr.func in _TRANSPARENT:
            return tuple(c for arg in expr.args for c in self.value_calls(arg, name))
        if isinstance(expr, ir.Binary) and expr.op == "??":
            return (*self.value_calls(expr.left, name), *self.value_calls(expr.right, name))
        if isinstance(expr, ir.Cond):
            return (*self.value_calls(expr.then, name), *self.value_calls(expr.otherwise, name))
        if isinstance(expr, ir.ListOf):
            return tuple(c for item in expr.items for c in self.value_calls(item, name))
        if isinstance(expr, ir.Comprehension):
            return self.value_calls(expr.body, name)
        return ()

    # ------------------------------------------------------------------ types
    def static_type(self, expr: ir.Expr) -> str | None:
        key = id(expr)
        if key not in self._type_cache:
            self._type_cache[key] = self._static_type(expr)
        return self._type_cache[key]

    def _static_type(self, expr: ir.Expr) -> str | None:
        if isinstance(expr, ir.ElementRef):
            found: str | None = self._memo(self._types, expr.name, self.static_type, None)
            return found
        if isinstance(expr, ir.Binary) and expr.op == "??":
            left, right = self.static_type(expr.left), self.static_type(expr.right)
            if right == "null":
                return left
            return left if left == right else None
        if isinstance(expr, ir.Cond):
            return join_types(self.static_type(expr.then), self.static_type(expr.otherwise))
        if isinstance(expr, ir.Path):
            # A lookup in a constant table: the type its values share.
            possible = self.evaluator.possible(expr)
            if possible:
                joined: str | None = "null"
                for value, _ in possible:
                    joined = join_types(joined, value_type(value))
                return joined if joined != "null" else None
        if self._is_placeholder(expr):
            return None
        return infer_type(expr)

    # ------------------------------------------------------------------ instances
    def instance(self, send: ir.Send) -> tuple[dict[str, Any], dict[tuple[str | int, ...], str]]:
        """The JSON instance of a send and, per path, the element its value came from."""
        via: dict[tuple[str | int, ...], str] = {}
        body = self._section(send.body, (), via)
        name: Any = send.event
        if send.event_expr is not None:  # a name from the event: a string, as far as known
            name = Dynamic(self.static_type(send.event_expr) or "string", send.event)
        return {"event_name": name, **body}, via

    def _section(
        self,
        section: ir.Section,
        path: tuple[str | int, ...],
        via: dict[tuple[str | int, ...], str],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, entry in section.entries.items():
            if isinstance(entry, ir.Section):
                if is_list_section(entry):
                    out[key] = self.value(entry.entries[key].value, (*path, key), via)  # type: ignore[union-attr]
                else:
                    out[key] = self._section(entry, (*path, key), via)
                continue
            value = self.value(entry.value, (*path, key), via)
            if not _left_out(value) or (not path and key in KEEP_EMPTY):
                out[key] = value
        return out

    def value(
        self,
        expr: ir.Expr,
        path: tuple[str | int, ...],
        via: dict[tuple[str | int, ...], str],
        depth: int = 0,
    ) -> Any:
        """The instance value of an expression (None: the field is left out)."""
        folded = self.fold(expr)
        if folded is not UNKNOWN:
            return folded
        if depth > 32:
            return Dynamic(None)
        if isinstance(expr, ir.ElementRef):
            via.setdefault(path, expr.name)
            local: dict[tuple[str | int, ...], str] = {}

            def compute(value: ir.Expr) -> tuple[Any, dict[tuple[str | int, ...], str]]:
                return self.value(value, (), local, depth + 1), local

            found, inner = self._memo(self._element_values, expr.name, compute, (Dynamic(None), {}))
            for sub, name in inner.items():
                via.setdefault((*path, *sub), name)
            return found
        if isinstance(expr, ir.ListOf):
            return [
                self.value(item, (*path, i), via, depth + 1) for i, item in enumerate(expr.items)
            ]
        if isinstance(expr, ir.ObjectOf):
            entries = ((k, self.value(v, (*path, k), via, depth + 1)) for k, v in expr.entries)
            return {k: v for k, v in entries if not _left_out(v)}
        if isinstance(expr, ir.Comprehension):
            item = self.value(expr.body, (*path, 0), via, depth + 1)
            return ReprList([] if item is None else [item])
        return Dynamic(self.static_type(expr))

    def present_keys(self, section: ir.Section | None) -> frozenset[str]:
        """Keys of a section that can carry a value (fields that are not constant null)."""
        if section is None:
            return frozenset()
        cached = self._keys_cache.get(id(section))
        if cached is None:
            keys: set[str] = set()
            for key, entry in section.entries.items():
                if isinstance(entry, ir.Section) or not _left_out(self.fold(entry.value)):
                    keys.add(key)
            cached = frozenset(keys)
            self._keys_cache[id(section)] = cached
        return cached


def _left_out(value: Any) -> bool:
    """A constant the payload leaves out: null, or an empty string, list or object (the
    instance of a comprehension, which may be empty, stays)."""
    if value is None:
        return True
    if type(value) in (str, list, dict):
        return not value
    return False


def is_list_section(section: ir.Section) -> bool:
    """The front end stores ``extinfo { ... }`` as a section holding one field of its own name
    whose value is the 16-element list; in the payload it is that list."""
    entry = section.entries.get(section.key)
    return (
        len(section.entries) == 1
        and isinstance(entry, ir.Field)
        and isinstance(entry.value, ir.ListOf)
    )
