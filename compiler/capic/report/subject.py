"""What a report runs: the rule module of a verified bundle.

A bundle file is verified and loaded as ``capic run --bundle`` loads it. A project directory
is first built into a bundle (in a scratch directory, exactly as ``capic build`` builds it),
so that both sides of a shadow diff are the same kind of thing and ``capic diff``'s
comparison of bundles (:mod:`capic.bundle.diff`) applies to them unchanged. A project that
cannot be bundled (errors, an unknown environment) cannot be reported on either: the message
is the build's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from capic.bundle.verify import VerifyReport

if TYPE_CHECKING:
    from capic.bundle.build import BuildError

__all__ = ["Subject", "SubjectError", "load_subject"]


class SubjectError(Exception):
    """The project or bundle cannot be reported on; the message says why (one line), the
    details (``problems``) one per line."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Subject:
    """One version of the rules: its module and its verified bundle."""

    #: What the user named (a path as given), shown in the report.
    label: str
    #: "project" or "bundle".
    kind: str
    module: ModuleType
    verified: VerifyReport

    @property
    def project(self) -> str:
        assert self.verified.manifest is not None
        return self.verified.manifest.project

    @property
    def environment(self) -> str:
        assert self.verified.manifest is not None
        return self.verified.manifest.environment

    @property
    def revision(self) -> str:
        assert self.verified.manifest is not None
        return self.verified.manifest.revision

    def describe(self) -> dict[str, str]:
        return {
            "source": self.label,
            "kind": self.kind,
            "project": self.project,
            "environment": self.environment,
            "revision": self.revision[:12],
        }


def _default_environment(project: str) -> str:
    from capic.api import load_project

    try:
        load = load_project(project)
    except ValueError as exc:
        raise SubjectError(f"{project}: {exc}") from None
    if load.project is None:
        raise SubjectError(f"{project}: the project has errors; fix them first (capic check)")
    name = load.project.config.default_environment
    if name is None:
        raise SubjectError(f"{project}: the project names no default_environment; pass --env")
    return name


def _problems(exc: BuildError) -> list[str]:
    """What stopped the build, one line each (the front end's findings at error level)."""
    found = list(exc.diagnostics)
    if exc.check is not None:
        found += [
            f.diagnostic
            for f in exc.check.findings
            if f.diagnostic.severity >= exc.check.fail_level
        ]
    load = exc.load
    lines = []
    for d in sorted(found, key=lambda d: d.sort_key()):
        where = "capic"
        if d.span is not None:
            shown = load.display_path(d.span.file) if load is not None else d.span.file
            where = f"{shown}:{d.span.line}:{d.span.column}"
        lines.append(f"{where}: {d.code} {d.message}")
    return lines


def _build(project: str, env_name: str | None, scratch: Path) -> Path:
    from capic.bundle.build import BuildError, build_bundle

    environment = env_name if env_name is not None else _default_environment(project)
    try:
        result = build_bundle(project, environment, scratch)
    except BuildError as exc:
        raise SubjectError(f"{project}: {exc}", _problems(exc)) from None
    return Path(result.path)


def load_subject(path: str, env_name: str | None, scratch: Path) -> Subject:
    """The rules at ``path`` (a project directory or a bundle file) for ``env_name`` (None:
    the project's default environment, or the bundle's own). ``scratch`` holds the bundle a
    project is built into."""
    from capic.bundle.load import BundleError, load_bundle
    from capic.bundle.verify import verify_bundle

    given = Path(path)
    if given.is_dir():
        scratch.mkdir(parents=True, exist_ok=True)
        bundle, kind = _build(path, env_name, scratch), "project"
    elif given.is_file():
        bundle, kind = given, "bundle"
    else:
        raise SubjectError(f"{path}: no such project directory or bundle file")
    verified = verify_bundle(bundle)
    if not verified.ok or verified.manifest is None:
        raise SubjectError(f"{path}: the bundle does not verify", verified.problems)
    environment = verified.manifest.environment
    if kind == "bundle" and env_name is not None and env_name != environment:
        raise SubjectError(f"{path} was built for environment {environment!r}, not {env_name!r}")
    try:
        loaded = load_bundle(bundle)
    except BundleError as exc:
        raise SubjectError(f"{path}: {exc}", exc.problems) from None
    return Subject(path, kind, loaded.module, verified)
