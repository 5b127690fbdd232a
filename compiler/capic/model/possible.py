"""The finite sets of values an expression can take without the event: constants, lookups in
constant tables (``names[event.type]``, ``rows[t].name``), the branches of ``if`` and ``??``.
The linter checks a computed event name once per name it can take; the code generator makes one
SendSpec per name."""

from __future__ import annotations

from typing import Any, Final

from capic.diagnostics import Span
from capic.model import ir
from capic.model.evaluate import UNKNOWN, Evaluator, truthy

__all__ = ["possible"]

#: Sets of possible values larger than this are treated as open.
_MAX_POSSIBLE: Final = 1000


#: A lookup that finds nothing.
_MISS: Final[Any] = object()


class _Leaf:
    """A folded value met while walking a table (no source span)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _children(node: Any) -> dict[Any, Any]:
    """The members of a table node by key (object keys, list indexes; negative indexes too)."""
    if isinstance(node, ir.ObjectOf):
        return dict(node.entries)
    if isinstance(node, ir.ListOf):
        n = len(node.items)
        return {**dict(enumerate(node.items)), **{i - n: item for i, item in enumerate(node.items)}}
    if isinstance(node, _Leaf):
        value = node.value
        if type(value) is dict:
            return {k: _Leaf(v) for k, v in value.items()}
        if type(value) is list:
            n = len(value)
            return {
                **{i: _Leaf(v) for i, v in enumerate(value)},
                **{i - n: _Leaf(v) for i, v in enumerate(value)},
            }
    return {}


def _key(key: Any, node: Any) -> str | int | None:
    """A segment as the runtime uses it on ``node``: a field name on an object, an integer
    (or integral float) on a list; None when it reads nothing."""
    listy = isinstance(node, ir.ListOf) or (isinstance(node, _Leaf) and type(node.value) is list)
    if type(key) is str:
        return None if listy else key
    if listy and (type(key) is int or (type(key) is float and key.is_integer())):
        return int(key)
    return None


def possible(consts: Evaluator, expr: ir.Expr) -> list[tuple[Any, Span | None]] | None:
    """Every value ``expr`` can take when they are finitely many and known without the
    event: a constant, a lookup in a constant table (``names[event.type]``: each value of
    the table, or null when the key is missing; lookups chain, ``rows[t].name``), the
    branches of ``if`` and ``??``. Each value comes with the span of the literal that
    wrote it (None when it was computed). None when the set is open (the value comes from
    the event)."""
    found = _candidates(consts, expr, frozenset())
    if found is None:
        return None
    out: list[tuple[Any, Span | None]] = []
    seen: set[str] = set()
    for node in found:
        if node is _MISS:
            value, span = None, None
        elif isinstance(node, _Leaf):
            value, span = node.value, None
        else:
            value, span = consts.value(node), node.span
        key = repr(value)
        if key not in seen:
            seen.add(key)
            out.append((value, span))
    return out if len(out) <= _MAX_POSSIBLE else None


def _candidates(consts: Evaluator, expr: ir.Expr, visiting: frozenset[str]) -> list[Any] | None:
    """The nodes ``expr`` can evaluate to: IR literals (to keep their spans), folded
    values (:class:`_Leaf`) and :data:`_MISS` for a lookup that finds nothing."""
    if consts.value(expr) is not UNKNOWN:
        return [_literal(consts, expr)]
    if isinstance(expr, ir.ElementRef):
        element = consts.elements.get(expr.name)
        if element is None or expr.name in visiting:
            return None
        return _candidates(consts, element.value, visiting | {expr.name})
    if isinstance(expr, ir.Cond):
        test = consts.value(expr.test)
        if test is not UNKNOWN:
            return _candidates(consts, expr.then if truthy(test) else expr.otherwise, visiting)
        then = _candidates(consts, expr.then, visiting)
        otherwise = _candidates(consts, expr.otherwise, visiting)
        return None if then is None or otherwise is None else then + otherwise
    if isinstance(expr, ir.Binary) and expr.op == "??":
        left = _candidates(consts, expr.left, visiting)
        if left is None:
            return None
        present = [c for c in left if c is not _MISS and _leaf(consts, c) is not None]
        if len(present) == len(left):
            return present
        right = _candidates(consts, expr.right, visiting)
        return None if right is None else present + right
    if isinstance(expr, ir.Path):
        found = _candidates(consts, expr.base, visiting)
        if found is None:
            return None
        for seg in expr.segments:
            key = seg if isinstance(seg, str | int) else consts.value(seg)
            stepped: list[Any] = []
            for node in found:
                children = _children(node)
                if node is _MISS:
                    stepped.append(_MISS)
                elif key is UNKNOWN:
                    stepped.extend(_literal(consts, c) for c in children.values())
                    stepped.append(_MISS)
                else:
                    k = _key(key, node)
                    stepped.append(_literal(consts, children[k]) if k in children else _MISS)
            found = stepped
            if len(found) > _MAX_POSSIBLE:
                return None
        return found
    return None


def _literal(consts: Evaluator, node: Any) -> Any:
    """A constant as the literal that wrote it (through element references), else as its
    folded value."""
    if isinstance(node, _Leaf) or node is _MISS:
        return node
    seen: set[str] = set()
    while isinstance(node, ir.ElementRef) and node.name not in seen:
        seen.add(node.name)
        element = consts.elements.get(node.name)
        if element is None:
            break
        node = element.value
    if isinstance(node, ir.Const | ir.ObjectOf | ir.ListOf) and consts.value(node) is not UNKNOWN:
        return node
    return _Leaf(consts.value(node))


def _leaf(consts: Evaluator, node: Any) -> Any:
    return node.value if isinstance(node, _Leaf) else consts.value(node)
