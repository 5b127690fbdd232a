"""``github``: GitHub Actions workflow commands, shown as annotations on the pull request:
``::error file=...,line=...,col=...,endLine=...,endColumn=...,title=capic (CODE)::message``."""

from __future__ import annotations

from capic.diagnostics import Severity
from capic.lint.engine import CheckResult
from capic.lint.render import Renderer, RenderOptions

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class GithubRenderer(Renderer):
    def render(self, result: CheckResult, options: RenderOptions) -> str:
        lines = []
        for f in result.findings:
            d = f.diagnostic
            props = []
            if d.span is not None and f.display_path is not None:
                props += [
                    f"file={_property(f.display_path)}",
                    f"line={d.span.line}",
                    f"col={d.span.column}",
                    f"endLine={d.span.end_line}",
                    f"endColumn={d.span.end_column}",
                ]
            props.append(f"title={_property(f'capic ({d.code})')}")
            message = d.message + (f"\nhelp: {d.help}" if d.help else "")
            lines.append(f"::{_COMMANDS[d.severity]} {','.join(props)}::{_data(message)}")
        return "".join(line + "\n" for line in lines)
