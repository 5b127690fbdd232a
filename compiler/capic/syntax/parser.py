"""Source text -> AST, in one pass.

The Lark LALR parser runs with the transformer embedded (no parse tree is built) and keeps all
tokens so that every node's span is computed from its first and last token. Comments are
collected by a lexer callback and attached to statements as they are reduced. The parser is
built once per process.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark import lexer as lark_lexer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from capic import limits
from capic.diagnostics import Diagnostic, Span
from capic.resources import grammar_text
from capic.syntax import ast
from capic.syntax.errors import SyntaxProblem, explain_unexpected
from capic.syntax.redact import redact

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


class _Builder(Transformer[Token, Any]):
    """Embedded transformer: Lark calls it at each reduction."""

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
        def method(self: _Builder, c: list[Any]) -> ast.Binary:
            return self._binary(op, c)

        return method

    for rule_name, op in _BINARY_OPS.items():
        setattr(_Builder, rule_name, make(op))


_install_binary_ops()

#: Binary operator spellings as written in source, for messages and docs.
OPERATOR_SPELLING = {
    "not_in": "not in",
    **{v: v for v in _BINARY_OPS.values() if v != "not_in"},
}


#: Statement keywords that may also name a field. LALR look-ahead can make the contextual lexer
#: read them as keywords after an expression (`now = 1` then `environment = "dev"` in a test);
#: the parser's error handler then reads them again as names. Operator words stay reserved.
_SOFT_KEYWORDS = frozenset(
    {"pixel", "element", "shared", "rule", "environment", "test", "send", "expect", "then", "else"}
)
_ASSIGNS = re.compile(r"(?:\s|#[^\n]*)*=(?!=)")


class _Parser:
    def __init__(self, strict: bool = False) -> None:
        self.builder = _Builder()
        callbacks = {"COMMENT": self._on_comment}
        lark = None if strict else _from_tables(self.builder, callbacks)
        if lark is not None:
            # Only with the Lark version the tables were generated (and tested) with: the fast
            # driver uses Lark internals.
            self.lark = lark
            _install_fast_driver(lark)
            return
        # Lark checks every pair of terminals for collisions whenever `interegular` is
        # installed: ~0.7 s on each CLI start. The grammar is fixed, and the test suite builds
        # it with strict=True (which runs that check), so normal starts skip it.
        saved = lark_lexer.has_interegular
        if not strict:
            lark_lexer.has_interegular = False
        try:
            self.lark = Lark(
                grammar_text(),
                parser="lalr",
                lexer="contextual",
                keep_all_tokens=True,
                maybe_placeholders=True,
                transformer=self.builder,
                lexer_callbacks=callbacks,
                strict=strict,
            )
        finally:
            lark_lexer.has_interegular = saved

    def _on_comment(self, tok: Token) -> Token:
        ctx = self.builder.ctx
        ctx.unclaimed.append(len(ctx.comments))
        line, column = int(tok.line or 1), int(tok.column or 1)
        text = str(tok.value).rstrip("\r")
        if ctx.lines[line - 1][: column - 1].strip():
            ctx.trailing.add(len(ctx.comments))
        ctx.comments.append(
            ast.Comment(text, Span(ctx.path, line, column, line, column + len(text)))
        )
        return tok

    def parse(self, text: str, path: str) -> tuple[tuple[Any, ...], list[ast.Comment]]:
        self.builder.ctx = ctx = _Context(path, lines=text.split("\n"))

        def soft_keyword(exc: UnexpectedInput) -> bool:
            """A keyword followed by `=` where a field name may stand is a field name."""
            if not isinstance(exc, UnexpectedToken) or not {"NAME", "RBRACE"} <= exc.expected:
                return False
            tok = exc.token
            if tok.value not in _SOFT_KEYWORDS or not _ASSIGNS.match(text, int(tok.end_pos or 0)):
                return False
            exc.interactive_parser.feed_token(Token.new_borrow_pos("NAME", str(tok.value), tok))
            return True

        items: tuple[Any, ...] = self.lark.parse(text, on_error=soft_keyword)  # type: ignore[assignment]
        return items, ctx.comments


def _from_tables(builder: _Builder, callbacks: dict[str, Any]) -> Lark | None:
    """The parser from the pre-computed LALR tables (``syntax/_tables.py``, generated by
    ``scripts/gen_parser_tables.py``): ~0.3 s faster to start than analysing the grammar.
    None when the tables were generated from another grammar or by another Lark version."""
    import hashlib

    import lark

    from capic.syntax import _tables

    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()
    if digest != _tables.GRAMMAR_SHA256 or lark.__version__ != _tables.LARK_VERSION:
        return None
    data, memo = decode_tables(_tables.TABLES)
    return Lark._load_from_dict(  # type: ignore[no-untyped-call]
        data, memo, transformer=builder, lexer_callbacks=callbacks
    )


def _install_fast_driver(lark: Lark) -> None:
    """Run this Lark instance's LALR loop with pre-digested tables.

    Lark's ``ParserState.feed_token`` looks up ``Rule`` objects (hashing and comparing them) and
    calls a callback for every reduction, including the ~10 single-child reductions of the
    precedence chain (``?expr: or_expr`` ... ``?postfix: atom``) each atom goes through. The
    subclass below reads a table of plain tuples, passes single-child reductions through
    without a call, and defers to Lark's own ``feed_token`` for anything it does not know (a
    syntax error), so errors, the interactive parser and the soft-keyword recovery behave
    exactly as before."""
    from lark.parse_tree_builder import ExpandSingleChild
    from lark.parsers.lalr_analysis import Shift
    from lark.parsers.lalr_interactive_parser import InteractiveParser
    from lark.parsers.lalr_parser_state import ParseConf, ParserState

    inner = lark.parser.parser.parser
    callbacks = inner.callbacks
    # actions[state][terminal]: an int (shift to that state) or (origin, size, callback), the
    # callback None for a single-child reduction whose value is its child.
    actions: dict[Any, dict[str, Any]] = {}
    gotos: dict[Any, dict[str, Any]] = {}
    for state, row in inner.parse_table.states.items():
        acts: dict[str, Any] = {}
        for sym, (action, arg) in row.items():
            if action is Shift:
                if sym.isupper() or sym.startswith("$"):
                    acts[sym] = arg
                gotos.setdefault(state, {})[sym] = arg
            else:
                size = len(arg.expansion)
                cb = callbacks[arg]
                passthrough = type(cb) is ExpandSingleChild and size == 1
                acts[sym] = (arg.origin.name, size, None if passthrough else cb)
        actions[state] = acts

    class FastParserState(ParserState):
        __slots__ = ()

        def feed_token(self, token: Token, is_end: bool = False) -> Any:
            state_stack = self.state_stack
            value_stack = self.value_stack
            ttype = token.type
            while True:
                row = actions.get(state_stack[-1])
                act = row.get(ttype) if row is not None else None
                if act is None:
                    # Unknown here (a syntax error): Lark's own loop raises it as it always did.
                    return ParserState.feed_token(self, token, is_end)
                if type(act) is int:
                    state_stack.append(act)
                    value_stack.append(token if ttype not in callbacks else callbacks[ttype](token))
                    return None
                origin, size, cb = act
                if cb is None:
                    del state_stack[-1]
                    state_stack.append(gotos[state_stack[-1]][origin])
                else:
                    if size:
                        children = value_stack[-size:]
                        del state_stack[-size:]
                        del value_stack[-size:]
                    else:
                        children = []
                    state_stack.append(gotos[state_stack[-1]][origin])
                    value_stack.append(cb(children))
                if is_end and state_stack[-1] == self.parse_conf.end_state:
                    return value_stack[-1]

    def parse(
        lexer: Any,
        start: str,
        value_stack: Any = None,
        state_stack: Any = None,
        start_interactive: bool = False,
    ) -> Any:
        parse_conf = ParseConf(inner.parse_table, inner.callbacks, start)
        parser_state = FastParserState(parse_conf, lexer, state_stack, value_stack)
        if start_interactive:
            return InteractiveParser(inner, parser_state, parser_state.lexer)
        return inner.parse_from_state(parser_state)

    inner.parse = parse


def decode_tables(text: str) -> tuple[dict[str, Any], dict[int, Any]]:
    """Lark's serialized LALR tables (``Lark.memo_serialize``) from their JSON text: JSON has
    no int keys and no tuples, so restore them where Lark's format has them."""
    import json

    raw = json.loads(text)
    data: dict[str, Any] = raw["data"]
    memo = {int(k): v for k, v in raw["memo"].items()}
    for value in memo.values():
        options = value.get("options") if isinstance(value, dict) else None
        if isinstance(options, dict) and isinstance(options.get("empty_indices"), list):
            options["empty_indices"] = tuple(options["empty_indices"])
    table = data["parser"]["parser"]
    table["tokens"] = {int(k): v for k, v in table["tokens"].items()}
    table["states"] = {
        int(state): {int(tok): tuple(action) for tok, action in actions.items()}
        for state, actions in table["states"].items()
    }
    return data, memo


@functools.cache
def _parser() -> _Parser:
    return _Parser()


def build_lark(strict: bool = False) -> Lark:
    """A fresh Lark instance for the grammar (the test suite builds it with ``strict=True``)."""
    return _Parser(strict=strict).lark


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
    "parse_text",
]
