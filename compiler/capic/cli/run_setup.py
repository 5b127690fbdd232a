"""Where ``capic run`` gets its rules: a PROJECT compiled in memory (with its literal secrets
handed over in memory) or a verified bundle, and the default outbox path. Usage problems are
raised as :class:`RunUsage` (one line, exit status 2), which :mod:`capic.cli.run` prints."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

import click

from capic.cli.options import bundle_trust
from capic.runtime.run_config import OUTBOX_DIR  # one home: the runner's outbox folder

if TYPE_CHECKING:
    from capic.runtime.secrets import SecretRef

__all__ = ["OUTBOX_DIR", "RunUsage", "compile_project", "default_outbox", "fail", "load_bundle"]


class RunUsage(Exception):
    """A usage or configuration problem: one line, exit status 2."""


def fail(message: str) -> NoReturn:
    raise RunUsage(message)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "capic"


def default_outbox(root: Path, project: str, environment: str | None) -> Path:
    """``<root>/.capic_outbox/<project>-<environment>.sqlite``."""
    return (
        root / OUTBOX_DIR / f"{_safe_name(project)}-{_safe_name(environment or 'default')}.sqlite"
    )


def compile_project(
    path: str, env_name: str | None
) -> tuple[ModuleType, Path, str, str | None, dict[str, dict[str, SecretRef]], str | None]:
    """(module, root, project name, environment, inline secrets by pixel, secrets_dir)."""
    from capic.api import load_project
    from capic.codegen import CodegenError, generate, resolve_environment
    from capic.diagnostics import Severity
    from capic.runtime.loader import load_module

    try:
        result = load_project(path, use_cache=False)
    except ValueError as exc:
        fail(str(exc))
    errors = [d for d in result.diagnostics if d.severity >= Severity.ERROR]
    for d in errors:
        shown = result.display_path(d.span.file) if d.span else None
        click.echo(d.one_line(shown), err=True)
    if result.project is None or errors:
        fail(f"the project has {len(errors)} error(s); fix them first (capic check)")
    project = result.project
    try:
        source = generate(project, env_name)
        resolved = resolve_environment(project, env_name)
    except (CodegenError, ValueError) as exc:
        fail(str(exc))
    module = load_module(source, name=f"capic_run_{_safe_name(project.name)}")
    # Literal secrets are never written into compiled modules: hand them over in memory.
    tokens: dict[str, dict[str, SecretRef]] = {}
    for name, pixel in resolved.pixels.items():
        for key, ref in (("token", pixel.token), ("app_secret", pixel.app_secret)):
            if ref is not None and ref.kind == "literal":
                tokens.setdefault(name, {})[key] = ref
    return (
        module,
        Path(project.root),
        project.name,
        resolved.name,
        tokens,
        project.config.secrets_dir,
    )


def load_bundle(path: str, env_name: str | None) -> tuple[ModuleType, str, str]:
    from capic.bundle import load as bundle_load

    try:
        bundle = bundle_trust().load(path)  # --key / --require-signature (cli.options)
    except bundle_load.BundleError as exc:
        fail(f"{path}: {exc.describe()}")
    environment = bundle.manifest.environment
    if env_name is not None and env_name != environment:
        fail(f"{path} was built for environment {environment!r}, not {env_name!r}")
    return bundle.module, bundle.manifest.project, environment
