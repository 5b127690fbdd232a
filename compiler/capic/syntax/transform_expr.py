"""Tree-to-AST transform, expressions: the state of one parse, string literals, and the
builders of literals, paths, calls and operators (the statement half is in ``transform``)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Transformer, Tree

from capic.diagnostics import Span
from capic.syntax import ast
from capic.syntax.errors import SyntaxProblem

__all__ = ["OPERATOR_SPELLING"]

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|.)")


@dataclass(frozen=True, slots=True)
class _Key:
    text: str
    span: Span


@dataclass
class _Context:
    path: str
    comments: list[ast.Comment] = field(default_factory=list)
    unclaimed: deque[int] = field(default_factory=deque)
    lines: list[str] = field(default_factory=list)
    #: Indexes of comments with code before them on their line.
    trailing: set[int] = field(default_factory=set)
    #: Parentheses open at the lexer's position (S030 bounds them, :mod:`capic.limits`).
    open_parens: int = 0


def _decode_string(tok: Token, ctx: _Context) -> str:
    body = tok.value[1:-1]
    if "\\" not in body:
        return body
    line, column = int(tok.line or 1), int(tok.column or 1)

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc in _ESCAPES:
            return _ESCAPES[esc]
        if esc.startswith("u{"):
            code = int(esc[2:-1], 16)
        elif esc.startswith("u") and len(esc) == 5:
            code = int(esc[1:], 16)
        else:
            col = column + 1 + m.start()
            raise SyntaxProblem(
                "S004",
                f"unknown escape sequence '\\{esc}' in string",
                Span(ctx.path, line, col, line, col + 1 + len(esc)),
                'use \\" \\\\ \\n \\t \\r \\/ \\uXXXX or \\u{X...}',
            )
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            col = column + 1 + m.start()
            raise SyntaxProblem(
                "S004",
                f"'\\{esc}' is not a valid Unicode scalar value",
                Span(ctx.path, line, col, line, col + 1 + len(esc)),
                "use a code point between 0 and 10FFFF outside the surrogate range",
            )
        return chr(code)

    return _ESCAPE_RE.sub(repl, body)


class _ExprBuilder(Transformer[Token, Any]):
    """The expression part of the embedded transformer (:class:`capic.syntax.transform._Builder`)."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.ctx = _Context("<string>")

    # -------------------------------------------------------------- helpers
    def _tok_span(self, tok: Token) -> Span:
        return Span(self.ctx.path, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]

    def _span(self, children: list[Any]) -> Span:
        first = next(c for c in children if c is not None)
        last = next(c for c in reversed(children) if c is not None)
        a = self._tok_span(first) if isinstance(first, Token) else first.span
        b = self._tok_span(last) if isinstance(last, Token) else last.span
        return Span(self.ctx.path, a.line, a.column, b.end_line, b.end_column)

    @staticmethod
    def _nodes(children: list[Any]) -> list[Any]:
        return [c for c in children if c is not None and not isinstance(c, Token)]

    @staticmethod
    def _tokens(children: list[Any], *types: str) -> list[Token]:
        return [c for c in children if isinstance(c, Token) and c.type in types]

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        # Inlined helper rules (_args, _items, ...) must stay trees for Lark to splice them.
        if str(data).startswith("_"):
            return Tree(data, children)
        raise AssertionError(f"no builder for grammar rule {data!r}")

    # -------------------------------------------------------------- literals
    def string(self, c: list[Any]) -> ast.Literal:
        return ast.Literal(_decode_string(c[0], self.ctx), self._tok_span(c[0]))

    def number(self, c: list[Any]) -> ast.Literal:
        text = c[0].value
        is_float = "." in text or "e" in text or "E" in text
        if not is_float and len(text) > 4000:
            # int() refuses more than 4,300 digits; shorter ones out of the 64-bit range are
            # reported with the other limits (capic.limits), all in one pass.
            raise SyntaxProblem(
                "S032",
                "the integer is outside the 64-bit range",
                self._tok_span(c[0]),
                "use a number between -9223372036854775808 and 9223372036854775807",
            )
        value: int | float = float(text) if is_float else int(text)
        return ast.Literal(value, self._tok_span(c[0]))

    def true(self, c: list[Any]) -> ast.Literal:
        return ast.Literal(True, self._tok_span(c[0]))

    def false(self, c: list[Any]) -> ast.Literal:
        return ast.Literal(False, self._tok_span(c[0]))

    def null(self, c: list[Any]) -> ast.Literal:
        return ast.Literal(None, self._tok_span(c[0]))

    def name(self, c: list[Any]) -> ast.Name:
        return ast.Name(c[0].value, self._tok_span(c[0]))

    def atom(self, c: list[Any]) -> Any:  # "(" expr ")"
        return self._nodes(c)[0]

    def list_(self, c: list[Any]) -> ast.ListLit:
        return ast.ListLit(tuple(self._nodes(c)), self._span(c))

    def object_(self, c: list[Any]) -> ast.ObjectLit:
        return ast.ObjectLit(tuple(self._nodes(c)), self._span(c))

    def entry(self, c: list[Any]) -> ast.Entry:
        key, value = self._nodes(c)
        return ast.Entry(key.text, key.span, value)

    def key(self, c: list[Any]) -> _Key:
        tok = c[0]
        text = _decode_string(tok, self.ctx) if tok.type == "STRING" else tok.value
        return _Key(text, self._tok_span(tok))

    def call(self, c: list[Any]) -> ast.Call:
        func = c[0]
        return ast.Call(func.value, self._tok_span(func), tuple(self._nodes(c)), self._span(c))

    def comprehension(self, c: list[Any]) -> ast.Comprehension:
        var = self._tokens(c, "NAME")[0]
        nodes = self._nodes(c)
        cond = nodes[2] if len(nodes) > 2 else None
        return ast.Comprehension(
            var.value, self._tok_span(var), nodes[0], nodes[1], cond, self._span(c)
        )

    def attr(self, c: list[Any]) -> ast.Attr:
        base = c[0]
        name = c[-1]
        return ast.Attr(base, name.value, self._tok_span(name), self._span(c))

    def index(self, c: list[Any]) -> ast.Index:
        base, idx = self._nodes(c)
        return ast.Index(base, idx, self._span(c))

    def neg(self, c: list[Any]) -> ast.Expr:
        operand = self._nodes(c)[0]
        span = self._span(c)
        # Fold negative number literals right away: they are literals to every later stage.
        if (
            isinstance(operand, ast.Literal)
            and isinstance(operand.value, int | float)
            and not isinstance(operand.value, bool)
        ):
            return ast.Literal(-operand.value, span)
        return ast.Unary("neg", operand, span)

    def conditional(self, c: list[Any]) -> ast.Conditional:
        test, then, otherwise = self._nodes(c)
        return ast.Conditional(test, then, otherwise, self._span(c))

    def not_(self, c: list[Any]) -> ast.Unary:
        return ast.Unary("not", self._nodes(c)[0], self._span(c))

    def matches(self, c: list[Any]) -> ast.Match:
        operand = self._nodes(c)[0]
        tok = self._tokens(c, "REGEX")[0]
        end = tok.value.rindex("/")
        pattern = tok.value[1:end].replace("\\/", "/")
        return ast.Match(operand, pattern, tok.value[end + 1 :], self._tok_span(tok), self._span(c))

    def _binary(self, op: str, c: list[Any]) -> ast.Binary:
        left, right = self._nodes(c)
        return ast.Binary(op, left, right, self._span(c))


_BINARY_OPS = {
    "or_": "or",
    "and_": "and",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in_": "in",
    "not_in": "not_in",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "iequals": "iequals",
    "icontains": "icontains",
    "istarts_with": "istarts_with",
    "iends_with": "iends_with",
    "coalesce_": "??",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
}


def _install_binary_ops() -> None:
    def make(op: str) -> Any:
        def method(self: _ExprBuilder, c: list[Any]) -> ast.Binary:
            return self._binary(op, c)

        return method

    for rule_name, op in _BINARY_OPS.items():
        setattr(_ExprBuilder, rule_name, make(op))


_install_binary_ops()

#: Binary operator spellings as written in source, for messages and docs.
OPERATOR_SPELLING = {
    "not_in": "not in",
    **{v: v for v in _BINARY_OPS.values() if v != "not_in"},
}
