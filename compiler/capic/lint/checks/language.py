"""Checks of the language's composition constructs: shared blocks and computed event names."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity
from capic.lint.checks._schema import show
from capic.lint.context import LintContext
from capic.lint.registry import Check, Option, register
from capic.model import ir


@register
class UnusedSharedBlock(Check):
    code = "H050"
    name = "unused-shared-block"
    group = "hygiene"
    severity = Severity.WARNING
    options: ClassVar[Mapping[str, Option]] = {
        "ignore-names": Option(
            "string-list", ["_*"], "Glob patterns of shared block names never reported."
        )
    }
    summary = "A shared block that no send spreads, directly or through other shared blocks."
    why = (
        "An unused shared block is usually a leftover, or a sign that a send spreads the wrong "
        "block; its fields are never checked in the context of a send."
    )
    example = "shared user customer {\n  em = email\n}   # no send writes ...customer"
    fix = "Spread it (user { ...customer }), remove it, or prefix its name with _."

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        used = {name for _, send in ctx.sends() for name in send.spreads}
        patterns: list[str] = list(self.settings["ignore-names"])
        for name, shared in ctx.project.shared.items():
            if name in used or any(fnmatch.fnmatchcase(name, p) for p in patterns):
                continue
            yield self.report(
                f"shared block `{name}` is not spread by any send",
                shared.name_span,
                f"spread it with ...{name}, remove it, or name it _{name}",
                block=name,
            )


@register
class EventNameNotText(Check):
    code = "L050"
    name = "event-name-not-text"
    group = "literals"
    severity = Severity.ERROR
    summary = (
        "A computed event name that can be something other than a non-empty string: a number, "
        "a list or an object in the table it is looked up in, or an empty string; or one that "
        "never gives a name at all."
    )
    why = (
        "An event name is text. At run time a send whose name is not a non-empty string is "
        "skipped and counted, so the events that map to it are never sent."
    )
    example = 'element names = {"commerce.purchases" = "Purchase", "lead.submitted" = 5}'
    fix = "Write every value of the table as the event's name in quotes."

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        for send in rule.sends:
            yield from self._send(ctx, send)

    def _send(self, ctx: LintContext, send: ir.Send) -> Iterable[Diagnostic]:
        if send.event_expr is None:
            return
        possible = ctx.analyzer.evaluator.possible(send.event_expr)
        if possible is not None and not any(type(v) is str and v for v, _ in possible):
            yield self.report(
                f"send `{send.event}` never has an event name: it is never sent",
                send.event_span,
                "look the name up in a table that holds event names",
            )
            return
        for value, span in possible or []:
            if value is None or (type(value) is str and value):
                continue
            yield self.report(
                f"the event name of send `{send.event}` can be {show(value)}, which is not "
                "an event name",
                span or send.event_span,
                "write the event's name as a string",
                value=value,
            )


@register
class UncheckedEventName(Check):
    code = "L051"
    name = "unchecked-event-name"
    group = "literals"
    severity = Severity.WARNING
    summary = (
        "A computed event name that comes from the event itself, without a table of the names "
        "it can take: capic cannot tell which events the send sends, so none of Meta's "
        "per-event requirements are checked."
    )
    why = (
        "A Purchase sent under a name read from the event is not checked for currency and "
        "value; a typo in the incoming data becomes a custom event nobody asked for."
    )
    example = "send event.type to shop { ... }"
    fix = (
        'Map the incoming value through a table: send names[event.type] ?? "Other" to shop, '
        'with element names = {"purchase" = "Purchase", ...}.'
    )

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        for send in rule.sends:
            yield from self._send(ctx, send)

    def _send(self, ctx: LintContext, send: ir.Send) -> Iterable[Diagnostic]:
        expr = send.event_expr
        if expr is None or ctx.analyzer.evaluator.possible(expr) is not None:
            return
        if (
            isinstance(expr, ir.Binary)
            and expr.op == "??"
            and ctx.analyzer.evaluator.possible(expr.left) is not None
        ):
            return  # a table, with a fallback from the event: checked as a custom event
        yield self.report(
            f"the event name of send `{send.event}` comes from the event: its requirements "
            "cannot be checked",
            send.event_span,
            "look the name up in a table of the events you send",
        )
