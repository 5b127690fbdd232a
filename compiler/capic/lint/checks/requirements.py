"""Meta's requirements for a server event: required parameters, per action source and per
standard event, plus the keys Meta recommends. The facts come from the schemas
(server_event, action_sources, standard_events, app_data, custom_data)."""

from __future__ import annotations

from collections.abc import Iterable

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.checks._schema import (
    SchemaCheck,
    describe_path,
    enum_suggestion,
    missing_help,
    options_text,
    show,
)
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.lint.schema import SchemaFinding, dotted
from capic.meta import catalog
from capic.model import ir


def _missing(ctx: LintContext, send: ir.Send, f: SchemaFinding) -> Span:
    return ctx.container_span(send, f.path)


@register
class MissingServerParameter(SchemaCheck):
    code = "M001"
    name = "missing-server-parameter"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        "A send without one of the parameters every server event needs: event_time, "
        "action_source and user_data (event_name comes from `send EVENT`)."
    )
    why = (
        "Meta rejects an event without them, and one invalid event makes Meta reject the whole "
        "batch it travels in."
    )
    example = 'send Lead to shop {\n  action_source = "website"\n  user { em = email }\n}'
    fix = (
        "Add the missing parameter, e.g. event_time = parse_time(event.timestamp), "
        'action_source = "website", or a user { ... } block.'
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "required" and f.document == "server_event" and f.pointer == ()

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        what = "user { ... } block (user_data)" if f.key == "user_data" else f"`{f.key}`"
        return (
            f"send `{send.event}` has no {what}, which every server event needs",
            _missing(ctx, send, f),
            missing_help(f),
        )


class _ActionSourceCheck(SchemaCheck):
    source: str

    def match(self, f: SchemaFinding) -> bool:
        return f.document == "action_sources" and self.source in f.branches

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        channel = f.branches[-1] if len(f.branches) > 1 else None
        who = f"`{channel}` messages" if channel else f"`{self.source}` events"
        if f.kind == "required":
            return f"{who} need `{dotted(f.target)}`", _missing(ctx, send, f), missing_help(f)
        if f.kind == "anyOf":
            keys = [b.get("required", ["?"])[0] for b in f.expected if isinstance(b, dict)]
            alternatives = " or ".join(f"`{dotted((*f.path, k))}`" for k in keys)
            return f"{who} need {alternatives}", ctx.container_span(send, f.path), None
        return (
            f"{who}: `{dotted(f.target)}` does not meet Meta's requirement ({f.kind})",
            ctx.value_span(send, f.target),
            None,
        )


@register
class WebsiteRequirements(_ActionSourceCheck):
    code = "M002"
    name = "website-requirements"
    group = "requirements"
    severity = Severity.ERROR
    source = "website"
    summary = (
        'A website event (action_source = "website") without event_source_url or without '
        "user_data.client_user_agent."
    )
    why = (
        "Meta requires both for website events: the URL ties the event to the verified domain "
        "and the user agent is needed to match it to a person."
    )
    example = (
        'send Purchase to shop {\n  action_source = "website"\n  user { em = email }\n  ...\n}'
    )
    fix = (
        "Add event_source_url = page_url and client_user_agent = "
        'request.headers["user-agent"] in the user block.'
    )


@register
class AppRequirements(SchemaCheck):
    code = "M003"
    name = "app-requirements"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        'An app event (action_source = "app") without app_data, or app_data without '
        'advertiser_tracking_enabled or a valid 16-element extinfo (extinfo[0] "a2" or '
        '"i2", extinfo[4] the OS version).'
    )
    why = "Meta requires app_data with the tracking flag and the device information for app events."
    example = (
        "send Purchase to app_dataset {\n"
        '  action_source = "app"\n'
        "  user { madid = event.device.adid }\n"
        "}"
    )
    fix = (
        'Add app { advertiser_tracking_enabled = event.att  extinfo { version = "i2"  '
        "os_version = event.os_version } }."
    )

    def match(self, f: SchemaFinding) -> bool:
        if f.document == "action_sources" and "app" in f.branches:
            return True
        return f.document == "app_data" and f.kind != "additionalProperties"

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        if f.kind == "required":
            what = (
                "an app { ... } block (app_data)"
                if f.key == "app_data"
                else f"`{dotted(f.target)}`"
            )
            return f"app events need {what}", _missing(ctx, send, f), missing_help(f)
        where = describe_path(f.target)
        if f.kind in {"enum", "const"}:
            options = f.expected if isinstance(f.expected, list) else [f.expected]
            return (
                f"`{where}` must be one of {options_text(options)}, got {show(f.instance)}",
                ctx.value_span(send, f.target),
                enum_suggestion(f.instance, options),
            )
        if f.kind == "minLength":
            return (
                f"`{where}` must not be empty",
                ctx.value_span(send, f.target),
                "Meta requires it",
            )
        if f.kind == "type":
            return (
                f"`{where}` has the wrong type for app_data, got {show(f.instance)}",
                ctx.value_span(send, f.target),
                None,
            )
        return f"`{where}` is not valid app data ({f.kind})", ctx.value_span(send, f.target), None


