"""Which ``*.capi`` files belong to a project: every one below its root, except those that
``.gitignore`` ignores and those the configuration excludes.

Settings (the lint table, :mod:`capic.lint.config`): ``exclude`` replaces the default list,
``extend-exclude`` adds to it, ``respect-gitignore = false`` turns the ``.gitignore`` files off.
Patterns use the ``.gitignore`` syntax and are relative to the configuration file's directory.
``.gitignore`` files count from the repository's top level (the closest directory above with
``.git``) down, each relative to its own directory, deeper ones first, like git; so does
``.git/info/exclude``. An ignored directory is not entered.

pathspec (and its compiled patterns) is imported only when there is a pattern to match:
most projects need nothing but the default list, which is matched by directory name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

SUFFIX = ".capi"
#: Directory names skipped by default (besides hidden directories).
DEFAULT_EXCLUDED_DIRS = ("__pycache__", "build", "dist", "node_modules", "venv")
DEFAULT_EXCLUDE = (".*/", *(f"{name}/" for name in DEFAULT_EXCLUDED_DIRS))


@dataclass(frozen=True)
class FileSettings:
    """The file-selection part of a project's configuration."""

    #: Replaces DEFAULT_EXCLUDE when set.
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    #: The directory the patterns are relative to (the configuration file's).
    base_dir: Path | None = None

    @classmethod
    def from_table(cls, table: Any, base_dir: Path | None) -> FileSettings:
        def patterns(key: str) -> tuple[str, ...] | None:
            value = table.get(key) if isinstance(table, dict) else None
            if not isinstance(value, list):
                return None
            return tuple(p for p in value if isinstance(p, str) and p)

        respect = table.get("respect-gitignore") if isinstance(table, dict) else None
        return cls(
            exclude=patterns("exclude"),
            extend_exclude=patterns("extend-exclude") or (),
            respect_gitignore=respect is not False,
            base_dir=base_dir,
        )


def settings_for(start: Path) -> FileSettings:
    """The file settings of the configuration that applies at ``start``."""
    from capic.lint.config import find_config

    source = find_config(start)
    if source is None:
        return FileSettings()
    return FileSettings.from_table(source.table, source.path.parent)


def git_top_level(start: Path) -> Path | None:
    """The closest directory at or above ``start`` with a ``.git`` (directory, or the file of
    a worktree or submodule)."""
    for directory in [start, *start.parents]:
        if (directory / ".git").exists():
            return directory
    return None


class _Matcher:
    """gitignore-style patterns anchored at one directory."""

    def __init__(self, base: Path, spec: GitIgnoreSpec | _SimpleSpec) -> None:
        self.base = base
        self.spec = spec

    def decide(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern matches."""
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        result = self.spec.check_file(rel + "/" if is_dir else rel)
        return result.include


@dataclass(frozen=True)
class _Decision:
    include: bool | None


#: A pattern of one path component: a plain name or ``*.suffix``, optionally anchored with a
#: leading ``/`` and directory-only with a trailing ``/``.
_SIMPLE = re.compile(r"(?P<anchor>/?)(?P<name>\*?[A-Za-z0-9._-]+)(?P<dir>/?)")


class _SimpleSpec:
    """The patterns most .gitignore files hold (``__pycache__/``, ``*.pyc``, ``/dist``),
    matched exactly as git does without importing pathspec: a pattern without a slash
    matches a file or directory of that name at any depth, one with a leading slash only at
    the top, one with a trailing slash only directories; without ``!`` patterns, any match
    ignores."""

    def __init__(self, patterns: list[re.Match[str]]) -> None:
        self.patterns = [(m["anchor"] == "/", m["name"], m["dir"] == "/") for m in patterns]

    def check_file(self, rel: str) -> _Decision:
        is_dir = rel.endswith("/")
        parts = rel.rstrip("/").split("/")
        for anchored, name, dir_only in self.patterns:
            for i, part in enumerate(parts[:1] if anchored else parts):
                # Every component but the last is a directory: ignoring it ignores the rest.
                if dir_only and i == len(parts) - 1 and not is_dir:
                    continue
                if part.endswith(name[1:]) if name.startswith("*") else part == name:
                    return _Decision(True)
        return _Decision(None)


def _spec(lines: Iterable[str]) -> GitIgnoreSpec | _SimpleSpec | None:
    kept = [line.rstrip() for line in lines if line.strip() and not line.startswith("#")]
    if not kept:
        return None
    simple = [_SIMPLE.fullmatch(line) for line in kept]
    if all(m is not None and m["name"].count("*") <= 1 for m in simple):
        return _SimpleSpec([m for m in simple if m is not None])
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(kept)


def _gitignore(directory: Path, name: str = ".gitignore") -> _Matcher | None:
    try:
        text = (directory / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    spec = _spec(text.splitlines())
    return _Matcher(directory, spec) if spec is not None else None


class FileFilter:
    """Decides, directory by directory, what a walk below ``root`` keeps."""

    def __init__(self, root: Path, settings: FileSettings) -> None:
        self.root = root
        base = settings.base_dir or root
        patterns = settings.exclude
        #: Whether the exclude list is the default one (matched by name, without pathspec).
        self.default_exclude = patterns is None
        configured = [*(patterns or ()), *settings.extend_exclude]
        spec = _spec(configured) if configured else None
        self.exclude = _Matcher(base, spec) if spec is not None else None
        #: .gitignore matchers that apply at the root, shallowest first.
        self.ignores: list[_Matcher] = []
        self.respect_gitignore = settings.respect_gitignore
        if settings.respect_gitignore:
            top = git_top_level(root)
            chain = [root] if top is None else [root, *root.parents]
            for directory in reversed(chain):
                if top is not None and not directory.is_relative_to(top):
                    continue
                found = _gitignore(directory)
                if found is not None:
                    self.ignores.append(found)
            if top is not None and (top / ".git").is_dir():
                found = _gitignore(top / ".git" / "info", "exclude")
                if found is not None:
                    # Anchored at the top level, and weaker than every .gitignore.
                    self.ignores.insert(0, _Matcher(top, found.spec))

    def entered(self, directory: Path, outer: list[_Matcher]) -> list[_Matcher]:
        """The matchers that apply inside ``directory``: those of its parent (``outer``) and
        its own .gitignore."""
        if not self.respect_gitignore:
            return outer
        found = _gitignore(directory)
        return outer if found is None else [*outer, found]

    def skips(self, path: Path, is_dir: bool, ignores: Sequence[_Matcher]) -> bool:
        if self.default_exclude and is_dir and _default_excluded(path.name):
            return True
        if self.exclude is not None and self.exclude.decide(path, is_dir):
            return True
        for matcher in reversed(ignores):
            decided = matcher.decide(path, is_dir)
            if decided is not None:
                return decided
        return False


def _default_excluded(name: str) -> bool:
    return name.startswith(".") or name in DEFAULT_EXCLUDED_DIRS


def capi_files(root: Path, settings: FileSettings | None = None) -> list[Path]:
    """The ``.capi`` files of the tree at ``root``, sorted."""
    chosen = settings if settings is not None else settings_for(root)
    keep = FileFilter(root, chosen)
    out: list[Path] = []
    chains: dict[Path, list[_Matcher]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            ignores = keep.ignores
        else:
            ignores = keep.entered(here, chains.get(here.parent, keep.ignores))
        chains[here] = ignores
        dirnames[:] = sorted(d for d in dirnames if not keep.skips(here / d, True, ignores))
        out.extend(
            here / f
            for f in sorted(filenames)
            if f.endswith(SUFFIX) and not keep.skips(here / f, False, ignores)
        )
    return sorted(out)
