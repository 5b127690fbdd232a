"""Code actions: the fixes findings carry (as ``capic check --fix`` applies them) and, for
lint findings, a ``# noqa: CODE`` comment that suppresses the finding on its line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from capic.diagnostics import Applicability, Diagnostic, Edit, Span
from capic.lint.registry import PSEUDO_CODES, is_frontend

_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[^#]*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Action:
    title: str
    edits: tuple[Edit, ...]
    #: The fix a client may apply on its own (a safe fix).
    preferred: bool
    diagnostic: Diagnostic


def overlaps(span: Span, line: int, end_line: int) -> bool:
    return span.line <= end_line and span.end_line >= line


def actions(diagnostics: list[Diagnostic], text: str, line: int, end_line: int) -> list[Action]:
    """The actions for the findings on lines ``line`` to ``end_line`` (1-based) of a file."""
    out: list[Action] = []
    noqa_done: set[tuple[int, str]] = set()
    for d in diagnostics:
        if d.span is None or not overlaps(d.span, line, end_line):
            continue
        if d.fix is not None:
            safe = d.fix.applicability is Applicability.SAFE
            title = d.fix.message + ("" if safe else " (unsafe)")
            out.append(Action(f"{d.code}: {title}", d.fix.edits, safe, d))
        key = (d.span.line, d.code)
        if is_frontend(d.code) or d.code in PSEUDO_CODES or key in noqa_done:
            continue
        noqa_done.add(key)
        edit = noqa_edit(text, d.span, d.code)
        if edit is not None:
            out.append(Action(f"{d.code}: suppress with `# noqa: {d.code}`", (edit,), False, d))
    return out


def noqa_edit(text: str, span: Span, code: str) -> Edit | None:
    """The edit that adds ``code`` to the line's noqa comment, or writes one."""
    lines = text.split("\n")
    if not 0 < span.line <= len(lines):
        return None
    current = lines[span.line - 1].rstrip("\r")
    m = _NOQA.search(current)
    end = len(current) + 1
    if m is not None:
        codes = [c for c in re.split(r"[\s,]+", m.group("codes")) if c]
        if code in codes:
            return None
        start = m.start("codes") + 1
        where = Span(span.file, span.line, start, span.line, m.end("codes") + 1)
        return Edit(where, ", ".join([*codes, code]))
    stripped = len(current.rstrip()) + 1
    return Edit(Span(span.file, span.line, stripped, span.line, end), f"  # noqa: {code}")
