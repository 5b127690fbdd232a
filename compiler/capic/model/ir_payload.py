"""Payload nodes of the rule model: the fields and sections of send bodies and shared blocks,
and locating a payload path in the source."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from capic.diagnostics import Span
from capic.model.ir_expr import Expr, ListOf, ObjectOf
from capic.syntax.ast import Comment

__all__ = ["Field", "Section"]


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    value: Expr
    span: Span  # the whole `key = value`
    key_span: Span
    comments: tuple[Comment, ...] = ()
    #: The shared block the field was written in (None: written where it is used).
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A payload object. ``key`` is the Conversions API key (``user_data``), ``name`` the
    section name written in the source (``user``)."""

    key: str
    name: str
    entries: Mapping[str, Field | Section]
    span: Span
    name_span: Span
    #: The shared block the section was written in (None: written where it is used; a
    #: section written in a send that also gets entries from a shared block is the send's).
    origin: str | None = None

    def get(self, key: str) -> Field | Section | None:
        return self.entries.get(key)

    def field(self, key: str) -> Field | None:
        entry = self.entries.get(key)
        return entry if isinstance(entry, Field) else None

    def section(self, key: str) -> Section | None:
        entry = self.entries.get(key)
        return entry if isinstance(entry, Section) else None

    def locate(self, path: tuple[str | int, ...]) -> Span:
        """The most precise span for a JSON path inside this section (key span for a key,
        value span for a list item)."""
        if not path:
            return self.name_span
        head, rest = path[0], path[1:]
        entry = self.entries.get(str(head))
        if entry is None:
            return self.name_span
        if isinstance(entry, Section):
            return entry.locate(rest) if rest else entry.name_span
        if not rest:
            return entry.key_span
        value: Expr = entry.value
        for step in rest:
            if isinstance(value, ListOf) and isinstance(step, int) and 0 <= step < len(value.items):
                value = value.items[step]
            elif isinstance(value, ObjectOf) and isinstance(step, str):
                found = dict(value.entries).get(step)
                if found is None:
                    return value.span
                value = found
            else:
                return value.span
        return value.span

    def fields(self) -> Iterator[tuple[tuple[str, ...], Field]]:
        """Every field with its key path, depth first."""
        for key, entry in self.entries.items():
            if isinstance(entry, Section):
                for sub, fld in entry.fields():
                    yield (key, *sub), fld
            else:
                yield (key,), entry
