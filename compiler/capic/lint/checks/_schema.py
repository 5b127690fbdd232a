"""Shared machinery of the checks that explain JSON Schema failures of a send."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from capic.diagnostics import Diagnostic, Fix, Span
from capic.lint.context import LintContext
from capic.lint.registry import Check
from capic.lint.schema import SchemaFinding, dotted
from capic.lint.values import Dynamic, ReprList
from capic.meta import catalog
from capic.meta.catalog import suggest
from capic.model import ir
from capic.model.resolve import EXTINFO_FIELDS

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}
#: Enums longer than this are not spelt out in messages.
_MAX_LISTED = 16


def show(value: Any) -> str:
    """A value as the rule author would write it."""
    if isinstance(value, Dynamic):
        return value.describe()
    if isinstance(value, ReprList):
        return "a list built by a comprehension"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def expected_types(expected: Any) -> str:
    types = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)


def what_it_is(value: Any) -> str:
    """ "a string "12"" / "a number" (for a run-time value of known type)."""
    if isinstance(value, Dynamic):
        return f"the expression gives {value.describe()}"
    if isinstance(value, bool):
        return f"got {show(value)}"
    if isinstance(value, str):
        return f"got the string {show(value)}"
    if isinstance(value, int | float):
        return f"got the number {show(value)}"
    if isinstance(value, list):
        return "got a list"
    if isinstance(value, dict):
        return "got an object"
    return f"got {show(value)}"


def options_text(options: list[Any]) -> str:
    if len(options) > _MAX_LISTED:
        return f"one of {len(options)} allowed values"
    return ", ".join(show(o) for o in options)


def describe_path(path: tuple[str | int, ...]) -> str:
    """``app_data.extinfo[4]`` -> ``app_data.extinfo[4] (os_version)``."""
    text = dotted(path)
    last = path[-1] if path else None
    if (
        len(path) >= 3
        and path[-2] == "extinfo"
        and isinstance(last, int)
        and 0 <= last < len(EXTINFO_FIELDS)
    ):
        text += f" ({EXTINFO_FIELDS[last]})"
    return text


def enum_suggestion(value: Any, options: list[Any]) -> str | None:
    if isinstance(value, str):
        pool = [o for o in options if isinstance(o, str)]
        hit = suggest(value, pool)
        if hit is not None:
            return f"did you mean {show(hit)}?"
    return None


def sole_suggestion(value: Any, options: list[Any]) -> str | None:
    """The one allowed value a misspelt string can only have meant: the single option equal
    to it but for case and separators, else the single option close enough to suggest."""
    if not isinstance(value, str):
        return None
    pool = sorted({o for o in options if isinstance(o, str)})
    folded = [o for o in pool if _fold(o) == _fold(value)]
    if folded:
        return folded[0] if len(folded) == 1 else None
    close = [o for o in pool if suggest(value, [o]) == o]
    return close[0] if len(close) == 1 else None


def _fold(text: str) -> str:
    return text.replace("_", "").replace("-", "").replace(" ", "").casefold()


def source_at(ctx: LintContext, span: Span) -> str | None:
    """The source text a one-line span covers (None when it cannot be read)."""
    if span.line != span.end_line:
        return None
    for f in ctx.project.files:
        if f.path == span.file:
            lines = f.text.split("\n")
            if 0 < span.line <= len(lines):
                return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    return None


def literal_fix(ctx: LintContext, span: Span, value: Any, options: list[Any]) -> Fix | None:
    """Replace a string literal written at ``span`` with the option it can only have meant.
    Only a literal written exactly there is fixed (not a value an element computes)."""
    hit = sole_suggestion(value, options)
    if hit is None or not isinstance(value, str):
        return None
    if source_at(ctx, span) != json.dumps(value, ensure_ascii=False):
        return None
    return Fix.replace(span, json.dumps(hit, ensure_ascii=False), f"Replace with {show(hit)}")


class SchemaCheck(Check):
    """A check that claims and words schema failures; subclasses implement :meth:`match` and
    :meth:`explain` (message, span, help)."""

    #: Schema failures of these keywords are this check's unless :meth:`match` says otherwise.
    keywords: ClassVar[frozenset[str]] = frozenset()

    def match(self, f: SchemaFinding) -> bool:
        return f.kind in self.keywords

    def claims(self, finding: SchemaFinding) -> bool:
        return self.match(finding)

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        # Every concrete schema check overrides this; reaching it is a registration bug.
        raise TypeError(f"{type(self).__name__} claims schema failures but has no explain()")

    def fix_for(self, ctx: LintContext, f: SchemaFinding, span: Span) -> Fix | None:
        """The fix of a failure reported at ``span`` (None: none is certain)."""
        return None

    def describe(self, ctx: LintContext, send: ir.Send, f: SchemaFinding) -> Diagnostic | None:
        message, span, help_text = self.explain(ctx, send, f)
        note = ctx.origin_note(send, f.target)
        if note is not None:
            help_text = f"{help_text}; {note}" if help_text else note
        pointer = "/".join(str(p) for p in f.pointer)
        return self.report(
            message,
            span,
            help_text,
            fix=self.fix_for(ctx, f, span),
            path=dotted(f.target),
            keyword=f.kind,
            schema=f"{f.document}.schema.json#/{pointer}"
            if pointer
            else f"{f.document}.schema.json",
        )


def first_sentence(text: str | None) -> str | None:
    """The first sentence of a schema description (not split inside parentheses), starting
    lowercase unless it starts with an acronym."""
    if not text:
        return None
    depth = 0
    end = len(text)
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "." and depth == 0 and (i + 1 == len(text) or text[i + 1] == " "):
            end = i
            break
    head = text[:end].strip()
    if not head:
        return None
    if len(head) > 1 and head[1].isupper():
        return head
    return head[0].lower() + head[1:]


_SECTION_DOCS = {"user_data": "user_data", "custom_data": "custom_data", "app_data": "app_data"}


def key_description(path: tuple[str | int, ...]) -> str | None:
    """The schema description of the payload member at ``path`` (where capic documents it)."""
    props: Any = None
    if len(path) == 1:
        props = catalog.schema("server_event").get("properties", {})
    elif len(path) == 2 and path[0] in _SECTION_DOCS:
        props = catalog.schema(_SECTION_DOCS[str(path[0])]).get("properties", {})
    elif len(path) == 4 and path[:2] == ("custom_data", "contents"):
        content = catalog.schema("custom_data").get("$defs", {}).get("content", {})
        props = content.get("properties", {})
    if not isinstance(props, dict):
        return None
    entry = props.get(path[-1])
    desc = entry.get("description") if isinstance(entry, dict) else None
    return desc if isinstance(desc, str) else None


def missing_help(f: SchemaFinding) -> str | None:
    desc = first_sentence(key_description(f.target) or f.description())
    return f"`{f.key}`: {desc}" if desc else None
