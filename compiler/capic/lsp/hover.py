"""Hover text (Markdown): what is under the cursor, explained.

* a check code in a comment (``# noqa: D002``): the check's documentation;
* a name (an element, pixel, rule, environment or test, where it is declared or used): its
  declaration, and for an element the type capic infers for it;
* a standard library function: its signature and description;
* a key or section of a send (``event_source_url``, ``user``, ``em``): its description from
  Meta's JSON Schemas; a key of a pixel, environment or test: what it sets;
* a standard event name: what Meta says about the event and what it requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from capic.diagnostics import Span
from capic.lsp.positions import contains
from capic.lsp.symbols import Index, Symbol, _walk
from capic.model import ir

_CODE = re.compile(r"\b[A-Z]{1,2}[0-9]{3}\b")


def signature(name: str) -> str | None:
    """``concat(value, ...) -> string``-style text of a standard library function."""
    from capic.model.stdlib import FUNCTIONS

    fn = FUNCTIONS.get(name)
    if fn is None:
        return None
    args = [f"arg{i + 1}" for i in range(fn.min_args)]
    if fn.max_args is None:
        args.append("...")
    else:
        args += [f"arg{i + 1}?" for i in range(fn.min_args, fn.max_args)]
    return f"{name}({', '.join(args)}) -> {fn.returns or 'any'}"


def function_doc(name: str) -> str | None:
    from capic.model.stdlib import FUNCTIONS

    fn = FUNCTIONS.get(name)
    text = signature(name)
    if fn is None or text is None:
        return None
    return f"```\n{text}\n```\n\n{fn.doc}"


def _source(project: ir.Project, span: Span, max_lines: int = 12) -> str:
    for f in project.files:
        if f.path == span.file:
            lines = f.text.split("\n")[span.line - 1 : span.end_line]
            if not lines:
                return ""
            if len(lines) == 1:
                return lines[0][span.column - 1 : span.end_column - 1]
            lines[0] = lines[0][span.column - 1 :]
            lines[-1] = lines[-1][: span.end_column - 1]
            if len(lines) > max_lines:
                lines = [*lines[: max_lines - 1], "  ...", lines[-1]]
            return "\n".join(lines)
    return ""


def _declaration(project: ir.Project, symbol: Symbol) -> str:
    node = symbol.node
    where = f"{symbol.span.file}:{symbol.span.line}"
    if isinstance(node, ir.Element):
        from capic.model.types import infer_type

        value = _source(project, node.value.span)
        kind = infer_type(node.value) or "known at run time"
        return (
            f"```capi\nelement {node.name} = {value}\n```\n\nType: {kind}. Declared in `{where}`."
        )
    text = _source(project, getattr(node, "span", symbol.span))
    return f"```capi\n{text}\n```\n\nDeclared in `{where}`."


def _schema_doc(path: tuple[str, ...]) -> str | None:
    from capic.lint.checks._schema import key_description

    return key_description(path)


def _sections(section: ir.Section, path: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """(field or section, payload path) of everything in a send's body."""
    for entry in section.entries.values():
        if isinstance(entry, ir.Section):
            inner = (*path, entry.key)
            yield entry, inner
            yield from _sections(entry, inner)
        else:
            yield entry, (*path, entry.key)


def _event_doc(event: str) -> str:
    from capic.meta import catalog

    for branch in catalog.schema("standard_events").get("allOf", []):
        const = branch.get("if", {}).get("properties", {}).get("event_name", {}).get("const")
        if const == event:
            return str(branch.get("then", {}).get("description", f"{event}: a standard event."))
    return f"`{event}`: a custom event (not one of Meta's standard events)."


def _settings_doc(kind: str, key: str) -> str | None:
    from capic.model import resolve

    table: dict[str, str] = {
        "pixel": resolve.PIXEL_FIELDS,
        "test": resolve.TEST_FIELDS,
        "environment": {"test_event_code": "a test event code for every event of this environment"},
    }.get(kind, {})
    return table.get(key)


def hover(project: ir.Project, file: str, text: str, line: int, column: int) -> str | None:
    """The Markdown to show at (line, column) of ``file`` (None: nothing to say)."""
    code = _code_in_comment(text, line, column)
    if code is not None:
        return code
    index = Index.of(project)
    symbol = index.at(file, line, column)
    if symbol is not None:
        target = index.definition(symbol)
        if target is not None:
            return _declaration(project, target)
        return f"`{symbol.name}`: no {symbol.kind} of that name is declared"
    for declared in index.declared:
        if declared.span.file != file or not contains(declared.node.span, line, column):
            continue
        found = _inside(declared, line, column)
        if found is not None:
            return found
    return None


def _inside(declared: Symbol, line: int, column: int) -> str | None:
    node = declared.node
    here = declared.span.file
    for item in _walk(node):
        if isinstance(item, ir.Call) and item.span.file == here:
            name = Span(item.span.file, item.span.line, item.span.column, item.span.line,
                        item.span.column + len(item.func))  # fmt: skip
            if contains(name, line, column):
                return function_doc(item.func)
        body: ir.Section | None = None
        prefix: tuple[str, ...] = ()
        if isinstance(item, ir.Send):
            if contains(item.event_span, line, column):
                return _event_doc(item.event)
            body = item.body
        elif isinstance(item, ir.Shared):
            body, prefix = item.body, ((item.body.key,) if item.body.key else ())
        if body is not None:
            for entry, path in _sections(body, prefix):
                span = entry.name_span if isinstance(entry, ir.Section) else entry.key_span
                # Entries spread from a shared block are written in that block's file.
                if span.file == here and contains(span, line, column):
                    doc = _schema_doc(path) or _schema_doc(path[-1:])
                    return f"`{'.'.join(path)}`: {doc}" if doc else f"`{'.'.join(path)}`"
    fields = getattr(node, "fields", None)
    if isinstance(fields, dict):
        for key, f in fields.items():
            if isinstance(f, ir.Field) and contains(f.key_span, line, column):
                doc = _settings_doc(declared.kind, key)
                return f"`{key}`: {doc}" if doc else None
    return None


def _code_in_comment(text: str, line: int, column: int) -> str | None:
    from capic.lint.registry import code_info, doc_markdown

    lines = text.split("\n")
    if not 0 < line <= len(lines):
        return None
    current = lines[line - 1]
    hash_at = _comment_start(current)
    if hash_at is None or column - 1 < hash_at:
        return None
    for m in _CODE.finditer(current, hash_at):
        if m.start() <= column - 1 <= m.end():
            info = code_info(m.group())
            return doc_markdown(info, heading="####") if info is not None else None
    return None


def _comment_start(line: str) -> int | None:
    """Where the comment of a line starts (a # outside a string)."""
    quoted = False
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return i
    return None
