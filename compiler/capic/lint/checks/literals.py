"""Literal values Meta rejects or miscounts: enums of the schemas, event names, LDU codes."""

from __future__ import annotations

from collections.abc import Iterable

from capic.diagnostics import Diagnostic, Fix, Severity, Span
from capic.lint.checks._schema import (
    SchemaCheck,
    enum_suggestion,
    first_sentence,
    key_description,
    literal_fix,
    options_text,
    show,
    what_it_is,
)
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.lint.schema import SchemaFinding, dotted
from capic.meta import catalog
from capic.model import ir


class _EnumCheck(SchemaCheck):
    """An enum failure at one payload key."""

    key: str
    noun: str

    def match(self, f: SchemaFinding) -> bool:
        return f.kind in {"enum", "const"} and bool(f.path) and f.path[-1] == self.key

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        options = f.expected if isinstance(f.expected, list) else [f.expected]
        return (
            f"{show(f.instance)} is not {self.noun} (allowed: {options_text(options)})",
            ctx.value_span(send, f.target),
            enum_suggestion(f.instance, options),
        )

    def fix_for(self, ctx: LintContext, f: SchemaFinding, span: Span) -> Fix | None:
        options = f.expected if isinstance(f.expected, list) else [f.expected]
        return literal_fix(ctx, span, f.instance, options)


@register
class InvalidActionSource(_EnumCheck):
    code = "L001"
    name = "invalid-action-source"
    group = "literals"
    severity = Severity.ERROR
    key = "action_source"
    noun = "an action source"
    summary = (
        "An action_source outside Meta's nine values: email, website, app, phone_call, chat, "
        "physical_store, system_generated, business_messaging, other."
    )
    why = "Meta rejects the event; every event needs a valid action source."
    example = 'action_source = "web"'
    fix = 'Use one of the nine values, e.g. action_source = "website".'

    def match(self, f: SchemaFinding) -> bool:
        # Only the nine-value enum: an event type that needs one of them (a CRM stage's
        # "system_generated") is that event type's check.
        return super().match(f) and f.path == ("action_source",) and f.document == "server_event"


@register
class InvalidCurrency(_EnumCheck):
    code = "L002"
    name = "invalid-currency"
    group = "literals"
    severity = Severity.ERROR
    key = "currency"
    noun = "an ISO 4217 currency code"
    summary = "A custom_data.currency literal that is not an ISO 4217 code (case does not matter)."
    why = "Meta rejects the event, and value-based reporting needs a real currency."
    example = 'custom {\n  currency = "US$"\n}'
    fix = 'Write the three-letter code: currency = "USD".'

    def match(self, f: SchemaFinding) -> bool:
        return super().match(f) and f.path == ("custom_data", "currency")

    def describe(self, ctx: LintContext, send: ir.Send, f: SchemaFinding) -> Diagnostic | None:
        # Meta's SDK sends currencies in lowercase and Meta's examples use both cases.
        value = f.instance
        if isinstance(value, str) and value.strip().upper() in catalog.currencies():
            return None
        return super().describe(ctx, send, f)


@register
class InvalidContentType(_EnumCheck):
    code = "L003"
    name = "invalid-content-type"
    group = "literals"
    severity = Severity.ERROR
    key = "content_type"
    noun = "a content type"
    summary = 'A custom_data.content_type other than "product" or "product_group".'
    why = "Meta matches content_ids against the catalog by content type; other values are rejected."
    example = 'custom {\n  content_type = "products"\n}'
    fix = 'Use "product" (ids are product ids) or "product_group" (ids are product group ids).'


@register
class InvalidDeliveryCategory(_EnumCheck):
    code = "L004"
    name = "invalid-delivery-category"
    group = "literals"
    severity = Severity.ERROR
    key = "delivery_category"
    noun = "a delivery category"
    summary = (
        'A delivery_category (of custom_data or of a contents item) other than "in_store", '
        '"curbside" or "home_delivery".'
    )
    why = "Meta rejects the event."
    example = 'custom {\n  delivery_category = "pickup"\n}'
    fix = 'Use one of "in_store", "curbside", "home_delivery".'