@register
class BusinessMessagingRequirements(_ActionSourceCheck):
    code = "M004"
    name = "business-messaging-requirements"
    group = "requirements"
    severity = Severity.ERROR
    source = "business_messaging"
    summary = (
        "A business_messaging event without messaging_channel, or without the user_data IDs its "
        "channel needs (messenger: page_id and page_scoped_user_id; whatsapp: "
        "whatsapp_business_account_id and ctwa_clid; instagram: the business account id and "
        "ig_sid)."
    )
    why = "Meta cannot attribute a messaging conversion without the channel and its IDs."
    example = (
        "send Purchase to shop {\n"
        '  action_source     = "business_messaging"\n'
        '  messaging_channel = "whatsapp"\n'
        "  user { ctwa_clid = event.referral.ctwa_clid }\n"
        "}"
    )
    fix = (
        "Add the channel and every ID it needs, e.g. whatsapp_business_account_id = event.waba_id."
    )


@register
class PurchaseCurrencyValue(SchemaCheck):
    code = "M005"
    name = "purchase-currency-value"
    group = "requirements"
    severity = Severity.ERROR
    summary = (
        "A standard event without the custom_data keys Meta requires for it: Purchase needs "
        "currency and value."
    )
    why = (
        "Meta rejects a Purchase without currency and value; they also drive value "
        "optimization and return-on-ad-spend reporting."
    )
    example = "send Purchase to shop {\n  ...\n  custom { value = order.total }\n}"
    fix = 'Add both: custom { currency = order.currency ?? "USD"  value = number(order.total) }.'

    def match(self, f: SchemaFinding) -> bool:
        return f.document == "standard_events"

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        needed = catalog.required_custom_keys(send.event)
        listed = " and ".join(f"`{k}`" for k in needed) or "its required keys"
        if f.kind == "required" and f.key == "custom_data":
            return (
                f"`{send.event}` needs custom data with {listed}",
                _missing(ctx, send, f),
                "add custom { " + "  ".join(f"{k} = ..." for k in needed) + " }",
            )
        if f.kind == "required":
            return (
                f"`{send.event}` needs `{dotted(f.target)}`",
                _missing(ctx, send, f),
                missing_help(f),
            )
        return (
            f"`{send.event}`: `{dotted(f.target)}` does not meet Meta's requirement ({f.kind})",
            ctx.value_span(send, f.target),
            None,
        )


