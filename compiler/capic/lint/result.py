"""What a check found: :class:`Finding` (a diagnostic and the project it belongs to) and
:class:`CheckResult` (every finding of a run, its exit status, the sources for code frames);
:mod:`capic.lint.engine` produces them, the renderers and the language server read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from capic.diagnostics import Diagnostic, Severity, Span
from capic.syntax.redact import redact

if TYPE_CHECKING:
    from capic.lint.config import LintSettings
    from capic.model import ir
    from capic.model.project import LoadResult


class Origin(Protocol):
    """Where a finding comes from: a loaded project (:class:`LoadResult`), or a project whose
    findings were read from the result cache."""

    @property
    def root(self) -> Path: ...

    @property
    def project(self) -> ir.Project | None: ...

    def display_path(self, rel: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnostic and the project it belongs to (None for problems with the paths given)."""

    diagnostic: Diagnostic
    result: Origin | None

    @property
    def display_path(self) -> str | None:
        """The file as people should see it (relative to the working directory when close)."""
        span = self.diagnostic.span
        if span is None:
            return None
        return self.result.display_path(span.file) if self.result is not None else span.file

    @property
    def root(self) -> Path | None:
        return self.result.root if self.result is not None else None


@dataclass
class CheckResult:
    """What :func:`check_paths` found."""

    #: What the output formats show.
    findings: list[Finding]
    results: list[LoadResult]
    fail_level: Severity
    exit_code: int
    #: Lint settings per project root.
    settings: dict[Path, LintSettings] = field(default_factory=dict)
    #: Environments checked per project root (None: the base configuration).
    environments: dict[Path, list[str | None]] = field(default_factory=dict)
    #: Informational notes not shown (``show-info`` is off); ``--statistics`` counts them.
    hidden: list[Finding] = field(default_factory=list)
    _texts: dict[tuple[Path, str], str | None] = field(default_factory=dict, repr=False)

    @property
    def all_findings(self) -> list[Finding]:
        """Shown and hidden findings, in output order."""
        return (
            sorted([*self.findings, *self.hidden], key=sort_key) if self.hidden else self.findings
        )

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every reported diagnostic, sorted by file, line, column and code."""
        return [f.diagnostic for f in self.findings]

    @property
    def failed(self) -> bool:
        return any(d.severity >= self.fail_level for d in self.diagnostics)

    def display_path(self, finding: Finding) -> str | None:
        return finding.display_path

    def source_text(self, finding: Finding) -> str | None:
        """The text of the file a finding points into (for code frames)."""
        span = finding.diagnostic.span
        if span is None or finding.result is None:
            return None
        key = (finding.result.root, span.file)
        if key not in self._texts:
            self._texts[key] = _read_source(finding.result, span.file)
        return self._texts[key]

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for d in self.diagnostics:
            out[d.severity.label] += 1
        return out


def _read_source(result: Origin, rel: str) -> str | None:
    if result.project is not None:
        for f in result.project.files:
            if f.path == rel:
                return f.text  # inline tokens already masked when the file was read
    try:
        text = (result.root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return redact(text)  # a file of a project that did not load: masked all the same


def sort_key(f: Finding) -> tuple[Any, ...]:
    d = f.diagnostic
    span: Span | None = d.span
    if span is None:
        return ("", 0, 0, d.code, d.message)
    return (f.display_path or "", span.line, span.column, d.code, d.message)
