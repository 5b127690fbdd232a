"""``--statistics``: how many diagnostics of each code, most frequent first. Hidden
informational notes are counted too (the statistics are how to find out about them)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import fixable


@dataclass
class _Row:
    code: str
    name: str
    severity: str
    count: int = 0
    fixable: int = 0


def _rows(result: CheckResult, unsafe: bool) -> list[_Row]:
    rows: dict[tuple[str, str, str], _Row] = {}
    for f in result.all_findings:
        d = f.diagnostic
        key = (d.code, d.name, d.severity.label)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Row(*key)
        row.count += 1
        row.fixable += fixable(d, unsafe)
    return sorted(rows.values(), key=lambda r: (-r.count, r.code))


class StatisticsRenderer(Renderer):
    """``count<TAB>code<TAB>[*] name (severity)`` lines (aligned), like ruff; ``[*]`` marks
    codes with findings ``--fix`` fixes."""

    human = True

    def render(self, result: CheckResult, options: RenderOptions) -> str:
        rows = _rows(result, options.unsafe_fixes)
        if not rows:
            return ""
        width = max(len(str(r.count)) for r in rows)
        code_width = max(len(r.code) for r in rows)
        any_fixable = any(r.fixable for r in rows)
        lines = []
        for r in rows:
            marker = ("[*] " if r.fixable else "    ") if any_fixable else ""
            lines.append(
                f"{r.count:>{width}}\t{r.code:<{code_width}}\t{marker}{r.name} ({r.severity})"
            )
        return "\n".join(lines) + "\n"


class JsonStatisticsRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        items = [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity,
                "count": r.count,
                "fixable": r.fixable > 0,
                "fixable_count": r.fixable,
            }
            for r in _rows(result, options.unsafe_fixes)
        ]
        return json.dumps(items, indent=2) + "\n"
