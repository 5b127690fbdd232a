"""Loading projects: discovery (``discovery``), settings (``config``), reading and parsing
(``parsing``) and resolving, into one :class:`LoadResult` per project.

A project is a directory with a ``capic.toml`` and any number of ``*.capi`` files below it.
Loose files outside a project form one ad-hoc project. Spans in the IR use paths relative to
the project root (posix), so the rule model and bundles do not depend on the working
directory; :meth:`LoadResult.display_path` turns them back into paths for people.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from capic.codes import code
from capic.diagnostics import Diagnostic, Severity
from capic.model.config import key_span, load_config, read_toml
from capic.model.discovery import (
    CONFIG_NAME,
    STDIN_NAME,
    Overlay,
    ProjectSpec,
    discover,
    find_project_root,
)
from capic.model.parsing import CACHE_DIR, PARALLEL_THRESHOLD, ParseCache, parse_files

if TYPE_CHECKING:
    # Imported where the rule model is built: discovery (and a check whose result is cached)
    # never needs it, and its dataclasses take a while to create.
    from capic.model import ir

__all__ = [
    "CACHE_DIR",
    "CONFIG_NAME",
    "PARALLEL_THRESHOLD",
    "STDIN_NAME",
    "LoadResult",
    "Overlay",
    "ParseCache",
    "ProjectSpec",
    "discover",
    "find_project_root",
    "load",
    "load_config",
    "load_spec",
    "parse_files",
    "paused_gc",
]


@dataclass
class LoadResult:
    """What loading one project gives: the IR (None when it could not be built) and every
    diagnostic found on the way."""

    root: Path
    config: ir.ProjectConfig
    project: ir.Project | None
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)
    #: When set, only these project-relative files were asked for (diagnostics elsewhere are
    #: still computed, because names resolve across the whole project, but not reported).
    focus: set[str] | None = None
    _shown: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.project is not None and not any(
            d.severity >= Severity.ERROR for d in self.diagnostics
        )

    def display_path(self, rel: str) -> str:
        key = (rel, os.getcwd())
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = self._display_path(rel)
        return shown

    def _display_path(self, rel: str) -> str:
        # Like ruff: relative to the working directory for files below it, else absolute
        # (a path full of ../ is neither stable nor readable).
        absolute = Path(os.path.normpath(self.root / rel))
        try:
            return absolute.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(absolute)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading builds ~200 acyclic objects per line, and
    the collections that triggers cost a quarter of a warm load without freeing anything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_spec(
    spec: ProjectSpec,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    overlay: Overlay | None = None,
) -> LoadResult:
    with paused_gc():
        return _load_spec(spec, use_cache=use_cache, jobs=jobs, overlay=overlay)


def _load_spec(
    spec: ProjectSpec, *, use_cache: bool, jobs: int | None, overlay: Overlay | None
) -> LoadResult:
    from capic.model import ir
    from capic.model.resolve import resolve

    config, diags = load_config(spec.root, spec.config_path)
    parsed, parse_diags = parse_files(
        spec.root,
        spec.files,
        use_cache=use_cache and spec.config_path is not None,
        jobs=jobs,
        overlay=overlay,
    )
    diags.extend(parse_diags)
    focus = (
        {f.relative_to(spec.root).as_posix() for f in spec.focus}
        if spec.focus is not None
        else None
    )
    result = LoadResult(spec.root, config, None, diags, [s.path for s, _ in parsed], focus)
    if any(tree is None for _, tree in parsed) or any(
        d.code in {"C002", "C003"} for d in parse_diags
    ):
        return result
    trees = [tree for _, tree in parsed]
    resolved, resolve_diags = resolve(trees)
    diags.extend(resolve_diags)
    result.project = ir.Project(
        config=config,
        root=str(spec.root),
        files=tuple(s for s, _ in parsed),
        **resolved,
    )
    if (
        config.default_environment
        and config.default_environment not in resolved["environments"]
        and config.path
    ):
        text = read_toml(spec.root / config.path)[1]
        diags.append(
            code("R013").diagnostic(
                f"default_environment {config.default_environment!r} is not declared",
                key_span(text, config.path, "default_environment"),
                "declare it with environment NAME { ... }",
            )
        )
    return result


def load(
    paths: Sequence[str | Path],
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    overlay: Overlay | None = None,
) -> tuple[list[LoadResult], list[Diagnostic]]:
    specs, problems = discover(paths, overlay)
    return [load_spec(s, use_cache=use_cache, jobs=jobs, overlay=overlay) for s in specs], problems
