"""The one diagnostic type every stage reports with (syntax, resolution, lint, build)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= fail_level`` works."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A source range. Lines and columns are 1-based; ``end_column`` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Span:
        return cls(data["file"], data["line"], data["column"], data["end_line"], data["end_column"])

    @classmethod
    def point(cls, file: str, line: int, column: int) -> Span:
        return cls(file, line, column, line, column + 1)

    def join(self, other: Span) -> Span:
        """The smallest span covering both (same file assumed)."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(self.file, start[0], start[1], end[0], end[1])

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Applicability(enum.Enum):
    """How sure a fix is, as in ruff: ``--fix`` applies safe fixes, ``--unsafe-fixes`` both."""

    #: The edit keeps what the rules mean, or makes them mean what was certainly meant.
    SAFE = "safe"
    #: The edit is very likely right but changes what is sent (review it).
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of ``span`` (end exclusive; an empty span inserts) with ``content``."""

    span: Span
    content: str

    def to_json(self) -> dict[str, Any]:
        return {"content": self.content, "span": self.span.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Edit:
        return cls(Span.from_json(data["span"]), data["content"])


@dataclass(frozen=True, slots=True)
class Fix:
    """A machine-applicable change that resolves a diagnostic (edits in one file)."""

    #: What the fix does, e.g. "Replace `Purcahse` with `Purchase`".
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE

    @classmethod
    def replace(cls, span: Span, content: str, message: str, *, safe: bool = True) -> Fix:
        applicability = Applicability.SAFE if safe else Applicability.UNSAFE
        return cls(message, (Edit(span, content),), applicability)

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "applicability": self.applicability.value,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        return cls(
            data["message"],
            tuple(Edit.from_json(e) for e in data["edits"]),
            Applicability(data["applicability"]),
        )


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a diagnostic concerns (SARIF ``relatedLocations``): e.g. the send that
    sends a field written in a shared block."""

    span: Span
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "span": self.span.to_json()}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    span: Span | None
    help: str | None = None
    #: Extra machine-readable facts (e.g. the estimated match quality score).
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: Other places it concerns; the first is the send, for a finding in a shared block.
    related: tuple[Related, ...] = ()
    #: The edit that resolves it, when the right one is certain (``capic check --fix``).
    fix: Fix | None = field(default=None, compare=False, hash=False)

    def sort_key(self) -> tuple[Any, ...]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)

    def one_line(self, shown: str | None = None, *, nowhere: str = "") -> str:
        """``path:line:col: CODE message`` (``shown`` is the path as the user sees it; a
        diagnostic without a position starts with ``nowhere`` instead), the form the verbs
        other than ``check`` print their errors in."""
        if self.span is None:
            return f"{nowhere}{self.code} {self.message}"
        where = shown if shown is not None else self.span.file
        return f"{where}:{self.span.line}:{self.span.column}: {self.code} {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "help": self.help,
            "span": self.span.to_json() if self.span else None,
            "data": self.data,
            "related": [r.to_json() for r in self.related],
            "fix": self.fix.to_json() if self.fix else None,
        }


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity >= Severity.ERROR for d in diagnostics)
