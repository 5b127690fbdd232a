"""From the rule model of a ``test`` block to plain data: its inputs, its clock, and what each
expectation wants.

Test inputs (``event``, ``request``) are literals (the resolver enforces it); expected values
are literals, ``hashed("raw")``, ``absent`` and ``any``, nested in lists and objects as needed.
Anything else in an expectation (a path, a call, arithmetic) is reported as a diagnostic,
because an expectation computed by the rule language would test the language with itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from capic.codes import code
from capic.diagnostics import Diagnostic
from capic.model import ir
from capic.runtime.hashing import sha256_hex
from capic.runtime.normalize import HASHED_KEYS, is_sha256, normalize

#: The clock of a test that sets no ``now``: 2026-01-01T00:00:00Z.
DEFAULT_NOW = 1767225600
DEFAULT_NOW_TEXT = "2026-01-01T00:00:00Z"


# ----------------------------------------------------------------------------- expected values


@dataclass(frozen=True, slots=True)
class Exact:
    value: Any


@dataclass(frozen=True, slots=True)
class Hashed:
    """``hashed("raw")``: the digest capic sends for ``raw`` under ``key``.

    ``digest`` is None when ``raw`` is not a valid value for the key (it normalizes to
    nothing), which no actual value can match; ``normalized`` is what was hashed.
    """

    raw: Any
    key: str
    normalized: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class Absent:
    pass


@dataclass(frozen=True, slots=True)
class Anything:
    pass


@dataclass(frozen=True, slots=True)
class ListSpec:
    items: tuple[Spec, ...]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """An object or a payload section: only the keys listed are compared."""

    entries: tuple[tuple[str, Spec], ...]
    #: A section written as a block (``user { ... }``), shown by its name in messages.
    section: str | None = None


Spec: TypeAlias = Exact | Hashed | Absent | Anything | ListSpec | ObjectSpec


@dataclass(frozen=True, slots=True)
class ExpectationSpec:
    """One ``expect`` line of a test."""

    kind: str  # "sends" | "rule_nothing" | "nothing"
    rule: str | None
    event: str | None
    pixel: str | None
    body: ObjectSpec | None
    source: ir.Expectation

    def describe(self) -> str:
        if self.kind == "nothing":
            return "expect nothing"
        if self.kind == "rule_nothing":
            return f'expect "{self.rule}" sends nothing'
        return f'expect "{self.rule}" sends {self.event} to {self.pixel}'


@dataclass(frozen=True, slots=True)
class TestSpec:
    name: str
    file: str
    line: int
    environment: str | None
    now: float
    event: Any
    request: Any
    expectations: tuple[ExpectationSpec, ...]
    source: ir.Test


# ----------------------------------------------------------------------------- building


def hashed_value(
    raw: Any, key: str, *, default_country: str | None, dob_order: str
) -> tuple[str | None, str | None]:
    """(normalized text, digest) of ``raw`` sent as ``user_data[key]``, as the runtime does it:
    hashed keys are normalized for their key first, a SHA-256 digest given as input passes
    through lowercased; other keys are hashed as written."""
    if key not in HASHED_KEYS:
        text = raw if isinstance(raw, str) else literal_text(raw)
        return text, sha256_hex(text)
    normalized = normalize(key, raw, default_country=default_country, dob_order=dob_order)
    if normalized is None:
        return None, None
    stripped = raw.strip() if isinstance(raw, str) else ""
    if is_sha256(stripped):
        return normalized, normalized
    return normalized, sha256_hex(normalized)


def literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SpecBuilder:
    """Builds :class:`TestSpec` values, collecting diagnostics for what cannot be tested."""

    def __init__(self, config: ir.ProjectConfig) -> None:
        self.config = config
        self.diagnostics: list[Diagnostic] = []

    def _error(self, message: str, expr: ir.Expr | ir.Field, help: str) -> None:
        self.diagnostics.append(code("R015").diagnostic(message, expr.span, help))

    # -- inputs
    def literal(self, expr: ir.Expr) -> Any:
        """The Python value of a literal (test inputs)."""
        if isinstance(expr, ir.Const):
            return expr.value
        if isinstance(expr, ir.ListOf):
            return [self.literal(item) for item in expr.items]
        if isinstance(expr, ir.ObjectOf):
            return {key: self.literal(value) for key, value in expr.entries}
        if isinstance(expr, ir.Unary) and expr.op == "neg":
            inner = self.literal(expr.operand)
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner
        self._error(
            "test inputs are literals",
            expr,
            "write the value as JSON: strings, numbers, true/false/null, [...] and {...}",
        )
        return None

    def clock(self, test: ir.Test) -> float:
        f = test.fields.get("now")
        if f is None:
            return float(DEFAULT_NOW)
        value = f.value
        if isinstance(value, ir.Const):
            v = value.value
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                return float(v)
            if isinstance(v, str):
                parsed = parse_instant(v)
                if parsed is not None:
                    return parsed
                self._error(
                    f"`now` {v!r} is not an ISO-8601 time",
                    value,
                    'write unix seconds (1767225600) or ISO-8601 ("2026-01-01T00:00:00Z")',
                )
                return float(DEFAULT_NOW)
        self._error(
            "`now` must be unix seconds or an ISO-8601 string",
            value,
            'write unix seconds (1767225600) or ISO-8601 ("2026-01-01T00:00:00Z")',
        )
        return float(DEFAULT_NOW)

    # -- expectations
    def expected(self, expr: ir.Expr, key: str) -> Spec:
        """The spec of an expected value; ``key`` is the payload key it sits under (the key
        ``hashed()`` normalizes for)."""
        if isinstance(expr, ir.Matcher):
            if expr.kind == "absent":
                return Absent()
            if expr.kind == "any":
                return Anything()
            return self._hashed(expr, key)
        if isinstance(expr, ir.Const):
            return Exact(expr.value)
        if isinstance(expr, ir.ListOf):
            return ListSpec(tuple(self.expected(item, key) for item in expr.items))
        if isinstance(expr, ir.ObjectOf):
            return ObjectSpec(tuple((k, self.expected(v, k)) for k, v in expr.entries))
        if isinstance(expr, ir.Unary) and expr.op == "neg":
            inner = self.expected(expr.operand, key)
            if (
                isinstance(inner, Exact)
                and isinstance(inner.value, int | float)
                and not isinstance(inner.value, bool)
            ):
                return Exact(-inner.value)
        self._error(
            "an expected value must be a literal, hashed(...), absent or any",
            expr,
            'write the value the rule must send, e.g. 12.5, "USD" or hashed("a@b.com")',
        )
        return Anything()

    def _hashed(self, expr: ir.Matcher, key: str) -> Spec:
        arg = expr.arg
        if not (
            isinstance(arg, ir.Const) and arg.value is not None and not isinstance(arg.value, bool)
        ):
            self._error(
                "hashed() takes the raw value as a string (or number) literal",
                expr,
                'e.g. em = hashed("jane.doe@example.com")',
            )
            return Anything()
        normalized, digest = hashed_value(
            arg.value,
            key,
            default_country=self.config.default_country,
            dob_order=self.config.dob_order,
        )
        return Hashed(arg.value, key, normalized, digest)

    def section(self, section: ir.Section) -> ObjectSpec:
        entries: list[tuple[str, Spec]] = []
        for key, entry in section.entries.items():
            if isinstance(entry, ir.Section):
                if entry.key == "extinfo" and isinstance(entry.entries.get("extinfo"), ir.Field):
                    # extinfo { ... } is the 16-element list app_data.extinfo.
                    fld = entry.entries["extinfo"]
                    assert isinstance(fld, ir.Field)
                    entries.append(("extinfo", self.expected(fld.value, "extinfo")))
                else:
                    entries.append((key, self.section(entry)))
            else:
                entries.append((key, self.expected(entry.value, key)))
        return ObjectSpec(tuple(entries), section.name or None)

    def expectation(self, exp: ir.Expectation) -> ExpectationSpec:
        body = self.section(exp.body) if exp.body is not None else None
        return ExpectationSpec(exp.kind, exp.rule, exp.event, exp.pixel, body, exp)

    def test(self, test: ir.Test, default_environment: str | None) -> TestSpec:
        env_field = test.fields.get("environment")
        environment = default_environment
        if (
            env_field is not None
            and isinstance(env_field.value, ir.Const)
            and isinstance(env_field.value.value, str)
        ):
            environment = env_field.value.value
        event_field = test.fields.get("event")
        request_field = test.fields.get("request")
        return TestSpec(
            name=test.name,
            file=test.file,
            line=test.name_span.line,
            environment=environment,
            now=self.clock(test),
            event=self.literal(event_field.value) if event_field else None,
            request=self.literal(request_field.value) if request_field else None,
            expectations=tuple(self.expectation(e) for e in test.expectations),
            source=test,
        )


def parse_instant(text: str) -> float | None:
    """Unix seconds of an ISO-8601 date-time (``Z`` or an offset; none means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
