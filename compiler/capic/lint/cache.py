"""Per-file cache of lint results, beside the parse cache (``.capic_cache/lint/``, safe to
delete).

The findings of the per-send and per-rule checks of a file depend on that file and on the
project's declarations (pixels, elements, shared blocks, environments), the lint settings, the environments
checked, the schemas and capic's version. The cache keeps them per file, keyed by the file's
content hash, under one key for everything else: when a rule file changes only that file is
linted again; when a declaration, the configuration, a schema or capic changes, everything is.
Cross-file checks (the final pass) always run. Projects with front-end errors are not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from capic import __version__
from capic.diagnostics import Diagnostic, Fix, Related, Severity, Span
from capic.model import ir
from capic.model.discovery import CACHE_DIR  # one home: the project's cache folder
from capic.resources import data_dir

FILE_NAME = "lint-v3.json"

EnvDiagnostics = list[tuple[str | None, Diagnostic]]


def _where(span: Span) -> list[Any]:
    return [span.file, span.line, span.column, span.end_line, span.end_column]


def _dump(d: Diagnostic) -> list[Any]:
    where = _where(d.span) if d.span else None
    related = [[_where(r.span), r.message] for r in d.related]
    fix = d.fix.to_json() if d.fix is not None else None
    return [d.code, d.name, int(d.severity), d.message, where, d.help, d.data, related, fix]


def _load(item: list[Any]) -> Diagnostic:
    code, name, severity, message, where, help_text, data, related, fix = item
    span = Span(*where) if where is not None else None
    return Diagnostic(
        code,
        name,
        Severity(severity),
        message,
        span,
        help_text,
        data,
        tuple(Related(Span(*w), m) for w, m in related),
        Fix.from_json(fix) if fix is not None else None,
    )


def _schemas_fingerprint() -> str:
    h = hashlib.sha256()
    for path in sorted(data_dir("schemas").glob("*.schema.json")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def context_key(
    project: ir.Project, enabled: Iterable[str], options: Any, environments: Sequence[str | None]
) -> str:
    """The key of everything but the rule files themselves."""
    declaring = {p.file for p in project.pixels.values()}
    declaring |= {e.file for e in project.elements.values()}
    declaring |= {e.file for e in project.environments.values()}
    declaring |= {s.file for s in project.shared.values()}
    shas = sorted((f.path, f.sha256) for f in project.files if f.path in declaring)
    parts = {
        "capic": __version__,
        "schemas": _schemas_fingerprint(),
        "enabled": sorted(enabled),
        "options": options,
        "environments": list(environments),
        "declarations": shas,
        # capic.toml settings per-send checks read ([meta]: M071's allowed originals).
        "settings": {"meta": dict(project.config.meta), "consent": project.config.consent},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class FileResult:
    """What the per-rule part of the linter found in one file."""

    plain: list[Diagnostic]
    per_env: EnvDiagnostics
    #: Elements the file's rules refer to directly (for the unused-element check).
    element_refs: frozenset[str]


@dataclass
class LintCache:
    """The cache of one project (disabled: every look-up misses and nothing is written)."""

    path: Path | None
    key: str
    entries: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, root: Path | None, key: str) -> LintCache:
        if root is None:
            return cls(None, key)
        path = root / CACHE_DIR / "lint" / FILE_NAME
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return cls(path, key)
        if (
            not isinstance(data, dict)
            or data.get("key") != key
            or not isinstance(data.get("files"), dict)
        ):
            return cls(path, key, changed=True)
        return cls(path, key, data["files"])

    def get(self, file: str, sha256: str) -> FileResult | None:
        entry = self.entries.get(file)
        if self.path is None or not isinstance(entry, dict) or entry.get("sha") != sha256:
            return None
        try:
            plain = [_load(item) for item in entry["plain"]]
            per_env = [(env, _load(item)) for env, item in entry["env"]]
            refs = frozenset(str(name) for name in entry["refs"])
        except (KeyError, TypeError, ValueError):
            return None
        return FileResult(plain, per_env, refs)

    def put(self, file: str, sha256: str, result: FileResult) -> None:
        if self.path is None:
            return
        self.entries[file] = {
            "sha": sha256,
            "plain": [_dump(d) for d in result.plain],
            "env": [[env, _dump(d)] for env, d in result.per_env],
            "refs": sorted(result.element_refs),
        }
        self.changed = True

    def keep_only(self, files: Iterable[str]) -> None:
        wanted = set(files)
        for stale in [f for f in self.entries if f not in wanted]:
            del self.entries[stale]
            self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            marker = self.path.parent.parent / ".gitignore"
            if not marker.exists():
                marker.write_text(
                    "# created by capic: caches, safe to delete\n*\n", encoding="utf-8"
                )
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps({"key": self.key, "files": self.entries}))
            os.replace(tmp, self.path)
        except OSError:
            # A read-only tree simply runs without a lint cache.
            self.path = None
