"""The rule model (IR): what the linter, the code generator and the bundler read.

Typed, frozen and JSON-serializable (``to_json``). Names are resolved (an element reference is
an :class:`ElementRef`, a path is a :class:`Path` from a root), payload sections carry their
Conversions API keys (``user`` -> ``user_data``), and every node keeps the :class:`Span` of the
source it came from, so a finding on any payload path can be reported at the exact place
(:meth:`Send.locate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from capic.diagnostics import Span
from capic.syntax.ast import Comment

# ----------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    value: str | int | float | bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectOf:
    entries: tuple[tuple[str, Expr], ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Root:
    name: str  # "event" | "request"
    span: Span


@dataclass(frozen=True, slots=True)
class Var:
    """A comprehension variable."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ElementRef:
    name: str
    span: Span


#: A path segment: a field name, a list index, or a computed key.
Segment: TypeAlias = "str | int | Expr"


@dataclass(frozen=True, slots=True)
class Path:
    base: Expr
    segments: tuple[str | int | Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "neg"
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Match:
    operand: Expr
    pattern: str
    flags: str
    span: Span
    pattern_span: Span


@dataclass(frozen=True, slots=True)
class Comprehension:
    var: str
    source: Expr
    body: Expr
    cond: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Cond:
    """``if test then then else otherwise``: the branch the test's truth selects."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class SecretRef:
    """``env("VAR")`` or ``secret("NAME")``: a value read at run time, never at build time."""

    kind: str  # "env" | "secret"
    name: str
    span: Span

    def describe(self) -> str:
        return f'{self.kind}("{self.name}")'


@dataclass(frozen=True, slots=True)
class Matcher:
    """Test expectations only: ``hashed("raw")``, ``absent``, ``any``."""

    kind: str  # "hashed" | "absent" | "any"
    arg: Expr | None
    span: Span


Expr: TypeAlias = (
    Const
    | ListOf
    | ObjectOf
    | Root
    | Var
    | ElementRef
    | Path
    | Call
    | Unary
    | Binary
    | Match
    | Comprehension
    | Cond
    | SecretRef
    | Matcher
)


def children(expr: Expr) -> Iterator[Expr]:
    """Direct sub-expressions."""
    if isinstance(expr, ListOf):
        yield from expr.items
    elif isinstance(expr, ObjectOf):
        for _, value in expr.entries:
            yield value
    elif isinstance(expr, Path):
        yield expr.base
        for seg in expr.segments:
            if not isinstance(seg, str | int):
                yield seg
    elif isinstance(expr, Call):
        yield from expr.args
    elif isinstance(expr, Unary):
        yield expr.operand
    elif isinstance(expr, Binary):
        yield expr.left
        yield expr.right
    elif isinstance(expr, Match):
        yield expr.operand
    elif isinstance(expr, Comprehension):
        yield expr.source
        yield expr.body
        if expr.cond is not None:
            yield expr.cond
    elif isinstance(expr, Cond):
        yield expr.test
        yield expr.then
        yield expr.otherwise
    elif isinstance(expr, Matcher) and expr.arg is not None:
        yield expr.arg


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression tree, pre-order."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(children(node))))


# ----------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    value: Expr
    span: Span  # the whole `key = value`
    key_span: Span
    comments: tuple[Comment, ...] = ()
    #: The shared block the field was written in (None: written where it is used).
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A payload object. ``key`` is the Conversions API key (``user_data``), ``name`` the
    section name written in the source (``user``)."""

    key: str
    name: str
    entries: Mapping[str, Field | Section]
    span: Span
    name_span: Span
    #: The shared block the section was written in (None: written where it is used; a
    #: section written in a send that also gets entries from a shared block is the send's).
    origin: str | None = None

    def get(self, key: str) -> Field | Section | None:
        return self.entries.get(key)

    def field(self, key: str) -> Field | None:
        entry = self.entries.get(key)
        return entry if isinstance(entry, Field) else None

    def section(self, key: str) -> Section | None:
        entry = self.entries.get(key)
        return entry if isinstance(entry, Section) else None

    def locate(self, path: tuple[str | int, ...]) -> Span:
        """The most precise span for a JSON path inside this section (key span for a key,
        value span for a list item)."""
        if not path:
            return self.name_span
        head, rest = path[0], path[1:]
        entry = self.entries.get(str(head))
        if entry is None:
            return self.name_span
        if isinstance(entry, Section):
            return entry.locate(rest) if rest else entry.name_span
        if not rest:
            return entry.key_span
        value: Expr = entry.value
        for step in rest:
            if isinstance(value, ListOf) and isinstance(step, int) and 0 <= step < len(value.items):
                value = value.items[step]
            elif isinstance(value, ObjectOf) and isinstance(step, str):
                found = dict(value.entries).get(step)
                if found is None:
                    return value.span
                value = found
            else:
                return value.span
        return value.span

    def fields(self) -> Iterator[tuple[tuple[str, ...], Field]]:
        """Every field with its key path, depth first."""
        for key, entry in self.entries.items():
            if isinstance(entry, Section):
                for sub, fld in entry.fields():
                    yield (key, *sub), fld
            else:
                yield (key,), entry


# ----------------------------------------------------------------------------- declarations


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


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # as reported in diagnostics (relative to the project root where possible)
    sha256: str
    lines: int
    text: str = field(repr=False, compare=False)
    comments: tuple[Comment, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    name: str
    default_environment: str | None = None
    default_country: str | None = None
    dob_order: str = "mdy"
    api_version: str = "v25.0"
    secrets_dir: str | None = None
    #: "required": every pixel needs a consent gate in every environment.
    consent: str = "optional"
    #: The raw lint table (``[lint]`` of capic.toml or ``[tool.capic]`` of pyproject.toml).
    lint: Mapping[str, Any] = field(default_factory=dict)
    #: The ``[meta]`` table as written (validated against the config schema; see
    #: :mod:`capic.meta.policy` for the settings it gives).
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: Where the settings came from (None for an ad-hoc project of loose files).
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    config: ProjectConfig
    root: str  # absolute directory
    files: tuple[SourceFile, ...]
    pixels: Mapping[str, Pixel]
    elements: Mapping[str, Element]
    rules: tuple[Rule, ...]
    environments: Mapping[str, Environment]
    tests: tuple[Test, ...]
    shared: Mapping[str, Shared] = field(default_factory=dict)
    #: The top-level ``serve { }`` block (site settings of ``capic serve``), if any.
    serve: ServeBlock | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def to_json(self) -> dict[str, Any]:
        data = to_json(self)
        assert isinstance(data, dict)
        return data


def consent_gate(project: Project, environment: Environment | None, pixel: str) -> Consent | None:
    """The consent gate of ``pixel`` in ``environment``: the environment's override of the
    pixel, else the environment's own gate, else the pixel's."""
    if environment is not None:
        override = environment.pixels.get(pixel)
        if override is not None and override.consent is not None:
            return override.consent
        if environment.consent is not None:
            return environment.consent
    declared = project.pixels.get(pixel)
    return declared.consent if declared is not None else None


# ----------------------------------------------------------------------------- serialization

_EXCLUDED = {"text", "comments", "variant_of"}


def to_json(obj: Any) -> Any:
    """Canonical JSON form of any IR value (dataclasses get a ``kind`` tag)."""
    if isinstance(obj, Span):
        return obj.to_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"kind": type(obj).__name__}
        for f in dataclasses.fields(obj):
            if f.name in _EXCLUDED:
                continue
            out[f.name] = to_json(getattr(obj, f.name))
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [to_json(v) for v in obj]
    return obj
