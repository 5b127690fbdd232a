"""What ``capic build`` gives: the bundle it wrote (:class:`BuildResult`) or why it wrote none
(:class:`BuildError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from capic.bundle.manifest import Manifest
from capic.diagnostics import Diagnostic

if TYPE_CHECKING:
    from capic.lint.engine import CheckResult
    from capic.model.project import LoadResult

__all__ = ["BuildError", "BuildResult"]


class BuildError(Exception):
    """The bundle was not built. ``exit_code`` 1: the project is not fit to ship (diagnostics
    say why); 2: usage or environment problems."""

    def __init__(
        self,
        message: str,
        *,
        diagnostics: Sequence[Diagnostic] = (),
        load: LoadResult | None = None,
        check: CheckResult | None = None,
        exit_code: int = 1,
    ) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.load = load
        #: The lint result when ``capic check`` refused the build (render it like check does).
        self.check = check
        self.exit_code = exit_code


@dataclass(frozen=True)
class BuildResult:
    path: Path
    manifest: Manifest
    #: Findings below the failure threshold (warnings), for the CLI to mention.
    diagnostics: tuple[Diagnostic, ...] = ()
