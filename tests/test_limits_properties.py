"""Property: whatever the front end accepts, every later stage handles, and the code generator
emits Python that CPython compiles and imports.

Programs are built around a "spine": one expression nested close to (and beyond) the front
end's depth limit through every kind of expression the language has (calls, lists, objects,
operators and operator chains, `??`, `not`, unary minus, paths and computed indexes, `matches`,
comprehensions) and through elements (inlined where used once, memoized where shared). The
spine lands in a rule condition, a payload field, customer information or a comprehension.
Each program is checked twice (the second run reads the parse cache) and, when the front end
reports no error, compiled, compiled again by CPython, imported and run on an event.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capic import api, limits
from capic.bundle.manifest import canonical_json
from capic.diagnostics import Severity

Draw = Callable[..., Any]

N, S, B, L, OBJ = "number", "string", "bool", "list", "object"
ANY = None
NUMERIC = frozenset({N, ANY})
#: One level of nesting around the inner expression ``x``: (template, the types ``x`` may have
#: without a type error (None: any), the type of the result (None: unknown)).
WRAPPERS: list[tuple[str, frozenset[str | None] | None, str | None]] = [
    ("(not {x})", None, B),
    ("(-{x})", NUMERIC, N),
    ("lower({x})", None, S),
    ('concat({x}, "a")', None, S),
    ("coalesce({x}, event.b)", None, ANY),
    ('replace({x}, "a", "b")', None, S),
    ("round({x}, 2)", None, N),
    ("len({x})", None, N),
    ("[{x}, 1]", None, L),
    ('{{"k": {x}}}', None, OBJ),
    ("({x} + event.n)", NUMERIC, N),
    ("(event.n * {x})", NUMERIC, N),
    ("({x} - 1)", NUMERIC, N),
    ("({x} / 2)", NUMERIC, N),
    ("({x} ?? event.b)", None, ANY),
    ("({x} or event.f)", None, B),
    ("(event.f and {x})", None, B),
    ('({x} == "a")', None, B),
    ('({x} != "a")', None, B),
    ("({x} < 3)", NUMERIC, B),
    ('({x} contains "a")', None, B),
    ('({x} istarts_with "a")', None, B),
    ("({x} in [1, 2])", None, B),
    ("({x} not in event.items)", None, B),
    ("({x} matches /a+/i)", None, B),
    ("({x}).field", None, ANY),
    ("({x})[0]", None, ANY),
    ("event.items[{x}]", None, ANY),
    ("[for v in {x} : v]", None, L),
    ("[for v in event.items : {x}]", None, L),
    ("[for v in event.items : v if {x}]", None, L),
    ("(if {x} then event.a else event.b)", None, ANY),
    ("(if event.f then {x} else null)", None, ANY),
    ("(if event.f then 1 else {x})", None, ANY),
]
LEAVES = [
    ("event.a", ANY),
    ("event.n", ANY),
    ("request.ip", ANY),
    ("event.items", ANY),
    ('"s"', S),
    ("3", N),
    ("true", B),
]
#: Operators of flat chains, with the types their terms may have.
CHAIN_OPS = [
    ("+", NUMERIC),
    ("*", NUMERIC),
    ("-", NUMERIC),
    ("or", None),
    ("and", None),
    ("??", None),
]

PIXEL = 'pixel shop {\n  id = "1234567890123456"\n  access_token = env("T")\n}\n'
# One item: nested comprehensions over it run once per level (three items would run 3**60).
EVENT = {"a": "A", "b": "b", "n": 2, "f": True, "items": ["a"], "time": 1767225600}


def _fits(kind: str | None, accepts: frozenset[str | None] | None) -> bool:
    return accepts is None or kind in accepts


@st.composite
def spine(draw: Draw, depth: int, elements: list[str]) -> str:
    """An expression about ``depth`` levels deep without type errors; may define elements
    along the way (each appended to ``elements`` as source text)."""
    x, kind = draw(st.sampled_from(LEAVES))
    level = 1
    while level < depth:
        move = draw(st.integers(0, 9))
        chains = [(op, ok) for op, ok in CHAIN_OPS if _fits(kind, ok)]
        if move == 0 and chains:
            # A flat chain of one operator: each term is one more level.
            n = draw(st.integers(2, max(2, min(12, depth - level + 1))))
            op, _ = draw(st.sampled_from(chains))
            terms = [f"({x})"] + ["event.n"] * (n - 1)
            x = "(" + f" {op} ".join(terms) + ")"
            kind = N if op in {"+", "*", "-"} else (B if op in {"or", "and"} else ANY)
            level += n - 1
        elif move == 1 and len(elements) < 8:
            name = f"e{len(elements)}"
            elements.append(f"element {name} = {x}\n")
            x = name
            level += 1
        else:
            fitting = [w for w in WRAPPERS if _fits(kind, w[1])]
            template, _, kind = draw(st.sampled_from(fitting))
            x = template.format(x=x)
            level += 1
    return x


SLOTS = [
    "condition",
    "custom",
    "user_em",
    "event_id",
    "source_url",
    "contents",
]


def program(slot: str, expr: str, shared: bool) -> str:
    cond = f"({expr})" if slot == "condition" else 'event.kind != "skip"'
    custom = (
        f"    custom {{\n      x = {expr}\n      value = 1\n    }}\n" if slot == "custom" else ""
    )
    contents = (
        f"    custom {{\n      contents = [for p in event.items : {{id = string({expr}), quantity = 1}}]\n    }}\n"
        if slot == "contents"
        else ""
    )
    em = expr if slot == "user_em" else "event.a"
    event_id = expr if slot == "event_id" else "uuid()"
    url = expr if slot == "source_url" else '"https://shop.example.com/"'
    send = (
        "  send Lead to shop {\n"
        f"    event_id = {event_id}\n"
        "    event_time = parse_time(event.time)\n"
        '    action_source = "website"\n'
        f"    event_source_url = {url}\n"
        f"    user {{\n      em = {em}\n      client_ip_address = request.ip\n    }}\n"
        f"{custom}{contents}"
        "  }\n"
    )
    out = f'rule "r1" {{\n  when {cond}\n{send}}}\n'
    if shared:
        out += f'rule "r2" {{\n  when {cond}\n{send}}}\n'
    return out


def _errors(diagnostics: list[Any]) -> list[str]:
    return [f"{d.code} {d.message}" for d in diagnostics if d.severity >= Severity.ERROR]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_accepted_programs_compile_and_import(data: st.DataObject) -> None:
    elements: list[str] = []
    depth = data.draw(st.integers(limits.MAX_DEPTH - 20, limits.MAX_DEPTH + 6), label="depth")
    expr = data.draw(spine(depth, elements), label="spine")
    slot = data.draw(st.sampled_from(SLOTS), label="slot")
    shared = data.draw(st.booleans(), label="shared")
    source = "".join(elements) + program(slot, expr, shared)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "capic.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
        (root / "pixels.capi").write_text(PIXEL + "environment production {}\n", encoding="utf-8")
        (root / "rules.capi").write_text(source, encoding="utf-8")
        # Check twice: the first run writes the parse cache, the second reads it.
        first = api.check([root])
        second = api.check([root])
        assert [d.to_json() for d in first.diagnostics] == [d.to_json() for d in second.diagnostics]
        assert first.exit_code in (0, 1)
        loaded = api.load_project(root)
        if loaded.project is None or _errors(loaded.diagnostics):
            return
        # What `capic parse` prints and a bundle's model.json holds.
        orjson.dumps(loaded.project.to_json())
        canonical_json(loaded.project.to_json())
        module_source = api.compile_project(loaded.project, "production")
        compile(module_source, "rules.py", "exec")
        module = api.load_compiled(module_source)
        module.process(dict(EVENT), {"ip": "203.0.113.7"})


def _bracket_depth(source: str) -> int:
    import io
    import tokenize

    depth = deepest = 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
    return deepest


@pytest.mark.parametrize("slot", ["condition", "custom"])
@pytest.mark.parametrize(("template", "accepts", "returns"), WRAPPERS)
def test_each_construct_repeated_to_the_limit_compiles(
    tmp_path: Path,
    slot: str,
    template: str,
    accepts: frozenset[str | None] | None,
    returns: str | None,
) -> None:
    """The worst case per construct: the same one nested as deep as the front end allows.
    CPython refuses more than 200 nested brackets; the generated code stays well below."""
    from capic.syntax.parser import parse_text

    repeatable = _fits(returns, accepts)
    for n in range(limits.MAX_DEPTH, 0, -1):
        x = "event.n"
        for _ in range(n - 1 if repeatable else 1):
            x = template.format(x=x)
        text = program(slot, x, shared=False)
        if not any(d.code == "S030" for d in parse_text(text, "rules.capi")[1]):
            break
    (tmp_path / "capic.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    (tmp_path / "pixels.capi").write_text(PIXEL + "environment production {}\n", encoding="utf-8")
    (tmp_path / "rules.capi").write_text(text, encoding="utf-8")
    loaded = api.load_project(tmp_path, use_cache=False)
    assert loaded.project is not None and not _errors(loaded.diagnostics), _errors(
        loaded.diagnostics
    )
    source = api.compile_project(loaded.project, "production")
    assert _bracket_depth(source) <= 140
    compile(source, "rules.py", "exec")
    api.load_compiled(source).process(dict(EVENT), {"ip": "203.0.113.7"})
