"""From the parse tree to a stream of tokens and layout decisions (spaces, statement breaks,
indentation), before comments are placed and runs aligned (:mod:`capic.fmt.render`).

Statements (declarations, block items) start on their own line, one block level deeper than
their block; expressions are written on one line with single spaces around binary operators
and none inside brackets, except list, object and call literals written over several lines,
which keep one item per line. Rules the layout does not know (a construct added to the
grammar later) are written token by token with single spaces, statement blocks still broken
into lines: new syntax is formatted plainly rather than refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token, Tree


@dataclass(frozen=True, slots=True)
class Tok:
    token: Token
    #: The ``=`` of a statement assignment: aligned with its neighbours.
    align: bool = False

    @property
    def text(self) -> str:
        return str(self.token.value)


@dataclass(frozen=True, slots=True)
class Sep:
    #: "" (nothing), " " (a space) or "\n" (a new line)
    kind: str
    #: The new line starts a statement (alignment runs are made of statements).
    statement: bool = False


@dataclass(frozen=True, slots=True)
class Indent:
    step: int  # +1 or -1


Item = Tok | Sep | Indent

#: Binary operators and the words of compound ones, written with a space on each side.
_BINARY = frozenset(
    {"or_", "and_", "eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in", "contains",
     "starts_with", "ends_with", "iequals", "icontains", "istarts_with", "iends_with",
     "matches", "coalesce_", "add", "sub", "mul", "div"}
)  # fmt: skip
_LITERALS = frozenset({"list_", "object_", "call"})


def _spans_lines(node: Tree[Token]) -> bool:
    tokens = [t for t in node.scan_values(lambda v: isinstance(v, Token))]
    return bool(tokens) and tokens[0].line != tokens[-1].line


class Layout:
    def __init__(self) -> None:
        self.out: list[Item] = []
        #: How many literals written one item per line enclose the current expression.
        self.item_lines = 0

    # ------------------------------------------------------------------ helpers
    def tok(self, token: Token, align: bool = False) -> None:
        self.out.append(Tok(token, align))

    def sep(self, kind: str) -> None:
        self.out.append(Sep(kind))

    def words(self, children: list[Any]) -> None:
        """Children separated by single spaces (tokens as they are, trees as expressions)."""
        first = True
        for child in children:
            if child is None:
                continue
            if not first:
                self.sep(" ")
            first = False
            self.child(child)

    def child(self, child: Any) -> None:
        if isinstance(child, Token):
            self.tok(child)
        else:
            self.expr(child)

    # ------------------------------------------------------------------ statements
    def file(self, tree: Tree[Token]) -> None:
        first = True
        for item in tree.children:
            if isinstance(item, Tree | Token):
                if not first:
                    self.out.append(Sep("\n", statement=True))
                first = False
                self.statement(item)

    def statement(self, node: Any) -> None:
        if isinstance(node, Token):
            self.tok(node)
            return
        kind = node.data
        children = [c for c in node.children if c is not None]
        if kind in {"assignment", "element"}:
            eq = next(i for i, c in enumerate(children) if isinstance(c, Token) and c == "=")
            self.words(children[:eq])
            self.sep(" ")
            self.tok(children[eq], align=True)
            self.sep(" ")
            self.words(children[eq + 1 :])
            return
        if kind == "spread":
            for child in children:
                self.child(child)
            return
        # A header, then a statement block: `{` items `}` (a `block` child, or the braces of
        # rule, environment and test).
        head: list[Any] = []
        for i, child in enumerate(children):
            if isinstance(child, Tree) and child.data == "block":
                self._header(head)
                inner = child.children
                assert isinstance(inner[0], Token) and isinstance(inner[-1], Token)
                self.block(inner[0], inner[1:-1], inner[-1])
                self._rest(children[i + 1 :])
                return
            if isinstance(child, Token) and child.type == "LBRACE":
                close = len(children) - 1
                self._header(head)
                self.block(child, children[i + 1 : close], children[close])
                self._rest(children[close + 1 :])
                return
            head.append(child)
        self.words(head)

    def _header(self, head: list[Any]) -> None:
        if head:
            self.words(head)
            self.sep(" ")

    def _rest(self, rest: list[Any]) -> None:
        if rest:
            self.sep(" ")
            self.words(rest)

    def block(self, open_: Token, items: list[Any], close: Token) -> None:
        self.tok(open_)
        items = [i for i in items if i is not None]
        if items:
            self.out.append(Indent(1))
            for item in items:
                self.out.append(Sep("\n", statement=True))
                self.statement(item)
            self.out.append(Indent(-1))
            self.sep("\n")
        elif open_.line != close.line:
            self.sep("\n")  # an empty block written over lines (it may hold comments)
        else:
            self.sep("")
        self.tok(close)

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Any) -> None:
        if isinstance(node, Token):
            self.tok(node)
            return
        kind = node.data
        children = [c for c in node.children if c is not None]
        if kind in _BINARY or kind == "conditional":
            self.words(children)
        elif kind in {"neg", "attr", "index", "atom"}:
            for child in children:
                self.child(child)
        elif kind in _LITERALS:
            self.literal(children, multiline=_spans_lines(node))
        elif kind == "entry":
            sep = next(
                i for i, c in enumerate(children) if isinstance(c, Token) and c in {"=", ":"}
            )
            self.words(children[:sep])
            if children[sep] == "=":
                self.sep(" ")
            # `key = value` entries of an object written one per line align like assignments.
            self.tok(children[sep], align=children[sep] == "=" and self.item_lines > 0)
            self.sep(" ")
            self.words(children[sep + 1 :])
        elif kind == "comprehension":
            self.tok(children[0])
            self.words(children[1:-1])
            self.tok(children[-1])
        else:
            self.words(children)

    def literal(self, children: list[Any], multiline: bool) -> None:
        """``[a, b]``, ``{k = v}``, ``f(a, b)``: the opening bracket (and the called name), the
        items with their commas, the closing bracket."""
        start = 0
        while not (isinstance(children[start], Token) and children[start] in {"[", "{", "("}):
            self.child(children[start])
            start += 1
        self.tok(children[start])
        inner, close = children[start + 1 : -1], children[-1]
        if multiline:
            self.out.append(Indent(1))
            for child in inner:
                if isinstance(child, Token) and child == ",":
                    self.tok(child)
                    continue
                self.out.append(Sep("\n", statement=True))
                self.item_lines += 1
                self.child(child)
                self.item_lines -= 1
            self.out.append(Indent(-1))
            self.sep("\n")
        else:
            for child in inner:
                if isinstance(child, Token) and child == ",":
                    self.tok(child)
                    self.sep(" ")
                    continue
                self.child(child)
        if self.out and isinstance(self.out[-1], Sep) and self.out[-1].kind == " ":
            self.out.pop()  # a trailing comma stays, the space after it goes
        self.tok(close)


def layout(tree: Tree[Token]) -> list[Item]:
    builder = Layout()
    builder.file(tree)
    return builder.out
