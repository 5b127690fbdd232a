"""Source text -> AST, in one pass.

The Lark LALR parser runs with the transformer embedded (no parse tree is built) and keeps all
tokens so that every node's span is computed from its first and last token. Comments are
collected by a lexer callback and attached to statements as they are reduced. The parser is
built once per process.

The Lark parser is built in ``lalr``; the transformer it embeds is in ``transform`` (statements)
and ``transform_expr`` (expressions).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Lark as Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from capic import limits
from capic.diagnostics import Diagnostic, Span
from capic.syntax import ast
from capic.syntax.errors import SyntaxProblem, explain_unexpected
from capic.syntax.lalr import _Parser, build_lark, decode_tables
from capic.syntax.redact import redact
from capic.syntax.transform import _Builder as _Builder
from capic.syntax.transform_expr import OPERATOR_SPELLING

# The ``X as X`` import re-exports a private name that the parser's tests reach by this
# module's name.


@functools.cache
def _parser() -> _Parser:
    return _Parser()


_TOP_LEVEL = re.compile(r"^(pixel|element|shared|rule|environment|test)\b", re.MULTILINE)


def parse_text(text: str, path: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse one file. Returns the AST (``None`` if any syntax error) and the diagnostics.

    After a syntax error the parser resynchronizes at the next top-level declaration that
    starts a line, so one run reports the errors of every declaration, not just the first.
    """
    parser = _parser()
    diagnostics: list[Diagnostic] = []
    text = redact(text.replace("\r\n", "\n"))  # no stage ever sees an inline token
    lines = text.split("\n")
    end_span = Span(path, 1, 1, len(lines), len(lines[-1]) + 1)
    offset = 0
    items: list[Any] = []
    comments: list[ast.Comment] = []
    while True:
        # Blank out the part already handled, keeping line numbers and columns intact.
        chunk = re.sub(r"[^\n]", " ", text[:offset]) + text[offset:] if offset else text
        try:
            got, got_comments = parser.parse(chunk, path)
            items.extend(got)
            comments.extend(got_comments)
            break
        except (UnexpectedInput, SyntaxProblem) as exc:
            problem = (
                exc if isinstance(exc, SyntaxProblem) else explain_unexpected(exc, chunk, path)
            )
            diagnostics.append(problem.to_diagnostic())
            comments.extend(parser.builder.ctx.comments)
            error_line = problem.span.line
            # Resume at the next top-level keyword on a line after the error.
            line_start = _line_offset(text, error_line + 1)
            m = _TOP_LEVEL.search(text, line_start) if line_start is not None else None
            if m is None:
                break
            offset = m.start()
    if diagnostics:
        return None, diagnostics
    comments.sort(key=lambda c: (c.span.line, c.span.column))
    tree = ast.File(path, tuple(items), tuple(comments), end_span)
    # Nothing after the parser sees a tree beyond the front end's limits.
    beyond = limits.check_syntax(tree)
    if beyond:
        return None, beyond
    return tree, diagnostics


def _line_offset(text: str, line: int) -> int | None:
    """Character offset of the start of 1-based ``line``, or None past the end."""
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return None
        pos = nxt + 1
    return pos


__all__ = [
    "OPERATOR_SPELLING",
    "UnexpectedCharacters",
    "UnexpectedEOF",
    "UnexpectedToken",
    "build_lark",
    "decode_tables",
    "parse_text",
]
