"""The rule model (IR): what the linter, the code generator and the bundler read.

Typed, frozen and JSON-serializable (``to_json``). Names are resolved (an element reference is
an :class:`ElementRef`, a path is a :class:`Path` from a root), payload sections carry their
Conversions API keys (``user`` -> ``user_data``), and every node keeps the :class:`Span` of the
source it came from, so a finding on any payload path can be reported at the exact place
(:meth:`Send.locate`).

The node kinds live in ``ir_expr`` (expressions), ``ir_payload`` (send bodies) and ``ir_decl``
(declarations); this module holds the project around them and the JSON form, and is the one
name the rest of capic imports them by (``from capic.model import ir``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capic.diagnostics import Span
from capic.model.ir_decl import (
    CONSENT_OUTCOMES,
    Consent,
    Element,
    Environment,
    Exemption,
    Expectation,
    Pixel,
    PixelOverride,
    Rule,
    Send,
    ServeBlock,
    Shared,
    Test,
)
from capic.model.ir_expr import (
    Binary,
    Call,
    Comprehension,
    Cond,
    Const,
    ElementRef,
    Expr,
    ListOf,
    Match,
    Matcher,
    ObjectOf,
    Path,
    Root,
    SecretRef,
    Segment,
    Unary,
    Var,
    children,
    walk,
)
from capic.model.ir_payload import Field, Section
from capic.syntax.ast import Comment

__all__ = [
    "CONSENT_OUTCOMES",
    "Binary",
    "Call",
    "Comprehension",
    "Cond",
    "Consent",
    "Const",
    "Element",
    "ElementRef",
    "Environment",
    "Exemption",
    "Expectation",
    "Expr",
    "Field",
    "ListOf",
    "Match",
    "Matcher",
    "ObjectOf",
    "Path",
    "Pixel",
    "PixelOverride",
    "Project",
    "ProjectConfig",
    "Root",
    "Rule",
    "SecretRef",
    "Section",
    "Segment",
    "Send",
    "ServeBlock",
    "Shared",
    "SourceFile",
    "Test",
    "Unary",
    "Var",
    "children",
    "consent_gate",
    "to_json",
    "walk",
]


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
