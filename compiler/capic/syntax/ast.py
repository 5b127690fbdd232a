"""The abstract syntax tree: frozen dataclasses, every node with a :class:`Span`.

Statement-level nodes (declarations, assignments, sections, expectations) carry the comments
that belong to them: the comment lines right above them, comments inside them that no inner
statement claimed, and a trailing comment on their last line. Suppression comments and a
future formatter read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from capic.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # including the leading '#'
    span: Span


# ----------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    key_span: Span
    value: Expr


@dataclass(frozen=True, slots=True)
class ObjectLit:
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Attr:
    base: Expr
    name: str
    name_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class Index:
    base: Expr
    index: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    func_span: Span
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "neg"
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    # or and == != < <= > >= in not_in contains starts_with ends_with iequals icontains
    # istarts_with iends_with ?? + - * /
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Match:
    operand: Expr
    pattern: str
    flags: str
    pattern_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class Comprehension:
    var: str
    var_span: Span
    source: Expr
    body: Expr
    cond: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Conditional:
    """``if test then then else otherwise``."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span


Expr: TypeAlias = (
    Conditional
    | Literal
    | ListLit
    | ObjectLit
    | Name
    | Attr
    | Index
    | Call
    | Unary
    | Binary
    | Match
    | Comprehension
)

# ----------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assignment:
    key: str
    key_span: Span
    value: Expr
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    name_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class Spread:
    """``...name``: the entries of a shared block, written here."""

    name: str
    name_span: Span
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class Block:
    items: tuple[Assignment | Section | Spread, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class PixelDecl:
    name: str
    name_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ElementDecl:
    name: str
    name_span: Span
    value: Expr
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class SharedDecl:
    """``shared KIND NAME { ... }``: a send body (kind ``send``) or a section (``user``,
    ``custom`` ...) that sends include with ``...NAME``."""

    kind: str
    kind_span: Span
    name: str
    name_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class SendDecl:
    #: The event name; for a computed name, the source text of its expression.
    event: str
    event_quoted: bool  # `send "MyCustomEvent"` vs `send Purchase`
    event_span: Span
    pixel: str
    pixel_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()
    #: The expression of a computed event name (`send names[event_type] to shop`).
    event_expr: Expr | None = None


@dataclass(frozen=True, slots=True)
class RuleDecl:
    name: str
    name_span: Span
    when: Expr | None
    sends: tuple[SendDecl, ...]
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class EnvPixel:
    name: str
    name_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ServeDecl:
    """``serve { ... }``: site settings of ``capic serve``, top level or in an environment."""

    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class EnvironmentDecl:
    name: str
    name_span: Span
    items: tuple[Assignment | EnvPixel | Section | ServeDecl, ...]
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectSend:
    rule: str
    rule_span: Span
    event: str
    event_quoted: bool
    event_span: Span
    pixel: str
    pixel_span: Span
    body: Block
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectRuleNothing:
    rule: str
    rule_span: Span
    span: Span
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectNothing:
    span: Span
    comments: tuple[Comment, ...] = ()


Expectation: TypeAlias = ExpectSend | ExpectRuleNothing | ExpectNothing


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: str
    name_span: Span
    items: tuple[Assignment | Expectation, ...]
    span: Span
    comments: tuple[Comment, ...] = ()


Item: TypeAlias = (
    PixelDecl | ElementDecl | SharedDecl | RuleDecl | EnvironmentDecl | TestDecl | ServeDecl
)


@dataclass(frozen=True, slots=True)
class File:
    path: str
    items: tuple[Item, ...]
    #: Every comment of the file, in order (statements also hold the ones that belong to them).
    comments: tuple[Comment, ...]
    span: Span


def literal_value(expr: Expr) -> Any:
    """The Python value of a constant literal tree (lists/objects of literals), else raise."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, ListLit):
        return [literal_value(item) for item in expr.items]
    if isinstance(expr, ObjectLit):
        return {entry.key: literal_value(entry.value) for entry in expr.entries}
    if isinstance(expr, Unary) and expr.op == "neg":
        inner = literal_value(expr.operand)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    raise ValueError("not a literal")
