"""The parser: source text -> AST with spans, comments, literals, precedence and recovery.

``capic.syntax.parser.parse_text`` is the parser's entry point (one file, no resolution);
``capic.api.parse`` adds resolution and is used where the IR is the thing to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

import pytest

from capic import api
from capic.diagnostics import Span
from capic.syntax import ast
from capic.syntax.parser import parse_text
from tests.conftest import SAMPLES


def parse_ok(text: str, path: str = "t.capi") -> ast.File:
    tree, diags = parse_text(text, path)
    assert diags == [], [(d.code, d.message, d.span) for d in diags]
    assert tree is not None
    return tree


def element_value(text: str) -> ast.Expr:
    tree = parse_ok(f"element x = {text}\n")
    item = tree.items[0]
    assert isinstance(item, ast.ElementDecl)
    return item.value


def nodes(obj: Any) -> Iterator[Any]:
    """Every AST node below ``obj`` (dataclasses with a span), depth first."""
    if isinstance(obj, tuple):
        for item in obj:
            yield from nodes(item)
    elif is_dataclass(obj) and not isinstance(obj, type | Span):
        if hasattr(obj, "span"):
            yield obj
        for f in fields(obj):
            yield from nodes(getattr(obj, f.name))


def shape(expr: ast.Expr) -> Any:
    """A compact structural view of an expression for precedence tests."""
    if isinstance(expr, ast.Binary):
        return (expr.op, shape(expr.left), shape(expr.right))
    if isinstance(expr, ast.Unary):
        return (expr.op, shape(expr.operand))
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Attr):
        return f"{shape(expr.base)}.{expr.name}"
    if isinstance(expr, ast.Call):
        return (expr.func, *[shape(a) for a in expr.args])
    if isinstance(expr, ast.Match):
        return ("matches", shape(expr.operand), expr.pattern, expr.flags)
    return type(expr).__name__


# ----------------------------------------------------------------------------- samples


SAMPLE_FILES = sorted(SAMPLES.glob("**/*.capi"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_files_parse_and_every_span_lies_inside_the_file(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    tree = parse_ok(text, path.name)
    assert tree.items
    for node in nodes(tree.items):
        for name in ("span", "name_span", "key_span", "event_span", "pixel_span", "rule_span"):
            span = getattr(node, name, None)
            if span is None:
                continue
            assert span.file == path.name
            assert 1 <= span.line <= span.end_line <= len(lines), (node, name)
            assert 1 <= span.column <= len(lines[span.line - 1]) + 1
            assert 1 <= span.end_column <= len(lines[span.end_line - 1]) + 1
            if span.line == span.end_line:
                assert span.column < span.end_column, (node, name)


def test_spans_of_a_rule() -> None:
    text = (
        'rule "MetaConversion_Lead" {\n'
        '  when event.type == "lead"\n'
        "  send Lead to shop {\n"
        "    event_id = event.id\n"
        "  }\n"
        "}\n"
    )
    rule = parse_ok(text).items[0]
    assert isinstance(rule, ast.RuleDecl)
    assert rule.name == "MetaConversion_Lead"
    assert rule.span == Span("t.capi", 1, 1, 6, 2)
    assert rule.name_span == Span("t.capi", 1, 6, 1, 27)
    assert rule.when is not None and rule.when.span == Span("t.capi", 2, 8, 2, 28)
    send = rule.sends[0]
    assert (send.event, send.event_quoted, send.pixel) == ("Lead", False, "shop")
    assert send.event_span == Span("t.capi", 3, 8, 3, 12)
    assert send.pixel_span == Span("t.capi", 3, 16, 3, 20)
    field = send.body.items[0]
    assert isinstance(field, ast.Assignment)
    assert field.key == "event_id"
    assert field.key_span == Span("t.capi", 4, 5, 4, 13)
    assert field.span == Span("t.capi", 4, 5, 4, 24)


def test_custom_event_names_are_strings() -> None:
    rule = parse_ok('rule "r" { send "My Custom Event" to shop { } }').items[0]
    assert isinstance(rule, ast.RuleDecl)
    assert (rule.sends[0].event, rule.sends[0].event_quoted) == ("My Custom Event", True)


def test_every_declaration_kind() -> None:
    text = """
