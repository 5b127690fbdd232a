"""Hygiene: dead code and ambiguous names across the files of a project."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity
from capic.lint.context import LintContext
from capic.lint.registry import Check, Option, register
from capic.model import ir


@register
class UnusedElement(Check):
    code = "H001"
    name = "unused-element"
    group = "hygiene"
    severity = Severity.WARNING
    options: ClassVar[Mapping[str, Option]] = {
        "ignore-names": Option(
            "string-list", ["_*"], "Glob patterns of element names never reported."
        )
    }
    summary = "An element that no rule uses, directly or through other elements."
    why = (
        "Unused elements are usually leftovers of a renamed or deleted rule, or a sign that a "
        "rule uses the wrong element."
    )
    example = "element coupon = event.xdm.commerce.order.coupon   # no rule reads it"
    fix = "Remove the element, use it, or prefix its name with _ to keep it on purpose."

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        elements = ctx.project.elements
        used = ctx.used_elements()
        patterns: list[str] = list(self.settings["ignore-names"])
        for name, element in elements.items():
            if name in used or any(fnmatch.fnmatchcase(name, p) for p in patterns):
                continue
            yield self.report(
                f"element `{name}` is not used by any rule",
                element.name_span,
                "remove it, or name it _" + name + " to keep it on purpose",
                element=name,
            )


@register
class ConditionNeverTrue(Check):
    code = "H002"
    name = "condition-never-true"
    group = "hygiene"
    severity = Severity.WARNING
    summary = (
        "A rule whose condition is false (or null) whatever the event: constants folded, also "
        "through elements."
    )
    why = "The rule can never fire; it is usually a typo in a literal or a debugging leftover."
    example = 'rule "Purchase" {\n  when "purchase" == "Purchase"\n  ...\n}'
    fix = "Fix the condition (compare an event field, not two literals) or remove the rule."

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        if rule.condition is None:
            return
        value = ctx.analyzer.fold(rule.condition)
        if value is False or value is None:
            word = "false" if value is False else "null"
            yield self.report(
                f'the condition of rule "{rule.name}" is always {word}: the rule never fires',
                rule.condition.span,
                "compare a field of the event, or remove the rule",
            )


@register
class DuplicateRuleName(Check):
    code = "H003"
    name = "duplicate-rule-name"
    group = "hygiene"
    severity = Severity.ERROR
    summary = "Two rules with the same name, in the same file or in different files."
    why = (
        "Rule names identify rules in test expectations, bundles, delivery statistics and "
        "logs; two rules with one name make all of them ambiguous."
    )
    example = 'rule "MetaConversion_Purchase" { ... }   # purchase.capi\nrule "MetaConversion_Purchase" { ... }   # legacy.capi'
    fix = "Rename one of the rules (or delete the stale copy)."

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        first: dict[str, ir.Rule] = {}
        for rule in ctx.project.rules:
            seen = first.get(rule.name)
            if seen is None:
                first[rule.name] = rule
                continue
            yield self.report(
                f'rule "{rule.name}" is already defined at {seen.name_span}',
                rule.name_span,
                "rename one of them",
                first=str(seen.name_span),
            )
