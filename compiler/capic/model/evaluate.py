"""The one constant evaluator of the rule language: the value of an IR expression when it is
known without an event.

The linter (:mod:`capic.lint.values`) and the code generator (:mod:`capic.codegen`) both ask
this module, so a constant is folded the same way wherever it is looked at. Values are
computed with the very functions and operators generated modules call
(:mod:`capic.runtime.stdlib`, :mod:`capic.runtime.paths`), so folding never disagrees with a
run:

- constants, lists and objects of constants, element references (memoized), paths into
  constants and pure standard-library calls of constants fold; ``now()``, ``uuid()`` and the
  other impure functions never do;
- a comparison with a ``null`` constant is false, and arithmetic on a ``null`` constant is
  null, whatever the other operand (the runtime's rule for every event);
- ``and``/``or``/``not`` use the runtime's truthiness (``null``, ``false``, ``0``, ``""``,
  ``[]`` and ``{}`` are false) and are three-valued: ``x and false`` is false even when ``x``
  depends on the event;
- ``if c then a else b`` folds to the branch a constant condition selects;
- a comprehension over a constant list folds when its body and filter do.

Anything else is :data:`UNKNOWN`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from capic.diagnostics import Span
from capic.model import ir
from capic.model.stdlib import FUNCTIONS
from capic.runtime import paths, stdlib

__all__ = ["COMPARISONS", "UNKNOWN", "Evaluator", "truthy"]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


#: The value of an expression that depends on the event (or cannot be written as a literal).
UNKNOWN: Final[Any] = _Unknown()

#: Operators that are false whenever an operand is null.
COMPARISONS: Final = frozenset(
    {
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "iequals",
        "icontains",
        "istarts_with",
        "iends_with",
    }
)
#: Operators that give null whenever an operand is null.
_ARITHMETIC: Final = frozenset({"+", "-", "*", "/"})

truthy: Final = stdlib.truthy

_Scope = Mapping[str, Any]


def _json_like(value: Any, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0:
        return False
    if value is None or isinstance(value, bool | str):
        return True
    t = type(value)
    if t is int:
        return True
    if t is float:
        return math.isfinite(value)
    if t is list:
        return all(_json_like(v, budget) for v in value)
    if t is dict:
        return all(type(k) is str and _json_like(v, budget) for k, v in value.items())
    return False


class Evaluator:
    """Constant values of the expressions of one project (element values memoized).

    ``poisoned``: spans of placeholders the front end put where it reported an error; they are
    unknown, not null. ``max_items``: a result that is not plain JSON (lists, objects, strings,
    finite numbers, booleans, null) or holds more than this many items is UNKNOWN: the code
    generator writes folded values as literals and keeps large ones as code.
    """

    def __init__(
        self,
        elements: Mapping[str, ir.Element],
        *,
        poisoned: frozenset[Span] = frozenset(),
        max_items: int | None = None,
    ) -> None:
        self.elements = elements
        self.poisoned = poisoned
        self.max_items = max_items
        self._element_values: dict[str, Any] = {}
        self._visiting: set[str] = set()
        #: id(expr) -> (expr, value): IR nodes live as long as the project.
        self._cache: dict[int, tuple[ir.Expr, Any]] = {}

    # ------------------------------------------------------------------ API
    def value(self, expr: ir.Expr) -> Any:
        """The constant value of ``expr``, or UNKNOWN."""
        hit = self._cache.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
        value = self._value(expr, None)
        self._cache[id(expr)] = (expr, value)
        return value

    def element(self, name: str) -> Any:
        """The constant value of an element, or UNKNOWN (also for unknown names and cycles)."""
        if name in self._element_values:
            return self._element_values[name]
        element = self.elements.get(name)
        if element is None or name in self._visiting:
            return UNKNOWN
        self._visiting.add(name)
        try:
            value = self.value(element.value)
        finally:
            self._visiting.discard(name)
        self._element_values[name] = value
        return value

    def segment(self, seg: str | int | ir.Expr) -> Any:
        """A path segment's constant value (field names and indexes are constants)."""
        if isinstance(seg, str | int):
            return seg
        return self.value(seg)

    def is_const(self, expr: ir.Expr) -> bool:
        return self.value(expr) is not UNKNOWN

    def possible(self, expr: ir.Expr) -> list[tuple[Any, Span | None]] | None:
        """Every value ``expr`` can take when they are finitely many (see
        :func:`capic.model.possible.possible`), else None."""
        from capic.model.possible import possible

        return possible(self, expr)

    # ------------------------------------------------------------------ evaluation
    def _eval(self, expr: ir.Expr, scope: _Scope | None) -> Any:
        return self.value(expr) if scope is None else self._value(expr, scope)

    def _checked(self, value: Any) -> Any:
        if value is UNKNOWN:
            return value
        if type(value) is tuple:
            value = list(value)
        if type(value) is float and not math.isfinite(value):
            return UNKNOWN
        if self.max_items is not None and not _json_like(value, [self.max_items]):
            return UNKNOWN
        return value

    def _value(self, expr: ir.Expr, scope: _Scope | None) -> Any:
        handler = _HANDLERS.get(type(expr))
        if handler is None:
            return UNKNOWN
        return handler(self, expr, scope)

    def _const(self, expr: ir.Const, scope: _Scope | None) -> Any:
        if expr.value is None and expr.span in self.poisoned:
            return UNKNOWN
        return expr.value

    def _element_ref(self, expr: ir.ElementRef, scope: _Scope | None) -> Any:
        return self.element(expr.name)

    def _var(self, expr: ir.Var, scope: _Scope | None) -> Any:
        if scope is None or expr.name not in scope:
            return UNKNOWN
        return scope[expr.name]

    def _list(self, expr: ir.ListOf, scope: _Scope | None) -> Any:
        items = [self._eval(i, scope) for i in expr.items]
        if any(i is UNKNOWN for i in items):
            return UNKNOWN
        return self._checked(items)

    def _object(self, expr: ir.ObjectOf, scope: _Scope | None) -> Any:
        out: dict[str, Any] = {}
        for key, sub in expr.entries:
            v = self._eval(sub, scope)
            if v is UNKNOWN:
                return UNKNOWN
            out[key] = v
        return self._checked(out)

    def _path(self, expr: ir.Path, scope: _Scope | None) -> Any:
        base = self._eval(expr.base, scope)
        if base is None:
            return None  # nothing can be read from null, whatever the segments
        if base is UNKNOWN:
            return UNKNOWN
        segments = []
        for seg in expr.segments:
            s = seg if isinstance(seg, str | int) else self._eval(seg, scope)
            if s is UNKNOWN:
                return UNKNOWN
            segments.append(s)
        return self._checked(paths.get_path(base, tuple(segments)))

    def _call(self, expr: ir.Call, scope: _Scope | None) -> Any:
        fn = FUNCTIONS.get(expr.func)
        impl = _PURE.get(expr.func)
        if fn is None or impl is None:
            return UNKNOWN
        args = [self._eval(a, scope) for a in expr.args]
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        try:
            result = impl(*args)
        except Exception:  # a wrong arity the resolver reported: the run would not get here
            return UNKNOWN
        return self._checked(result)

    def _unary(self, expr: ir.Unary, scope: _Scope | None) -> Any:
        operand = self._eval(expr.operand, scope)
        if operand is UNKNOWN:
            return UNKNOWN
        if expr.op == "not":
            return not truthy(operand)
        return self._checked(stdlib.neg(operand))

    def _binary(self, expr: ir.Binary, scope: _Scope | None) -> Any:
        op = expr.op
        left = self._eval(expr.left, scope)
        if op == "??":
            if left is UNKNOWN:
                return UNKNOWN
            return left if left is not None else self._eval(expr.right, scope)
        right = self._eval(expr.right, scope)
        if op == "and" or op == "or":
            # Three-valued: one operand decides when it is known (the runtime computes
            # bool(left) and/or bool(right); nothing it evaluates has side effects).
            decisive = op == "or"
            for side in (left, right):
                if side is not UNKNOWN and truthy(side) is decisive:
                    return decisive
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return not decisive
        if op in COMPARISONS and (left is None or right is None):
            return False
        if op in _ARITHMETIC and (left is None or right is None):
            return None
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        impl = _OPERATORS.get(op)
        if impl is None:
            return UNKNOWN
        try:
            return self._checked(impl(left, right))
        except Exception:
            return UNKNOWN

    def _match(self, expr: ir.Match, scope: _Scope | None) -> Any:
        operand = self._eval(expr.operand, scope)
        if operand is UNKNOWN:
            return UNKNOWN
        try:
            pattern = stdlib.compile_regex(expr.pattern, expr.flags)
        except (re.error, KeyError):
            return UNKNOWN
        return stdlib.matches(pattern, operand)

    def _cond(self, expr: ir.Cond, scope: _Scope | None) -> Any:
        test = self._eval(expr.test, scope)
        if test is UNKNOWN:
            return UNKNOWN
        return self._eval(expr.then if truthy(test) else expr.otherwise, scope)

    def _comprehension(self, expr: ir.Comprehension, scope: _Scope | None) -> Any:
        source = self._eval(expr.source, scope)
        if source is UNKNOWN:
            return UNKNOWN
        items = stdlib.iter_list(source)
        if not items:
            return []
        out: list[Any] = []
        budget = self.max_items if self.max_items is not None else len(items)
        if len(items) > budget:
            return UNKNOWN
        for item in items:
            inner = {**(scope or {}), expr.var: item}
            if expr.cond is not None:
                keep = self._value(expr.cond, inner)
                if keep is UNKNOWN:
                    return UNKNOWN
                if not truthy(keep):
                    continue
            value = self._value(expr.body, inner)
            if value is UNKNOWN:
                return UNKNOWN
            out.append(value)
        return self._checked(out)


_Handler = Callable[[Evaluator, Any, "_Scope | None"], Any]
_HANDLERS: dict[type, _Handler] = {
    ir.Const: Evaluator._const,
    ir.ElementRef: Evaluator._element_ref,
    ir.Var: Evaluator._var,
    ir.ListOf: Evaluator._list,
    ir.ObjectOf: Evaluator._object,
    ir.Path: Evaluator._path,
    ir.Call: Evaluator._call,
    ir.Unary: Evaluator._unary,
    ir.Binary: Evaluator._binary,
    ir.Match: Evaluator._match,
    ir.Comprehension: Evaluator._comprehension,
    ir.Cond: Evaluator._cond,
}

#: Pure functions (folded when every argument is a constant), by language name.
_PURE: dict[str, Callable[..., Any]] = {
    name: getattr(stdlib, impl)
    for name, impl in stdlib.IMPLEMENTATIONS.items()
    if name in FUNCTIONS and FUNCTIONS[name].pure
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    op: getattr(stdlib, impl) for op, impl in stdlib.OPERATORS.items()
}
