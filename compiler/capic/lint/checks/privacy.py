"""Privacy and secrets: customer information keys, hashing, tokens, test event codes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.checks._schema import SchemaCheck
from capic.lint.context import EnvView, LintContext
from capic.lint.registry import Check, Option, register
from capic.lint.schema import SchemaFinding
from capic.meta import catalog
from capic.model import ir
from capic.syntax.redact import SECRET_SETTINGS  # one list for the mask and the check


@register
class UnknownUserDataKey(SchemaCheck):
    code = "P001"
    name = "unknown-user-data-key"
    group = "privacy"
    severity = Severity.ERROR
    summary = "A key in the user block that is not a customer information parameter of Meta."
    why = (
        "Meta rejects unknown user_data keys. capic decides from the key whether to normalize "
        "and hash a value, so a misspelt key (email for em) would also skip hashing."
    )
    example = "user {\n  email = email\n}"
    fix = "Use Meta's key (em, ph, fn, ln, db, ge, ct, st, zp, country, external_id, ...)."

    def match(self, f: SchemaFinding) -> bool:
        return f.kind == "additionalProperties" and f.document == "user_data"

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        key = f.key or ""
        aliases = catalog.user_data_aliases()
        hint = aliases.get(key) or catalog.suggest(key, catalog.user_data_keys())
        return (
            f"`{key}` is not a customer information key of Meta",
            ctx.key_span(send, f.target),
            f"did you mean `{hint}`?" if hint else "see `capic schema user_data` for the keys",
        )


@register
class HandHashedValue(Check):
    code = "P002"
    name = "hand-hashed-value"
    group = "privacy"
    severity = Severity.ERROR
    summary = "A user_data value hashed in the rule with sha256(...)."
    why = (
        "capic normalizes and hashes customer information itself, as Meta specifies (trimmed, "
        "lowercased, phone numbers with country code, ...). A value hashed by hand is not "
        "normalized, and keys Meta wants raw (client_ip_address, fbp, ...) must never be "
        "hashed: such values never match anyone."
    )
    example = "user {\n  em = sha256(lower(email))\n}"
    fix = "Pass the raw value: em = email. capic normalizes and hashes it."

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        user = send.body.section("user_data")
        if user is None:
            return
        hashed = catalog.hashed_keys()
        for key, entry in user.entries.items():
            if not isinstance(entry, ir.Field):
                continue
            calls = ctx.analyzer.value_calls(entry.value, "sha256")
            if not calls:
                continue
            where = calls[0].span
            origin = (
                ""
                if where.file == entry.value.span.file and where.line == entry.value.span.line
                else f" (at {where})"
            )
            if key in hashed:
                message = f"`{key}` is hashed by hand{origin}; capic normalizes and hashes it"
            else:
                message = f"`{key}` is hashed{origin}, but Meta expects it unhashed"
            yield self.report(message, entry.value.span, "pass the raw value", key=key)


def _literal_secret(value: ir.Expr) -> bool:
    return isinstance(value, ir.Const) and isinstance(value.value, str)


@register
class LiteralSecret(Check):
    code = "P003"
    name = "literal-secret"
    group = "privacy"
    severity = Severity.ERROR
    summary = (
        "An access_token or app_secret written as a string literal: in a pixel, an "
        "environment, or as a field anywhere in the rules."
    )
    why = (
        "Rule files end up in version control, bundles and logs. A token in them can send events "
        "to (or read) the dataset from anywhere; it must be read at run time. capic masks the "
        "value with `*` wherever it would show or store it (code frames, `capic parse`, the "
        "parse cache), so the rules never work with it, and `capic build` refuses the project."
    )
    example = 'pixel shop {\n  access_token = "EAAB..."\n}'
    fix = 'Use a reference: access_token = env("META_CAPI_TOKEN") or secret("meta_token").'

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        for pixel in ctx.project.pixels.values():
            yield from self._scan(pixel.fields, f"pixel `{pixel.name}`")
        for environment in ctx.project.environments.values():
            for name, override in environment.pixels.items():
                where = f"pixel `{name}` of environment `{environment.name}`"
                yield from self._scan(override.fields, where)

    def check_send(
        self, ctx: LintContext, rule: ir.Rule, send: ir.Send, env: EnvView
    ) -> Iterable[Diagnostic]:
        for path, f in send.body.fields():
            if path[-1] in SECRET_SETTINGS and _literal_secret(f.value):
                yield self.report(
                    f"`{'.'.join(path)}` of send `{send.event}` is a secret written in the rule file",
                    f.value.span,
                    "tokens are pixel settings read at run time; never send one to Meta",
                    key=path[-1],
                )

    def _scan(self, fields: Mapping[str, ir.Field], where: str) -> Iterator[Diagnostic]:
        for key in SECRET_SETTINGS:
            f = fields.get(key)
            if f is None or not _literal_secret(f.value):
                continue
            yield self.report(
                f"`{key}` of {where} is written in the rule file",
                f.value.span,
                f'read it at run time: {key} = env("META_CAPI_{key.upper()}") or secret("...")',
                key=key,
            )


@register
class TestEventCodeInProduction(Check):
    code = "P004"
    name = "test-event-code-in-production"
    group = "privacy"
    severity = Severity.ERROR
    env_sensitive = True
    options: ClassVar[Mapping[str, Option]] = {
        "environments": Option(
            "string-list",
            ["production", "prod"],
            "Names of the environments that are production.",
        )
    }
    summary = (
        "A test_event_code in force in a production environment: set by the environment block, "
        "by the environment's override of a pixel, by the pixel itself (and not cleared with "
        "test_event_code = null in production), or written in a send."
    )
    why = (
        "Events sent with a test code go to the Test Events tab and are still used for "
        "measurement; production traffic must never carry one, and capic refuses to build a "
        "production bundle with errors."
    )
    example = 'pixel shop {\n  ...\n  test_event_code = "TEST123"\n}\n\nenvironment production { }'
    fix = (
        "Set test codes in development/staging environments only (environment development "
        '{ test_event_code = "TEST123" }), or clear it in production with test_event_code = null.'
    )

    def _production(self, env: EnvView) -> bool:
        names: list[str] = list(self.settings["environments"])
        return env.name is not None and env.name in names

    def check_environment(self, ctx: LintContext, env: EnvView) -> Iterable[Diagnostic]:
        if not self._production(env):
            return
        environment = env.environment
        assert environment is not None
        f = environment.fields.get("test_event_code")
        if f is not None and not _null(f.value):
            yield self._found(f, f"environment `{env.name}` sets a test_event_code")
        for pixel in ctx.project.pixels:
            f = env.pixel_field(pixel, "test_event_code")
            if f is None or _null(f.value):
                continue
            override = environment.pixels.get(pixel)
            if override is not None and override.fields.get("test_event_code") is f:
                what = f"environment `{env.name}` sets a test_event_code for pixel `{pixel}`"
            else:
                what = (
                    f"pixel `{pixel}` has a test_event_code, in force in environment `{env.name}`"
                )
            yield self._found(f, what)

    def claims(self, finding: SchemaFinding) -> bool:
        return (
            finding.kind == "additionalProperties"
            and finding.path == ()
            and finding.key == "test_event_code"
        )

    def describe(
        self, ctx: LintContext, send: ir.Send, finding: SchemaFinding
    ) -> Diagnostic | None:
        f = send.body.field("test_event_code")
        span = f.key_span if f is not None else ctx.head(send)
        return self.report(
            f"send `{send.event}` sets test_event_code, so it is sent in every environment, "
            "including production",
            span,
            "set test event codes on environments (environment development { test_event_code = ... })",
        )

    def _found(self, f: ir.Field, what: str) -> Diagnostic:
        shown = f.value.describe() if isinstance(f.value, ir.SecretRef) else None
        extra = f" (read from {shown} at run time)" if shown else ""
        return self.report(
            f"{what}{extra}",
            f.span,
            "production events must not carry a test_event_code; remove it or set it to null here",
        )


def _null(value: ir.Expr) -> bool:
    return isinstance(value, ir.Const) and value.value is None
