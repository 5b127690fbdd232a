"""Linting one loaded project: the enabled checks over its rules, sends and environments.

:func:`lint_project` is called by :func:`capic.lint.engine.check_paths` (which adds
configuration, per-file ignores, suppressions and the exit status) and re-exported there.

Environments: findings that depend on the environment (pixel overrides, test event codes,
browser-shared pixels) are computed for every environment checked and merged: a finding that
holds in all of them is reported once, otherwise its message names the environments and
``data["environments"]`` lists them. ``env=None`` checks every declared environment (or the
base configuration when none is declared); ``env="production"`` checks that one only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic.diagnostics import Diagnostic, Severity
from capic.lint.config import ConfigError, LintSettings
from capic.lint.registry import Check, all_checks

if TYPE_CHECKING:
    # The rule model and the lint context are imported where they are used: a run whose
    # result comes from the cache (capic.lint.result_cache) never builds them.
    from capic.lint.context import EnvView, LintContext
    from capic.model import ir

__all__ = ["lint_project"]


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
