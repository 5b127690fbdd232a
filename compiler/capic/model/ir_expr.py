"""Expression nodes of the rule model, and walking their trees."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from capic.diagnostics import Span

__all__ = [
    "Binary",
    "Call",
    "Comprehension",
    "Cond",
    "Const",
    "ElementRef",
    "Expr",
    "ListOf",
    "Match",
    "Matcher",
    "ObjectOf",
    "Path",
    "Root",
    "SecretRef",
    "Segment",
    "Unary",
    "Var",
    "children",
    "walk",
]


@dataclass(frozen=True, slots=True)
class Const:
    value: str | int | float | bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectOf:
    entries: tuple[tuple[str, Expr], ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Root:
    name: str  # "event" | "request"
    span: Span


@dataclass(frozen=True, slots=True)
class Var:
    """A comprehension variable."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ElementRef:
    name: str
    span: Span


#: A path segment: a field name, a list index, or a computed key.
Segment: TypeAlias = "str | int | Expr"


@dataclass(frozen=True, slots=True)
class Path:
    base: Expr
    segments: tuple[str | int | Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "neg"
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Match:
    operand: Expr
    pattern: str
    flags: str
    span: Span
    pattern_span: Span


@dataclass(frozen=True, slots=True)
class Comprehension:
    var: str
    source: Expr
    body: Expr
    cond: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Cond:
    """``if test then then else otherwise``: the branch the test's truth selects."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class SecretRef:
    """``env("VAR")`` or ``secret("NAME")``: a value read at run time, never at build time."""

    kind: str  # "env" | "secret"
    name: str
    span: Span

    def describe(self) -> str:
        return f'{self.kind}("{self.name}")'


@dataclass(frozen=True, slots=True)
class Matcher:
    """Test expectations only: ``hashed("raw")``, ``absent``, ``any``."""

    kind: str  # "hashed" | "absent" | "any"
    arg: Expr | None
    span: Span


Expr: TypeAlias = (
    Const
    | ListOf
    | ObjectOf
    | Root
    | Var
    | ElementRef
    | Path
    | Call
    | Unary
    | Binary
    | Match
    | Comprehension
    | Cond
    | SecretRef
    | Matcher
)


def children(expr: Expr) -> Iterator[Expr]:
    """Direct sub-expressions."""
    if isinstance(expr, ListOf):
        yield from expr.items
    elif isinstance(expr, ObjectOf):
        for _, value in expr.entries:
            yield value
    elif isinstance(expr, Path):
        yield expr.base
        for seg in expr.segments:
            if not isinstance(seg, str | int):
                yield seg
    elif isinstance(expr, Call):
        yield from expr.args
    elif isinstance(expr, Unary):
        yield expr.operand
    elif isinstance(expr, Binary):
        yield expr.left
        yield expr.right
    elif isinstance(expr, Match):
        yield expr.operand
    elif isinstance(expr, Comprehension):
        yield expr.source
        yield expr.body
        if expr.cond is not None:
            yield expr.cond
    elif isinstance(expr, Cond):
        yield expr.test
        yield expr.then
        yield expr.otherwise
    elif isinstance(expr, Matcher) and expr.arg is not None:
        yield expr.arg


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression tree, pre-order."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(children(node))))
