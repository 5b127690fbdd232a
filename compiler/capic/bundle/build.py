"""``capic build``: one reproducible, verifiable bundle per project and environment.

Steps: lint the project for the environment (refuse on errors), resolve the environment
(pixel overrides, test event codes), refuse what must never ship (a production bundle with a
test event code, a token that is not a reference), compile the rule module, and pack::

    manifest.json     what the bundle is (schema: schemas/bundle_manifest.schema.json)
    model.json        the rule model (IR) as canonical JSON, without the tests
    rules.py          the generated rule module
    sources/...       capic.toml and the .capi files, as they were but for test blocks
    signature.json    optional: Ed25519 over the canonical manifest (--sign-key)

Reproducible: the same inputs give the same bytes (see :mod:`capic.bundle.archive`); nothing
depends on the clock unless ``SOURCE_DATE_EPOCH`` is set, or on the build directory.
The revision is the SHA-256 of the inputs (project, environment, capic and DSL versions, the
path and SHA-256 of every source) unless one is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic import DSL_VERSION, RUNTIME_API_VERSION, __version__
from capic.bundle.archive import ArchiveError, pack, source_date_epoch
from capic.bundle.build_inputs import (
    content_revision,
    git_commit,
    parse_metadata,
    read_sources,
    without_tests,
)
from capic.bundle.build_outcome import BuildError, BuildResult
from capic.bundle.build_secrets import manifest_pixels, scan_for_secrets, secret_env_vars
from capic.bundle.manifest import (
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    MODEL_NAME,
    MODULE_NAME,
    SIGNATURE_NAME,
    Manifest,
    ManifestError,
    canonical_json,
    sha256_hex,
)
from capic.bundle.model import rules_summary, send_test_event_codes
from capic.bundle.verify import PRODUCTION_ENVIRONMENTS
from capic.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from capic.model.project import LoadResult

__all__ = [
    "BuildError",
    "BuildResult",
    "build_bundle",
    "bundle_file_name",
    "content_revision",
    "git_commit",
]


def bundle_file_name(project: str, environment: str, revision: str) -> str:
    short = re.sub(r"[^A-Za-z0-9._-]", "_", revision[:12]).lstrip(".") or "rev"
    return f"{project}-{environment}-{short}.tar.gz"


def _lint(project_path: Path, environment: str, load: LoadResult) -> list[Diagnostic]:
    """``capic check --env ENVIRONMENT``; raises :class:`BuildError` when it fails."""
    from capic.api import check

    try:
        result = check([project_path], env=environment)
    except ValueError as exc:  # ConfigError: a selection or setting check cannot honour
        raise BuildError(f"capic check: {exc}", load=load, exit_code=2) from None
    diagnostics = list(result.diagnostics)
    if result.exit_code != 0 or any(d.severity >= Severity.ERROR for d in diagnostics):
        raise BuildError(
            f"capic check reports errors for environment {environment!r}; not building",
            diagnostics=diagnostics,
            load=load,
            check=result,
            exit_code=2 if result.exit_code == 2 else 1,
        )
    return diagnostics


def _iter_errors(diagnostics: Sequence[Diagnostic]) -> Iterator[Diagnostic]:
    return (d for d in diagnostics if d.severity >= Severity.ERROR)


# ----------------------------------------------------------------------------- build


def build_bundle(
    project_path: str | Path,
    environment: str,
    output_dir: str | Path,
    *,
    revision: str | None = None,
    sign_key: Ed25519PrivateKey | str | Path | None = None,
    metadata: Mapping[str, str] | Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BuildResult:
    """Build the bundle of ``project_path`` for ``environment`` into ``output_dir``.

    ``metadata`` is a mapping or ``KEY=VALUE`` strings; ``environ`` (default ``os.environ``)
    supplies ``SOURCE_DATE_EPOCH`` and the values the secret scan looks for.
    Raises :class:`BuildError` when the bundle must not or cannot be built.
    """
    env_vars = os.environ if environ is None else environ
    try:
        epoch = source_date_epoch(env_vars)
    except ArchiveError as exc:
        raise BuildError(str(exc), exit_code=2) from None
    if revision is not None and (not revision.strip() or re.search(r"[\x00-\x1f]", revision)):
        raise BuildError("--revision must be a non-empty single-line string", exit_code=2)
    extra = (
        dict(metadata)
        if isinstance(metadata, Mapping)
        else parse_metadata([metadata] if isinstance(metadata, str) else list(metadata or ()))
    )
    private_key = _private_key(sign_key)

    from capic.api import load_project

    path = Path(project_path)
    try:
        load = load_project(path)
    except ValueError as exc:
        raise BuildError(f"{project_path}: {exc}", exit_code=2) from None
    project = load.project
    if project is not None and environment not in project.environments:
        declared = ", ".join(sorted(project.environments)) or "none"
        raise BuildError(
            f"unknown environment {environment!r} (declared: {declared})", load=load, exit_code=2
        )
    diagnostics = _lint(path, environment, load)
    if project is None or not load.ok:
        raise BuildError(
            f"{project_path}: the project has errors; not building",
            diagnostics=list(_iter_errors(load.diagnostics)),
            load=load,
        )

    pixels = manifest_pixels(project, environment)
    model = project.to_json()
    model["root"] = "."  # where the project was built is not part of its content
    model["tests"] = []  # test fixtures (sample customer data) never ship
    if environment in PRODUCTION_ENVIRONMENTS:
        offending = [f"pixel `{p['name']}`" for p in pixels if p["test_event_code"] is not None] + [
            f"rule {send}" for send in send_test_event_codes(model)
        ]
        if offending:
            raise BuildError(
                f"environment {environment!r} would send a test event code "
                f"({', '.join(offending)}); production bundles never carry one",
                load=load,
            )

    from capic.api import compile_project

    try:
        module = compile_project(project, environment).encode("utf-8")
    except ValueError as exc:  # CodegenError: the project cannot be compiled
        raise BuildError(f"cannot compile for {environment!r}: {exc}", load=load) from None
    sources = read_sources(load, project)
    shipped = without_tests(project, sources)
    files: dict[str, bytes] = {MODEL_NAME: canonical_json(model), MODULE_NAME: module, **shipped}

    revision = revision or content_revision(project.name, environment, sources)
    meta: dict[str, Any] = {}
    commit = git_commit(Path(project.root))
    if commit is not None:
        meta["git_commit"] = commit
    meta.update(extra)
    data: dict[str, Any] = {
        "bundle_format_version": BUNDLE_FORMAT_VERSION,
        "project": project.name,
        "environment": environment,
        "revision": revision,
        "capic_version": __version__,
        "dsl_version": DSL_VERSION,
        "runtime_api_version": RUNTIME_API_VERSION,
        "pixels": pixels,
        "rules": rules_summary(model),
        "files": {p: {"sha256": sha256_hex(b), "size": len(b)} for p, b in sorted(files.items())},
        "metadata": meta,
    }
    if epoch is not None:
        data["created"] = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        manifest = Manifest.from_data(data)
    except ManifestError as exc:
        raise BuildError(
            "the manifest does not match its schema: " + "; ".join(exc.problems), exit_code=2
        ) from None
    files[MANIFEST_NAME] = manifest.to_bytes()
    if private_key is not None:
        from capic.bundle.sign import sign_manifest

        files[SIGNATURE_NAME] = sign_manifest(files[MANIFEST_NAME], private_key)
    scan_for_secrets(files, secret_env_vars(project), env_vars)

    archive = pack(files, mtime=epoch or 0)
    out_dir = Path(output_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / bundle_file_name(project.name, environment, revision)
        tmp = out_dir / f".{target.name}.{os.getpid()}.tmp"
        try:
            tmp.write_bytes(archive)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise BuildError(f"{output_dir}: cannot write the bundle: {exc}", exit_code=2) from None
    warnings = tuple(d for d in diagnostics if d.severity < Severity.ERROR)
    return BuildResult(target, manifest, warnings)


def _private_key(key: Ed25519PrivateKey | str | Path | None) -> Ed25519PrivateKey | None:
    if key is None or not isinstance(key, str | Path):
        return key
    from capic.bundle.sign import SignatureError, load_private_key

    try:
        return load_private_key(key)
    except SignatureError as exc:
        raise BuildError(str(exc), exit_code=2) from None
