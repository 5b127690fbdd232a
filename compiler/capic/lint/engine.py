"""Running the linter: load projects, run the enabled checks, apply configuration and
suppressions, and decide the exit status.

:func:`check_paths` is the public entry point (``capic check``, :func:`capic.api.check`, and the
build step, which refuses to build with errors). :func:`lint_project` lints one loaded project
(:mod:`capic.lint.project_lint`, which also describes how findings of several environments
are merged).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from capic.diagnostics import Diagnostic, Severity
from capic.lint.config import ConfigError, LintSettings, Overrides, load_settings
from capic.lint.project_lint import lint_project
from capic.lint.registry import all_checks
from capic.lint.result import CheckResult, Finding, sort_key

if TYPE_CHECKING:
    from capic.model.project import LoadResult, Overlay


__all__ = ["CheckResult", "ConfigError", "Finding", "check_paths", "lint_project"]


# ----------------------------------------------------------------------------- whole runs


def _filter(
    result: LoadResult,
    settings: LintSettings,
    diagnostics: list[Diagnostic],
) -> list[Diagnostic]:
    kept = []
    for d in diagnostics:
        if not settings.is_enabled(d.code):
            continue
        if d.span is not None and settings.ignored_in_file(d.code, result.root / d.span.file):
            continue
        kept.append(d)
    return kept


def _one(
    result: LoadResult, overrides: Overrides, env: str | None, use_cache: bool
) -> tuple[list[Diagnostic], LintSettings, list[str | None]]:
    from capic.lint import suppress

    settings, config_diags, _ = load_settings(result.root, overrides)
    frontend = list(result.diagnostics)
    diagnostics: list[Diagnostic] = [*frontend, *config_diags]
    project = result.project
    if project is None:
        return diagnostics, settings, [env]
    cache_root = result.root if use_cache and result.config.path is not None else None
    lint, ctx = lint_project(project, settings, env=env, frontend=frontend, cache_root=cache_root)
    lint = _filter(result, settings, lint)
    sensitive = {c.code for c in all_checks().values() if c.env_sensitive}

    def reportable(code: str, file: str) -> bool:
        if not settings.is_enabled(code) or settings.ignored_in_file(code, result.root / file):
            return False
        return not (ctx.env_restricted and code in sensitive)

    kept, problems = suppress.apply(project.files, lint, reportable=reportable)
    diagnostics.extend(kept)
    diagnostics.extend(_filter(result, settings, problems))
    return diagnostics, settings, [e.name for e in ctx.environments]


#: Codes that make the exit status 2 (what to check cannot be known), unlike C003 (one file
#: cannot be read: a finding about that file, exit status 1 like ruff's E902).
EXIT_2_CODES = frozenset({"C001", "C002", "C101", "C102"})


def _exit_code(diagnostics: Iterable[Diagnostic], fail_level: Severity) -> int:
    """2 when the configuration is broken or a path is missing, else 1 at or above the fail
    level."""
    items = list(diagnostics)
    if any(d.severity >= Severity.ERROR and d.code in EXIT_2_CODES for d in items):
        return 2
    return 1 if any(d.severity >= fail_level for d in items) else 0


def check_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    env: str | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
    fail_level: Severity | str | None = None,
    use_cache: bool = True,
    show_info: bool | None = None,
    overlay: Overlay | None = None,
    result_cache: bool = False,
    jobs: int | None = None,
) -> CheckResult:
    """Load and lint the projects the paths belong to.

    ``select`` replaces the configured selection; ``ignore`` and ``extend_select`` extend the
    configured lists; ``fail_level`` and ``show_info`` override the configured ones
    (informational notes are hidden unless shown; they never change the exit status unless
    the fail level is info, which shows them). ``env`` restricts the
    environment-dependent checks to one environment. A file inside a project is checked in the
    context of its whole project, and only its own diagnostics are reported.

    ``overlay`` maps absolute paths to texts read instead of the files (editor buffers,
    stdin, the rounds of ``--fix``). ``result_cache`` reads and stores whole results
    (:mod:`capic.lint.result_cache`; ``capic check`` uses it, the API does not: a cached
    result carries no rule model in ``results``). ``jobs`` limits the parse workers (1: parse
    in this process, as a server that must not fork does).

    Raises :class:`ConfigError` for an unknown selector, fail level or environment.
    ``exit_code``: 0 clean, 1 findings at or above the fail level, 2 configuration problems
    (capic.toml, pyproject.toml, the lint table) or missing paths.
    """
    level: Severity | None
    if isinstance(fail_level, str):
        try:
            level = Severity.parse(fail_level)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    else:
        level = fail_level
    overrides = Overrides(
        select=list(select) if select is not None else None,
        ignore=list(ignore or ()),
        extend_select=list(extend_select or ()),
        fail_level=level,
        show_info=show_info,
    )
    from capic.model.project import discover, load_spec, paused_gc

    specs, problems = discover([os.fspath(p) for p in paths], overlay)
    run_key = None
    if result_cache and use_cache and not overlay:
        from capic.lint import result_cache as cache

        if cache.cacheable(specs):
            options = {
                "env": env,
                "select": overrides.select,
                "ignore": overrides.ignore,
                "extend_select": overrides.extend_select,
                "fail_level": int(level) if level is not None else None,
                "show_info": show_info,
            }
            run_key = cache.key(specs, problems, options)
            hit = cache.read(specs, run_key)
            if hit is not None:
                return hit
    results = [load_spec(s, use_cache=use_cache, overlay=overlay, jobs=jobs) for s in specs]
    findings: list[Finding] = [Finding(d, None) for d in problems]
    settings_by_root: dict[Path, LintSettings] = {}
    envs_by_root: dict[Path, list[str | None]] = {}
    levels: list[Severity] = []
    for result in results:
        with paused_gc():
            diagnostics, settings, envs = _one(result, overrides, env, use_cache)
        settings_by_root[result.root] = settings
        envs_by_root[result.root] = envs
        levels.append(settings.fail_level)
        for d in diagnostics:
            if _outside_focus(result, d):
                continue
            findings.append(Finding(d, result))
    findings.sort(key=sort_key)
    effective = min(levels) if levels else (level or Severity.ERROR)
    exit_code = 0
    for result_level, group in _by_level(findings, settings_by_root):
        code = _exit_code(group, result_level)
        exit_code = max(exit_code, code)
    if any(f.result is None and f.diagnostic.severity >= Severity.ERROR for f in findings):
        exit_code = 2
    shown, hidden = _visible(findings, settings_by_root)
    checked = CheckResult(
        shown, list(results), effective, exit_code, settings_by_root, envs_by_root, hidden
    )
    if run_key is not None:
        from capic.lint import result_cache as cache

        cache.write(specs, run_key, checked)
    return checked


def _visible(
    findings: list[Finding], settings: dict[Path, LintSettings]
) -> tuple[list[Finding], list[Finding]]:
    """(shown, hidden): informational notes are hidden unless their project shows them."""
    shown: list[Finding] = []
    hidden: list[Finding] = []
    for f in findings:
        project = settings.get(f.root) if f.root is not None else None
        if (
            f.diagnostic.severity <= Severity.INFO
            and project is not None
            and not project.shows_info
        ):
            hidden.append(f)
        else:
            shown.append(f)
    return shown, hidden


def _outside_focus(result: LoadResult, d: Diagnostic) -> bool:
    """Whether a diagnostic is about a file that was not asked for (when files were given).
    Configuration problems (C codes) concern every file and are always reported, and so are
    errors elsewhere that kept the project from being resolved (a syntax error in another
    file): without them the files asked for would look clean without having been checked."""
    if result.focus is None or d.span is None or d.code.startswith("C"):
        return False
    if result.project is None and d.severity >= Severity.ERROR:
        return False
    return d.span.file not in result.focus


def _by_level(
    findings: list[Finding], settings: dict[Path, LintSettings]
) -> Iterable[tuple[Severity, list[Diagnostic]]]:
    groups: dict[Path | None, list[Diagnostic]] = {}
    for f in findings:
        groups.setdefault(f.root, []).append(f.diagnostic)
    for root, diagnostics in groups.items():
        level = (
            settings[root].fail_level if root is not None and root in settings else Severity.ERROR
        )
        yield level, diagnostics
