"""Conversion Leads: CRM funnel stages sent for leads from Meta's Lead Ads (capi-facts §15).

A send is a CRM stage when it carries one of the markers of
``schemas/conversion_leads.schema.json``: ``custom_data.event_source = "crm"``, a
``custom_data.lead_event_source``, or ``action_source = "system_generated"`` with a
``user_data.lead_id``. The payload's requirements are in that schema too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.checks._schema import SchemaCheck, show
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.lint.schema import SchemaFinding, dotted
from capic.lint.values import Dynamic
from capic.meta.coverage import is_crm_instance
from capic.model import ir

_LEAD_ID = ("user_data", "lead_id")


def _crm(ctx: LintContext, send: ir.Send) -> bool:
    return is_crm_instance(ctx.send_data(send).instance)


def _event_source(instance: dict[str, Any]) -> Any:
    custom = instance.get("custom_data")
    return custom.get("event_source") if isinstance(custom, dict) else None


@register
class CrmLeadId(SchemaCheck):
    code = "M072"
    name = "crm-lead-id"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        "A CRM stage (a Conversion Leads send) without user_data.lead_id, or a lead_id that "
        "cannot be the integer id of a Lead Ads lead (a literal that is not a whole number, an "
        "expression that gives a boolean, a list or an object)."
    )
    why = (
        "Meta attributes CRM stages only to leads from its own Lead Ads, identified by the "
        "lead's id, an integer. A stage without it cannot be attributed (capic rejects it at "
        "run time); a lead_id of another type is invalid. capic's runtime turns a lead_id "
        'written as digits ("1234567890") into the integer.'
    )
    example = (
        'send "Qualified" to crm {\n'
        '  action_source = "system_generated"\n'
        "  user { em = lead.email }\n"
        '  custom { event_source = "crm"  lead_event_source = "HubSpot" }\n'
        "}"
    )
    fix = "Send the Lead Ads lead id: user { lead_id = lead.meta_lead_id }."

    def match(self, f: SchemaFinding) -> bool:
        if f.target == _LEAD_ID and f.kind in {"type", "minimum"}:
            return True
        return f.document == "conversion_leads" and f.target == _LEAD_ID

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        if f.kind == "required":
            return (
                f"CRM stage `{send.event}` has no user_data.lead_id: Meta cannot attribute it "
                "to a Lead Ads lead",
                ctx.container_span(send, f.path),
                "add lead_id = <the Lead Ads lead id> to the user block",
            )
        return (
            f"lead_id must be the integer id of a Lead Ads lead, got {show(f.instance)}",
            ctx.value_span(send, f.target),
            "send the lead id as a whole number (digits in a string are converted at run time)",
        )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        # A CRM stage recognised by its other markers (the schema applies only when
        # event_source is the literal "crm": M073 reports the missing marker).
        data = ctx.send_data(send)
        if _event_source(data.instance) == "crm" or not _crm(ctx, send):
            return
        user = data.instance.get("user_data")
        if isinstance(user, dict) and "lead_id" in user:
            return
        yield self.report(
            f"CRM stage `{send.event}` has no user_data.lead_id: Meta cannot attribute it to a "
            "Lead Ads lead",
            ctx.container_span(send, ("user_data",)),
            "add lead_id = <the Lead Ads lead id> to the user block",
        )


@register
class CrmPayload(SchemaCheck):
    code = "M073"
    name = "crm-payload"
    group = "requirements"
    severity = Severity.WARNING
    summary = (
        "A CRM stage that does not follow the Conversion Leads payload: action_source other "
        'than "system_generated", custom_data.event_source other than "crm", or no '
        "custom_data.lead_event_source naming the CRM."
    )
    why = (
        'Meta\'s Conversion Leads integrations send action_source "system_generated", '
        'custom_data.event_source "crm" and lead_event_source (the CRM\'s name); a stage '
        "without them is a plain custom event that the CRM funnel does not count."
    )
    example = (
        'send "Qualified" to crm {\n'
        '  action_source = "website"\n'
        "  user { lead_id = lead.id }\n"
        '  custom { lead_event_source = "HubSpot" }\n'
        "}"
    )
    fix = (
        'Write action_source = "system_generated" and custom { event_source = "crm"  '
        'lead_event_source = "HubSpot" }.'
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.document == "conversion_leads" and f.target != _LEAD_ID

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        target = dotted(f.target)
        if f.kind == "required":
            return (
                f"CRM stage `{send.event}` has no `{target}`",
                ctx.container_span(send, f.path),
                'name the CRM: lead_event_source = "HubSpot"'
                if f.key == "lead_event_source"
                else None,
            )
        return (
            f"CRM stage `{send.event}`: `{target}` should be {show(f.expected)}, got "
            f"{show(f.instance)}",
            ctx.value_span(send, f.target),
            "CRM stages happen in your systems, not on a website",
        )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        instance = ctx.send_data(send).instance
        source = _event_source(instance)
        if source == "crm" or isinstance(source, Dynamic) or not _crm(ctx, send):
            return
        custom = send.body.section("custom_data")
        shown = f" (it is {show(source)})" if source is not None else ""
        yield self.report(
            f'send `{send.event}` looks like a CRM stage but custom_data.event_source is not "crm"'
            f"{shown}",
            custom.name_span if custom is not None else ctx.head(send),
            'add event_source = "crm" to the custom block',
        )


@register
class CrmSingleStage(Check):
    code = "M074"
    name = "crm-single-stage"
    group = "requirements"
    severity = Severity.INFO
    summary = (
        "A pixel that receives CRM stages under one event name only: Meta asks for every stage "
        "of the funnel (e.g. Lead, Qualified, Converted), not only the last."
    )
    why = (
        "Conversion Leads optimization learns from the progression of leads through the "
        "stages; a dataset that only ever sees one stage cannot tell the leads that go further "
        "from the others."
    )
    example = 'send "Converted" to crm { ... }   # the only CRM stage sent'
    fix = (
        "Send an event for every stage the CRM records, e.g. with a table: send "
        'stages[lead.status] ?? "Other" to crm { ... }.'
    )

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        by_pixel: dict[str, tuple[set[str], ir.Send]] = {}
        for _, send in ctx.sends():
            if not _crm(ctx, send):
                continue
            names, first = by_pixel.setdefault(send.pixel, (set(), send))
            if send.event_expr is not None and not send.event_names:
                names.add("*")  # names from the event: any number of stages
            names.update(send.event_names or (send.event,))
        for pixel, (names, first) in sorted(by_pixel.items()):
            if len(names) == 1 and "*" not in names:
                (only,) = names
                yield self.report(
                    f"pixel `{pixel}` receives one CRM stage only (`{only}`); Meta asks for "
                    "every stage of the funnel",
                    ctx.head(first),
                    "send an event for each stage your CRM records",
                    pixel=pixel,
                    stage=only,
                )
