"""Running the linter: load projects, run the enabled checks, apply configuration and
suppressions, and decide the exit status.

:func:`check_paths` is the public entry point (``capic check``, :func:`capic.api.check`, and the
build step, which refuses to build with errors). :func:`lint_project` lints one loaded project.

Environments: findings that depend on the environment (pixel overrides, test event codes,
browser-shared pixels) are computed for every environment checked and merged: a finding that
holds in all of them is reported once, otherwise its message names the environments and
``data["environments"]`` lists them. ``env=None`` checks every declared environment (or the
base configuration when none is declared); ``env="production"`` checks that one only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic.diagnostics import Diagnostic, Severity
from capic.lint.config import ConfigError, LintSettings, Overrides, load_settings
from capic.lint.registry import Check, all_checks
from capic.lint.result import CheckResult, Finding, sort_key

if TYPE_CHECKING:
    # The rule model and the lint context are imported where they are used: a run whose
    # result comes from the cache (capic.lint.result_cache) never builds them.
    from capic.lint.context import EnvView, LintContext
    from capic.model import ir
    from capic.model.project import LoadResult, Overlay


__all__ = ["CheckResult", "ConfigError", "Finding", "check_paths", "lint_project"]


# ----------------------------------------------------------------------------- linting


def _environments(project: ir.Project, env: str | None) -> tuple[list[EnvView], bool]:
    from capic.lint.context import EnvView

    if env is not None:
        if env not in project.environments:
            raise ConfigError(_unknown_env(env, project))
        return [EnvView(project, env)], len(project.environments) > 1
    if not project.environments:
        return [EnvView(project, None)], False
    return [EnvView(project, name) for name in project.environments], False


def _unknown_env(env: str, project: ir.Project) -> str:
    from capic.meta.catalog import suggest

    declared = list(project.environments)
    hint = suggest(env, declared)
    tail = (
        f" (did you mean {hint!r}?)"
        if hint
        else (f"; declared: {', '.join(declared)}" if declared else "; none is declared")
    )
    return f"project {project.name!r} has no environment {env!r}{tail}"


def _instantiate(settings: LintSettings) -> list[Check]:
    checks = all_checks()
    return [
        cls(settings.options.get(cls.name))
        for code, cls in checks.items()
        if settings.is_enabled(code)
    ]


def _claimants() -> list[Check]:
    """Every schema-claiming check, specific ones before the generic V checks."""
    ordered = sorted(all_checks().values(), key=lambda c: (c.group == "schema", c.code))
    return [cls() for cls in ordered]


def _merge(
    per_env: list[tuple[str | None, Diagnostic]], env_names: list[str | None]
) -> list[Diagnostic]:
    """Merge environment-sensitive findings that hold in several environments."""
    groups: dict[tuple[Any, ...], list[tuple[str | None, Diagnostic]]] = {}
    for name, d in per_env:
        groups.setdefault((d.code, d.span, d.message, d.related), []).append((name, d))
    merged: list[Diagnostic] = []
    named = [n for n in env_names if n is not None]
    for items in groups.values():
        first = items[0][1]
        names = [n for n, _ in items if n is not None]
        if not named:
            merged.append(first)
            continue
        ordered = [n for n in named if n in set(names)]
        message = first.message
        already_named = all(f"`{n}`" in message for n in ordered)
        if len(ordered) < len(named) and not already_named:
            label = "environment" if len(ordered) == 1 else "environments"
            message = f"{message} (in {label} {', '.join(ordered)})"
        data = {**first.data, "environments": ordered}
        merged.append(
            Diagnostic(
                first.code,
                first.name,
                first.severity,
                message,
                first.span,
                first.help,
                data,
                first.related,
                first.fix,
            )
        )
    return merged


def lint_project(
    project: ir.Project,
    settings: LintSettings,
    *,
    env: str | None = None,
    frontend: Sequence[Diagnostic] = (),
    cache_root: Path | None = None,
) -> tuple[list[Diagnostic], LintContext]:
    """Run the enabled checks on one project. ``frontend`` are the loader's diagnostics (their
    error spans are treated as unknown values, not nulls). With ``cache_root`` (the project
    root) the per-file findings are cached in ``.capic_cache/lint/`` (not when the front end
    found errors). Returns the lint diagnostics before per-file ignores and suppressions."""
    from capic.lint.cache import FileResult, LintCache, context_key
    from capic.lint.context import LintContext

    envs, restricted = _environments(project, env)
    poisoned = frozenset(
        d.span for d in frontend if d.span is not None and d.severity >= Severity.ERROR
    )
    ctx = LintContext(project, envs, poisoned, restricted)
    run = _Run(ctx, _instantiate(settings))
    out: list[Diagnostic] = []
    per_env: list[tuple[str | None, Diagnostic]] = []
    key = (
        context_key(project, run.enabled, settings.options, [e.name for e in envs])
        if cache_root is not None and not poisoned
        else ""
    )
    cache = LintCache.open(cache_root if key else None, key)
    shas = {f.path: f.sha256 for f in project.files}
    by_file: dict[str, list[ir.Rule]] = {}
    for rule in project.rules:
        by_file.setdefault(rule.file, []).append(rule)
    for file, rules in by_file.items():
        hit = cache.get(file, shas.get(file, ""))
        if hit is None:
            hit = FileResult([], [], ctx.rule_element_refs(rules))
            for rule in rules:
                run.rule(rule, hit.plain, hit.per_env)
            cache.put(file, shas.get(file, ""), hit)
        ctx.element_refs_by_file[file] = hit.element_refs
        out.extend(hit.plain)
        per_env.extend(hit.per_env)
    cache.keep_only(by_file)
    cache.save()
    for view in envs:
        for check in run.checks:
            per_env.extend((view.name, d) for d in check.check_environment(ctx, view))
    for check in run.checks:
        _collect(check, check.finalize(ctx), out, per_env, envs)
    out.extend(_merge(per_env, [e.name for e in envs]))
    return out, ctx


class _Run:
    """The per-rule part of a lint run: schema failures, per-send and per-rule hooks."""

    def __init__(self, ctx: LintContext, checks: list[Check]) -> None:
        from capic.lint.context import EnvView

        self.ctx = ctx
        self.checks = checks
        self.enabled = {c.code for c in checks}
        self.by_code = {c.code: c for c in checks}
        self.claimants = _claimants()
        self.plain = [c for c in checks if not c.env_sensitive]
        self.sensitive = [c for c in checks if c.env_sensitive]
        envs = ctx.environments
        self.base = envs[0] if len(envs) == 1 else EnvView(ctx.project, None)

    def rule(
        self,
        rule: ir.Rule,
        out: list[Diagnostic],
        per_env: list[tuple[str | None, Diagnostic]],
    ) -> None:
        from capic.lint.variants import send_findings

        ctx, envs = self.ctx, self.ctx.environments
        for send in rule.sends:
            # Through lint.variants: once per event name a computed name can take, and once
            # per (field, send) for fields written in shared blocks.
            out.extend(send_findings(ctx, rule, send, lambda v: self._send(rule, v, False)))
            shared = send_findings(ctx, rule, send, lambda v: self._send(rule, v, True))
            per_env.extend((e.name, d) for e in envs for d in shared)
            for view in envs:
                per_env.extend(
                    (view.name, d)
                    for d in send_findings(
                        ctx,
                        rule,
                        send,
                        lambda v, view=view: [  # type: ignore[misc]
                            d for c in self.sensitive for d in c.check_send(ctx, rule, v, view)
                        ],
                    )
                )
        for check in self.checks:
            _collect(check, check.check_rule(ctx, rule), out, per_env, envs)

    def _send(self, rule: ir.Rule, send: ir.Send, sensitive: bool) -> list[Diagnostic]:
        """Schema failures claimed by (environment-sensitive or other) checks, and the other
        checks' per-send findings (``sensitive``: only the schema failures; the checks that
        depend on the environment run per environment)."""
        ctx = self.ctx
        found: list[Diagnostic] = []
        for finding in ctx.send_data(send).findings:
            owner = next((c for c in self.claimants if c.claims(finding)), None)
            if owner is None or owner.code not in self.enabled or owner.env_sensitive != sensitive:
                continue
            d = self.by_code[owner.code].describe(ctx, send, finding)
            if d is not None:
                found.append(d)
        if not sensitive:
            for check in self.plain:
                found.extend(check.check_send(ctx, rule, send, self.base))
        return found


def _collect(
    check: Check,
    produced: Iterable[Diagnostic],
    out: list[Diagnostic],
    per_env: list[tuple[str | None, Diagnostic]],
    envs: list[EnvView],
) -> None:
    items = list(produced)
    if check.env_sensitive:
        per_env.extend((e.name, d) for e in envs for d in items)
    else:
        out.extend(items)


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
