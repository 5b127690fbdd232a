"""Pieces shared by several renderers."""

from __future__ import annotations

from typing import Any

from capic.diagnostics import Diagnostic, Related
from capic.lint.engine import CheckResult, Finding
from capic.lint.registry import doc_url


def summary(result: CheckResult) -> str:
    """ "All checks passed!" or "Found 3 diagnostics: 1 error, 2 warnings."."""
    counts = result.counts()
    total = sum(counts.values())
    if total == 0:
        return "All checks passed!"
    parts = []
    for label in ("error", "warning", "info"):
        n = counts[label]
        if n:
            parts.append(f"{n} {label}" + ("s" if n != 1 and label != "info" else ""))
    noun = "diagnostic" if total == 1 else "diagnostics"
    return f"Found {total} {noun}: {', '.join(parts)}."


def location(finding: Finding) -> str:
    d = finding.diagnostic
    if d.span is None:
        return "capic"
    return f"{finding.display_path}:{d.span.line}:{d.span.column}"


def as_json(finding: Finding) -> dict[str, Any]:
    """The JSON object of one diagnostic (ruff's field names)."""
    d: Diagnostic = finding.diagnostic
    span = d.span
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "severity": d.severity.label,
        "filename": finding.display_path,
        "location": {"row": span.line, "column": span.column} if span else None,
        "end_location": {"row": span.end_line, "column": span.end_column} if span else None,
        "url": doc_url(d.code),
        "help": d.help,
        "data": d.data,
        **({"related": [related_json(finding, r) for r in d.related]} if d.related else {}),
    }


def related_json(finding: Finding, related: Related) -> dict[str, Any]:
    """A related location (e.g. the send of a finding in a shared block) in ruff's terms."""
    span = related.span
    shown = finding.result.display_path(span.file) if finding.result is not None else span.file
    return {
        "message": related.message,
        "filename": shown,
        "location": {"row": span.line, "column": span.column},
        "end_location": {"row": span.end_line, "column": span.end_column},
    }


def fails(result: CheckResult, d: Diagnostic) -> bool:
    return d.severity >= result.fail_level
