"""No rule text can break out of a literal: hostile strings compile and come back exactly."""

from __future__ import annotations

import ast
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from capic import api
from capic.runtime import Context

HOSTILE = [
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\n",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "{{ x }}",
    "{% if x %}",
    "{#",
    "#",
    "\u2028",
    "\u2029",
    "\x85",
    "\x1b[31m",
    "\x7f",
    "\ufeff",
    "é",
    "日本",
    "🎉",
    "\U0010ffff",
    "'); import os; ('",
    '"+__import__("os").system("x")+"',
    "\\x00",
    "}",
    "{",
]

# Any character but NUL and surrogates (which no UTF-8 rule file can hold).
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.text(characters, max_size=4), max_size=6).map(
    "".join
)


def dsl_string(text: str) -> str:
    """``text`` as a rule-language string literal."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif not ch.isprintable():
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dsl_regex(text: str) -> str:
    """A regex literal matching exactly ``text`` (printable characters only)."""
    return "/^" + re.escape(text).replace("/", "\\/") + "$/"


def comment(text: str) -> str:
    return "# " + "".join(
        ch if ch not in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else " " for ch in text
    )


@settings(max_examples=60, deadline=None)
@given(
    rule=hostile_text,
    event_name=hostile_text,
    key=hostile_text.filter(bool),
    value=hostile_text,
    lookup=hostile_text,
    printable=hostile_text.map(lambda t: "".join(c for c in t if c.isprintable()) or "x"),
)
@example(rule='"""', event_name="'''", key="{{ k }}", value="\\", lookup="\n#", printable="a/b\\c")
@example(rule="\r\n", event_name="\u2028", key="}", value="\x1b", lookup='"', printable="{%")
def test_literals_survive_codegen(
    rule: str, event_name: str, key: str, value: str, lookup: str, printable: str
) -> None:
    text = f"""{comment(rule + value)}
pixel p {{ id = "1" access_token = env("T") }}
{comment(key)}
rule {dsl_string(rule)} {{
  when event.k == {dsl_string(value)} and event.r matches {dsl_regex(printable)}
  send {dsl_string(event_name)} to p {{
    event_id = {dsl_string(value)}
    custom {{
      {dsl_string(key)} = {dsl_string(value)}   {comment(value)}
      obj = {{{dsl_string(key)}: [{dsl_string(lookup)}, {dsl_string(rule)}]}}
      looked = event[{dsl_string(lookup)}]
      joined = concat({dsl_string(rule)}, {dsl_string(value)})
    }}
  }}
}}
"""
    result = api.parse(text, "hostile.capi")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.project is not None
    source = api.compile_project(result.project)
    ast.parse(source)  # valid Python
    module = api.load_compiled(source)
    assert [r["name"] for r in module.RULES] == [rule]
    assert module.RULES[0]["events"] == [event_name]

    context = Context(validate=False)
    incoming = {"k": value, "r": printable, lookup: ["looked", value]}
    [out] = module.process(incoming, context=context)
    assert out.rule == rule
    assert out.event["event_name"] == event_name
    custom = out.event["custom_data"]
    if value:
        assert out.event["event_id"] == value
        assert custom[key] == value
    else:
        assert key not in custom  # an empty string is not sent
    assert custom["obj"] == {key: [lookup, rule]}
    assert custom["looked"] == ["looked", value]
    assert custom.get("joined") == ((rule + value) or None)
    assert module.process({**incoming, "k": value + "x"}, context=context) == []
    assert module.process({**incoming, "r": printable + "\n!"}, context=context) == []