pixel shop { id = "1" access_token = env("T") }
element e = 1
rule "r" { send Lead to shop { } }
environment production { }
test "t" { event = {} expect nothing }
"""
    kinds = [type(i).__name__ for i in parse_ok(text).items]
    assert kinds == ["PixelDecl", "ElementDecl", "RuleDecl", "EnvironmentDecl", "TestDecl"]


def test_empty_and_comment_only_files() -> None:
    assert parse_ok("").items == ()
    tree = parse_ok("# nothing here\n\n   # still nothing\n")
    assert tree.items == ()
    assert [c.text for c in tree.comments] == ["# nothing here", "# still nothing"]


# ----------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("2.50", 2.5),
        ("1e3", 1000.0),
        ("6.02E-2", 0.0602),
        ("-7", -7),
        ("- 1.5", -1.5),
        ("true", True),
        ("false", False),
        ("null", None),
        ('""', ""),
        ('"plain"', "plain"),
        (r'"tab\tnew\nline"', "tab\tnew\nline"),
        (r'"quote \" back \\ slash \/"', 'quote " back \\ slash /'),
        (r'"\u00e9t\u00E9"', "été"),
        (r'"\u{1F600}"', "\U0001f600"),
        ('"Zoë 李 ✓"', "Zoë 李 ✓"),
    ],
)
def test_literals(source: str, value: Any) -> None:
    expr = element_value(source)
    assert isinstance(expr, ast.Literal)
    assert expr.value == value
    assert type(expr.value) is type(value)


@pytest.mark.parametrize(
    ("source", "code", "column"),
    [
        (r'"a\qb"', "S004", 15),
        (r'"\uD800"', "S004", 14),
        (r'"\u{110000}"', "S004", 14),
        ('"open', "S003", 13),
        ("'single'", "S014", 13),
    ],
)
def test_bad_strings(source: str, code: str, column: int) -> None:
    tree, diags = parse_text(f"element x = {source}\n", "t.capi")
    assert tree is None
    assert [(d.code, d.span.line, d.span.column) for d in diags if d.span] == [(code, 1, column)]


def test_lists_objects_and_trailing_commas() -> None:
    expr = element_value('[1, "a", [], {}, {a = 1, "b c": 2, d: [3,],},]')
    assert isinstance(expr, ast.ListLit)
    assert len(expr.items) == 5
    obj = expr.items[4]
    assert isinstance(obj, ast.ObjectLit)
    assert [e.key for e in obj.entries] == ["a", "b c", "d"]
    assert ast.literal_value(obj) == {"a": 1, "b c": 2, "d": [3]}


def test_regex_literals_keep_pattern_and_flags() -> None:
    expr = element_value(r"event.url matches /^https:\/\/shop\.example\.com\/(cart|checkout)/im")
    assert isinstance(expr, ast.Match)
    assert expr.pattern == r"^https://shop\.example\.com/(cart|checkout)"
    assert expr.flags == "im"
    assert expr.pattern_span.column == 31


# ----------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a or b and c", ("or", "a", ("and", "b", "c"))),
        ("not a and b", ("and", ("not", "a"), "b")),
        ("not a == b", ("not", ("==", "a", "b"))),
        ("a == b ?? c", ("==", "a", ("??", "b", "c"))),
        ("a ?? b ?? c", ("??", "a", ("??", "b", "c"))),
        ("a ?? b + c", ("??", "a", ("+", "b", "c"))),
        ("a + b * c - d", ("-", ("+", "a", ("*", "b", "c")), "d")),
        ("a / b / c", ("/", ("/", "a", "b"), "c")),
        ("-a * b", ("*", ("neg", "a"), "b")),
        ("(a + b) * c", ("*", ("+", "a", "b"), "c")),
        ("a not in b", ("not_in", "a", "b")),
        ("a in b or c contains d", ("or", ("in", "a", "b"), ("contains", "c", "d"))),
        ("x.y starts_with z", ("starts_with", "x.y", "z")),
        ('a iequals "B"', ("iequals", "a", "B")),
        ("a matches /x/ and b", ("and", ("matches", "a", "x", ""), "b")),
        ("lower(a) == b", ("==", ("lower", "a"), "b")),
    ],
)
def test_precedence_and_associativity(source: str, expected: Any) -> None:
    assert shape(element_value(source)) == expected


@pytest.mark.parametrize("source", ["a == b == c", "a < b < c", "a in b in c"])
def test_comparisons_do_not_chain(source: str) -> None:
    tree, diags = parse_text(f"element x = {source}\n", "t.capi")
    assert tree is None
    assert diags and diags[0].span is not None and diags[0].span.line == 1


def test_paths_attributes_and_indexes() -> None:
    expr = element_value('request.headers["user-agent"][0].value')
    assert isinstance(expr, ast.Attr) and expr.name == "value"
    idx = expr.base
    assert isinstance(idx, ast.Index)
    assert isinstance(idx.index, ast.Literal) and idx.index.value == 0
    inner = idx.base
    assert isinstance(inner, ast.Index)
    assert isinstance(inner.index, ast.Literal) and inner.index.value == "user-agent"
    assert shape(inner.base) == "request.headers"


def test_comprehensions() -> None:
    expr = element_value("[for p in event.items : {id = p.sku, n = p.qty ?? 1} if exists(p.sku)]")
    assert isinstance(expr, ast.Comprehension)
    assert expr.var == "p"
    assert shape(expr.source) == "event.items"
    assert isinstance(expr.body, ast.ObjectLit)
    assert shape(expr.cond) == ("exists", "p.sku")
    plain = element_value("[for x in xs : x]")
    assert isinstance(plain, ast.Comprehension) and plain.cond is None


def test_calls_with_and_without_arguments() -> None:
    assert shape(element_value("now()")) == ("now",)
    assert shape(element_value('concat(a, "-", b,)')) == ("concat", "a", "-", "b")


# ----------------------------------------------------------------------------- comments


NOQA = """\
# The purchase rule.
rule "r" {  # noqa: RULE1
  when event.a == 1  # noqa: WHEN1
  send Lead to shop {  # noqa: SEND1
    # the dedup key
    event_id = event.id  # noqa: X001
    user {
      em = event.email
    }  # noqa: USER1
  }
}  # noqa: END1
element e = 1  # noqa: E1
# a closing remark
"""


def texts(stmt: Any) -> list[str]:
    return [c.text for c in stmt.comments]


def test_trailing_noqa_comments_attach_to_their_statement() -> None:
    tree = parse_ok(NOQA)
    rule, element = tree.items
    assert isinstance(rule, ast.RuleDecl) and isinstance(element, ast.ElementDecl)
    assert texts(rule) == ["# The purchase rule.", "# noqa: RULE1", "# noqa: WHEN1", "# noqa: END1"]
    send = rule.sends[0]
    assert texts(send) == ["# noqa: SEND1"]
    event_id, user = send.body.items
    assert texts(event_id) == ["# the dedup key", "# noqa: X001"]
    assert isinstance(user, ast.Section)
    assert texts(user) == ["# noqa: USER1"]
    assert texts(user.body.items[0]) == []
    assert texts(element) == ["# noqa: E1"]
    # The file keeps every comment, in order, including the one no statement claims.
    assert [c.text for c in tree.comments][-1] == "# a closing remark"
    assert len(tree.comments) == 10


def test_comment_spans() -> None:
    tree = parse_ok('element e = "#not a comment"  # real\n')
    assert [(c.text, c.span) for c in tree.comments] == [("# real", Span("t.capi", 1, 31, 1, 37))]
    element = tree.items[0]
    assert isinstance(element, ast.ElementDecl)
    assert isinstance(element.value, ast.Literal) and element.value.value == "#not a comment"


def test_comments_reach_the_ir() -> None:
    result = api.parse('pixel shop { id = "1" access_token = env("T") }\n' + NOQA, "noqa.capi")
    assert result.project is not None, result.diagnostics
    rule = result.project.rules[0]
    assert "# noqa: RULE1" in [c.text for c in rule.comments]
    event_id = rule.sends[0].body.field("event_id")
    assert event_id is not None
    assert [c.text for c in event_id.comments] == ["# the dedup key", "# noqa: X001"]


# ----------------------------------------------------------------------------- input forms


def test_crlf_line_endings_give_the_same_tree_and_positions() -> None:
    text = 'element a = 1\nelement b = "x"  # c\n'
    lf = parse_ok(text)
    crlf = parse_ok(text.replace("\n", "\r\n"))
    assert lf == crlf


def test_tabs_count_as_one_column() -> None:
    tree, diags = parse_text("\telement a = $\n", "t.capi")
    assert tree is None
    assert [(d.code, d.span.line, d.span.column) for d in diags if d.span] == [("S002", 1, 14)]


def test_byte_order_mark_is_accepted_by_the_loader(tmp_path: Any) -> None:
    (tmp_path / "bom.capi").write_bytes("\ufeffelement a = 1\n".encode())
    result = api.load_project(tmp_path / "bom.capi")
    assert result.ok, result.diagnostics


# ----------------------------------------------------------------------------- recovery


def test_every_broken_declaration_is_reported_in_one_run() -> None:
    text = """\
