"""Constant folding: the value of an expression when it is known at compile time.

Constants, lists and objects of constants, pure standard-library calls and operators on
constants, and paths into constants fold, evaluated with the very runtime functions the
generated code would call (so folding never changes a result). Elements whose value is
constant fold wherever they are used. ``now()`` and ``uuid()`` never fold. A comparison with a
null constant folds to false (comparisons with null are false whatever the other side is).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from capic.model import ir
from capic.model.stdlib import FUNCTIONS
from capic.runtime import paths, stdlib

__all__ = ["NOT_CONST", "REGEX_FLAGS", "Folder"]


class _NotConst:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_CONST"


NOT_CONST: Final[Any] = _NotConst()

REGEX_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_COMPARISONS: Final = frozenset(
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
#: Folded results larger than this (in items) stay code, to keep modules small.
_MAX_FOLDED_ITEMS: Final = 10_000


def _json_like(value: Any, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0:
        return False
    if value is None or isinstance(value, bool | str):
        return True
    if type(value) is int:
        return True
    if type(value) is float:
        return True
    if type(value) is list:
        return all(_json_like(v, budget) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _json_like(v, budget) for k, v in value.items())
    return False


def _checked(value: Any) -> Any:
    """A folded result, when it can be written as a literal; NOT_CONST otherwise."""
    if type(value) is tuple:
        value = list(value)
    if type(value) is float and not math.isfinite(value):
        return NOT_CONST
    return value if _json_like(value, [_MAX_FOLDED_ITEMS]) else NOT_CONST


class Folder:
    """Folds expressions of one project (element values are memoized)."""

    def __init__(self, elements: Mapping[str, ir.Element]) -> None:
        self.elements = elements
        self._element_values: dict[str, Any] = {}
        self._visiting: set[str] = set()
        #: id(expr) -> value. IR nodes live as long as the project, so ids are stable.
        self._cache: dict[int, tuple[ir.Expr, Any]] = {}

    def element(self, name: str) -> Any:
        """The constant value of an element, or NOT_CONST."""
        if name in self._element_values:
            return self._element_values[name]
        element = self.elements.get(name)
        if element is None or name in self._visiting:
            return NOT_CONST
        self._visiting.add(name)
        try:
            value = self.value(element.value)
        finally:
            self._visiting.discard(name)
        self._element_values[name] = value
        return value

    def value(self, expr: ir.Expr) -> Any:
        """The constant value of ``expr``, or NOT_CONST."""
        hit = self._cache.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
        value = self._value(expr)
        self._cache[id(expr)] = (expr, value)
        return value

    def _value(self, expr: ir.Expr) -> Any:
        if isinstance(expr, ir.Const):
            return expr.value
        if isinstance(expr, ir.ElementRef):
            return self.element(expr.name)
        if isinstance(expr, ir.ListOf):
            items = [self.value(i) for i in expr.items]
            if any(i is NOT_CONST for i in items):
                return NOT_CONST
            return _checked(items)
        if isinstance(expr, ir.ObjectOf):
            obj: dict[str, Any] = {}
            for key, sub in expr.entries:
                v = self.value(sub)
                if v is NOT_CONST:
                    return NOT_CONST
                obj[key] = v
            return _checked(obj)
        if isinstance(expr, ir.Path):
            return self._path(expr)
        if isinstance(expr, ir.Call):
            return self._call(expr)
        if isinstance(expr, ir.Unary):
            operand = self.value(expr.operand)
            if operand is NOT_CONST:
                return NOT_CONST
            return _checked(not operand) if expr.op == "not" else _checked(stdlib.neg(operand))
        if isinstance(expr, ir.Binary):
            return self._binary(expr)
        if isinstance(expr, ir.Match):
            operand = self.value(expr.operand)
            if operand is NOT_CONST:
                return NOT_CONST
            flags = 0
            for ch in expr.flags:
                flags |= REGEX_FLAGS.get(ch, 0)
            try:
                pattern = re.compile(expr.pattern, flags)
            except re.error:
                return NOT_CONST
            return stdlib.matches(pattern, operand)
        if isinstance(expr, ir.Comprehension):
            source = self.value(expr.source)
            if source is not NOT_CONST and not stdlib.iter_list(source):
                return []
            return NOT_CONST
        return NOT_CONST

    def segment(self, seg: str | int | ir.Expr) -> Any:
        if isinstance(seg, str | int):
            return seg
        return self.value(seg)

    def _path(self, expr: ir.Path) -> Any:
        base = self.value(expr.base)
        if base is NOT_CONST:
            return NOT_CONST
        segments = [self.segment(s) for s in expr.segments]
        if any(s is NOT_CONST for s in segments):
            return NOT_CONST
        return _checked(paths.get_path(base, tuple(segments)))

    def _call(self, expr: ir.Call) -> Any:
        fn = FUNCTIONS.get(expr.func)
        impl_name = stdlib.IMPLEMENTATIONS.get(expr.func)
        if fn is None or not fn.pure or impl_name is None:
            return NOT_CONST
        args = [self.value(a) for a in expr.args]
        if any(a is NOT_CONST for a in args):
            return NOT_CONST
        impl = getattr(stdlib, impl_name)
        try:
            result = impl(*args)
        except Exception:  # a wrong arity reported by the resolver: leave it to run time
            return NOT_CONST
        return _checked(result)

    def _binary(self, expr: ir.Binary) -> Any:
        op = expr.op
        left = self.value(expr.left)
        if op == "??":
            if left is NOT_CONST:
                return NOT_CONST
            return left if left is not None else self.value(expr.right)
        if op == "and":
            if left is NOT_CONST:
                return NOT_CONST
            if not left:
                return False
            right = self.value(expr.right)
            return NOT_CONST if right is NOT_CONST else bool(right)
        if op == "or":
            if left is NOT_CONST:
                return NOT_CONST
            if left:
                return True
            right = self.value(expr.right)
            return NOT_CONST if right is NOT_CONST else bool(right)
        right = self.value(expr.right)
        if op in _COMPARISONS and (left is None or right is None):
            return False
        if left is NOT_CONST or right is NOT_CONST:
            return NOT_CONST
        impl_name = stdlib.OPERATORS.get(op)
        if impl_name is None:
            return NOT_CONST
        try:
            return _checked(getattr(stdlib, impl_name)(left, right))
        except Exception:
            return NOT_CONST
