"""Consent: gates that keep events from being sent without the person's consent."""

from __future__ import annotations

from collections.abc import Iterable

from capic.diagnostics import Diagnostic, Severity
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, register
from capic.model import ir
from capic.model.ir import consent_gate


def _gate(ctx: LintContext, env: EnvView, pixel: str) -> ir.Consent | None:
    return consent_gate(ctx.project, env.environment, pixel)


@register
class MissingConsentGate(Check):
    code = "P050"
    name = "missing-consent-gate"
    group = "privacy"
    severity = Severity.ERROR
    env_sensitive = True
    summary = (
        'A project that requires consent (consent = "required" in capic.toml) with a pixel '
        "that has no consent gate in an environment: none on the pixel, none in the "
        "environment, none in the environment's override of the pixel."
    )
    why = (
        "When consent is required, an event sent without asking the gate is an event sent "
        "without consent; the gate must be written for every pixel in every environment."
    )
    example = (
        '# capic.toml: [project] consent = "required"\n\n'
        'pixel shop {\n  id           = "1234567890123456"\n'
        '  access_token = env("META_CAPI_TOKEN")\n}'
    )
    fix = (
        'Add a gate to the pixel (consent { granted = event.consent.marketing == "granted" }) '
        "or to each environment; a send that needs none says why with consent { exempt = ... }."
    )

    def check_environment(self, ctx: LintContext, env: EnvView) -> Iterable[Diagnostic]:
        if ctx.project.config.consent != "required":
            return
        environment = env.environment
        for name, pixel in ctx.project.pixels.items():
            if _gate(ctx, env, name) is not None:
                continue
            if environment is not None:
                yield self.report(
                    f"consent is required, but pixel `{name}` has no consent gate in "
                    f"environment `{environment.name}`",
                    environment.name_span,
                    f"add consent {{ granted = ... }} to the environment or to pixel `{name}`",
                    pixel=name,
                )
            else:
                yield self.report(
                    f"consent is required, but pixel `{name}` has no consent gate",
                    pixel.name_span,
                    'add consent { granted = ...  otherwise = "drop" } to the pixel',
                    pixel=name,
                )


@register
class ConsentExemption(Check):
    code = "P051"
    name = "consent-exemption"
    group = "privacy"
    severity = Severity.INFO
    summary = (
        'A send that opts out of consent gates (consent { exempt = "reason" }), with its '
        "reason: `capic check --statistics` counts them, the JSON output lists each."
    )
    why = (
        "Exemptions are decisions someone must be able to review: each is listed with the "
        "reason written for it."
    )
    example = (
        'send "SubscriptionRenewed" to shop {\n'
        "  consent {\n"
        '    exempt = "billing under the subscription contract, never used for ads"\n'
        "  }\n}"
    )
    fix = "Nothing to fix; remove the exemption when the send should follow the gates."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if send.exemption is None:
            return
        yield self.report(
            f"send `{send.event}` to `{send.pixel}` is exempt from consent: "
            f"{send.exemption.reason}",
            send.exemption.span,
            "listed for review; the send ignores every consent gate",
            reason=send.exemption.reason,
            pixel=send.pixel,
        )


@register
class LimitedDataUseWithoutIp(Check):
    code = "P052"
    name = "limited-data-use-without-ip"
    group = "privacy"
    severity = Severity.WARNING
    env_sensitive = True
    summary = (
        "A send to a pixel whose consent gate sends with Limited Data Use (otherwise = "
        '"limited_data_use") without user_data.client_ip_address and without its own '
        "data_processing_options_state."
    )
    why = (
        "Without consent the event goes with country and state 0: Meta geolocates the event "
        "from its IP address to apply Limited Data Use. Without one it cannot."
    )
    example = (
        "pixel shop {\n  ...\n  consent {\n    granted   = event.consent.ads\n"
        '    otherwise = "limited_data_use"\n  }\n}\n\n'
        "send Lead to shop {\n  user { em = email }\n}"
    )
    fix = (
        "Send client_ip_address = request.ip, or set data_processing_options_country and "
        "data_processing_options_state in the send."
    )

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        if send.exemption is not None:
            return
        gate = _gate(ctx, env, send.pixel)
        if gate is None or gate.otherwise != "limited_data_use":
            return
        user = ctx.analyzer.present_keys(send.body.section("user_data"))
        own = ctx.analyzer.present_keys(send.body)
        if "client_ip_address" in user or "data_processing_options_state" in own:
            return
        yield self.report(
            f"without consent, send `{send.event}` goes with Limited Data Use, but it has no "
            "client_ip_address for Meta to geolocate",
            ctx.head(send),
            "add client_ip_address = request.ip to the user block",
            pixel=send.pixel,
        )