@register
class ContentsItemFields(SchemaCheck):
    code = "M006"
    name = "contents-item-fields"
    group = "requirements"
    severity = Severity.ERROR
    summary = "An item of custom_data.contents without id or quantity."
    why = (
        "Meta requires both on every contents item; catalog ads and per-product reporting "
        "match items by id."
    )
    example = "custom {\n  contents = [for p in products : {id = p.sku}]\n}"
    fix = "Give every item both: {id = p.sku, quantity = p.quantity ?? 1}."

    def match(self, f: SchemaFinding) -> bool:
        p = f.path
        return (
            f.kind == "required"
            and len(p) == 3
            and p[:2] == ("custom_data", "contents")
            and isinstance(p[2], int)
        )

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"contents items need `{f.key}` (item {f.path[2]} has none)",
            ctx.value_span(send, f.path),
            missing_help(f),
        )


def _label(keys: Iterable[str]) -> str:
    return ", ".join(f"`{k}`" for k in keys)


@register
class RecommendedCustomData(Check):
    code = "M007"
    name = "recommended-custom-data"
    group = "requirements"
    severity = Severity.INFO
    summary = (
        "A standard event without custom_data keys Meta lists for it (e.g. ViewContent: "
        "content_ids, content_type, contents, currency, value), or without any of the keys "
        "catalog ads need."
    )
    why = (
        "Optional for Meta, but events without them cannot feed catalog ads, value optimization "
        "or per-product reporting."
    )
    example = "send ViewContent to shop {\n  ...\n  custom { content_ids = [product.sku] }\n}"
    fix = "Add the keys the note lists, or ignore M007 for events where they do not apply."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if send.event not in catalog.standard_events():
            return
        custom = send.body.section("custom_data")
        present = ctx.analyzer.present_keys(custom)
        required = set(catalog.required_custom_keys(send.event))  # M005's
        missing = [
            k
            for k in catalog.recommended_custom_keys(send.event)
            if k not in present and k not in required
        ]
        catalog_keys = catalog.catalog_ads_keys(send.event)
        needs_catalog = bool(catalog_keys) and not any(k in present for k in catalog_keys)
        if not missing and not needs_catalog:
            return
        span = custom.name_span if custom is not None else ctx.head(send)
        parts = []
        if missing:
            parts.append(f"without {_label(missing)}")
        if needs_catalog:
            parts.append(f"without {' or '.join(f'`{k}`' for k in catalog_keys)} for catalog ads")
        yield self.report(
            f"`{send.event}` is sent {' and '.join(parts)} (recommended by Meta)",
            span,
            "add them to the custom block where the data is available",
            missing=missing,
        )


@register
class RecommendedUserData(Check):
    code = "M008"
    name = "recommended-parameters"
    group = "requirements"
    severity = Severity.INFO
    summary = (
        "A send without parameters Meta recommends for its action source: event_id and "
        "external_id on every event; client_ip_address, fbp and fbc on website events; madid, "
        "anon_id and client_ip_address on app events."
    )
    why = (
        "They are optional, but they improve matching and let Meta deduplicate events that also "
        "arrive from the browser or the app SDK."
    )
    example = (
        "send Lead to shop {\n"
        '  action_source = "website"\n'
        "  user { em = email  client_user_agent = user_agent }\n"
        "}"
    )
    fix = "Add the parameters the note lists where the data is available."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        source = ctx.send_data(send).instance.get("action_source")
        event_keys, user_keys = catalog_recommended(source if isinstance(source, str) else None)
        present = ctx.analyzer.present_keys(send.body)
        user = ctx.analyzer.present_keys(send.body.section("user_data"))
        # event_id on a browser-shared pixel is D001's (an error), not a recommendation.
        shared = any(view.browser_pixel(send.pixel) for view in ctx.environments)
        missing = [k for k in event_keys if k not in present and not (k == "event_id" and shared)]
        missing_user = [k for k in user_keys if k not in user]
        if "user_data" not in present or (not missing and not missing_user):
            return
        names = [*missing, *(f"user_data.{k}" for k in missing_user)]
        yield self.report(
            f"send `{send.event}` has no {_label(names)} (recommended by Meta)",
            ctx.head(send),
            "each of them improves matching or deduplication",
            missing=names,
        )


def catalog_recommended(source: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(server-event keys, user_data keys) recommended for every event plus ``source``'s."""
    return catalog.recommended_parameters(source)
