"""``gitlab``: a GitLab Code Quality report (the Code Climate subset GitLab reads), for
``artifacts:reports:codequality``. Paths are relative to the repository's top level, as GitLab
expects; fingerprints are those of the SARIF output (stable across unrelated edits)."""

from __future__ import annotations

import json
from typing import Any

from capic.diagnostics import Severity
from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import fingerprint, repo_path

_SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


class GitlabRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        seen: dict[str, int] = {}
        items: list[dict[str, Any]] = []
        for f in result.findings:
            d = f.diagnostic
            path = repo_path(f)
            if d.span is None or path is None:
                # A problem with the run (a missing path): no file to point at.
                location: dict[str, Any] = {"path": ".", "lines": {"begin": 1}}
            else:
                location = {
                    "path": path,
                    "positions": {
                        "begin": {"line": d.span.line, "column": d.span.column},
                        "end": {"line": d.span.end_line, "column": d.span.end_column},
                    },
                }
            items.append(
                {
                    "type": "issue",
                    "check_name": d.code,
                    "description": f"{d.code} {d.message}",
                    "severity": _SEVERITIES[d.severity],
                    "fingerprint": fingerprint(result, f, path or ".", seen),
                    "location": location,
                }
            )
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
