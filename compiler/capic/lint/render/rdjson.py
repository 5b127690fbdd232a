"""``rdjson``: reviewdog's diagnostic format (``reviewdog -f=rdjson``), which posts findings as
pull request review comments and fixes as suggested changes. Paths are those people see
(relative to the working directory); columns count UTF-8 bytes, as the format requires."""

from __future__ import annotations

import json
from typing import Any

from capic.diagnostics import Severity, Span
from capic.lint.engine import CheckResult, Finding
from capic.lint.registry import DOCS_URL, doc_url
from capic.lint.render import Renderer, RenderOptions

_SEVERITIES = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


class _Columns:
    """Code-point columns to UTF-8 byte columns, in one file's text."""

    def __init__(self, text: str | None) -> None:
        self.lines = text.split("\n") if text is not None else []

    def byte_column(self, line: int, column: int) -> int:
        if not 0 < line <= len(self.lines):
            return column
        prefix = self.lines[line - 1][: column - 1]
        return len(prefix.encode("utf-8")) + 1 + max(0, column - 1 - len(prefix))

    def range(self, span: Span) -> dict[str, Any]:
        return {
            "start": {"line": span.line, "column": self.byte_column(span.line, span.column)},
            "end": {
                "line": span.end_line,
                "column": self.byte_column(span.end_line, span.end_column),
            },
        }


class RdjsonRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        diagnostics = [self._diagnostic(result, f) for f in result.findings]
        report = {
            "source": {"name": "capic", "url": DOCS_URL},
            "diagnostics": diagnostics,
        }
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"

    @staticmethod
    def _diagnostic(result: CheckResult, f: Finding) -> dict[str, Any]:
        d = f.diagnostic
        out: dict[str, Any] = {
            "message": d.message + (f"\nhelp: {d.help}" if d.help else ""),
            "severity": _SEVERITIES[d.severity],
            "code": {"value": d.code},
        }
        url = doc_url(d.code)
        if url is not None:
            out["code"]["url"] = url
        if d.span is None or f.display_path is None:
            out["location"] = {"path": ""}
            return out
        columns = _Columns(result.source_text(f))
        out["location"] = {"path": f.display_path, "range": columns.range(d.span)}
        if d.fix is not None:
            out["suggestions"] = [
                {"range": columns.range(e.span), "text": e.content} for e in d.fix.edits
            ]
        return out
