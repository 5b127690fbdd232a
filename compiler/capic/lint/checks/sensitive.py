"""Custom event names that suggest a health condition or a financial status (capi-facts §15).

Heuristic: the words come from ``schemas/standard_events.schema.json``
(``x-capic-sensitive-name-terms``), capic's list, not Meta's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.context import LintContext
from capic.lint.registry import Check, Option, register
from capic.meta import catalog
from capic.meta.coverage import sensitive_words
from capic.model import ir

_REFERENCE = (
    "Meta's custom-conversion reference: from 2025-09-02 custom conversions whose names or "
    "rules suggest health conditions or financial status are flagged and may become "
    "unavailable (is_unavailable)"
)


@register
class SensitiveCustomEventName(Check):
    code = "L070"
    name = "sensitive-custom-event-name"
    group = "literals"
    severity = Severity.WARNING
    options: ClassVar[Mapping[str, Option]] = {
        "extra-health-terms": Option(
            "string-list", [], "More words (lowercase) that suggest a health condition."
        ),
        "extra-financial-terms": Option(
            "string-list", [], "More words (lowercase) that suggest a financial status."
        ),
        "allow-names": Option(
            "string-list", [], "Event names never reported (exactly as written in the rules)."
        ),
    }
    summary = (
        "(Heuristic) A custom event name with a word that suggests a health condition or a "
        "financial status (e.g. DiabetesQuizCompleted, LoanDeclined): Meta restricts custom "
        "conversions built on such names. The word list is capic's, not Meta's."
    )
    why = (
        "Meta's custom-conversion reference says that from 2025-09-02 custom conversions whose "
        "names or rules suggest health conditions or financial status are flagged and may "
        "become unavailable (is_unavailable), and Meta's terms forbid sending such "
        "information. capic matches the words of the name (split at capitals, digits and "
        "separators, and adjacent words written together) against a short list in "
        "schemas/standard_events.schema.json; it can be wrong both ways."
    )
    example = 'send "MortgageApplicationStarted" to bank { ... }'
    fix = (
        "Name the event after the action, not the condition or status (ApplicationStarted), "
        "or list the name in allow-names of [lint.options.sensitive-custom-event-name]."
    )

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        standard = set(catalog.standard_events())
        allowed = set(self.settings["allow-names"])
        extra = {
            "health": frozenset(self.settings["extra-health-terms"]),
            "financial": frozenset(self.settings["extra-financial-terms"]),
        }
        for send in rule.sends:
            for name, span in self._names(ctx, send):
                if name in standard or name in allowed:
                    continue
                found = sensitive_words(name, extra)
                if not found:
                    continue
                what = " and ".join(sorted({c for _, c in found}))
                listed = ", ".join(f"`{w}`" for w, _ in found)
                yield self.report(
                    f"(heuristic) custom event name `{name}` suggests {what} information "
                    f"({listed}); Meta may restrict conversions built on it",
                    span,
                    f"{_REFERENCE}; name the action instead, or allow the name in the options",
                    words=[w for w, _ in found],
                    categories=sorted({c for _, c in found}),
                    heuristic=True,
                )

    @staticmethod
    def _names(ctx: LintContext, send: ir.Send) -> list[tuple[str, Span]]:
        """The names a send can take, each where it is written (a computed name's table
        entries); none for a name read from the event (L051's)."""
        if send.event_expr is None:
            return [(send.event, send.event_span)]
        possible = ctx.analyzer.evaluator.possible(send.event_expr) or []
        return [
            (value, span or send.event_span)
            for value, span in possible
            if isinstance(value, str) and value
        ]
