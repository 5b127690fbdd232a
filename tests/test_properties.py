"""Property tests (hypothesis) for the front end.

* Random *valid* programs, built from a small generator of declarations and typed expressions
  and laid out with random whitespace and comments, always give an IR and no diagnostics.
* Random mangled versions of the sample files (truncation, deletion of a span, byte flips,
  inserted junk) never raise: they give diagnostics whose positions lie inside the file, and
  ``capic check`` exits 0, 1 or 2 with ``file:line:col`` lines, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capic import api
from capic.cli import cli
from capic.diagnostics import Diagnostic
from tests.conftest import SAMPLES

Tokens = list[str]
Draw = Callable[..., Any]

# ----------------------------------------------------------------------------- valid programs

#: Field names after `.`; the contextual lexer reads keywords here as names.
FIELDS = ["a", "id", "items", "value", "to", "test", "rule", "send", "when", "nothing", "email"]
ODD_KEYS = ["user-agent", "x y", "in", "é", ""]
STRINGS = ["", "x", "USD", "a b", 'q"uote', "back\\slash", "tab\t", "Zoë", "李", "line\nbreak"]
REGEXES = [r"/^https:\/\//", r"/a|b/i", r"/\d+/", r"/x.y/ms"]
USER_KEYS = ["em", "ph", "fn", "ln", "external_id", "client_ip_address", "fbp"]
CUSTOM_KEYS = ["value", "currency", "content_ids", "contents", "order_id", "k_1", "test"]
EVENTS = ["Purchase", "Lead", "AddToCart", '"MyCustomEvent"']


def words(text: str) -> Tokens:
    """Tokens of a fixed fragment (none of them contains a space)."""
    return text.split()


def string_token(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


@st.composite
def path_expr(draw: Draw, roots: tuple[str, ...]) -> Tokens:
    toks: Tokens = [draw(st.sampled_from(roots))]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            toks += [".", draw(st.sampled_from(FIELDS))]
        elif kind == 1:
            toks += ["[", string_token(draw(st.sampled_from(ODD_KEYS))), "]"]
        else:
            toks += ["[", str(draw(st.integers(0, 3))), "]"]
    return toks


def number_token(draw: Draw) -> Tokens:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return [str(draw(st.integers(0, 10**6)))]
    if kind == 1:
        return [repr(draw(st.floats(0, 1e6, allow_nan=False, allow_infinity=False)))]
    return ["-", str(draw(st.integers(1, 99)))]


def string_literal(draw: Draw) -> Tokens:
    return [string_token(draw(st.sampled_from(STRINGS)))]


def call(fn: str, *args: Tokens) -> Tokens:
    out: Tokens = [fn, "("]
    for i, arg in enumerate(args):
        out += [*([","] if i else []), *arg]
    return [*out, ")"]


def binary(left: Tokens, op: str, right: Tokens) -> Tokens:
    return ["(", *left, *op.split(), *right, ")"]


@st.composite
def expr(draw: Draw, kind: str, roots: tuple[str, ...], depth: int = 2) -> Tokens:
    """A typed expression: kind is "num", "str", "bool" or "any". Operands of arithmetic and
    of ordering are numbers or values of unknown type (paths, names), so the resolver's literal
    type checks always pass; every other operand may be anything."""

    def sub(k: str) -> Tokens:
        return draw(expr(k, roots, depth - 1))

    def unknown() -> Tokens:
        return draw(path_expr(roots))

    if kind == "any":
        kind = draw(st.sampled_from(["num", "str", "bool"]))
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return unknown()
        if kind == "num":
            return number_token(draw)
        if kind == "str":
            return string_literal(draw)
        return [draw(st.sampled_from(["true", "false"]))]
    if kind == "num":
        options: list[Callable[[], Tokens]] = [
            lambda: binary(sub("num"), draw(st.sampled_from(["+", "-", "*"])), sub("num")),
            lambda: binary(sub("num"), "/", [str(draw(st.integers(1, 9)))]),
            lambda: ["-", *unknown()],
            lambda: call("len", sub("any")),
            lambda: call("number", sub("any")),
            lambda: call("round", sub("num"), [str(draw(st.integers(0, 4)))]),
            lambda: call("sum", unknown()),
            lambda: call("now"),
        ]
    elif kind == "str":
        options = [
            lambda: call(
                draw(st.sampled_from(["lower", "upper", "trim", "url_host", "sha256"])), sub("str")
            ),
            lambda: call("string", sub("num")),
            lambda: call("concat", sub("any"), sub("any")),
            lambda: call("replace", sub("str"), string_literal(draw), string_literal(draw)),
            lambda: call("url_param", sub("str"), string_literal(draw)),
            lambda: call("uuid"),
            lambda: binary(sub("str"), "??", string_literal(draw)),
        ]
    else:
        options = [
            lambda: call("exists", sub("any")),
            lambda: binary(sub("any"), draw(st.sampled_from(["==", "!="])), sub("any")),
            lambda: binary(sub("num"), draw(st.sampled_from(["<", "<=", ">", ">="])), sub("num")),
            lambda: binary(
                sub("str"),
                draw(
                    st.sampled_from(
                        [
                            "contains",
                            "starts_with",
                            "ends_with",
                            "iequals",
                            "icontains",
                            "istarts_with",
                            "iends_with",
                        ]
                    )
                ),
                sub("str"),
            ),
            lambda: binary(sub("any"), "in", ["[", '"a"', ",", "1", "]"]),
            lambda: binary(sub("any"), "not in", unknown()),
            lambda: ["(", *sub("str"), "matches", draw(st.sampled_from(REGEXES)), ")"],
            lambda: binary(sub("bool"), draw(st.sampled_from(["and", "or"])), sub("bool")),
            lambda: ["(", "not", *sub("bool"), ")"],
        ]
    return options[draw(st.integers(0, len(options) - 1))]()


@st.composite
def value_expr(draw: Draw, roots: tuple[str, ...], depth: int = 2) -> Tokens:
    """Any expression, including lists, objects and comprehensions."""
    kind = draw(st.integers(0, 5)) if depth > 0 else 0
    if kind <= 2:
        return draw(expr("any", roots))
    if kind == 3:
        out: Tokens = ["["]
        for i in range(draw(st.integers(0, 3))):
            out += [*([","] if i else []), *draw(value_expr(roots, depth - 1))]
        trailing = len(out) > 1 and draw(st.booleans())
        return [*out, *([","] if trailing else []), "]"]
    if kind == 4:
        keys = draw(
            st.lists(
                st.sampled_from(["a", "b", "id", '"in"', "test", '"odd key"']),
                unique=True,
                max_size=3,
            )
        )
        out = ["{"]
        for i, key in enumerate(keys):
            sep = draw(st.sampled_from(["=", ":"]))
            out += [*([","] if i else []), key, sep, *draw(value_expr(roots, depth - 1))]
        return [*out, "}"]
    var = draw(st.sampled_from(["p", "item", "x"]))
    inner = (*roots, var)
    toks: Tokens = [
        "[",
        "for",
        var,
        "in",
        *draw(path_expr(roots)),
        ":",
        *draw(value_expr(inner, depth - 1)),
    ]
    if draw(st.booleans()):
        toks += ["if", *draw(expr("bool", inner, 2))]
    return [*toks, "]"]


@st.composite
def programs(draw: Draw) -> str:
    toks: Tokens = []
    pixels = draw(
        st.lists(st.sampled_from(["shop", "app", "stores"]), min_size=1, max_size=2, unique=True)
    )
    for name in pixels:
        token = draw(st.sampled_from(['env("META_CAPI_TOKEN")', 'secret("capi_token")']))
        toks += ["pixel", name, "{", "id", "=", '"1234567890123456"', "access_token", "=", token]
        if draw(st.booleans()):
            toks += ["browser_pixel", "=", draw(st.sampled_from(["true", "false"]))]
        if draw(st.booleans()):
            toks += ["api_version", "=", '"v25.0"']
        toks += ["}"]
    elements: tuple[str, ...] = ()
    for i in range(draw(st.integers(0, 4))):
        name = f"el_{i}"
        toks += ["element", name, "=", *draw(value_expr(("event", "request", *elements)))]
        elements = (*elements, name)
    roots = ("event", "request", *elements)
    rules = []
    for r in range(draw(st.integers(1, 2))):
        rule_name = f"Rule {r}: {draw(st.sampled_from(['Purchase', 'Lead', 'Zoë ✓']))}"
        rules.append(rule_name)
        toks += ["rule", string_token(rule_name), "{"]
        if draw(st.booleans()):
            toks += ["when", *draw(expr("bool", roots))]
        for _ in range(draw(st.integers(1, 2))):
            event = draw(st.sampled_from(EVENTS))
            toks += ["send", event, "to", draw(st.sampled_from(pixels)), "{"]
            toks += ["event_id", "=", *draw(expr("str", roots)), "action_source", "=", '"website"']
            user = draw(st.lists(st.sampled_from(USER_KEYS), unique=True, max_size=3))
            if user:
                toks += ["user", "{"]
                for key in user:
                    toks += [key, "=", *draw(expr("str", roots))]
                toks += ["}"]
            custom = draw(st.lists(st.sampled_from(CUSTOM_KEYS), unique=True, max_size=3))
            if custom:
                toks += ["custom", "{"]
                for key in custom:
                    toks += [key, "=", *draw(value_expr(roots))]
                if draw(st.booleans()):
                    toks += ["store_data", "{", "store_code", "=", '"SF-01"', "}"]
                toks += ["}"]
            if draw(st.booleans()):
                toks += ["app", "{", "advertiser_tracking_enabled", "=", *draw(expr("bool", roots))]
                toks += ["extinfo", "{", "version", "=", '"i2"', "os_version", "="]
                toks += [*draw(expr("str", roots)), "}", "}"]
            toks += ["}"]
        toks += ["}"]
    toks += ["environment", "development", "{", "test_event_code", "=", '"TEST1"']
    toks += ["pixel", pixels[0], "{", "id", "=", '"999"', "}", "}"]
    toks += ["environment", "production", "{", "}"]
    if draw(st.booleans()):
        rule = draw(st.sampled_from(rules))
        toks += ["test", '"t"', "{", "now", "=", '"2026-03-03T15:00:00Z"']
        toks += ["environment", "=", '"development"', "event", "=", "{", '"id"', ":", '"1"', "}"]
        toks += ["expect", string_token(rule), "sends", "Purchase", "to", pixels[0], "{"]
        toks += words('user { em = hashed ( "A@b.example" ) ph = any fn = absent } }')
        toks += ["expect", string_token(rule), "sends", "nothing", "}"]
    # One random layout per program: spaces, tabs, newlines (LF and CRLF) and comments.
    layout = draw(st.randoms(use_true_random=False))
    seps = [" ", "\n", "  ", "\t", "\n\n", " # note\n", "\r\n"]
    return "".join(t + layout.choice(seps) for t in toks)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(programs())
def test_valid_programs_give_an_ir_and_no_diagnostics(text: str) -> None:
    result = api.parse(text, "gen.capi")
    assert result.diagnostics == [], "\n".join(
        f"{d.code} {d.span} {d.message}" for d in result.diagnostics
    )
    assert result.project is not None
    assert result.project.rules
    data = result.project.to_json()
    assert json.loads(json.dumps(data)) == data


# ----------------------------------------------------------------------------- mangled inputs

SAMPLE_TEXTS = {
    p.relative_to(SAMPLES).as_posix(): p.read_bytes() for p in sorted(SAMPLES.glob("**/*.capi"))
}
JUNK = [
    b"{",
    b"}",
    b"=",
    b"==",
    b'"',
    b"'",
    b"#",
    b"\n",
    b",",
    b":",
    b"&&",
    b"/",
    b"\\",
    b"rule",
    b"\xff",
    b"\x00",
    "é".encode(),
    b"element",
]


@st.composite
def mangled(draw: Draw) -> bytes:
    name = draw(st.sampled_from(sorted(SAMPLE_TEXTS)))
    data = bytearray(SAMPLE_TEXTS[name])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "delete", "flip", "insert"]))
        n = len(data)
        if n == 0:
            break
        at = draw(st.integers(0, n - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "flip":
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(st.sampled_from(JUNK))
    return bytes(data)


def assert_inside(d: Diagnostic, text: str) -> None:
    assert d.span is not None, d
    lines = text.replace("\r\n", "\n").split("\n")
    span = d.span
    assert 1 <= span.line <= span.end_line <= len(lines), (d, len(lines))
    assert 1 <= span.column <= len(lines[span.line - 1]) + 1, d
    assert 1 <= span.end_column <= len(lines[span.end_line - 1]) + 1, d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_mangled_text_gives_diagnostics_inside_the_file(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    result = api.parse(text, "mangled.capi")
    for d in result.diagnostics:
        assert_inside(d, text)
    if not result.diagnostics:
        assert result.project is not None


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=mangled())
def test_mangled_file_through_the_loader_and_the_cli(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("mangled")
    path = root / "mangled.capi"
    path.write_bytes(data)
    result = api.load_project(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert [d.code for d in result.diagnostics] == ["C003"]
        text = data.decode("utf-8", errors="replace")
    for d in result.diagnostics:
        assert_inside(d, text)
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--no-cache", "--output-format", "concise", str(path)])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert out.exit_code in (0, 1, 2)
    assert "Traceback" not in out.output and "internal error" not in out.output
    location = re.compile(
        rf"^{re.escape(str(path))}:\d+:\d+: [A-Z]+\d+( \[\*\])? (error|warning|info): "
    )
    for line in out.stdout.splitlines():
        if line.startswith(str(path)):
            assert location.match(line), line
    if any(d.code.startswith(("S", "R", "C003")) for d in result.diagnostics):
        assert out.exit_code == 1


def test_a_truncated_sample_reports_file_line_col_and_exits_1(tmp_path: Path) -> None:
    source = SAMPLES / "storefront" / "rules" / "purchase.capi"
    text = source.read_text(encoding="utf-8")
    path = tmp_path / "purchase.capi"
    path.write_text(text[: text.index("custom {") + len("custom {")], encoding="utf-8")
    out = CliRunner().invoke(cli, ["check", "--output-format", "concise", str(path)])
    assert out.exit_code == 1
    assert re.search(rf"^{re.escape(str(path))}:\d+:\d+: S010 ", out.stdout, re.MULTILINE)
