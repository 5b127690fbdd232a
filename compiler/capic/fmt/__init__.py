"""``capic fmt``: the one canonical layout of rule files.

:func:`format_text` formats a file and verifies its own work before returning it: the result
parses, has the same significant tokens and the same comments as the input, and formatting it
again changes nothing (black's ``assert_equivalent`` and ``assert_stable``). Any failure
raises :class:`FormatError` and nothing is written. A file with syntax errors is refused.

The layout: two spaces per block level, one statement per line, one space around ``=`` and
binary operators, none inside brackets, the ``=`` of consecutive assignments of a block
aligned, end-of-line comments of consecutive lines aligned two spaces after the longest code,
own-line comments kept where they are, at most one blank line in a row, none at the start or
end of a block, one newline at the end of the file. Lists, objects and calls written over
several lines keep one item per line.
"""

from __future__ import annotations

from dataclasses import dataclass

from capic.diagnostics import Diagnostic


class FormatError(Exception):
    """The file was not formatted: a syntax error, or a failed self-check (a bug)."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass(frozen=True)
class Formatted:
    text: str
    changed: bool


def _layout(text: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    from capic.fmt.layout import layout
    from capic.fmt.render import render
    from capic.fmt.tree import parse

    parsed = parse(text)
    out = render(layout(parsed.tree), parsed.comments, parsed.text)
    tokens = [(t.type, str(t.value)) for t in parsed.tokens()]
    return out, tokens, [c.text.rstrip() for c in parsed.comments]


def _signature(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    from capic.fmt.tree import parse

    parsed = parse(text)
    return [(t.type, str(t.value)) for t in parsed.tokens()], [
        c.text.rstrip() for c in parsed.comments
    ]


def format_text(text: str, path: str = "<stdin>") -> Formatted:
    """The canonical form of ``text`` (raises :class:`FormatError`)."""
    from capic.limits import file_too_large
    from capic.syntax.parser import parse_text

    source = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if (
        too_large := file_too_large(len(source.encode("utf-8", "surrogatepass")), path)
    ) is not None:
        raise FormatError(f"{path}: not formatted: {too_large.message}", [too_large])
    _, diagnostics = parse_text(source, path)
    if diagnostics:
        raise FormatError(f"{path}: not formatted: it has syntax errors", diagnostics)
    out, tokens, comments = _layout(source)
    _, problems = parse_text(out, path)
    if problems:
        raise FormatError(f"{path}: internal error: the formatted text does not parse")
    if _signature(out) != (tokens, comments):
        raise FormatError(f"{path}: internal error: formatting changed the tokens or comments")
    again, _, _ = _layout(out)
    if again != out:
        raise FormatError(f"{path}: internal error: formatting is not stable on a second pass")
    return Formatted(out, out != source)
