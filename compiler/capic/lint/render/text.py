"""Human formats: ``full`` (a code frame under every diagnostic) and ``concise`` (one line)."""

from __future__ import annotations

import functools

import click

from capic.diagnostics import Diagnostic, Severity
from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import fixable, location, summary

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
#: Lines of a multi-line span shown in a frame.
_MAX_FRAME_LINES = 4
#: Columns of one source line in a code frame, and how many of them precede the span.
_MAX_FRAME_WIDTH = 160
_FRAME_CONTEXT = 40


def _style(text: str, d: Diagnostic, options: RenderOptions) -> str:
    return click.style(text, fg=_COLOURS[d.severity], bold=True) if options.colour else text


def _marker(d: Diagnostic, options: RenderOptions) -> str:
    """`` [*]`` on what ``--fix`` (with ``--unsafe-fixes`` when given) would fix."""
    return " [*]" if fixable(d, options.unsafe_fixes) else ""


def _finish(lines: list[str], result: CheckResult, options: RenderOptions) -> str:
    if not options.quiet:
        tail = summary(result, options.unsafe_fixes)
        if tail:
            lines.append(tail)
    return "".join(line + "\n" for line in lines)


class ConciseRenderer(Renderer):
    """``path:line:col: CODE [*] severity: message``"""

    human = True

    def render(self, result: CheckResult, options: RenderOptions) -> str:
        lines = []
        for f in result.findings:
            d = f.diagnostic
            head = _style(f"{d.code}{_marker(d, options)} {d.severity.label}:", d, options)
            lines.append(f"{location(f)}: {head} {d.message}")
        return _finish(lines, result, options)


class FullRenderer(Renderer):
    """A header, the location, a code frame with ``^^^`` under the span, and the help."""

    human = True

    def render(self, result: CheckResult, options: RenderOptions) -> str:
        out: list[str] = []
        for f in result.findings:
            d = f.diagnostic
            head = _style(f"{d.severity.label}[{d.code}]", d, options)
            out.append(f"{head}:{_marker(d, options)} {d.message}")
            if d.span is not None:
                out.append(f"  --> {location(f)}")
                text = result.source_text(f)
                if text is not None:
                    out.extend(_frame(text, d, options))
            for related in d.related:
                where = f.result.display_path(related.span.file) if f.result else related.span.file
                out.append(f"   = note: {related.message} ({where}:{related.span.line})")
            if d.help:
                out.append(f"   = help: {d.help}")
            if d.fix is not None:
                unsafe = "" if fixable(d) else " (unsafe: --unsafe-fixes applies it)"
                out.append(f"   = fix: {d.fix.message}{unsafe}")
            out.append("")
        if not result.findings:
            return ""
        if options.quiet:
            out.pop()
        return _finish(out, result, options)


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    """The lines of a file, split once for all of its frames (a file with thousands of
    findings was split once per finding)."""
    return text.split("\n")


def _frame(text: str, d: Diagnostic, options: RenderOptions) -> list[str]:
    assert d.span is not None
    lines = _lines(text)
    first = d.span.line
    last = min(d.span.end_line, first + _MAX_FRAME_LINES - 1)
    if first < 1 or first > len(lines):
        return []
    width = len(str(last))
    pad = " " * width
    frame = [f" {pad} |"]
    for n in range(first, min(last, len(lines)) + 1):
        line = lines[n - 1].replace("\t", " ").rstrip("\r")
        start = d.span.column if n == first else 1 + (len(line) - len(line.lstrip()))
        end = d.span.end_column if n == d.span.end_line else len(line) + 1
        line, start, end = _clip(line, start, max(start + 1, end))
        frame.append(f" {n:>{width}} | {line}".rstrip())
        carets = "^" * max(1, end - start)
        frame.append(f" {pad} | {' ' * (start - 1)}{_style(carets, d, options)}")
    return frame


def _clip(line: str, start: int, end: int) -> tuple[str, int, int]:
    """A window of at most ``_MAX_FRAME_WIDTH`` columns of ``line`` around the span's start
    (columns 1-based, ``end`` exclusive), marked with "..." where it was cut: one minified or
    generated line must not print megabytes per finding."""
    if len(line) <= _MAX_FRAME_WIDTH:
        return line, start, end
    left = max(0, min(start - 1 - _FRAME_CONTEXT, len(line) - _MAX_FRAME_WIDTH))
    right = left + _MAX_FRAME_WIDTH
    head = "..." if left > 0 else ""
    tail = "..." if right < len(line) else ""
    shift = left - len(head)
    clipped_end = min(end, right + 1) - shift
    return head + line[left:right] + tail, start - shift, clipped_end