@register
class CustomEventNameTooLong(SchemaCheck):
    code = "L005"
    name = "event-name-too-long"
    group = "literals"
    severity = Severity.ERROR
    summary = "A custom event name longer than 50 characters."
    why = "Meta rejects custom event names over 50 characters."
    example = 'send "NewsletterSignupFromTheFooterOfTheBlogPageOnMobileDevices" to shop { ... }'
    fix = "Shorten the name to 50 characters or fewer."

    def match(self, f: SchemaFinding) -> bool:
        return f.kind in {"maxLength", "minLength"} and f.path in {
            ("event_name",),
            ("original_event_data", "event_name"),
        }

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        name = f.instance if isinstance(f.instance, str) else ""
        if f.kind == "minLength":
            return "the event name is empty", ctx.value_span(send, f.target), "name the event"
        return (
            f"event name `{name[:20]}...` has {len(name)} characters; Meta allows at most {f.expected}",
            ctx.value_span(send, f.target),
            "shorten it",
        )


@register
class StandardEventTypo(Check):
    code = "L006"
    name = "standard-event-typo"
    group = "literals"
    severity = Severity.ERROR
    summary = (
        "An unquoted event name that is not a standard event but is close to one (`send "
        "purchase`, `send AddToChart`), or a quoted name equal to a standard one except for "
        'case or separators (`send "add_to_cart"`).'
    )
    why = (
        "Event names are case-sensitive: a misspelt standard event is counted as a custom event, "
        "so it neither optimizes ads nor deduplicates with the browser pixel's event."
    )
    example = "send purchase to shop { ... }"
    fix = (
        "Write the standard name (send Purchase). For a custom event, quote its name: "
        'send "Purchases" to shop { ... }.'
    )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        standard = catalog.standard_events()
        if send.event in standard:
            return
        hit = catalog.suggest(send.event, standard)
        if hit is None:
            return
        if send.quoted:
            if _fold(hit) != _fold(send.event):
                return
            yield self.report(
                f'"{send.event}" differs from the standard event `{hit}` only in case or separators',
                send.event_span,
                f"write send {hit}; event names are case-sensitive",
                fix=Fix.replace(send.event_span, hit, f"Write the standard event `{hit}`"),
                suggestion=hit,
            )
            return
        # Only case or separators: certainly the standard event. A closer spelling might be a
        # custom event that happens to look like one: unsafe.
        yield self.report(
            f"`{send.event}` is not a standard event; did you mean `{hit}`?",
            send.event_span,
            f'write send {hit}, or quote a custom event name: send "{send.event}"',
            fix=Fix.replace(
                send.event_span,
                hit,
                f"Write the standard event `{hit}`",
                safe=_fold(hit) == _fold(send.event),
            ),
            suggestion=hit,
        )


def _fold(name: str) -> str:
    return name.replace("_", "").replace("-", "").replace(" ", "").casefold()


@register
class InvalidLduValue(SchemaCheck):
    code = "L007"
    name = "invalid-ldu-value"
    group = "literals"
    severity = Severity.ERROR
    summary = (
        'Limited Data Use values Meta does not know: data_processing_options other than ["LDU"] '
        "or [], a country other than 0 (geolocate) or 1 (USA), a state other than 0 or "
        "1000-1013."
    )
    why = "Meta rejects the event, and LDU is a legal commitment: it must say what was meant."
    example = 'data_processing_options         = ["LDU"]\ndata_processing_options_country = 840'
    fix = "Use country 1 (USA) or 0 (let Meta geolocate) and a state code 1000-1013 or 0."

    def match(self, f: SchemaFinding) -> bool:
        return (
            f.kind in {"enum", "const", "type", "uniqueItems"}
            and bool(f.path)
            and str(f.path[0]).startswith("data_processing_options")
        )

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        where = dotted(f.target)
        span = ctx.value_span(send, f.target)
        if f.kind == "type":
            return f"`{where}` has the wrong type, {what_it_is(f.instance)}", span, None
        if f.kind == "uniqueItems":
            return f'`{where}` lists "LDU" more than once', span, None
        if f.path[0] == "data_processing_options":
            return (
                f'`{where}` can only be "LDU", got {show(f.instance)}',
                span,
                'write ["LDU"] or []',
            )
        options = f.expected if isinstance(f.expected, list) else [f.expected]
        return (
            f"`{where}` cannot be {show(f.instance)}; allowed: {options_text(options)}",
            span,
            first_line(f),
        )


