"""The one conversion between capic's spans (1-based lines, 1-based columns counting code
points, end exclusive) and LSP positions (0-based lines, 0-based characters counting UTF-16
code units, the encoding every client supports)."""

from __future__ import annotations

from lsprotocol import types

from capic.diagnostics import Span


def _units(text: str) -> int:
    """UTF-16 code units of ``text`` (characters outside the BMP take two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _codepoints(line: str, units: int) -> int:
    """How many code points of ``line`` fit in ``units`` UTF-16 code units."""
    count = 0
    for i, ch in enumerate(line):
        count += 2 if ord(ch) > 0xFFFF else 1
        if count > units:
            return i
    return len(line)


class Lines:
    """A document's lines, for converting positions in it."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def line(self, number: int) -> str:
        """Line ``number`` (1-based), "" past the end."""
        return self.lines[number - 1].rstrip("\r") if 0 < number <= len(self.lines) else ""

    def position(self, line: int, column: int) -> types.Position:
        text = self.line(line)
        return types.Position(line=max(line - 1, 0), character=_units(text[: max(column - 1, 0)]))

    def range(self, span: Span) -> types.Range:
        return types.Range(
            start=self.position(span.line, span.column),
            end=self.position(span.end_line, span.end_column),
        )

    def point(self, position: types.Position) -> tuple[int, int]:
        """(line, column), 1-based in code points, of an LSP position."""
        text = self.line(position.line + 1)
        return position.line + 1, _codepoints(text, position.character) + 1

    def span(self, file: str, lsp_range: types.Range) -> Span:
        line, column = self.point(lsp_range.start)
        end_line, end_column = self.point(lsp_range.end)
        return Span(file, line, column, end_line, end_column)


def contains(span: Span, line: int, column: int) -> bool:
    """Whether (line, column) is inside ``span`` (its end included: the cursor just after a
    name still points at it)."""
    if (line, column) < (span.line, span.column):
        return False
    return (line, column) <= (span.end_line, span.end_column)
