"""Schema failures no more specific check explains, one check per kind of failure.

Every send is validated against ``server_event.schema.json`` (which includes user_data,
custom_data, app_data, the per-event and the per-action-source requirements); a failure that no
check of another group claims is reported by the check for its JSON Schema keyword here.
"""

from __future__ import annotations

from capic.diagnostics import Fix, Severity, Span
from capic.lint.checks._schema import (
    SchemaCheck,
    describe_path,
    enum_suggestion,
    expected_types,
    first_sentence,
    key_description,
    literal_fix,
    missing_help,
    options_text,
    show,
    what_it_is,
)
from capic.lint.context import LintContext
from capic.lint.registry import register
from capic.lint.schema import SchemaFinding, dotted
from capic.meta.catalog import suggest
from capic.model import ir


def _described(f: SchemaFinding) -> str | None:
    return first_sentence(key_description(f.target) or f.description())


@register
class MissingRequiredKey(SchemaCheck):
    code = "V001"
    name = "missing-required-key"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset({"required"})
    summary = "An object of the payload lacks a key its schema requires (when no other check explains it)."
    why = "Meta rejects an event whose payload misses a required key."
    example = "attribution {\n  attribution_setting { }\n}"
    fix = "Add the key named in the message (`capic schema server_event` shows the schema)."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`{dotted(f.path)}` needs `{f.key}`",
            ctx.container_span(send, f.path),
            missing_help(f),
        )


@register
class WrongType(SchemaCheck):
    code = "V002"
    name = "wrong-type"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset({"type"})
    summary = (
        "A value of the wrong JSON type: a literal of another type, or an expression whose type "
        "is known (e.g. value = upper(x), a string, where Meta expects a number)."
    )
    why = "Meta rejects the event (code 100, invalid parameter) and with it the whole batch."
    example = 'custom {\n  value = "19.99"\n}'
    fix = "Write a literal of the right type, or convert: value = number(order.total)."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`{describe_path(f.target)}` must be {expected_types(f.expected)}, {what_it_is(f.instance)}",
            ctx.value_span(send, f.target),
            _described(f),
        )


@register
class ValueNotAllowed(SchemaCheck):
    code = "V003"
    name = "value-not-allowed"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset({"enum", "const"})
    summary = "A literal outside the values the schema allows (an enum or a constant)."
    why = "Meta accepts only the documented values and rejects the event otherwise."
    example = 'customer_segmentation = "loyal"'
    fix = "Use one of the values the message lists."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        options = f.expected if isinstance(f.expected, list) else [f.expected]
        return (
            f"`{describe_path(f.target)}` cannot be {show(f.instance)}; allowed: {options_text(options)}",
            ctx.value_span(send, f.target),
            enum_suggestion(f.instance, options) or _described(f),
        )

    def fix_for(self, ctx: LintContext, f: SchemaFinding, span: Span) -> Fix | None:
        options = f.expected if isinstance(f.expected, list) else [f.expected]
        return literal_fix(ctx, span, f.instance, options)


@register
class PatternMismatch(SchemaCheck):
    code = "V004"
    name = "pattern-mismatch"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset({"pattern"})
    summary = (
        "A literal string that does not have the format Meta expects (e.g. an fbp cookie value)."
    )
    why = "Malformed values are rejected or silently fail to match."
    example = 'user {\n  fbc = "fb.1.1554763741.AbCdEf"   # seconds, not milliseconds\n}'
    fix = "Write the value in the documented format (the help shows the schema's description)."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        return (
            f"`{describe_path(f.target)}` {show(f.instance)} does not have the expected format",
            ctx.value_span(send, f.target),
            _described(f) or f"expected to match {f.expected}",
        )


@register
class UnknownKey(SchemaCheck):
    code = "V005"
    name = "unknown-key"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset({"additionalProperties"})
    summary = (
        "A key that is not a Conversions API parameter at that place (top level of the event, "
        "app_data, original_event_data, attribution_data, a contents item)."
    )
    why = "Meta rejects unknown parameters; a misspelt key also means the intended one is missing."
    example = "send Lead to shop {\n  evnt_id = event.id\n}"
    fix = "Fix the spelling (the help suggests the closest key) or remove the key."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        known = list(f.schema.get("properties", {}))
        hint = suggest(f.key or "", known)
        where = f"in `{dotted(f.path)}`" if f.path else "in a server event"
        return (
            f"unknown key `{f.key}` {where}",
            ctx.key_span(send, f.target),
            f"did you mean `{hint}`?" if hint else f"known keys: {', '.join(sorted(known))}",
        )


@register
class InvalidLength(SchemaCheck):
    code = "V006"
    name = "invalid-length"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset(
        {
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "uniqueItems",
            "minProperties",
            "maxProperties",
        }
    )
    summary = "A literal string or list that is too short, too long or has duplicate items."
    why = "Meta rejects empty identifiers and over-long values."
    example = 'event_id = ""'
    fix = "Give the value a valid length, or leave the key out."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        where = describe_path(f.target)
        texts = {
            "minLength": f"`{where}` must have at least {f.expected} character(s)",
            "maxLength": f"`{where}` must have at most {f.expected} characters",
            "minItems": f"`{where}` must have at least {f.expected} item(s)",
            "maxItems": f"`{where}` must have at most {f.expected} items",
            "uniqueItems": f"`{where}` has duplicate items",
            "minProperties": f"`{where}` must have at least {f.expected} key(s)",
            "maxProperties": f"`{where}` must have at most {f.expected} keys",
        }
        return texts[f.kind], ctx.value_span(send, f.target), _described(f)


@register
class OutOfRange(SchemaCheck):
    code = "V007"
    name = "out-of-range"
    group = "schema"
    severity = Severity.ERROR
    keywords = frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    )
    summary = "A literal number outside the documented range (e.g. an event_time in milliseconds)."
    why = "Meta rejects the event."
    example = "event_time = 1760000000000"
    fix = "Use a number in range (event_time is in seconds)."

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
            "multipleOf": "a multiple of",
        }
        return (
            f"`{describe_path(f.target)}` must be {words[f.kind]} {f.expected}, got {show(f.instance)}",
            ctx.value_span(send, f.target),
            _described(f),
        )


@register
class SchemaViolation(SchemaCheck):
    code = "V008"
    name = "schema-violation"
    group = "schema"
    severity = Severity.ERROR
    summary = "Any other schema failure of a send (anyOf, oneOf, not, contains, dependencies)."
    why = "The payload would not be accepted as it is."
    example = "(depends on the schema rule)"
    fix = "Read the message and the schema (`capic schema server_event`)."

    def match(self, f: SchemaFinding) -> bool:
        return True

    def explain(
        self, ctx: LintContext, send: ir.Send, f: SchemaFinding
    ) -> tuple[str, Span, str | None]:
        if f.kind in {"required", "dependentRequired"}:
            return f"`{dotted(f.target)}` is required here", ctx.container_span(send, f.path), None
        return (
            f"`{dotted(f.target)}` does not satisfy the schema ({f.kind})",
            ctx.value_span(send, f.target),
            _described(f),
        )
