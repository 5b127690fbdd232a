"""The front end's size limits, checked generically on the syntax tree and on the rule model.

Every later stage (the parse cache, the resolver, the linter, the code generator and the
Python compiler that imports the generated module) recurses over expressions or encodes them
in nested containers. Instead of making each of them iterative, the front end bounds what
reaches them, far below where any of them fails:

- **nesting** (S030): at most :data:`MAX_DEPTH` syntax nodes from the top of a file down to
  the most deeply nested one. A block, a section, an object entry, a call, a list, a `not`
  and every operator of a chain (``a + b + c`` nests ``(a + b) + c``) each count one level.
  Parentheses leave no node in the syntax tree but do nest in the formatter's: at most
  :data:`MAX_DEPTH` of them are open at once (checked by the lexer, :mod:`capic.syntax.lalr`).
- **text** (S031): strings, regexes and names of at most :data:`MAX_TEXT` characters.
- **numbers** (S032): integers in the signed 64-bit range and finite floats (JSON encoders
  and the Graph API take nothing else).
- **size** (S033): at most :data:`MAX_NODES` syntax nodes in one top-level declaration.
- **file size** (S034): a ``*.capi`` file of at most :data:`MAX_FILE_BYTES` bytes is read
  at all; a larger one gets one diagnostic at its first line and is neither parsed nor shown.
- **expansion** (R030): elements are written into the expressions that use them, so an
  expression is at most :data:`MAX_DEPTH` levels deep once its elements are expanded (each
  reference counts one level more than the element's own expansion). This also bounds
  chains of elements.

The walks are generic: they follow the fields of any dataclass node, so constructs added to
the language later inherit the limits without code here. They are iterative, so the checks
themselves are safe for any input.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from capic.codes import code
from capic.diagnostics import Diagnostic, Span

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT",
    "MAX_NODES",
    "MAX_TEXT",
    "MIN_INT",
    "check_model",
    "check_syntax",
    "file_too_large",
]

#: Levels of nesting from the top of a file. CPython refuses more than 200 nested brackets
#: in a module, the code generator uses up to two per level, and the parse cache's JSON
#: encoder stops at 255 nested containers (up to three per level).
MAX_DEPTH = 64
#: Characters of one string, regex or name (a Graph API value is far shorter).
MAX_TEXT = 16_384
#: Syntax nodes in one top-level declaration (a large test event has a few thousand).
MAX_NODES = 50_000
#: Bytes of one source file. The largest shipped project file is a few kilobytes; a file
#: beyond this is data or a mistake, and lexing it would cost seconds and gigabytes.
MAX_FILE_BYTES = 1 << 20
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1


def file_too_large(size: int, path: str) -> Diagnostic | None:
    """S034 for a source file of ``size`` bytes beyond :data:`MAX_FILE_BYTES` (None within it),
    checked before the file is parsed, formatted or shown."""
    if size <= MAX_FILE_BYTES:
        return None
    return code("S034").diagnostic(
        f"{path}: {size:,} bytes, more than the {MAX_FILE_BYTES:,} a rule file may have; "
        "it was not parsed",
        Span.point(path, 1, 1),
        "split the file, or read the data from the event",
    )


_SCALARS = (str, int, float, bool, type(None), Span)


@functools.cache
def _child_fields(cls: Any) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes or checked values: not its spans and
    not its comments (a comment is free text)."""
    if not dataclasses.is_dataclass(cls):
        return ()
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.name != "span" and not f.name.endswith("_span") and f.name != "comments"
    )


def _values(node: Any) -> Iterator[Any]:
    """The direct values of a node, with tuples, lists and mappings flattened."""
    for name in _child_fields(node.__class__):
        stack = [getattr(node, name)]
        while stack:
            value = stack.pop()
            if isinstance(value, tuple | list):
                stack.extend(reversed(value))
            elif isinstance(value, Mapping):
                stack.extend(reversed(list(value.values())))
            else:
                yield value


