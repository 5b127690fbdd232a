"""Declaration nodes of the rule model: pixels, elements, shared blocks, rules and their sends,
environments, consent gates and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from capic.diagnostics import Span
from capic.model.ir_expr import Const, Expr
from capic.model.ir_payload import Field, Section
from capic.syntax.ast import Comment

__all__ = [
    "CONSENT_OUTCOMES",
    "Consent",
    "Element",
    "Environment",
    "Exemption",
    "Expectation",
    "Pixel",
    "PixelOverride",
    "Rule",
    "Send",
    "ServeBlock",
    "Shared",
    "Test",
]


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent gate: events are sent as they are only when ``granted`` is true; otherwise
    they are dropped (``otherwise = "drop"``) or sent with Limited Data Use
    (``"limited_data_use"``)."""

    granted: Expr
    otherwise: str  # "drop" | "limited_data_use"
    span: Span  # the `consent { ... }` section
    name_span: Span


CONSENT_OUTCOMES: tuple[str, ...] = ("drop", "limited_data_use")


@dataclass(frozen=True, slots=True)
class Pixel:
    name: str
    fields: Mapping[str, Field]
    span: Span
    name_span: Span
    file: str
    consent: Consent | None = None

    @property
    def browser_pixel(self) -> bool:
        f = self.fields.get("browser_pixel")
        return bool(f is not None and isinstance(f.value, Const) and f.value.value is True)


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    value: Expr
    span: Span
    name_span: Span
    file: str
    #: Elements this one refers to directly.
    deps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Shared:
    """``shared KIND NAME { ... }``: a send body (kind ``send``) or a section written once and
    spread into sends with ``...NAME``. ``body`` is resolved with its own spreads applied."""

    kind: str
    name: str
    body: Section
    span: Span
    name_span: Span
    file: str
    #: Shared blocks this one spreads directly.
    deps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Exemption:
    """``consent { exempt = "reason" }`` in a send: sent whatever the consent gates say."""

    reason: str
    span: Span


@dataclass(frozen=True, slots=True)
class Send:
    #: The event name; for a computed name (``event_expr``), its source text.
    event: str
    #: True when the source wrote the name as a string (a custom event by intent).
    quoted: bool
    pixel: str
    body: Section  # key "" ; its entries are the server event fields
    span: Span
    event_span: Span
    pixel_span: Span
    #: The expression of a computed event name (``send names[event_type] to shop``).
    event_expr: Expr | None = None
    exemption: Exemption | None = None
    #: The names the send can take: its name, or those a computed name can give (sorted;
    #: empty when they come from the event).
    event_names: tuple[str, ...] = ()
    #: Shared blocks spread into the send (directly or through other shared blocks).
    spreads: tuple[str, ...] = ()
    #: The linter checks a send with a computed name once per name it can take, as a copy
    #: of the send with that name; the copy points back at the send.
    variant_of: Send | None = field(default=None, compare=False, repr=False)

    def locate(self, path: tuple[str | int, ...]) -> Span:
        if path and path[0] == "event_name":
            return self.event_span
        return self.body.locate(path) if path else self.span


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    condition: Expr | None
    sends: tuple[Send, ...]
    span: Span
    name_span: Span
    file: str
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class PixelOverride:
    pixel: str
    fields: Mapping[str, Field]
    span: Span
    name_span: Span
    consent: Consent | None = None


@dataclass(frozen=True, slots=True)
class ServeBlock:
    """``serve { ... }``: site settings of ``capic serve`` (see :mod:`capic.model.serve`)."""

    fields: Mapping[str, Field]
    span: Span
    file: str


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    fields: Mapping[str, Field]
    pixels: Mapping[str, PixelOverride]
    span: Span
    name_span: Span
    file: str
    consent: Consent | None = None
    #: The environment's own ``serve { }`` block: its keys override the top-level block's.
    serve: ServeBlock | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: str  # "sends" | "rule_nothing" | "nothing"
    rule: str | None
    event: str | None
    pixel: str | None
    body: Section | None
    span: Span


@dataclass(frozen=True, slots=True)
class Test:
    name: str
    fields: Mapping[str, Field]  # event, request, environment, now
    expectations: tuple[Expectation, ...]
    span: Span
    name_span: Span
    file: str
