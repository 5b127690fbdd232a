"""Turn Lark's exceptions into diagnostics that say what to write instead.

Lark reports the offending token and the set of terminals the parser would have accepted.
A catalogue of common authoring mistakes (JSON and JavaScript habits, unquoted names, missing
braces) is recognised from that token, the expected set and the text just before it; anything
else gets a generic message listing what was expected.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from capic.codes import code
from capic.diagnostics import Diagnostic, Span


@dataclass
class SyntaxProblem(Exception):
    code: str
    message: str
    span: Span
    help: str | None = None

    def to_diagnostic(self) -> Diagnostic:
        return code(self.code).diagnostic(self.message, self.span, self.help)


_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": 'a string "..."',
    "NUMBER": "a number",
    "REGEX": "a regex literal /.../",
    "$END": "end of file",
}
_DECLARATION_WORDS = {"pixel", "element", "shared", "rule", "environment", "test"}
_OPERATOR_WORDS = {
    "and", "or", "not", "in", "contains", "starts_with", "ends_with", "matches",
    "iequals", "icontains", "istarts_with", "iends_with",
}  # fmt: skip
_EXPR_START = {
    "NAME",
    "STRING",
    "NUMBER",
    "LSQB",
    "LBRACE",
    "LPAR",
    "TRUE",
    "FALSE",
    "NULL",
    "MINUS",
}


@functools.cache
def _terminal_patterns() -> dict[str, str]:
    from capic.syntax.parser import _parser

    out: dict[str, str] = {}
    for term in _parser().lark.terminals:
        if term.pattern.type == "str":
            out[term.name] = term.pattern.value
    return out


def _describe(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    literal = _terminal_patterns().get(name)
    return f"'{literal}'" if literal is not None else name


def _expected_list(expected: set[str]) -> str:
    names = sorted({_describe(n) for n in expected if n not in {"COMMENT", "WS"}})
    if len(names) > 12:
        names = [*names[:12], "..."]
    return ", ".join(names)


def _offset(text: str, line: int, column: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.index("\n", pos) + 1
    return pos + column - 1


def _unclosed_brace(text: str, upto: int, path: str) -> Span | None:
    """Position of the innermost '{' still open at ``upto`` (strings, comments, regexes skipped)."""
    stack: list[int] = []
    i = 0
    token_re = re.compile(r'"([^"\\\n]|\\.)*"|#[^\n]*|[{}]')
    for m in token_re.finditer(text, 0, upto):
        s = m.group(0)
        if s == "{":
            stack.append(m.start())
        elif s == "}" and stack:
            stack.pop()
        i = m.end()
    del i
    if not stack:
        return None
    pos = stack[-1]
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return Span(path, line, col, line, col + 1)


def explain_unexpected(exc: UnexpectedInput, text: str, path: str) -> SyntaxProblem:
    if isinstance(exc, UnexpectedCharacters):
        return _explain_char(exc, text, path)
    if isinstance(exc, UnexpectedEOF):
        return _explain_eof(set(exc.expected), text, path)
    assert isinstance(exc, UnexpectedToken)
    if exc.token.type == "$END":
        return _explain_eof(set(exc.expected), text, path)
    return _explain_token(exc, text, path)


def _explain_char(exc: UnexpectedCharacters, text: str, path: str) -> SyntaxProblem:
    line, col = int(exc.line or 1), int(exc.column or 1)
    ch = exc.char
    span = Span(path, line, col, line, col + 1)
    pos = int(exc.pos_in_stream or 0)
    rest = text[pos : pos + 3]
    if ch == "'":
        return SyntaxProblem(
            "S014", "strings use double quotes", span, "write \"...\" instead of '...'"
        )
    if ch == '"':
        end = text.find("\n", pos)
        end_col = col + ((end if end >= 0 else len(text)) - pos)
        return SyntaxProblem(
            "S003",
            "unterminated string",
            Span(path, line, col, line, max(end_col, col + 1)),
            'close the string with " on the same line (write \\n for a newline)',
        )
    if rest.startswith(("&&", "||")) or ch in "&|":
        word = "and" if ch == "&" else "or"
        return SyntaxProblem(
            "S016", f"'{rest[:2].strip()}' is not a capic operator", span, f"write `{word}`"
        )
    if ch == "!":
        return SyntaxProblem(
            "S016", "'!' is not a capic operator", span, "write `not` (or != to compare)"
        )
    if ch == "/" and "REGEX" in (exc.allowed or set()):
        return SyntaxProblem(
            "S001", "unterminated regex literal", span, "close the regex with / on the same line"
        )
    return SyntaxProblem(
        "S002",
        f"unexpected character {ch!r}",
        span,
        f"expected {_expected_list(set(exc.allowed or ()))}" if exc.allowed else None,
    )


def _explain_eof(expected: set[str], text: str, path: str) -> SyntaxProblem:
    lines = text.split("\n")
    end = Span(path, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 1)
    if "RBRACE" in expected:
        opened = _unclosed_brace(text, len(text), path)
        where = (
            f" (the block opened at line {opened.line}, column {opened.column})" if opened else ""
        )
        return SyntaxProblem(
            "S010",
            f"missing '}}' before the end of the file{where}",
            opened or end,
            "add '}' where the block ends",
        )
    return SyntaxProblem(
        "S023",
        "unexpected end of file",
        end,
        f"expected {_expected_list(expected)}",
    )


def _explain_token(exc: UnexpectedToken, text: str, path: str) -> SyntaxProblem:
    tok: Token = exc.token
    expected = set(exc.expected)
    span = Span(path, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]
    value = str(tok.value)
    start = _offset(text, tok.line, tok.column)  # type: ignore[arg-type]
    before = text[:start]
    generic_help = f"expected {_expected_list(expected)}"
    patterns = _terminal_patterns()
    expected_literals = {patterns.get(n, n) for n in expected}

    if value in _DECLARATION_WORDS and "RBRACE" in expected and tok.column == 1:
        opened = _unclosed_brace(text, start, path)
        where = f" opened at line {opened.line}, column {opened.column}" if opened else ""
        return SyntaxProblem(
            "S010",
            f"missing '}}': the block{where} is not closed before `{value}`",
            opened or span,
            "add '}' where the block ends",
        )
    # `in = 1` on a line of its own: the operator word continued the previous expression.
    key_word = re.search(r"(?:^|\n)[ \t]*([a-z_]+)[ \t]*$", before)
    if value in {"=", ":"} and key_word and key_word.group(1) in _OPERATOR_WORDS:
        word, pos = key_word.group(1), key_word.start(1)
        line = before.count("\n", 0, pos) + 1
        col = pos - before.rfind("\n", 0, pos)
        return SyntaxProblem(
            "S021",
            f"`{word}` is a reserved word",
            Span(path, line, col, line, col + len(word)),
            f'quote it as a key ("{word}" = ...) or use another name',
        )
    if value == "=" and before.rstrip().endswith("=="):
        return SyntaxProblem("S016", "'===' is not a capic operator", span, "write ==")
    if value == "=" and "==" in expected_literals:
        return SyntaxProblem(
            "S011", "'=' where a comparison is expected", span, "write == to compare"
        )
    if tok.type == "NAME" and re.search(r"\b(rule|test)\s*$", before) and "STRING" in expected:
        kind = "rule" if before.rstrip().endswith("rule") else "test"
        return SyntaxProblem(
            "S012", f"{kind} names are strings", span, f'write {kind} "{value}" {{ ... }}'
        )
    if value == "," and "COMMA" not in expected:
        return SyntaxProblem(
            "S013",
            "unexpected ',' in a block",
            span,
            "remove the comma: a block has one `key = value` per line",
        )
    if value == ":" and "COLON" not in expected:
        return SyntaxProblem(
            "S015",
            "':' used to set a field",
            span,
            "write `key = value` (':' is only for objects { ... })",
        )
    if re.search(r"\bsend\s+(\w+|\"([^\"\\\n]|\\.)*\")\s*$", before) and (
        "TO" in expected or value == "{"
    ):
        return SyntaxProblem(
            "S017", "a send action needs `to PIXEL`", span, "write send EVENT to PIXEL { ... }"
        )
    if tok.type == "STRING" and "REGEX" in expected:
        return SyntaxProblem(
            "S018",
            "`matches` takes a regex literal",
            span,
            f"write matches /{_regexify(value[1:-1])}/",
        )
    if "ELSE" in expected and value != "else":
        ifs = [m.start() for m in re.finditer(r"(?<![\w.\"])if(?![\w])", before)]
        if ifs:  # point at the `if` whose `else` is missing
            pos = ifs[-1]
            line = before.count("\n", 0, pos) + 1
            col = pos - before.rfind("\n", 0, pos)
            span = Span(path, line, col, line, col + 2)
        return SyntaxProblem(
            "S050",
            "an `if` expression needs `else`",
            span,
            "write if CONDITION then A else B (else null when there is nothing to send)",
        )
    if re.search(r"(?<![\w.\"])if[ \t]*$", before):
        return SyntaxProblem(
            "S050",
            "`if ... then ... else` inside another expression needs parentheses",
            span,
            "write (if CONDITION then A else B)",
        )
    if value == "when":
        return SyntaxProblem(
            "S020",
            "`when` must come once, before the actions of a rule",
            span,
            "move the condition to the start of the rule and join conditions with and/or",
        )
    if value in _OPERATOR_WORDS and "NAME" in expected:
        return SyntaxProblem(
            "S021",
            f"`{value}` is a reserved word",
            span,
            f'quote it as a key ("{value}" = ...) or use another name',
        )
    if re.search(r"\belement\s+\w+\s*$", before) and "EQUAL" in expected:
        return SyntaxProblem(
            "S022", "missing '=' after the element name", span, "write element NAME = EXPR"
        )
    if "EQUAL" in expected and "LBRACE" in expected and tok.type in _EXPR_START | {"NAME"}:
        return SyntaxProblem(
            "S022",
            "missing '=' between a field name and its value",
            span,
            "write key = value (or key { ... } for a section)",
        )
    dangling = re.search(r"(?:^|\n)(pixel|element|shared|rule|environment|test)\s*$", before)
    if dangling and value not in {"=", "{"}:
        # A declaration keyword was read as a name: the declaration before it is unfinished.
        line = before.count("\n", 0, dangling.start(1)) + 1
        return SyntaxProblem(
            "S001",
            f"the declaration before line {line} is incomplete",
            span,
            "finish the previous declaration (a value is missing after '=')",
        )
    if "COMMA" in expected and tok.type in _EXPR_START:
        return SyntaxProblem(
            "S019", "missing ',' between items", span, "separate items with commas"
        )
    return SyntaxProblem("S001", f"unexpected {_token_text(tok)}", span, generic_help)


def _token_text(tok: Token) -> str:
    if tok.type in {"NAME", "NUMBER"}:
        return f"{_TERMINAL_NAMES[tok.type].removeprefix('a ')} '{tok.value}'"
    if tok.type == "STRING":
        return f"string {tok.value}"
    return f"'{tok.value}'"


def _regexify(s: str) -> str:
    return s.replace("/", "\\/")
