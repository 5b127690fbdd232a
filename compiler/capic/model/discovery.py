"""Finding projects: which ``capic.toml`` each given path belongs to, and its ``*.capi`` files.

A project is a directory with a ``capic.toml`` and any number of ``*.capi`` files below it.
Loose files outside a project form one ad-hoc project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from capic.codes import code
from capic.diagnostics import Diagnostic

#: The cache folder under a project root (parse, lint and result caches), for every cache.
CACHE_DIR = ".capic_cache"

__all__ = [
    "CACHE_DIR",
    "CONFIG_NAME",
    "STDIN_NAME",
    "Overlay",
    "ProjectSpec",
    "discover",
    "find_project_root",
]

CONFIG_NAME = "capic.toml"


@dataclass(frozen=True)
class ProjectSpec:
    root: Path
    config_path: Path | None
    files: list[Path]
    focus: set[Path] | None


def find_project_root(start: Path) -> Path | None:
    for parent in [start, *start.parents]:
        if (parent / CONFIG_NAME).is_file():
            return parent
    return None


def _capi_files(root: Path) -> list[Path]:
    # .gitignore and the exclude settings decide (capic.files).
    from capic.files import capi_files

    return capi_files(root)


#: Texts to use instead of the files on disk (absolute paths): unsaved editor buffers, stdin,
#: and the rounds of ``capic check --fix``. A path here need not exist on disk.
Overlay = Mapping[Path, str]
#: The name of standard input when it has no --stdin-filename (a file of no project).
STDIN_NAME = "-"


def discover(
    paths: Sequence[str | Path], overlay: Overlay | None = None
) -> tuple[list[ProjectSpec], list[Diagnostic]]:
    """Group the given paths into projects."""
    overlay = overlay or {}
    problems: list[Diagnostic] = []
    by_root: dict[Path, ProjectSpec] = {}
    loose: list[Path] = []
    for raw in paths:
        p = Path(raw).resolve()
        if p.name == STDIN_NAME and p in overlay:
            loose.append(p)
            continue
        if p.is_dir():
            root = p if (p / CONFIG_NAME).is_file() else find_project_root(p)
            if root is None:
                files = _capi_files(p)
                if not files:
                    problems.append(
                        code("C002").diagnostic(
                            f"{raw}: no capic.toml and no .capi files here",
                            None,
                            "pass a project directory",
                        )
                    )
                loose.extend(files)
                continue
            spec = by_root.get(root)
            if spec is None or spec.focus is not None:
                by_root[root] = ProjectSpec(root, root / CONFIG_NAME, _capi_files(root), None)
        elif p.is_file() or p.suffix == ".capi" or p in overlay:
            if not p.is_file() and p not in overlay:
                problems.append(
                    code("C002").diagnostic(f"{raw}: no such file", None, "check the path")
                )
                continue
            root = find_project_root(p.parent)
            if root is None:
                loose.append(p)
                continue
            spec = by_root.get(root)
            if spec is None:
                spec = by_root[root] = ProjectSpec(root, root / CONFIG_NAME, _capi_files(root), {p})
            elif spec.focus is not None:
                spec.focus.add(p)
            if p not in spec.files:
                # Named on the command line: checked even when excluded or git-ignored.
                spec.files.append(p)
                spec.files.sort()
        else:
            problems.append(
                code("C002").diagnostic(f"{raw}: no such file or directory", None, "check the path")
            )
    specs = [by_root[r] for r in sorted(by_root)]
    for spec in specs:
        # Unsaved editor buffers of new files belong to the project they are in.
        new = [q for q in overlay if q.suffix == ".capi" and q.is_relative_to(spec.root)]
        new = [q for q in new if q not in spec.files and not q.exists()]
        if new:
            spec.files.extend(new)
            spec.files.sort()
    if loose:
        loose = sorted(set(loose))
        common = Path(os.path.commonpath([str(f.parent) for f in loose]))
        specs.append(ProjectSpec(common, None, loose, None))
    return specs, problems
