"""The inputs of a build: the project's sources as they ship (read whole, checked against the
loaded project and for inline secrets, test blocks blanked), the revision they give, the git
commit they come from and the ``--metadata`` pairs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic import DSL_VERSION, __version__
from capic.bundle.build_outcome import BuildError
from capic.bundle.manifest import SOURCES_DIR, canonical_json, sha256_hex
from capic.syntax.redact import find as find_inline_secrets

if TYPE_CHECKING:
    from capic.model.ir import Project
    from capic.model.project import LoadResult

__all__ = ["content_revision", "git_commit", "parse_metadata", "read_sources", "without_tests"]


def content_revision(project: str, environment: str, sources: Mapping[str, bytes]) -> str:
    """SHA-256 (hex) of the canonical description of a build's inputs."""
    return sha256_hex(
        canonical_json(
            {
                "project": project,
                "environment": environment,
                "capic_version": __version__,
                "dsl_version": DSL_VERSION,
                "sources": {path: sha256_hex(data) for path, data in sorted(sources.items())},
            }
        )
    )


def git_commit(directory: Path) -> str | None:
    """``git rev-parse HEAD`` in ``directory``; None outside a repository or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def read_sources(load: LoadResult, project: Project) -> dict[str, bytes]:
    root = Path(project.root)
    paths: list[tuple[str, str | None]] = [(f.path, f.sha256) for f in project.files]
    if project.config.path:
        paths.append((project.config.path, None))
    out: dict[str, bytes] = {}
    for rel, digest in paths:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise BuildError(f"{rel}: outside the project directory {root}", load=load, exit_code=2)
        try:
            data = (root / rel).read_bytes()
        except OSError as exc:
            raise BuildError(
                f"{rel}: cannot read: {exc.strerror}", load=load, exit_code=2
            ) from None
        if digest is not None and sha256_hex(data) != digest:
            raise BuildError(f"{rel}: changed during the build; build again", exit_code=2)
        inline = find_inline_secrets(data.decode("utf-8", "replace"))
        if inline:
            # Even when P003 is ignored: a bundle never carries a token value.
            where = ", ".join(f"{rel}:{s.line}:{s.column} ({s.key})" for s in inline)
            raise BuildError(
                f"a secret is written in the rule files at {where}; bundles carry only "
                'env("VAR") or secret("NAME") references, never token values',
                load=load,
            )
        out[f"{SOURCES_DIR}/{Path(rel).as_posix()}"] = data
    return out


def without_tests(project: Project, sources: dict[str, bytes]) -> dict[str, bytes]:
    """The sources with every test block blanked (and the comment lines right above it): test
    fixtures are sample customer data and never ship. Lines are kept (blank), so the spans in
    model.json still point at the rules."""
    by_file: dict[str, list[Any]] = {}
    for test in project.tests:
        by_file.setdefault(test.file, []).append(test.span)
    out = dict(sources)
    for rel, spans in by_file.items():
        key = f"{SOURCES_DIR}/{Path(rel).as_posix()}"
        if key not in out:
            continue
        lines = out[key].decode("utf-8").split("\n")
        for span in spans:
            first = span.line
            while first > 1 and lines[first - 2].lstrip().startswith("#"):
                first -= 1  # the test's own comment lines
            for n in range(first, span.end_line + 1):
                line = lines[n - 1]
                start = span.column - 1 if n == span.line else 0
                end = span.end_column - 1 if n == span.end_line else len(line)
                if n < span.line:
                    start, end = 0, len(line)
                lines[n - 1] = (line[:start] + " " * (end - start) + line[end:]).rstrip()
        out[key] = "\n".join(lines).encode("utf-8")
    return out


def parse_metadata(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BuildError(f"--metadata {pair!r}: expected KEY=VALUE", exit_code=2)
        out[key.strip()] = value
    return out
