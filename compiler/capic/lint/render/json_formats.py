"""``json`` (a bare array of diagnostic objects, ruff's field names) and ``json-lines`` (one
object per line)."""

from __future__ import annotations

import json

from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions
from capic.lint.render._common import as_json


class JsonRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        items = [as_json(f) for f in result.findings]
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


class JsonLinesRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        return "".join(
            json.dumps(as_json(f), ensure_ascii=False, separators=(",", ":")) + "\n"
            for f in result.findings
        )
