"""AppendAttribution: the event that adds the advertiser's own attribution credit to an
original conversion (capi-facts §15). What it needs is in ``schemas/append_attribution``
(the link to the original is unverified there and here, on purpose in one place)."""

from __future__ import annotations

from collections.abc import Iterable

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.checks._schema import SchemaCheck, missing_help, show
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.lint.schema import SchemaFinding, dotted
from capic.meta.coverage import append_attribution
from capic.model import ir
from capic.runtime.metapolicy import APPEND_ATTRIBUTION, MetaPolicy

_UNVERIFIED = (
    "how AppendAttribution links to its original is unverified (schemas/"
    "append_attribution.schema.json lists the fields in one place)"
)


@register
class AppendAttributionLink(SchemaCheck):
    code = "M070"
    name = "append-attribution-link"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        "An AppendAttribution send without what links it to the original conversion "
        "(original_event { event_name, event_time } and its order_id or event_id) or without "
        "the credit it appends (an attribution { ... } block). The linking fields are "
        "unverified in capic's facts and listed in schemas/append_attribution.schema.json."
    )
    why = (
        "AppendAttribution adds your attribution credit to a conversion Meta already received "
        "(a Purchase or fb_mobile_purchase of the same dataset, less than 48 hours old): "
        "without the original's name, time and id Meta cannot find the conversion, and without "
        "the credit there is nothing to append. Meta's reference (2026-05-15) names the "
        "fields; capic's reading of them is unverified, so they are kept in one schema file "
        "that the linter, the runtime and the emulator all read."
    )
    example = (
        "send AppendAttribution to shop {\n"
        '  action_source = "website"\n'
        "  ...\n"
        '  original_event { event_name = "Purchase" }\n'
        "}"
    )
    fix = (
        'Add original_event { event_name = "Purchase"  event_time = order.time  order_id = '
        "order.id } and attribution { attribution_share = credit.share  attribution_model = "
        '"linear" }.'
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.document == "append_attribution"

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        facts = append_attribution()
        if f.kind == "required" and f.key == "original_event_data":
            return (
                "AppendAttribution needs an original_event { ... } block naming the conversion "
                "it credits",
                ctx.container_span(send, f.path),
                f'original_event {{ event_name = "{facts.originals[0]}"  event_time = ...  '
                f"order_id = ... }}; {_UNVERIFIED}",
            )
        if f.kind == "required" and f.key == "attribution_data":
            return (
                "AppendAttribution needs an attribution { ... } block with the credit it appends",
                ctx.container_span(send, f.path),
                f"attribution {{ attribution_share = ...  attribution_model = ... }}; {_UNVERIFIED}",
            )
        if f.kind == "required":
            return (
                f"AppendAttribution needs `{dotted(f.target)}` to find the original conversion",
                ctx.container_span(send, f.path),
                f"{missing_help(f) or 'add it'}; {_UNVERIFIED}",
            )
        if f.kind == "anyOf":
            ids = " or ".join(f"`{dotted(p)}`" for p in facts.ids)
            return (
                f"AppendAttribution needs {ids} to find the original conversion",
                ctx.container_span(send, f.path),
                f"use the order id or event id the original was sent with; {_UNVERIFIED}",
            )
        return (
            f"AppendAttribution: `{dotted(f.target)}` does not meet the requirement ({f.kind})",
            ctx.value_span(send, f.target),
            _UNVERIFIED,
        )


@register
class AppendAttributionOriginal(Check):
    code = "M071"
    name = "append-attribution-original"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        "An AppendAttribution whose original event (original_event.event_name, a literal) is "
        "not one it can credit: Purchase or fb_mobile_purchase unless [meta] "
        "append_attribution_originals of capic.toml lists others; or one that is itself "
        "AppendAttribution's original and sent to another pixel."
    )
    why = (
        "Meta appends credit only to the original events named in Custom Attribution "
        "(Purchase on the web, fb_mobile_purchase in apps, by default); capic's runtime "
        "rejects the others (append_attribution_checks). Credit for a conversion in another "
        "dataset cannot be matched either."
    )
    example = 'send AppendAttribution to shop {\n  ...\n  original_event { event_name = "Lead" }\n}'
    fix = (
        'Name the original as it was sent (event_name = "Purchase"), or list your Custom '
        "Attribution original in [meta] append_attribution_originals."
    )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if send.event != APPEND_ATTRIBUTION:
            return
        facts = append_attribution()
        section = send.body.section(facts.event_name[0])
        field = section.field(facts.event_name[1]) if section is not None else None
        if field is None:
            return  # M070's
        name = ctx.analyzer.fold(field.value)
        if not isinstance(name, str):
            return
        policy = MetaPolicy.from_settings(ctx.project.config.meta)
        if name not in policy.append_attribution_originals:
            allowed = ", ".join(f'"{n}"' for n in policy.append_attribution_originals)
            yield self.report(
                f"AppendAttribution credits {show(name)}, which is not an original it can "
                f"credit ({allowed})",
                field.value.span,
                "list it in [meta] append_attribution_originals of capic.toml if it is "
                "configured for Custom Attribution",
                original=name,
                allowed=list(policy.append_attribution_originals),
            )
            return
        senders = {s.pixel for _, s in ctx.sends() if name in (s.event_names or (s.event,))}
        if senders and send.pixel not in senders:
            yield self.report(
                f"AppendAttribution to pixel `{send.pixel}` credits {show(name)}, which the "
                f"rules send to {', '.join(f'`{p}`' for p in sorted(senders))} only",
                send.pixel_span,
                "send AppendAttribution to the dataset that received the original conversion",
                original=name,
                pixels=sorted(senders),
            )
