"""Match quality: which customer information a send can carry (capi-facts §3.5 and §7)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.checks._schema import SchemaCheck
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, Option, register
from capic.lint.schema import SchemaFinding
from capic.meta import catalog, estimate
from capic.model import ir


@functools.cache
def _known_user_keys() -> frozenset[str]:
    return frozenset(catalog.user_data_keys())


def sendable_user_keys(ctx: LintContext, send: ir.Send) -> set[str]:
    """The customer information keys a send can carry (known keys with a value)."""
    return set(ctx.analyzer.present_keys(send.body.section("user_data")) & _known_user_keys())


@register
class TooBroadCustomerInformation(SchemaCheck):
    code = "Q001"
    name = "too-broad-customer-information"
    group = "quality"
    severity = Severity.ERROR
    summary = (
        "A send whose customer information keys are all within one of the sets Meta considers "
        "too broad to match: {ct, country, st, zp, ge, client_user_agent}, {db, "
        "client_user_agent}, {fn, ge}, {ln, ge}; or an empty user block."
    )
    why = (
        "Since Graph API v13 Meta rejects such events (error 2804050): they cannot identify a "
        "person, and one rejected event fails the whole batch."
    )
    example = 'user {\n  ct      = city\n  country = "us"\n  ge      = gender\n}'
    fix = (
        "Add an identifying key: em, ph, external_id, fbp/fbc, or client_ip_address with "
        "client_user_agent."
    )

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "minProperties" and f.path == ("user_data",)

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"send `{send.event}` has an empty user block; Meta rejects events without customer information",
            ctx.key_span(send, ("user_data",)),
            "add em, ph, external_id, fbp/fbc or client_ip_address + client_user_agent",
        )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        user = send.body.section("user_data")
        keys = sendable_user_keys(ctx, send)
        if user is None or not keys:
            return
        for subset in catalog.too_broad_subsets():
            if keys <= subset:
                shown = ", ".join(sorted(keys))
                yield self.report(
                    f"send `{send.event}` carries only {{{shown}}}, which Meta rejects as too broad "
                    f"to match (a subset of {{{', '.join(sorted(subset))}}})",
                    user.name_span,
                    "add an identifying key such as em, ph, external_id or fbp",
                    keys=sorted(keys),
                    too_broad=sorted(subset),
                )
                return


@register
class EstimatedMatchQuality(Check):
    code = "Q002"
    name = "estimated-match-quality"
    group = "quality"
    severity = Severity.INFO
    options: ClassVar[Mapping[str, Option]] = {
        "suggestions": Option(
            "int", 3, "How many keys that would raise the estimate most to name."
        ),
        "never-suggest": Option(
            "string-list",
            ["fb_login_id", "lead_id"],
            "Keys not to suggest: by default those only a Meta integration provides (Facebook "
            "Login, Lead Ads). They still count in the score when a send carries them.",
        ),
    }
    summary = (
        "For every send, capic's estimate (0-10) of its match quality from the customer "
        "information keys it can send, with the keys that would raise it most. The JSON output "
        "carries the score, its range and the suggestions in `data`."
    )
    why = (
        "Events Meta can match to people count for ads; the more identifying keys a send "
        "carries, the better. The weights (schemas/user_data.schema.json, "
        "x-capic-match-weights: em, ph, fbc 3; external_id, client_ip_address, fbp, "
        "fb_login_id, lead_id 2; client_user_agent and fn+ln 1; db, ge, ct, st, zp, country "
        "0.3) are capic's estimate, not Meta's formula, which is not published: it assumes every "
        "key is present on every event. Read the real Event Match Quality in Events Manager or "
        "the Dataset Quality API."
    )
    example = "send Lead to shop {\n  ...\n  user { client_user_agent = user_agent }\n}"
    fix = "Send more customer information where you have it (em, ph, external_id, fbp, fbc)."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        user = send.body.section("user_data")
        if user is None:
            return
        keys = sendable_user_keys(ctx, send)
        ip_field = user.field("client_ip_address")
        ip = ctx.analyzer.fold(ip_field.value) if ip_field is not None else None
        guess = estimate.estimate(keys, ipv4=estimate.is_ipv4(ip))
        skip = set(self.settings["never-suggest"])
        useful = [(name, gain) for name, gain in guess.gains if not set(name.split("+")) & skip]
        top = useful[: max(0, int(self.settings["suggestions"]))]
        rounded = guess.rounded
        low, high = guess.range
        advice = ", ".join(f"{name} (+{gain:.1f})" for name, gain in top)
        message = f"estimated match quality {rounded}/10 for `{send.event}` ({estimate.LABEL})"
        if advice:
            message += f"; would rise most with {advice}"
        yield self.report(
            message,
            ctx.head(send),
            "the estimate assumes every key is present on every event; see Events Manager for the real score",
            score=rounded,
            range=[low, high],
            keys=sorted(keys),
            raise_most=[{"key": name, "gain": round(gain, 2)} for name, gain in top],
            estimate=estimate.SOURCE,
        )
