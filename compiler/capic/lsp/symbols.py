"""Named declarations and the references to them, read from the rule model: what go to
definition, find references and hover need.

Declarations are found generically: every collection of the project (``pixels``,
``elements``, ``rules``, ``environments``, ``tests``, and whatever the language adds) whose
members have a ``name``, a ``name_span`` and a ``file``. References: element references
anywhere in an expression, the pixel of a send or of an environment override, and the
environment a test names.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from capic.diagnostics import Span
from capic.lsp.positions import contains
from capic.model import ir

#: Collections of the project that are not declarations.
_NOT_DECLARATIONS = frozenset({"config", "root", "files"})


@dataclass(frozen=True, slots=True)
class Symbol:
    kind: str  # "element", "pixel", "rule", ...
    name: str
    #: Where the name is written.
    span: Span
    #: The declaration itself (for definitions) or None for a reference.
    node: Any = None

    @property
    def is_declaration(self) -> bool:
        return self.node is not None


def _singular(field_name: str) -> str:
    return field_name[:-1] if field_name.endswith("s") else field_name


def declarations(project: ir.Project) -> Iterator[Symbol]:
    for f in dataclasses.fields(project):
        if f.name in _NOT_DECLARATIONS:
            continue
        value = getattr(project, f.name)
        members = value.values() if isinstance(value, Mapping) else value
        if not isinstance(members, tuple | list) and not isinstance(value, Mapping):
            continue
        for member in members:
            name = getattr(member, "name", None)
            span = getattr(member, "name_span", None)
            if isinstance(name, str) and isinstance(span, Span):
                yield Symbol(_singular(f.name), name, span, member)


def _walk(node: Any) -> Iterator[Any]:
    """Every IR object below ``node`` (dataclasses, mappings and sequences)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            yield current
            for f in dataclasses.fields(current):
                if f.name not in {"text", "comments"}:
                    stack.append(getattr(current, f.name))
        elif isinstance(current, Mapping):
            stack.extend(current.values())
        elif isinstance(current, tuple | list):
            stack.extend(current)


def references(project: ir.Project) -> Iterator[Symbol]:
    for declared in declarations(project):
        for node in _walk(declared.node):
            if isinstance(node, ir.ElementRef):
                yield Symbol("element", node.name, node.span)
            elif isinstance(node, ir.Send):
                yield Symbol("pixel", node.pixel, node.pixel_span)
            elif isinstance(node, ir.PixelOverride):
                yield Symbol("pixel", node.pixel, node.name_span)
        if declared.kind in {"rule", "shared"}:
            yield from _spreads(project, declared)
        if declared.kind == "test":
            env = getattr(declared.node, "fields", {}).get("environment")
            value = getattr(env, "value", None)
            if isinstance(value, ir.Const) and isinstance(value.value, str):
                yield Symbol("environment", value.value, _inner(value.span))


_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)")


def _spreads(project: ir.Project, declared: Symbol) -> Iterator[Symbol]:
    """``...NAME`` inside a rule or shared block: references to shared blocks (the rule model
    keeps the names spread, not where they are written, so they are read from the text)."""
    span = declared.node.span
    source = next((f for f in project.files if f.path == span.file), None)
    if source is None:
        return
    lines = source.text.split("\n")
    for number in range(span.line, min(span.end_line, len(lines)) + 1):
        line = _code(lines[number - 1])
        for m in _SPREAD.finditer(line):
            start = m.start(1) + 1
            yield Symbol(
                "shared",
                m.group(1),
                Span(span.file, number, start, number, start + len(m.group(1))),
            )


def _code(line: str) -> str:
    """A line with its strings and comment blanked out (positions kept)."""
    out = []
    quoted = escaped = False
    for ch in line:
        if escaped:
            escaped = False
            out.append(" ")
        elif quoted:
            escaped = ch == "\\"
            quoted = ch != '"'
            out.append(" ")
        elif ch == '"':
            quoted = True
            out.append(" ")
        elif ch == "#":
            break
        else:
            out.append(ch)
    return "".join(out)


def _inner(span: Span) -> Span:
    """A string literal's span without its quotes."""
    if span.line == span.end_line and span.end_column - span.column >= 2:
        return Span(span.file, span.line, span.column + 1, span.end_line, span.end_column - 1)
    return span


@dataclass
class Index:
    """Declarations and references of one project."""

    declared: list[Symbol]
    referenced: list[Symbol]

    @classmethod
    def of(cls, project: ir.Project) -> Index:
        return cls(list(declarations(project)), list(references(project)))

    def at(self, file: str, line: int, column: int) -> Symbol | None:
        """The declaration or reference whose name is under the cursor."""
        for symbol in [*self.referenced, *self.declared]:
            if symbol.span.file == file and contains(symbol.span, line, column):
                return symbol
        return None

    def definition(self, symbol: Symbol) -> Symbol | None:
        if symbol.is_declaration:
            return symbol
        return next(
            (d for d in self.declared if d.kind == symbol.kind and d.name == symbol.name), None
        )

    def usages(self, symbol: Symbol, include_declaration: bool = True) -> list[Span]:
        spans = [r.span for r in self.referenced if r.kind == symbol.kind and r.name == symbol.name]
        if include_declaration:
            target = self.definition(symbol)
            if target is not None:
                spans.insert(0, target.span)
        return spans

    def names(self, kind: str) -> list[Symbol]:
        return [d for d in self.declared if d.kind == kind]
