"""Deduplication with the browser pixel: Meta drops the second copy of an event only when both
copies carry the same event_name and event_id (capi-facts §6)."""

from __future__ import annotations

from collections.abc import Iterable

from capic.diagnostics import Diagnostic, Severity
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.model import ir


def _event_id(send: ir.Send) -> ir.Field | None:
    f = send.body.field("event_id")
    if f is None or (isinstance(f.value, ir.Const) and f.value.value is None):
        return None
    return f


@register
class MissingEventId(Check):
    code = "D001"
    name = "missing-event-id"
    group = "dedup"
    severity = Severity.ERROR
    env_sensitive = True
    summary = (
        "A send to a pixel declared with `browser_pixel = true` (in the environment checked) "
        "without an event_id."
    )
    why = (
        "When the Meta Pixel in the browser sends the same event, Meta deduplicates the two "
        "copies only by event_name + event_id. Without an event_id every conversion is counted "
        "twice."
    )
    example = (
        "pixel shop { ... browser_pixel = true }\n\n"
        "send Purchase to shop {\n  event_time = event_time\n  ...\n}"
    )
    fix = (
        "Send the id the browser passed to fbq('track', ..., {eventID}): "
        "event_id = event.data.meta.conversionData.eventId."
    )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if not env.browser_pixel(send.pixel) or _event_id(send) is not None:
            return
        yield self.report(
            f"pixel `{send.pixel}` shares events with the browser pixel, but send "
            f"`{send.event}` has no event_id",
            ctx.head(send),
            "add event_id = <the eventID the browser sent>; without it both copies are counted",
        )


@register
class ConstantEventId(Check):
    code = "D002"
    name = "constant-event-id"
    group = "dedup"
    severity = Severity.ERROR
    summary = (
        "An event_id that cannot differ between events: a literal, or an expression of "
        "constants (also through elements)."
    )
    why = (
        "Meta keeps only the first event with a given event_name + event_id within 48 hours: "
        "a constant id makes Meta discard every later event as a duplicate."
    )
    example = 'send Purchase to shop {\n  event_id = "purchase"\n}'
    fix = "Use an id unique to the event, e.g. the order id: event_id = order.purchaseID."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        f = _event_id(send)
        if f is None or ctx.analyzer.varies(f.value):
            return
        folded = ctx.analyzer.fold(f.value)
        shown = f" (always {folded!r})" if isinstance(folded, str | int | float) else ""
        yield self.report(
            f"event_id of `{send.event}` is the same for every event{shown}",
            f.value.span,
            "Meta would drop every event after the first as a duplicate; use a per-event id",
        )


@register
class ServerMintedEventId(Check):
    code = "D003"
    name = "server-minted-event-id"
    group = "dedup"
    severity = Severity.WARNING
    env_sensitive = True
    summary = (
        "An event_id made on the server (uuid(), now()) for a pixel that shares events with the "
        "browser (`browser_pixel = true`)."
    )
    why = (
        "The browser cannot know an id minted on the server, so its copy of the event carries "
        "another id and Meta counts both."
    )
    example = (
        "pixel shop { ... browser_pixel = true }\n\nsend Purchase to shop {\n  event_id = uuid()\n}"
    )
    fix = (
        "Use the id the browser sent with the event (fbq's eventID), or an id both sides know, "
        "such as the order id. A uuid() as the `??` fallback is fine."
    )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        f = _event_id(send)
        if f is None or not env.browser_pixel(send.pixel):
            return
        calls = ctx.analyzer.volatile_calls(f.value)
        if not calls:
            return
        names = sorted({f"{c.func}()" for c in calls})
        yield self.report(
            f"event_id of `{send.event}` is made on the server with {', '.join(names)}; the "
            f"browser copy of the event cannot carry the same id",
            f.value.span,
            "use the eventID the browser sent (or the order id) so Meta can deduplicate",
            calls=[c.func for c in calls],
        )
