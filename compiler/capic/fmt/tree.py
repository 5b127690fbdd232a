"""The concrete syntax tree the formatter works on: every token of the file (Lark's parse tree
from the same LALR tables as the parser, with all tokens kept) and its comments."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from lark import Lark, Token, Tree


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    line: int
    column: int


@dataclass
class Parsed:
    tree: Tree[Token]
    comments: list[Comment]
    text: str

    def tokens(self) -> list[Token]:
        """The significant tokens, in order."""
        return [t for t in self.tree.scan_values(lambda v: isinstance(v, Token))]


@functools.cache
def _lark() -> Lark:
    from capic.resources import grammar_text
    from capic.syntax.lalr import from_tables

    callbacks = {"COMMENT": _Collector.on_comment}
    lark = from_tables(lexer_callbacks=callbacks)
    if lark is not None:
        return lark
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        maybe_placeholders=True,
        lexer_callbacks=callbacks,
    )


class _Collector:
    """Comments seen by the lexer of the current parse (the parser is shared: one parse at a
    time per process, as in capic.syntax.parser)."""

    current: ClassVar[list[Token]] = []

    @staticmethod
    def on_comment(tok: Token) -> Token:
        _Collector.current.append(tok)
        return tok


def parse(text: str) -> Parsed:
    """The parse tree of ``text`` (which must be free of syntax errors) and its comments."""
    from capic.syntax.lalr import soft_keyword_recovery

    text = text.replace("\r\n", "\n")
    _Collector.current = []
    tree: Any = _lark().parse(text, on_error=soft_keyword_recovery(text))
    comments = [
        Comment(str(t.value).rstrip("\r"), int(t.line or 1), int(t.column or 1))
        for t in _Collector.current
    ]
    _Collector.current = []
    return Parsed(tree, sorted(set(comments), key=lambda c: (c.line, c.column)), text)
