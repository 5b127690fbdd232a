"""Human-readable diagnostic output: ``full`` (code frames) and ``concise`` (one line each)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from capic.diagnostics import Diagnostic, Severity

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _location(d: Diagnostic, display: Callable[[str], str]) -> str:
    if d.span is None:
        return "capic"
    return f"{display(d.span.file)}:{d.span.line}:{d.span.column}"


def render_concise(
    diagnostics: Sequence[Diagnostic],
    display: Callable[[str], str],
    source: Callable[[str], str | None],
    colour: bool,
) -> str:
    lines = []
    for d in diagnostics:
        loc = _location(d, display)
        code = click.style(d.code, fg=_COLOURS[d.severity], bold=True) if colour else d.code
        lines.append(f"{loc}: {code} {d.message}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_full(
    diagnostics: Sequence[Diagnostic],
    display: Callable[[str], str],
    source: Callable[[str], str | None],
    colour: bool,
) -> str:
    out: list[str] = []
    for d in diagnostics:
        head = f"{d.severity.label}[{d.code}]"
        if colour:
            head = click.style(head, fg=_COLOURS[d.severity], bold=True)
        out.append(f"{head}: {d.message}")
        if d.span is not None:
            out.append(f"  --> {_location(d, display)}")
            text = source(d.span.file)
            if text is not None:
                out.extend(_frame(text, d, colour))
        if d.help:
            out.append(f"   = help: {d.help}")
        out.append("")
    return "\n".join(out)


def _frame(text: str, d: Diagnostic, colour: bool) -> list[str]:
    assert d.span is not None
    lines = text.split("\n")
    first, last = d.span.line, min(d.span.end_line, d.span.line + 3)
    if first < 1 or first > len(lines):
        return []
    width = len(str(last))
    pad = " " * width
    frame = [f" {pad} |"]
    for n in range(first, last + 1):
        if n > len(lines):
            break
        line = lines[n - 1].replace("\t", " ")
        frame.append(f" {n:>{width}} | {line}")
        start = d.span.column if n == first else 1 + (len(line) - len(line.lstrip()))
        end = d.span.end_column if n == d.span.end_line else len(line) + 1
        carets = "^" * max(1, end - start)
        marker = " " * (start - 1) + carets
        if colour:
            marker = " " * (start - 1) + click.style(carets, fg=_COLOURS[d.severity], bold=True)
        frame.append(f" {pad} | {marker}")
    return frame
