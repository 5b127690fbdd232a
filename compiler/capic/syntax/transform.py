"""Tree-to-AST transform, statements: declarations, blocks and tests, and the comments that
belong to each statement. Lark calls the transformer at each reduction (no parse tree is
built), so every node's span is computed from its first and last token."""

from __future__ import annotations

from typing import Any

from lark import Token

from capic.diagnostics import Span
from capic.syntax import ast
from capic.syntax.transform_expr import _decode_string, _ExprBuilder

__all__: list[str] = []


class _Builder(_ExprBuilder):
    """Embedded transformer: Lark calls it at each reduction."""

    # -------------------------------------------------------------- comments
    def _claim(self, span: Span) -> tuple[ast.Comment, ...]:
        """Comments that belong to a statement ending at ``span``: every unclaimed comment
        before its end, plus a trailing comment on its last line. A comment above the statement
        is claimed only if nothing but comments and blank lines separate them; otherwise (it
        trails `rule "r" {` or sits above the enclosing declaration) it is left to the
        enclosing statement."""
        claimed: list[ast.Comment] = []
        skipped: list[int] = []
        queue = self.ctx.unclaimed
        comments = self.ctx.comments
        while queue:
            c = comments[queue[0]]
            before_end = (c.span.line, c.span.column) < (span.end_line, span.end_column)
            if not (before_end or c.span.line == span.end_line):
                break
            index = queue.popleft()
            if c.span.line < span.line and not self._leads(index, span):
                skipped.append(index)
            else:
                claimed.append(c)
        queue.extendleft(reversed(skipped))
        return tuple(claimed)

    def _leads(self, index: int, span: Span) -> bool:
        """True if comment ``index`` is a comment line directly above the statement at ``span``."""
        if index in self.ctx.trailing:
            return False
        lines = self.ctx.lines
        for n in range(self.ctx.comments[index].span.line + 1, span.line):
            stripped = lines[n - 1].strip()
            if stripped and not stripped.startswith("#"):
                return False
        return not lines[span.line - 1][: span.column - 1].strip()

    # -------------------------------------------------------------- statements
    def assignment(self, c: list[Any]) -> ast.Assignment:
        key, value = self._nodes(c)
        span = self._span(c)
        return ast.Assignment(key.text, key.span, value, span, self._claim(span))

    def block(self, c: list[Any]) -> ast.Block:
        return ast.Block(tuple(self._nodes(c)), self._span(c))

    def section(self, c: list[Any]) -> ast.Section:
        name = c[0]
        span = self._span(c)
        return ast.Section(name.value, self._tok_span(name), c[-1], span, self._claim(span))

    def pixel(self, c: list[Any]) -> ast.PixelDecl:
        name = self._tokens(c, "NAME")[0]
        span = self._span(c)
        return ast.PixelDecl(name.value, self._tok_span(name), c[-1], span, self._claim(span))

    def element(self, c: list[Any]) -> ast.ElementDecl:
        name = self._tokens(c, "NAME")[0]
        span = self._span(c)
        return ast.ElementDecl(
            name.value, self._tok_span(name), self._nodes(c)[0], span, self._claim(span)
        )

    def when_clause(self, c: list[Any]) -> Any:
        return ("when", self._nodes(c)[0])

    def event_name(self, c: list[Any]) -> tuple[str, bool, Span]:
        tok = c[0]
        if tok.type == "STRING":
            return (_decode_string(tok, self.ctx), True, self._tok_span(tok))
        return (tok.value, False, self._tok_span(tok))

    def send(self, c: list[Any]) -> ast.SendDecl:
        target: ast.Expr = c[1]
        pixel = c[3]
        span = self._span(c)
        computed: ast.Expr | None = None
        if isinstance(target, ast.Literal) and isinstance(target.value, str):
            event, quoted = target.value, True
        elif isinstance(target, ast.Name) and not self._parenthesized(c[0], target):
            event, quoted = target.name, False
        else:
            # A computed name; `send (name) to ...` computes it from the element `name`.
            event, quoted, computed = self._source(target.span), False, target
        return ast.SendDecl(
            event,
            quoted,
            target.span,
            pixel.value,
            self._tok_span(pixel),
            c[4],
            span,
            self._claim(span),
            computed,
        )

    def _source(self, span: Span) -> str:
        """The source text of a span, lines joined with single spaces."""
        lines = self.ctx.lines[span.line - 1 : span.end_line]
        if len(lines) == 1:
            return lines[0][span.column - 1 : span.end_column - 1]
        parts = [lines[0][span.column - 1 :], *lines[1:-1], lines[-1][: span.end_column - 1]]
        return " ".join(p.strip() for p in parts if p.strip())

    def _parenthesized(self, keyword: Token, node: ast.Expr) -> bool:
        """True when an opening parenthesis stands between ``keyword`` and ``node``."""
        start = (int(keyword.end_line or 1), int(keyword.end_column or 1))
        end = (node.span.line, node.span.column)
        for n in range(start[0], end[0] + 1):
            text = self.ctx.lines[n - 1]
            lo = start[1] - 1 if n == start[0] else 0
            hi = end[1] - 1 if n == end[0] else len(text)
            if "(" in text[lo:hi].split("#", 1)[0]:
                return True
        return False

    def shared(self, c: list[Any]) -> ast.SharedDecl:
        kind, name = self._tokens(c, "NAME")[:2]
        span = self._span(c)
        return ast.SharedDecl(
            kind.value,
            self._tok_span(kind),
            name.value,
            self._tok_span(name),
            c[-1],
            span,
            self._claim(span),
        )

    def spread(self, c: list[Any]) -> ast.Spread:
        name = c[-1]
        span = self._span(c)
        return ast.Spread(name.value, self._tok_span(name), span, self._claim(span))

    def rule(self, c: list[Any]) -> ast.RuleDecl:
        name_tok = c[1]
        when = None
        sends = []
        for node in self._nodes(c):
            if isinstance(node, tuple):
                when = node[1]
            else:
                sends.append(node)
        span = self._span(c)
        return ast.RuleDecl(
            _decode_string(name_tok, self.ctx),
            self._tok_span(name_tok),
            when,
            tuple(sends),
            span,
            self._claim(span),
        )

    def env_pixel(self, c: list[Any]) -> ast.EnvPixel:
        name = c[1]
        span = self._span(c)
        return ast.EnvPixel(name.value, self._tok_span(name), c[-1], span, self._claim(span))

    def serve(self, c: list[Any]) -> ast.ServeDecl:
        span = self._span(c)
        return ast.ServeDecl(c[-1], span, self._claim(span))

    def environment(self, c: list[Any]) -> ast.EnvironmentDecl:
        name = c[1]
        span = self._span(c)
        return ast.EnvironmentDecl(
            name.value, self._tok_span(name), tuple(self._nodes(c)), span, self._claim(span)
        )

    def expect_send(self, c: list[Any]) -> ast.ExpectSend:
        rule_tok = c[1]
        event, quoted, event_span = c[3]
        pixel = c[5]
        span = self._span(c)
        return ast.ExpectSend(
            _decode_string(rule_tok, self.ctx),
            self._tok_span(rule_tok),
            event,
            quoted,
            event_span,
            pixel.value,
            self._tok_span(pixel),
            c[6],
            span,
            self._claim(span),
        )

    def expect_rule_nothing(self, c: list[Any]) -> ast.ExpectRuleNothing:
        rule_tok = c[1]
        span = self._span(c)
        return ast.ExpectRuleNothing(
            _decode_string(rule_tok, self.ctx), self._tok_span(rule_tok), span, self._claim(span)
        )

    def expect_nothing(self, c: list[Any]) -> ast.ExpectNothing:
        span = self._span(c)
        return ast.ExpectNothing(span, self._claim(span))

    def test(self, c: list[Any]) -> ast.TestDecl:
        name_tok = c[1]
        span = self._span(c)
        return ast.TestDecl(
            _decode_string(name_tok, self.ctx),
            self._tok_span(name_tok),
            tuple(self._nodes(c)),
            span,
            self._claim(span),
        )

    def start(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(self._nodes(c))