element a = [1 2]
element fine = 1
rule unquoted { send Lead to shop { } }
element b = 'single'
pixel shop { id = "1", access_token = env("T") }
"""
    tree, diags = parse_text(text, "t.capi")
    assert tree is None
    got = [(d.code, d.span.line) for d in diags if d.span]
    assert got == [("S019", 1), ("S012", 3), ("S014", 4), ("S013", 5)]


def test_an_error_inside_a_block_does_not_hide_the_next_declaration() -> None:
    text = """\
rule "r" {
  send Lead to shop {
    event_id = ,
  }
}
element ok = 1
element bad = 1 +
"""
    tree, diags = parse_text(text, "t.capi")
    assert tree is None
    assert [(d.code, d.span.line) for d in diags if d.span] == [("S013", 3), ("S023", 8)]


def _sends(body: str) -> list[ast.SendDecl]:
    tree = parse_ok(f'rule "r" {{\n{body}\n}}\n')
    rule = tree.items[0]
    assert isinstance(rule, ast.RuleDecl)
    return list(rule.sends)


def test_event_names_literal_quoted_and_computed() -> None:
    plain, quoted, table, element, fallback = _sends(
        "  send Purchase to shop { }\n"
        '  send "MyEvent" to shop { }\n'
        "  send names[event.type] to shop { }\n"
        "  send (chosen) to shop { }\n"
        '  send names[event.type] ?? "Other" to shop { }'
    )
    assert (plain.event, plain.event_quoted, plain.event_expr) == ("Purchase", False, None)
    assert (quoted.event, quoted.event_quoted, quoted.event_expr) == ("MyEvent", True, None)
    assert table.event == "names[event.type]" and isinstance(table.event_expr, ast.Index)
    assert element.event == "chosen" and isinstance(element.event_expr, ast.Name)
    assert fallback.event == 'names[event.type] ?? "Other"'
    assert isinstance(fallback.event_expr, ast.Binary) and fallback.event_expr.op == "??"
    assert table.event_span == Span("t.capi", 4, 8, 4, 25)


def test_if_then_else_binds_loosest_and_chains() -> None:
    value = element_value('if a then 1 else if b then 2 else c ?? "x"')
    assert isinstance(value, ast.Conditional)
    assert isinstance(value.otherwise, ast.Conditional)
    assert isinstance(value.otherwise.otherwise, ast.Binary)  # c ?? "x" is the last branch
    inner = element_value("1 + (if a then 2 else 3)")
    assert isinstance(inner, ast.Binary) and isinstance(inner.right, ast.Conditional)
    filtered = element_value("[for x in xs : if x then 1 else 2 if x > 0]")
    assert isinstance(filtered, ast.Comprehension)
    assert isinstance(filtered.body, ast.Conditional) and isinstance(filtered.cond, ast.Binary)


def test_shared_blocks_and_spreads() -> None:
    tree = parse_ok(
        "shared user customer {\n  ...contact   # the e-mail and phone\n  fn = event.fn\n}\n"
    )
    shared = tree.items[0]
    assert isinstance(shared, ast.SharedDecl)
    assert (shared.kind, shared.name) == ("user", "customer")
    spread, field = shared.body.items
    assert isinstance(spread, ast.Spread) and spread.name == "contact"
    assert spread.span == Span("t.capi", 2, 3, 2, 13)
    assert [c.text for c in spread.comments] == ["# the e-mail and phone"]
    assert isinstance(field, ast.Assignment)


def test_then_and_else_stay_usable_as_field_names() -> None:
    tree = parse_ok('rule "r" {\n  send Lead to shop {\n    then = 1\n    else = 2\n  }\n}\n')
    rule = tree.items[0]
    assert isinstance(rule, ast.RuleDecl)
    keys = [i.key for i in rule.sends[0].body.items if isinstance(i, ast.Assignment)]
    assert keys == ["then", "else"]
