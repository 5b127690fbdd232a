"""The concrete syntax tree the formatter works on: every token of the file (Lark's parse tree
from the same LALR tables as the parser, with all tokens kept) and its comments."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken


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
    import hashlib

    import lark as lark_module

    from capic.resources import grammar_text
    from capic.syntax import _tables
    from capic.syntax.parser import decode_tables

    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()
    if digest == _tables.GRAMMAR_SHA256 and lark_module.__version__ == _tables.LARK_VERSION:
        data, memo = decode_tables(_tables.TABLES)
        return Lark._load_from_dict(  # type: ignore[no-untyped-call]
            data, memo, lexer_callbacks={"COMMENT": _Collector.on_comment}
        )
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        maybe_placeholders=True,
        lexer_callbacks={"COMMENT": _Collector.on_comment},
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
    from capic.syntax.parser import _ASSIGNS, _SOFT_KEYWORDS

    text = text.replace("\r\n", "\n")
    _Collector.current = []

    def soft_keyword(exc: UnexpectedInput) -> bool:
        # The parser's own recovery: a statement keyword followed by `=` names a field.
        if not isinstance(exc, UnexpectedToken) or not {"NAME", "RBRACE"} <= exc.expected:
            return False
        tok = exc.token
        if tok.value not in _SOFT_KEYWORDS or not _ASSIGNS.match(text, int(tok.end_pos or 0)):
            return False
        exc.interactive_parser.feed_token(Token.new_borrow_pos("NAME", str(tok.value), tok))
        return True

    tree: Any = _lark().parse(text, on_error=soft_keyword)
    comments = [
        Comment(str(t.value).rstrip("\r"), int(t.line or 1), int(t.column or 1))
        for t in _Collector.current
    ]
    _Collector.current = []
    return Parsed(tree, sorted(set(comments), key=lambda c: (c.line, c.column)), text)
