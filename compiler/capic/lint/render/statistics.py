"""``--statistics``: how many diagnostics of each code, most frequent first."""

from __future__ import annotations

import json
from collections import Counter

from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions


def _rows(result: CheckResult) -> list[tuple[str, str, str, int]]:
    counts = Counter((d.code, d.name, d.severity.label) for d in result.diagnostics)
    return sorted(
        ((code, name, severity, n) for (code, name, severity), n in counts.items()),
        key=lambda r: (-r[3], r[0]),
    )


class StatisticsRenderer(Renderer):
    """``count<TAB>code<TAB>name`` lines (aligned), like ruff."""

    human = True

    def render(self, result: CheckResult, options: RenderOptions) -> str:
        rows = _rows(result)
        if not rows:
            return "All checks passed!\n"
        width = max(len(str(r[3])) for r in rows)
        code_width = max(len(r[0]) for r in rows)
        lines = [
            f"{n:>{width}}\t{code:<{code_width}}\t{name} ({sev})" for code, name, sev, n in rows
        ]
        return "\n".join(lines) + "\n"


class JsonStatisticsRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        items = [
            {"code": code, "name": name, "severity": sev, "count": n}
            for code, name, sev, n in _rows(result)
        ]
        return json.dumps(items, indent=2) + "\n"
