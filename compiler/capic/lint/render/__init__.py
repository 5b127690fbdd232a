"""Output formats of ``capic check``: one renderer class per format, looked up in a registry.

The registry maps a format name to ``module:Class`` and imports the module only when the
format is used, so ``capic check`` loads just the renderer it needs. Every renderer turns a
:class:`~capic.lint.engine.CheckResult` into text.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capic.lint.engine import CheckResult

#: Format name -> "module:Class" (modules of this package).
FORMATS: dict[str, str] = {
    "full": "text:FullRenderer",
    "concise": "text:ConciseRenderer",
    "json": "json_formats:JsonRenderer",
    "json-lines": "json_formats:JsonLinesRenderer",
    "sarif": "sarif:SarifRenderer",
    "github": "github:GithubRenderer",
    "gitlab": "gitlab:GitlabRenderer",
    "junit": "junit:JunitRenderer",
    "rdjson": "rdjson:RdjsonRenderer",
}
#: ``--statistics``: the table replaces the diagnostics (JSON for the JSON formats).
STATISTICS: dict[str, str] = {
    "text": "statistics:StatisticsRenderer",
    "json": "statistics:JsonStatisticsRenderer",
}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    #: ANSI colours (a terminal, ``--color always`` or ``FORCE_COLOR``).
    colour: bool = False
    #: ``--quiet``: the diagnostics only, no summary line.
    quiet: bool = False
    #: Whether ``--unsafe-fixes`` is on (the summary counts the fixes it would apply).
    unsafe_fixes: bool = False


def use_colour(mode: str, *, human: bool, to_terminal: bool, environ: dict[str, str]) -> bool:
    """Whether to colour the output. ``--color always|never`` decides; with ``auto`` (the
    default) ``NO_COLOR`` (or ``CAPIC_NO_COLOR``) turns colour off, ``FORCE_COLOR`` turns it on
    (CI logs render ANSI colours but are not terminals), else a terminal decides. Machine
    formats are never coloured."""
    if not human or mode == "never":
        return False
    if mode == "always":
        return True
    if environ.get("NO_COLOR") or environ.get("CAPIC_NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return to_terminal


class Renderer(abc.ABC):
    """Base class: ``render`` returns the complete output (ending with a newline if not empty)."""

    #: Whether the format is meant for people (prints a summary line).
    human: bool = False

    @abc.abstractmethod
    def render(self, result: CheckResult, options: RenderOptions) -> str: ...


def _load(spec: str) -> Renderer:
    module_name, class_name = spec.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    cls = getattr(module, class_name)
    renderer = cls()
    assert isinstance(renderer, Renderer)
    return renderer


def get(name: str) -> Renderer:
    """The renderer of format ``name`` (KeyError if there is none)."""
    return _load(FORMATS[name])


def statistics_renderer(output_format: str) -> Renderer:
    return _load(STATISTICS["json" if output_format in {"json", "json-lines"} else "text"])
