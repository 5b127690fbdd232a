"""The pinned Graph API version against Meta's version calendar (M030-M033).

A version is pinned in capic.toml (``[project] api_version``), on a pixel, or on a pixel of an
environment; a pixel with none of them uses capic's default. Each written version is checked
where it is written (the default at the pixel that relies on it), against
:mod:`capic.meta.versions` (the calendar of ``schemas/graph_api_version.schema.json``) on
"today": the ``today`` option of the check, else ``--today``/``$CAPIC_TODAY``, else
``$SOURCE_DATE_EPOCH``, else the system clock, so builds stay reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import ClassVar

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.context import LintContext
from capic.lint.registry import Check, Option, register
from capic.meta import versions
from capic.model import ir
from capic.model.config import read_toml

_TODAY = Option(
    "string",
    "",
    "The day to compare with, YYYY-MM-DD (default: --today or $CAPIC_TODAY, "
    "$SOURCE_DATE_EPOCH, the system clock).",
)


def _config_span(project: ir.Project) -> tuple[str, Span] | None:
    """The api_version written in capic.toml, with the span of its value."""
    rel = project.config.path
    if rel is None:
        return None
    text = read_toml(Path(project.root) / rel)[1]  # already read when the project loaded
    m = re.search(r'^[ \t]*api_version[ \t]*=[ \t]*"([^"\n]*)"', text, re.MULTILINE)
    if m is None:
        return None
    line = text.count("\n", 0, m.start(1)) + 1
    column = m.start(1) - (text.rfind("\n", 0, m.start(1)) + 1)  # the opening quote
    return m.group(1), Span(rel, line, column, line, column + len(m.group(1)) + 2)


def _pinned(project: ir.Project) -> Iterator[tuple[str, Span, str]]:
    """(version, where it is written, what pins it)."""
    config = _config_span(project)
    if config is not None:
        yield config[0], config[1], "the project (capic.toml)"
    for pixel in project.pixels.values():
        f = pixel.fields.get("api_version")
        if f is not None and isinstance(f.value, ir.Const) and isinstance(f.value.value, str):
            yield f.value.value, f.value.span, f"pixel `{pixel.name}`"
        elif config is None:
            envs = list(project.environments.values())
            overridden = bool(envs) and all(
                pixel.name in env.pixels and "api_version" in env.pixels[pixel.name].fields
                for env in envs
            )
            if not overridden:
                yield (
                    project.config.api_version,
                    pixel.name_span,
                    f"pixel `{pixel.name}` (capic's default, no api_version is pinned)",
                )
    for env in project.environments.values():
        for name, override in env.pixels.items():
            f = override.fields.get("api_version")
            if f is not None and isinstance(f.value, ir.Const) and isinstance(f.value.value, str):
                yield f.value.value, f.value.span, f"pixel `{name}` in environment `{env.name}`"


class _ApiVersionCheck(Check):
    group = "requirements"
    kind: ClassVar[str]
    options: ClassVar[Mapping[str, Option]] = {"today": _TODAY}

    def _today(self) -> date:
        chosen = str(self.settings.get("today") or "")
        if chosen:
            try:
                return versions.parse_today(chosen)
            except ValueError:
                pass  # the configuration check reports the option's type, not its format
        return versions.today()

    def _days(self) -> int:
        return versions.EXPIRY_WARNING_DAYS

    def finalize(self, ctx: LintContext) -> Iterable[Diagnostic]:
        on = self._today()
        for version, span, where in _pinned(ctx.project):
            verdict = versions.status(version, on, self._days())
            if verdict.kind == self.kind:
                yield self.report(
                    f"{verdict.message} (used by {where})",
                    span,
                    self.fix,
                    version=version,
                    today=on.isoformat(),
                )


@register
class ApiVersionExpiring(_ApiVersionCheck):
    code = "M030"
    name = "api-version-expiring"
    kind = "expiring"
    severity = Severity.WARNING
    options: ClassVar[Mapping[str, Option]] = {
        "today": _TODAY,
        "days": Option("int", versions.EXPIRY_WARNING_DAYS, "Warn this many days ahead."),
    }
    summary = "The pinned Graph API version expires within 90 days."
    why = (
        "When a version expires, Meta answers its requests with an error and every event is "
        "dead-lettered until the rules are rebuilt with a newer version."
    )
    example = (
        'pixel shop {\n  ...\n  api_version = "v21.0"   # on a day within 90 days of its end\n}'
    )
    fix = 'Pin a current version (e.g. api_version = "v25.0") and build again.'

    def _days(self) -> int:
        return int(self.settings.get("days", versions.EXPIRY_WARNING_DAYS))


@register
class ApiVersionExpired(_ApiVersionCheck):
    code = "M031"
    name = "api-version-expired"
    kind = "expired"
    severity = Severity.ERROR
    summary = "The pinned Graph API version has expired (or is older than any Meta still serves)."
    why = "Meta rejects every request to an expired version: nothing would be delivered."
    example = 'pixel shop {\n  ...\n  api_version = "v12.0"\n}'
    fix = 'Pin a current version (e.g. api_version = "v25.0").'


@register
class ApiVersionNewer(_ApiVersionCheck):
    code = "M032"
    name = "api-version-newer-than-known"
    kind = "newer"
    severity = Severity.WARNING
    summary = "The pinned Graph API version is newer than the versions this capic knows."
    why = (
        "capic's checks follow the Conversions API of the versions it knows; a newer version "
        "may have changed requirements they do not reflect yet."
    )
    example = 'pixel shop {\n  ...\n  api_version = "v27.0"\n}'
    fix = "Upgrade capic, or pin the newest version it knows."


@register
class ApiVersionUnknown(_ApiVersionCheck):
    code = "M033"
    name = "api-version-unknown"
    kind = "unknown"
    severity = Severity.ERROR
    summary = "The pinned Graph API version is not one Meta released."
    why = "Requests to a version that does not exist fail; nothing would be delivered."
    example = 'pixel shop {\n  ...\n  api_version = "v99.0"\n}'
    fix = 'Pin a released version such as "v25.0" (`capic schema graph_api_version` lists them).'
