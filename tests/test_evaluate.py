"""The one constant evaluator agrees with a run: every expression of a matrix of operators,
functions and values is compiled twice, once with constant operands (folded at compile time
by :mod:`capic.model.evaluate`, for the linter and the code generator alike) and once with the
same values read from the event (computed by the generated module at run time). The payload
each sends, and the evaluator's own value, must be the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from capic import api
from capic.lint.values import Analyzer
from capic.model.evaluate import UNKNOWN, Evaluator
from capic.runtime.context import Context
from capic.runtime.payload import prune

VALUES: list[Any] = [None, True, False, 0, 1, 2.5, "", "abc", "ABC", [], [1, "a"], {}, {"k": 1}]
BINARY = [
    "==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "starts_with", "ends_with",
    "iequals", "icontains", "istarts_with", "iends_with", "??", "+", "-", "*", "/", "and", "or",
]  # fmt: skip
UNARY = [
    "not ({a})", "-({a})", "({a}) matches /b/i", "({a})[0]", "({a}).k", "({a})[({b})]",
    "lower({a})", "upper({a})", "trim({a})", "number({a})", "int({a})", "round({a})",
    "string({a})", "len({a})", "first({a})", "sum({a})", "exists({a})", "url_host({a})",
    "sha256({a})", "coalesce({a}, {b})", "concat({a}, {b})", "[for x in {a} : x]",
    "[for x in {a} : [x, {b}] if x]",
]  # fmt: skip

PRELUDE = """
pixel shop {
  id           = "1234567890123456"
  access_token = env("META_CAPI_TOKEN")
}

rule "r" {
  send Lead to shop {
    event_time    = 1767225600
    action_source = "other"
    user { external_id = "x" }
    custom {
"""


def _cases() -> list[tuple[str, Any, Any]]:
    cases = []
    for op in BINARY:
        for a in VALUES:
            for b in VALUES:
                cases.append((f"({{a}}) {op} ({{b}})", a, b))
    for template in UNARY:
        for a in VALUES:
            for b in (None, "abc", 1):
                cases.append((template, a, b))
    return cases


CASES = _cases()


def _literal(value: Any) -> str:
    return json.dumps(value)


def _project(lines: list[str]) -> str:
    body = "\n".join(f"      v{i} = {line}" for i, line in enumerate(lines))
    return PRELUDE + body + "\n    }\n  }\n}\n"


def _run(text: str, event: dict[str, Any]) -> dict[str, Any]:
    result = api.parse(text, "m.capi")
    assert result.project is not None
    module = api.load_compiled(api.compile_project(result.project))
    out = module.process(event, None, context=Context(validate=False, now=lambda: 1767225600.0))
    assert len(out) == 1
    custom = out[0].event.get("custom_data", {})
    assert isinstance(custom, dict)
    return custom


@pytest.fixture(scope="module")
def outcome() -> tuple[list[int], dict[str, Any], dict[str, Any], list[Any]]:
    folded_lines = [t.format(a=_literal(a), b=_literal(b)) for t, a, b in CASES]
    # Cases whose constant form the front end rejects (R009: "a" + 1 ...) are not compared.
    first = api.parse(_project(folded_lines), "m.capi")
    offset = PRELUDE.count("\n") + 1
    rejected = {
        d.span.line - offset for d in first.diagnostics if d.span is not None and d.code != "R006"
    }
    keep = [i for i in range(len(CASES)) if i not in rejected]
    folded_text = _project([folded_lines[i] for i in keep])
    dynamic_lines = [
        CASES[i][0].format(a=f"event.a{n}", b=f"event.b{n}") for n, i in enumerate(keep)
    ]
    event: dict[str, Any] = {}
    for n, i in enumerate(keep):
        event[f"a{n}"], event[f"b{n}"] = CASES[i][1], CASES[i][2]
    folded = _run(folded_text, {})
    dynamic = _run(_project(dynamic_lines), event)
    project = api.parse(folded_text, "m.capi").project
    assert project is not None
    send = project.rules[0].sends[0]
    custom = send.body.section("custom_data")
    assert custom is not None
    evaluator = Evaluator(project.elements)
    values = [
        evaluator.value(custom.entries[f"v{n}"].value)  # type: ignore[union-attr]
        for n in range(len(keep))
    ]
    return keep, folded, dynamic, values


def test_most_cases_are_compared(outcome: tuple[list[int], Any, Any, Any]) -> None:
    keep = outcome[0]
    assert len(keep) > len(CASES) // 2


def test_folding_agrees_with_the_run(outcome: tuple[list[int], Any, Any, list[Any]]) -> None:
    keep, folded, dynamic, values = outcome
    problems = []
    for n, i in enumerate(keep):
        template, a, b = CASES[i]
        key = f"v{n}"
        value = values[n]
        shown = template.format(a=_literal(a), b=_literal(b))
        if value is UNKNOWN:
            problems.append(f"{shown}: not folded")
            continue
        emitted = prune({key: value}).get(key)
        if dynamic.get(key) != emitted or type(dynamic.get(key)) is not type(emitted):
            problems.append(f"{shown}: folded {value!r}, run {dynamic.get(key)!r}")
        if folded.get(key) != dynamic.get(key):
            problems.append(f"{shown}: compiled constant {folded.get(key)!r}")
    assert not problems, "\n".join(problems[:40])


def test_three_valued_logic_and_null_rules_fold_without_the_event() -> None:
    text = PRELUDE.replace("custom {", "custom {\n      x = 1") + "    }\n  }\n}\n"
    text += """
element t = event.x and false
element u = true or event.x
element v = event.x == null
element w = null + event.x
element y = not "text"
element z = 5 matches /5/
"""
    result = api.parse(text, "m.capi")
    assert result.project is not None
    analyzer = Analyzer(result.project)
    got = {name: analyzer.fold(e.value) for name, e in result.project.elements.items()}
    assert got == {"t": False, "u": True, "v": False, "w": None, "y": False, "z": False}
