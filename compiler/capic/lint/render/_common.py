"""Pieces shared by several renderers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from capic.diagnostics import Applicability, Diagnostic, Related
from capic.files import git_top_level
from capic.lint.engine import CheckResult, Finding
from capic.lint.registry import doc_url


def fixable(d: Diagnostic, unsafe: bool = False) -> bool:
    """Whether ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) would fix it."""
    if d.fix is None:
        return False
    return unsafe or d.fix.applicability is Applicability.SAFE


def summary(result: CheckResult, unsafe_fixes: bool = False) -> str:
    """ "" when nothing is shown, else "Found 3 diagnostics: 1 error, 2 warnings." and how
    many ``--fix`` would fix."""
    counts = result.counts()
    total = sum(counts.values())
    if total == 0:
        return ""
    parts = []
    for label in ("error", "warning", "info"):
        n = counts[label]
        if n:
            parts.append(f"{n} {label}" + ("s" if n != 1 and label != "info" else ""))
    noun = "diagnostic" if total == 1 else "diagnostics"
    line = f"Found {total} {noun}: {', '.join(parts)}."
    diagnostics = result.diagnostics
    safe = sum(1 for d in diagnostics if fixable(d, unsafe_fixes))
    if safe:
        flag = "--fix --unsafe-fixes" if unsafe_fixes else "--fix"
        line += f"\n[*] {safe} fixable with `capic check {flag}`."
    hidden = sum(1 for d in diagnostics if fixable(d, True)) - safe
    if hidden:
        line += f"\n{hidden} more fixable with --unsafe-fixes."
    return line


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
        "fix": _fix_json(finding) if d.fix is not None else None,
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


def _fix_json(finding: Finding) -> dict[str, Any]:
    fix = finding.diagnostic.fix
    assert fix is not None
    return {
        "applicability": fix.applicability.value,
        "message": fix.message,
        "edits": [
            {
                "content": e.content,
                "location": {"row": e.span.line, "column": e.span.column},
                "end_location": {"row": e.span.end_line, "column": e.span.end_column},
            }
            for e in fix.edits
        ],
    }


def fails(result: CheckResult, d: Diagnostic) -> bool:
    return d.severity >= result.fail_level


def source_root(start: Path) -> Path:
    """The repository's top level above ``start`` (a project root), else ``start`` itself:
    outside a repository, paths stay relative to the project."""
    return git_top_level(start) or start


def repo_path(finding: Finding) -> str | None:
    """The finding's file relative to its repository's top level (else to its project's
    root), with forward slashes: what code scanning and GitLab resolve paths against."""
    span, root = finding.diagnostic.span, finding.root
    if span is None or root is None:
        return None
    return repo_relative(root, span.file)


def repo_relative(root: Path, rel: str) -> str:
    """A project-relative path made relative to the repository's top level."""
    absolute = os.path.normpath(root / rel)
    return Path(os.path.relpath(absolute, source_root(root))).as_posix()


def line_text(result: CheckResult, finding: Finding) -> str:
    span = finding.diagnostic.span
    text = result.source_text(finding) or ""
    lines = text.split("\n")
    if span is None or not 0 < span.line <= len(lines):
        return ""
    return lines[span.line - 1].strip()


def fingerprint(result: CheckResult, finding: Finding, path: str, seen: dict[str, int]) -> str:
    """A hash of the code, file, source line text and message, numbered among equal ones: it
    survives edits elsewhere in the file (line numbers are not part of it)."""
    d = finding.diagnostic
    text = line_text(result, finding)
    digest = hashlib.sha256(f"{d.code}\0{path}\0{text}\0{d.message}".encode()).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"
