"""The documented Python API: what the CLI is built on, and what services and tests call.

    >>> from capic import api
    >>> result = api.load_project("samples/storefront")
    >>> result.ok, len(result.project.rules)

Loading gives the rule model (:class:`capic.model.ir.Project`) and front-end diagnostics;
:func:`check` adds the linter; :func:`compile_project` turns a project into Python source for
one environment, and :func:`load_compiled` imports such a module so that a service can call
``module.process(event, request)`` without the CLI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from capic.diagnostics import Diagnostic
from capic.model.project import LoadResult, load

if TYPE_CHECKING:
    from capic.lint.engine import CheckResult
    from capic.model.ir import Project

__all__ = [
    "LoadResult",
    "check",
    "compile_project",
    "load",
    "load_compiled",
    "load_project",
    "parse",
]


def load_project(path: str | Path | Sequence[str | Path], *, use_cache: bool = True) -> LoadResult:
    """Load one project: a directory with capic.toml, or loose .capi files (one ad-hoc project).

    Raises ``ValueError`` if the paths make up more than one project; use :func:`load` then.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    results, problems = load(paths, use_cache=use_cache)
    if len(results) != 1:
        if not results and problems:
            raise ValueError(problems[0].message)
        raise ValueError(f"expected one project, found {len(results)}")
    result = results[0]
    result.diagnostics[:0] = problems
    return result


def parse(text: str, path: str = "<string>") -> LoadResult:
    """Parse and resolve source text as a one-file project (handy in tests and notebooks)."""
    from capic.model import ir
    from capic.model.resolve import resolve
    from capic.syntax.parser import parse_text
    from capic.syntax.redact import redact

    text = redact(text)
    tree, diags = parse_text(text, path)
    root = Path.cwd()
    config = ir.ProjectConfig(name=Path(path).stem or "inline")
    result = LoadResult(root, config, None, list(diags), [path])
    if tree is None:
        return result
    resolved, resolve_diags = resolve([tree])
    result.diagnostics.extend(resolve_diags)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    source = ir.SourceFile(path, digest, text.count("\n") + 1, text, tree.comments)
    result.project = ir.Project(config=config, root=str(root), files=(source,), **resolved)
    return result


def check(paths: Sequence[str | Path], **options: Any) -> CheckResult:
    """Load and lint projects; see :func:`capic.lint.engine.check_paths` for the options."""
    from capic.lint.engine import check_paths

    return check_paths(paths, **options)


def compile_project(project: Project, environment: str | None = None) -> str:
    """Python source of the rule module for ``environment`` (byte-identical for equal input)."""
    from capic.codegen import generate

    return generate(project, environment)


def load_compiled(source: str | Path, *, name: str = "capic_rules") -> ModuleType:
    """Import a generated rule module from its source text or a path to a ``.py`` file."""
    from capic.runtime.loader import load_module

    return load_module(source, name=name)


def diagnostics_of(results: Sequence[LoadResult]) -> list[Diagnostic]:
    return [d for r in results for d in r.diagnostics]