def _is_node(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type | Span)


def _span_of(node: Any, fallback: Span) -> Span:
    """The node's span, else its first ``*_span`` (an object entry has only its key's)."""
    span = getattr(node, "span", None)
    if isinstance(span, Span):
        return span
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if isinstance(value, Span):
                return value
    return fallback


# ----------------------------------------------------------------------------- syntax


#: The message and help of S030, from the tree walk here and from the lexer's parenthesis count.
DEEP_MESSAGE = f"nested more than {MAX_DEPTH} levels deep"
DEEP_HELP = (
    "split the expression into elements, or write a long chain of `or` comparisons as `x in [...]`"
)


def check_syntax(tree: Any) -> list[Diagnostic]:
    """S030-S033 for a parsed file (an ``ast.File``). A file with any of them is not passed
    on. This runs on every parse, so the walk is written for speed: one loop, type checks
    by identity, field names cached per class."""
    diagnostics: list[Diagnostic] = []
    deep_reported = False
    root_span = _span_of(tree, Span("<unknown>", 1, 1, 1, 1))
    for item in _values(tree):
        if not _is_node(item):
            continue
        count = 0
        # (node, depth): depth counts from the file.
        stack: list[tuple[Any, int]] = [(item, 1)]
        pop, push = stack.pop, stack.append
        while stack:
            node, depth = pop()
            count += 1
            if depth > MAX_DEPTH and not deep_reported:
                deep_reported = True
                diagnostics.append(
                    code("S030").diagnostic(DEEP_MESSAGE, _span_of(node, root_span), DEEP_HELP)
                )
            below = depth + 1
            for name in _child_fields(node.__class__):
                value = getattr(node, name)
                kind = type(value)
                if kind is tuple:
                    for entry in value:
                        if type(entry) in _SCALAR_TYPES:
                            if type(entry) is not type(None):
                                _check_scalar(entry, node, root_span, diagnostics)
                        elif type(entry) is tuple:
                            # Nested tuples are rare: the generic path flattens them.
                            push((_Bag(entry), depth))
                        else:
                            push((entry, below))
                elif kind in _SCALAR_TYPES:
                    if value is not None:
                        _check_scalar(value, node, root_span, diagnostics)
                elif kind is dict or isinstance(value, Mapping):
                    push((_Bag(tuple(value.values())), depth))
                else:
                    push((value, below))
        if count > MAX_NODES:
            diagnostics.append(
                code("S033").diagnostic(
                    f"this declaration has {count} parts (limit {MAX_NODES})",
                    _span_of(item, root_span),
                    "split it into several declarations",
                )
            )
    return diagnostics


@dataclasses.dataclass(frozen=True, slots=True)
class _Bag:
    """Stands for a nested container inside a node (walked at its owner's depth)."""

    items: tuple[Any, ...]


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None), Span})


def _check_scalar(value: Any, node: Any, fallback: Span, out: list[Diagnostic]) -> None:
    kind = type(value)
    if kind is Span or kind is bool or (kind is str and len(value) <= MAX_TEXT):
        return
    problem = _scalar_problem(value)
    if problem is not None:
        out.append(code(problem[0]).diagnostic(problem[1], _span_of(node, fallback), problem[2]))


def _scalar_problem(value: Any) -> tuple[str, str, str] | None:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return (
                "S031",
                f"{len(value)} characters of text in one literal or name (limit {MAX_TEXT})",
                "read long values from the event instead of writing them in the rules",
            )
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and not MIN_INT <= value <= MAX_INT:
        return (
            "S032",
            "the integer is outside the 64-bit range",
            f"use a number between {MIN_INT} and {MAX_INT}",
        )
    if isinstance(value, float) and not math.isfinite(value):
        return (
            "S032",
            "the number is too large for a 64-bit float",
            "use a number below 1.7e308",
        )
    return None


# ----------------------------------------------------------------------------- rule model


@functools.cache
def _expr_types() -> tuple[type, ...]:
    from capic.model import ir

    return typing.get_args(ir.Expr)


