"""Lint configuration: where it is found, what it means, and its validation.

The configuration is the ``[lint]`` table of a ``capic.toml`` or the ``[tool.capic]`` table of
a ``pyproject.toml``. The closest one wins, walking up from the project's root directory (in
one directory, ``capic.toml`` before ``pyproject.toml``; a file without the table is skipped;
the walk stops at the root of a git repository). There is no merging between files.

Keys (schema: ``capic schema config``, ``$defs/lint``):

* ``select``: codes or code prefixes enabled instead of the default set (``ALL``: every check);
* ``extend-select``: added to the default (or selected) set;
* ``ignore``: removed. The most specific selector wins (``select = ["D"]`` with ``ignore =
  ["D002"]`` leaves D001 and D003; ``ignore = ["D"]`` with ``extend-select = ["D002"]`` keeps
  D002); between equally specific ones, ignore wins;
* ``per-file-ignores``: glob (relative to the configuration file's directory; a pattern without
  ``/`` also matches the file name alone) -> codes or prefixes ignored in matching files;
* ``fail-level``: ``error`` (default), ``warning`` or ``info``;
* ``show-info``: show informational notes (hidden by default; ``--statistics`` counts them);
* ``exclude``, ``extend-exclude``, ``respect-gitignore``: which files belong to the project
  (:mod:`capic.files`);
* ``options``: ``[lint.options.<check-name>]`` tables with each check's own settings.

A configuration file that is not valid TOML stops the walk: its settings cannot be known, so
the run reports C001 (exit 2) instead of silently using another file's or the defaults.

Front-end codes (S, R, C) are always reported: a file with those errors cannot be compiled.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from capic.diagnostics import Diagnostic, Severity, Span
from capic.lint.registry import PSEUDO_CODES, all_checks, all_infos, is_frontend
from capic.model.config import read_toml

CAPIC_TOML = "capic.toml"
PYPROJECT = "pyproject.toml"
#: Lint codes that configuration cannot deselect (problems of the configuration itself).
_ALWAYS = frozenset({"C101", "C102"})


class ConfigError(ValueError):
    """A command-line selection that cannot be honoured (unknown code, bad level)."""


@dataclass(frozen=True)
class ConfigSource:
    """A lint table and where it was found."""

    path: Path
    table: Mapping[str, Any]
    #: "[lint]" or "[tool.capic]"
    section: str
    text: str
    #: Why the file could not be read (the table is then empty), with the 1-based line and
    #: column the TOML parser names.
    error: str | None = None
    error_at: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class Overrides:
    """Command-line settings: ``select`` replaces the configured one, the others extend it."""

    select: Sequence[str] | None = None
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    fail_level: Severity | None = None
    #: ``--show-info``: show informational notes whatever the configuration says.
    show_info: bool | None = None


@dataclass(frozen=True)
class LintSettings:
    """The resolved configuration of one project."""

    enabled: frozenset[str]
    fail_level: Severity = Severity.ERROR
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Directory that per-file-ignores patterns are relative to.
    base_dir: Path | None = None
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: ConfigSource | None = None
    #: Whether informational notes are reported (else only counted by --statistics).
    show_info: bool = False

    @property
    def shows_info(self) -> bool:
        """Info notes are shown when asked for, and whenever they decide the exit status."""
        return self.show_info or self.fail_level <= Severity.INFO

    def is_enabled(self, code: str) -> bool:
        return is_frontend(code) or code in _ALWAYS or code in self.enabled

    def ignored_in_file(self, code: str, path: Path) -> bool:
        """Whether per-file-ignores turn ``code`` off in the file at absolute ``path``."""
        if not self.per_file_ignores or is_frontend(code) or code in _ALWAYS:
            return False
        base = self.base_dir or path.parent
        rel = PurePosixPath(Path(os.path.relpath(path, base)).as_posix())
        for pattern, selectors in self.per_file_ignores:
            hit = fnmatch.fnmatch(str(rel), pattern)
            if not hit and "/" not in pattern:
                hit = fnmatch.fnmatch(rel.name, pattern)
            if hit and any(_matches(s, code) for s in selectors):
                return True
        return False


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    # Imported on use: the catalog loads Meta's event lists, which a run that reads its
    # results from the cache never needs.
    from capic.meta.catalog import suggest as closest

    return closest(name, candidates)


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def selectable_codes() -> list[str]:
    """Codes that select/ignore act on (checks and suppression pseudo-rules)."""
    return [c for c in all_infos() if not is_frontend(c) and c not in _ALWAYS]


def known_selector(selector: str) -> bool:
    return selector == "ALL" or any(code.startswith(selector) for code in all_infos())


def selection(
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
    defaults: Iterable[str],
) -> frozenset[str]:
    """The enabled codes: the most specific matching selector decides, ignore wins ties."""
    default_set = set(defaults)
    enabled: set[str] = set()
    for code in selectable_codes():
        best_on = -1 if (select is None and code in default_set) else None
        for s in [*(select or ()), *extend_select]:
            if _matches(s, code):
                spec = _specificity(s)
                best_on = spec if best_on is None else max(best_on, spec)
        if best_on is None:
            continue
        best_off = max((_specificity(s) for s in ignore if _matches(s, code)), default=None)
        if best_off is None or best_on > best_off:
            enabled.add(code)
    return frozenset(enabled)


def default_codes() -> list[str]:
    checks = all_checks()
    return [c for c in selectable_codes() if c in PSEUDO_CODES or checks[c].default_enabled]


# ----------------------------------------------------------------------------- discovery


def find_config(start: Path) -> ConfigSource | None:
    """The closest lint table at or above ``start`` (see the module docs). A file that cannot
    be read ends the walk with a source whose ``error`` says why."""
    directory = start.resolve()
    while True:
        for name, keys, section in (
            (CAPIC_TOML, ("lint",), "[lint]"),
            (PYPROJECT, ("tool", "capic"), "[tool.capic]"),
        ):
            candidate = directory / name
            if not candidate.is_file():
                continue
            data, text, error, where = read_toml(candidate)
            if data is None:
                return ConfigSource(candidate, {}, section, text, error, where)
            table: Any = data
            for key in keys:
                table = table.get(key) if isinstance(table, dict) else None
            if table is not None:
                return ConfigSource(
                    candidate, table if isinstance(table, dict) else {}, section, text
                )
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


# ----------------------------------------------------------------------------- settings


def load_settings(
    root: Path, overrides: Overrides | None = None
) -> tuple[LintSettings, list[Diagnostic], ConfigSource | None]:
    """Resolve the settings of the project rooted at ``root``, with diagnostics (C101, C102)
    about its configuration. Raises :class:`ConfigError` for bad command-line selectors."""
    overrides = overrides or Overrides()
    for s in [*(overrides.select or ()), *overrides.ignore, *overrides.extend_select]:
        if not known_selector(s):
            hint = suggest(s, list(all_infos()))
            raise ConfigError(
                f"unknown code or prefix {s!r}" + (f" (did you mean {hint}?)" if hint else "")
            )
    source = find_config(root)
    diags: list[Diagnostic] = []
    table: Mapping[str, Any] = {}
    if source is not None:
        table = source.table
        rel = Path(os.path.relpath(source.path, root)).as_posix()
        if source.error is None:
            diags = validate_table(source, rel)
        elif source.path.name != CAPIC_TOML:
            # A broken capic.toml is the project's own file: the loader reports it (C001).
            diags = [_broken(source, rel)]

    def strings(key: str) -> list[str]:
        value = table.get(key)
        return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []

    select: list[str] | None = strings("select") if "select" in table else None
    if overrides.select is not None:
        select = list(overrides.select)
    enabled = selection(
        select,
        [*strings("extend-select"), *overrides.extend_select],
        [*strings("ignore"), *overrides.ignore],
        default_codes(),
    )
    fail_level = Severity.ERROR
    if isinstance(table.get("fail-level"), str) and table["fail-level"] in {
        "error",
        "warning",
        "info",
    }:
        fail_level = Severity.parse(table["fail-level"])
    if overrides.fail_level is not None:
        fail_level = overrides.fail_level
    pfi: list[tuple[str, tuple[str, ...]]] = []
    raw_pfi = table.get("per-file-ignores")
    if isinstance(raw_pfi, dict):
        for pattern, selectors in raw_pfi.items():
            if isinstance(selectors, list):
                pfi.append((str(pattern), tuple(s for s in selectors if isinstance(s, str))))
    options: dict[str, dict[str, Any]] = {}
    raw_options = table.get("options")
    checks_by_name = {cls.name: cls for cls in all_checks().values()}
    if isinstance(raw_options, dict):
        for name, values in raw_options.items():
            cls = checks_by_name.get(name)
            if cls is not None and isinstance(values, dict):
                options[name] = {
                    k: v
                    for k, v in values.items()
                    if k in cls.options and cls.options[k].accepts(v)
                }
    show_info = table.get("show-info") is True
    if overrides.show_info is not None:
        show_info = overrides.show_info
    settings = LintSettings(
        enabled=enabled,
        fail_level=fail_level,
        per_file_ignores=tuple(pfi),
        base_dir=source.path.parent if source is not None else None,
        options=options,
        source=source,
        show_info=show_info,
    )
    return settings, diags, source


def _broken(source: ConfigSource, rel: str) -> Diagnostic:
    from capic.codes import code

    line, column = source.error_at
    return code("C001").diagnostic(
        source.error or f"cannot read {rel}",
        Span.point(rel, line, column),
        "fix the file: capic cannot know the settings it holds",
    )


def validate_table(source: ConfigSource, rel: str) -> list[Diagnostic]:
    """Diagnostics for a lint table (C101, C102): :mod:`capic.lint.config_checks`."""
    from capic.lint.config_checks import validate

    return validate(source, rel)
