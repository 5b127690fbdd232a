"""Offline (physical_store) events: Meta deduplicates them only against other offline events,
by event_time + event_name + item_number plus order_id (or, without an order_id, identical
customer information), within 7 days (capi-facts §6.3). event_id plays no part."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from capic.diagnostics import Diagnostic, Severity
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.meta.coverage import offline_dedup_keys, offline_dedup_window_days
from capic.model import ir

_STORE = "physical_store"


def _is_store(ctx: LintContext, send: ir.Send) -> bool:
    return ctx.send_data(send).instance.get("action_source") == _STORE


def _custom_keys(ctx: LintContext, send: ir.Send) -> frozenset[str]:
    return ctx.analyzer.present_keys(send.body.section("custom_data"))


def _shape(value: Any) -> Any:
    """An IR value as JSON without source positions: equal for the same expression written
    in two places."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k != "span" and not k.endswith("_span")}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def _key(expr: ir.Expr) -> str:
    return repr(_shape(ir.to_json(expr)))


@register
class OfflineDedupKey(Check):
    code = "D070"
    name = "offline-dedup-key"
    group = "dedup"
    severity = Severity.WARNING
    summary = (
        "A physical_store send without custom_data.order_id: Meta deduplicates store events by "
        "order_id (with event_time, event_name and item_number), never by event_id."
    )
    why = (
        "Without an order_id Meta falls back to identical customer information: two purchases "
        "of the same shopper with the same event_time count once, while a re-uploaded sale "
        "whose time was rounded differently counts twice. An event_id does not help: store "
        "events are deduplicated only against other store events, by these keys."
    )
    example = (
        "send Purchase to stores {\n"
        '  action_source = "physical_store"\n'
        "  event_id      = receipt\n"
        "  ...\n"
        "}"
    )
    fix = "Add custom { order_id = receipt } (and item_number when one sale is sent per line)."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if not _is_store(ctx, send) or "order_id" in _custom_keys(ctx, send):
            return
        keys = ", ".join(offline_dedup_keys())
        yield self.report(
            f"physical_store send `{send.event}` has no custom_data.order_id; Meta deduplicates "
            f"store events by {keys} within {offline_dedup_window_days()} days, not by event_id",
            ctx.head(send),
            "add order_id = <the receipt or transaction id> to the custom block",
        )


@register
class OfflineLineItems(Check):
    code = "D071"
    name = "offline-line-items"
    group = "dedup"
    severity = Severity.WARNING
    summary = (
        "physical_store sends that Meta would take for one event: two sends of a rule to the "
        "same pixel with the same event name and the same order_id expression, not told apart "
        "by different item_number values; or an item_number without an order_id."
    )
    why = (
        "Within one order Meta tells line events apart by item_number only: two line events "
        "of one order without distinct item numbers (and the same event_time) are "
        "deduplicated into one, so the second line's value is lost. An item_number without an "
        "order_id distinguishes nothing."
    )
    example = (
        "send Purchase to stores { ... custom { order_id = receipt  value = line1 } }\n"
        "send Purchase to stores { ... custom { order_id = receipt  value = line2 } }"
    )
    fix = (
        "Give each line its own item_number (item_number = line.number), or send one event per "
        "order with every line in contents."
    )

    def check_rule(self, ctx: LintContext, rule: ir.Rule) -> Iterable[Diagnostic]:
        groups: dict[tuple[str, str, str], list[ir.Send]] = {}
        for send in rule.sends:
            if not _is_store(ctx, send):
                continue
            custom = send.body.section("custom_data")
            order = custom.field("order_id") if custom is not None else None
            item = custom.field("item_number") if custom is not None else None
            if order is None and item is not None:
                yield self.report(
                    f"physical_store send `{send.event}` has an item_number but no order_id; "
                    "item numbers tell the lines of one order apart",
                    item.key_span,
                    "add order_id = <the receipt id>",
                )
                continue
            if order is not None:
                groups.setdefault((send.pixel, send.event, _key(order.value)), []).append(send)
        for sends in groups.values():
            seen: dict[str, ir.Send] = {}
            for send in sends:
                custom = send.body.section("custom_data")
                item = custom.field("item_number") if custom is not None else None
                label = _key(item.value) if item is not None else "none"
                first = seen.get(label)
                if first is None:
                    seen[label] = send
                    continue
                same = "the same item_number" if item is not None else "no item_number"
                yield self.report(
                    f"physical_store send `{send.event}` to `{send.pixel}` has the same "
                    f"order_id as the send on line {first.span.line} and {same}: Meta would "
                    "keep only one of them",
                    ctx.head(send),
                    "give each line its own item_number",
                    first_line=first.span.line,
                )