def first_line(f: SchemaFinding) -> str | None:
    return first_sentence(key_description(f.target))


@register
class IncompleteLdu(SchemaCheck):
    code = "L008"
    name = "incomplete-ldu"
    group = "literals"
    severity = Severity.ERROR
    summary = (
        'Limited Data Use turned on (data_processing_options = ["LDU"]) without '
        "data_processing_options_country, or without data_processing_options_state when the "
        "event carries no client_ip_address."
    )
    why = (
        "Meta needs the country, and the state unless it can geolocate the IP address; without "
        "them the event is rejected or LDU is applied to the wrong region."
    )
    example = 'data_processing_options = ["LDU"]\nuser { em = email }'
    fix = (
        "Add data_processing_options_country = 1 and data_processing_options_state = 1000 (or 0 "
        "and 0 with client_ip_address in the user block, to let Meta geolocate)."
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "required" and f.document == "server_event" and f.pointer[:1] == ("allOf",)

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        reason = (
            "and the event has no user_data.client_ip_address"
            if f.key == "data_processing_options_state"
            else ""
        )
        span = ctx.key_span(send, ("data_processing_options",))
        return (
            f"Limited Data Use is on {reason} but `{f.key}` is missing".replace("  ", " "),
            span,
            first_line(f),
        )


@register
class PartnerIdPair(SchemaCheck):
    code = "L009"
    name = "partner-id-pair"
    group = "literals"
    severity = Severity.ERROR
    summary = "user_data.partner_name without partner_id, or partner_id without partner_name."
    why = "Identity-partner matching (e.g. LiveRamp RampID) needs both; either alone is dropped."
    example = 'user {\n  partner_name = "liveramp"\n}'
    fix = "Send both partner_name and partner_id, or neither."

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "dependentRequired" and f.document == "user_data"

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`{f.trigger}` is set without `{f.key}`; send both or neither",
            ctx.key_span(send, (*f.path, f.trigger or "")),
            None,
        )


@register
class OptOutNotBoolean(SchemaCheck):
    code = "L010"
    name = "opt-out-not-boolean"
    group = "literals"
    severity = Severity.ERROR
    summary = "opt_out given as something other than true or false."
    why = 'Meta expects a boolean; "true" (a string) or 1 are rejected.'
    example = 'opt_out = "true"'
    fix = "Write opt_out = true, or a boolean expression (event.consent == false)."

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "type" and f.path == ("opt_out",)

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`opt_out` must be true or false, {what_it_is(f.instance)}",
            ctx.value_span(send, f.target),
            "write true or false, or a comparison",
        )


@register
class InvalidEventSourceUrl(SchemaCheck):
    code = "L011"
    name = "invalid-event-source-url"
    group = "literals"
    severity = Severity.ERROR
    summary = "An event_source_url literal that does not start with http:// or https://."
    why = "Meta requires the browser URL of the page, with its scheme."
    example = 'event_source_url = "shop.example.com/checkout"'
    fix = (
        'Write the full URL: "https://shop.example.com/checkout", or use the page URL of the event.'
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.kind in {"pattern", "minLength"} and f.path == ("event_source_url",)

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`event_source_url` {show(f.instance)} must start with http:// or https://",
            ctx.value_span(send, f.target),
            None,
        )
