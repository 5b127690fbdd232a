"""What the language server knows: the open buffers, and the last check of each project.

Checking goes through :func:`capic.lint.engine.check_paths`, as ``capic check`` does, with the
open buffers as an overlay over the files on disk: the same configuration, the same
suppressions, the same findings. A file inside a project is checked with its whole project
(its findings and those of every other file of the project are published); a file outside
any project is checked alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from capic.lint.engine import CheckResult, Finding, check_paths
from capic.model.project import find_project_root

if TYPE_CHECKING:
    from capic.model import ir
    from capic.model.project import LoadResult


@dataclass
class Checked:
    """The last check of one project (or loose file)."""

    key: Path
    result: CheckResult
    #: Version of every open buffer the check saw.
    versions: dict[Path, int]
    #: Findings per absolute file path.
    by_file: dict[Path, list[Finding]] = field(default_factory=dict)

    @property
    def load(self) -> LoadResult | None:
        return self.result.results[0] if self.result.results else None

    @property
    def project(self) -> ir.Project | None:
        load = self.load
        return load.project if load is not None else None

    def files(self) -> list[Path]:
        """Every file of the project (absolute)."""
        load = self.load
        if load is None:
            return []
        return [(load.root / rel).resolve() for rel in load.files]


@dataclass
class Buffer:
    text: str
    version: int


class State:
    """Open buffers and checks; thread-safe (checks run off the event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.buffers: dict[Path, Buffer] = {}
        self.checked: dict[Path, Checked] = {}
        #: The last check that could build the rule model: what hover, completion and go to
        #: definition use while the buffer has a syntax error.
        self.modelled: dict[Path, Checked] = {}

    # ------------------------------------------------------------------ buffers
    def open(self, path: Path, text: str, version: int) -> None:
        with self._lock:
            self.buffers[path] = Buffer(text, version)

    def change(self, path: Path, text: str, version: int) -> None:
        self.open(path, text, version)

    def close(self, path: Path) -> None:
        with self._lock:
            self.buffers.pop(path, None)

    def text(self, path: Path) -> str | None:
        """The buffer's text, else the file's (None when it cannot be read)."""
        with self._lock:
            buffer = self.buffers.get(path)
        if buffer is not None:
            return buffer.text
        try:
            return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            return None

    # ------------------------------------------------------------------ checking
    @staticmethod
    def key(path: Path) -> Path:
        """What to check for a file: its project's root, or the file itself."""
        return find_project_root(path.parent) or path

    def check(self, path: Path) -> Checked:
        """Check the project of ``path`` with the buffers as they are now."""
        key = self.key(path)
        with self._lock:
            overlay = {p: b.text for p, b in self.buffers.items()}
            versions = {p: b.version for p, b in self.buffers.items()}
        # Informational notes are shown (as "information") when the project asks for them,
        # as in capic check.
        # jobs=1: no worker processes forked from a threaded server holding the client's pipes.
        result = check_paths([key], overlay=overlay, use_cache=True, jobs=1)
        checked = Checked(key, result, versions)
        for finding in [*result.findings]:
            span = finding.diagnostic.span
            if span is None or finding.result is None:
                continue
            absolute = (finding.result.root / span.file).resolve()
            checked.by_file.setdefault(absolute, []).append(finding)
        with self._lock:
            self.checked[key] = checked
            if checked.project is not None:
                self.modelled[key] = checked
        return checked

    def last(self, path: Path) -> Checked | None:
        with self._lock:
            return self.checked.get(self.key(path))

    def project(self, path: Path) -> tuple[ir.Project, str] | None:
        """The last rule model that holds ``path``, and the file's project-relative path."""
        with self._lock:
            checked = self.modelled.get(self.key(path))
        if checked is None or checked.project is None or checked.load is None:
            return None
        root = checked.load.root
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            return None
        return checked.project, rel

    def findings(self, path: Path) -> Iterable[Finding]:
        checked = self.last(path)
        return checked.by_file.get(path, []) if checked is not None else []