def _expanded_depth(expr: Any, elements: Mapping[str, int]) -> tuple[int, Any]:
    """(depth of ``expr`` with element references expanded, the deepest element reference
    or None). ``elements`` gives the expanded depth of each element known so far."""
    from capic.model import ir

    deepest = 0
    culprit: Any = None
    stack: list[tuple[Any, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ir.ElementRef):
            total = depth + elements.get(node.name, 0)
            if total > deepest:
                deepest, culprit = total, node
            continue
        if depth > deepest:
            deepest, culprit = depth, None
        stack.extend((child, depth + 1) for child in _values(node) if _is_node(child))
    return deepest, culprit


def _element_order(elements: Mapping[str, Any]) -> list[str]:
    """Element names, dependencies first (Kahn's algorithm; elements in a cycle, which the
    resolver reports, come last in declaration order)."""
    waiting = {
        name: {d for d in e.deps if d in elements and d != name} for name, e in elements.items()
    }
    users: dict[str, list[str]] = {}
    for name, deps in waiting.items():
        for dep in deps:
            users.setdefault(dep, []).append(name)
    ready = [name for name, deps in waiting.items() if not deps]
    order: list[str] = []
    while ready:
        name = ready.pop()
        order.append(name)
        for user in users.get(name, ()):
            pending = waiting[user]
            pending.discard(name)
            if not pending:
                ready.append(user)
    placed = set(order)
    order.extend(name for name in elements if name not in placed)
    return order


def check_model(resolved: dict[str, Any]) -> list[Diagnostic]:
    """R030 for the resolver's output (modified in place): an element or an expression
    deeper than :data:`MAX_DEPTH` once its elements are expanded is reported and replaced
    by a null constant, so later stages never see it."""
    from capic.model import ir

    diagnostics: list[Diagnostic] = []
    elements: dict[str, ir.Element] = resolved.get("elements", {})
    depths: dict[str, int] = {}

    def report(expr: Any, depth: int, culprit: Any) -> None:
        via = (
            f" once element `{culprit.name}` is written out"
            if isinstance(culprit, ir.ElementRef)
            else ""
        )
        diagnostics.append(
            code("R030").diagnostic(
                f"this expression is {depth} levels deep{via} (limit {MAX_DEPTH})",
                culprit.span if culprit is not None else expr.span,
                "compute part of it in a separate element that several rules share, or "
                "simplify the chain of elements",
            )
        )

    for name in _element_order(elements):
        element = elements[name]
        depth, culprit = _expanded_depth(element.value, depths)
        if depth > MAX_DEPTH:
            report(element.value, depth, culprit)
            elements[name] = dataclasses.replace(
                element, value=ir.Const(None, element.value.span), deps=()
            )
            depth = 1
        depths[name] = depth

    expr_types = _expr_types()

    def bounded(node: Any) -> Any:
        """``node`` with every too deep expression replaced (structure recursion only: the
        declarations' own nesting is bounded by S030)."""
        if isinstance(node, expr_types):
            depth, culprit = _expanded_depth(node, depths)
            if depth > MAX_DEPTH:
                report(node, depth, culprit)
                return ir.Const(None, _span_of(node, Span("<unknown>", 1, 1, 1, 1)))
            return node
        if isinstance(node, tuple):
            items = tuple(bounded(v) for v in node)
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items
        if isinstance(node, Mapping):
            entries = {k: bounded(v) for k, v in node.items()}
            return node if all(entries[k] is v for k, v in node.items()) else entries
        if not _is_node(node) or isinstance(node, ir.Element):
            return node
        changes = {}
        for f in _child_fields(node.__class__):
            old = getattr(node, f)
            new = bounded(old)
            if new is not old:
                changes[f] = new
        return dataclasses.replace(node, **changes) if changes else node

    for key, value in list(resolved.items()):
        if key != "elements":
            resolved[key] = bounded(value)
    return diagnostics
