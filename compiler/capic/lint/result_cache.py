"""The result of a whole ``capic check`` run, cached: the same files, configuration, options
and capic give the same findings, so a run that finds its key reads them instead of parsing,
resolving and linting (a pre-commit hook run again, a CI job with ``.capic_cache`` restored).

The key covers everything a result depends on: capic's code and data files (by path, size and
modification time), the version, every checked file's content (sha256), the project's
``capic.toml``, the lint configuration file that applies, the files asked for, the
command-line options and the day (for the Graph API version checks). Entries live in ``<project root>/.capic_cache/results/``; only the most
recent few are kept. Runs on texts that are not files (stdin, editor buffers, fix rounds) and
files outside any project are never cached.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from capic.diagnostics import Diagnostic, Fix, Related, Severity, Span
from capic.model.discovery import CACHE_DIR  # one home: the project's cache folder
from capic.model.parsing import code_fingerprint

if TYPE_CHECKING:
    from capic.lint.engine import CheckResult
    from capic.model.project import ProjectSpec

RESULTS = "results"
#: Entries kept per project (one per combination of files asked for and options).
KEEP = 16
_FORMAT = 2


@dataclass
class CachedOrigin:
    """A project whose findings came from the cache: its root, and no rule model."""

    root: Path
    project: None = None
    _shown: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def display_path(self, rel: str) -> str:
        key = (rel, os.getcwd())
        shown = self._shown.get(key)
        if shown is None:
            absolute = Path(os.path.normpath(self.root / rel))
            try:
                shown = absolute.relative_to(Path.cwd()).as_posix()
            except ValueError:
                shown = str(absolute)
            self._shown[key] = shown
        return shown


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def key(specs: Sequence[ProjectSpec], problems: Sequence[Diagnostic], options: Any) -> str:
    """The key of a run over ``specs`` (the discovered projects) with ``options``."""
    from capic.lint.config import find_config
    from capic.meta.versions import today

    h = hashlib.sha256(f"capic-results-{_FORMAT}\0{code_fingerprint()}\0".encode())
    h.update(orjson.dumps(options, option=orjson.OPT_SORT_KEYS))
    # The Graph API version checks (M030-M033) compare with the day (--today, the clock).
    h.update(f"\0today\0{today().isoformat()}".encode())
    h.update(orjson.dumps([d.to_json() for d in problems]))
    for spec in specs:
        h.update(_encoded(f"\0root\0{spec.root}\0"))
        config = spec.config_path
        h.update(_file_digest(config).encode() if config is not None else b"-")
        source = find_config(spec.root)
        if source is not None:
            h.update(_encoded(f"\0lint\0{source.path}\0{_file_digest(source.path)}"))
        for path in spec.files:
            h.update(_encoded(f"\0{path}\0{_file_digest(path)}"))
        if spec.focus is not None:
            h.update(_encoded(f"\0focus\0{sorted(map(str, spec.focus))}"))
    return h.hexdigest()


def _encoded(text: str) -> bytes:
    """A text with paths in it as bytes: a file name that is not UTF-8 is the bytes it was."""
    return text.encode("utf-8", "surrogateescape")


def _directory(specs: Sequence[ProjectSpec]) -> Path:
    return specs[0].root / CACHE_DIR / RESULTS


def cacheable(specs: Sequence[ProjectSpec]) -> bool:
    return bool(specs) and all(s.config_path is not None for s in specs)


def read(specs: Sequence[ProjectSpec], run_key: str) -> CheckResult | None:
    from capic.lint.engine import CheckResult, Finding

    try:
        data = orjson.loads((_directory(specs) / run_key).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    origins = [CachedOrigin(Path(root)) for root in data["roots"]]

    def findings(items: Iterable[Any]) -> list[Finding]:
        return [Finding(_diagnostic(d), origins[i] if i is not None else None) for i, d in items]

    return CheckResult(
        findings(data["shown"]),
        [],
        Severity(data["fail_level"]),
        data["exit_code"],
        hidden=findings(data["hidden"]),
    )


def write(specs: Sequence[ProjectSpec], run_key: str, result: CheckResult) -> None:
    """Store a result (silently not, where the tree is read-only)."""
    roots = [str(s.root) for s in specs]
    index = {root: i for i, root in enumerate(roots)}

    def items(findings: Iterable[Any]) -> list[Any]:
        return [
            [index.get(str(f.root)) if f.root is not None else None, f.diagnostic.to_json()]
            for f in findings
        ]

    payload = {
        "format": _FORMAT,
        "roots": roots,
        "fail_level": int(result.fail_level),
        "exit_code": result.exit_code,
        "shown": items(result.findings),
        "hidden": items(result.hidden),
    }
    directory = _directory(specs)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# created by capic: caches, safe to delete\n*\n")
        tmp = directory / f".{run_key}.{os.getpid()}.tmp"
        tmp.write_bytes(orjson.dumps(payload))
        os.replace(tmp, directory / run_key)
        _prune(directory)
    except OSError:
        return


def _prune(directory: Path) -> None:
    entries = sorted(
        (p for p in directory.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime_ns,
        reverse=True,
    )
    for stale in entries[KEEP:]:
        stale.unlink(missing_ok=True)


def _diagnostic(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        data["code"],
        data["name"],
        Severity[data["severity"].upper()],
        data["message"],
        Span.from_json(data["span"]) if data["span"] else None,
        data["help"],
        data["data"],
        tuple(Related(Span.from_json(r["span"]), r["message"]) for r in data.get("related", [])),
        Fix.from_json(data["fix"]) if data.get("fix") else None,
    )
