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
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capic import DSL_VERSION, RUNTIME_API_VERSION, __version__
from capic.bundle.archive import ArchiveError, pack, source_date_epoch
from capic.bundle.manifest import (
    BUNDLE_FORMAT_VERSION,
    MANIFEST_NAME,
    MODEL_NAME,
    MODULE_NAME,
    SIGNATURE_NAME,
    SOURCES_DIR,
    Manifest,
    ManifestError,
    canonical_json,
    sha256_hex,
)
from capic.bundle.model import rules_summary, send_test_event_codes
from capic.bundle.verify import PRODUCTION_ENVIRONMENTS
from capic.diagnostics import Diagnostic, Severity
from capic.syntax.redact import SECRET_SETTINGS
from capic.syntax.redact import find as find_inline_secrets

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from capic.lint.engine import CheckResult
    from capic.model.ir import Project
    from capic.model.project import LoadResult

__all__ = ["BuildError", "BuildResult", "build_bundle", "bundle_file_name", "content_revision"]

#: Pixel settings whose referenced values are secrets (scanned for in the bundle bytes).
_SECRET_SETTINGS = SECRET_SETTINGS
#: Shorter values are too likely to occur by chance to be searched for.
_MIN_SCANNED_SECRET = 8


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


def bundle_file_name(project: str, environment: str, revision: str) -> str:
    short = re.sub(r"[^A-Za-z0-9._-]", "_", revision[:12]).lstrip(".") or "rev"
    return f"{project}-{environment}-{short}.tar.gz"


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


# ----------------------------------------------------------------------------- settings


def _ref_json(value: Any) -> dict[str, str] | None:
    """``{"kind", "name"}`` of an IR or runtime secret reference; None for anything else."""
    kind, name = getattr(value, "kind", None), getattr(value, "name", None)
    if kind in {"env", "secret"} and isinstance(name, str):
        return {"kind": str(kind), "name": name}
    return None


def _setting_json(value: Any, what: str) -> Any:
    """A resolved setting as the manifest writes it: a string, a ref, a bool or null."""
    if value is None or isinstance(value, str | bool):
        return value
    ref = _ref_json(value)
    if ref is not None:
        return ref
    const = getattr(value, "value", NotImplemented)
    if const is None or isinstance(const, str | bool):
        return const
    raise BuildError(f"{what}: cannot be written to a bundle ({type(value).__name__})", exit_code=2)


def _manifest_pixels(project: Project, environment: str) -> list[dict[str, Any]]:
    from capic.codegen.environment import EnvironmentConfigError, resolve_environment

    try:
        resolved = resolve_environment(project, environment)
    except EnvironmentConfigError as exc:
        raise BuildError(f"environment {environment!r}: {exc}") from None
    out = []
    for name in sorted(resolved.pixels):
        pixel = resolved.pixels[name]
        where = f"pixel `{name}` in environment `{environment}`"
        token = _ref_json(pixel.token)
        if token is None:
            raise BuildError(
                f"{where}: the access token is not a reference; bundles carry only "
                'env("VAR") or secret("NAME") references, never token values'
            )
        out.append(
            {
                "name": name,
                "id": _setting_json(pixel.id, f"{where}: id"),
                "token_ref": token,
                "browser_pixel": pixel.browser_pixel,
                "api_version": pixel.api_version,
                "test_event_code": _setting_json(
                    pixel.test_event_code, f"{where}: test_event_code"
                ),
            }
        )
    return out


def _secret_env_vars(project: Project) -> set[str]:
    """Environment variables that hold tokens or app secrets of the project's pixels."""
    from capic.model import ir

    fields: list[Mapping[str, ir.Field]] = [p.fields for p in project.pixels.values()]
    for env in project.environments.values():
        fields.extend(o.fields for o in env.pixels.values())
    names = set()
    for settings in fields:
        for key in _SECRET_SETTINGS:
            f = settings.get(key)
            if f is not None and isinstance(f.value, ir.SecretRef) and f.value.kind == "env":
                names.add(f.value.name)
    return names


def _scan_for_secrets(
    files: Mapping[str, bytes], names: set[str], environ: Mapping[str, str]
) -> None:
    for name in sorted(names):
        value = environ.get(name, "")
        if len(value) < _MIN_SCANNED_SECRET:
            continue
        needle = value.encode("utf-8")
        for path in sorted(files):
            if needle in files[path]:
                raise BuildError(
                    f"{path}: contains the value of the environment variable {name} (a token); "
                    "bundles carry references, never token values: remove it from the sources",
                    exit_code=1,
                )


# ----------------------------------------------------------------------------- inputs


def _sources(load: LoadResult, project: Project) -> dict[str, bytes]:
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


def _without_tests(project: Project, sources: dict[str, bytes]) -> dict[str, bytes]:
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


def _parse_metadata(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BuildError(f"--metadata {pair!r}: expected KEY=VALUE", exit_code=2)
        out[key.strip()] = value
    return out


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
        else _parse_metadata([metadata] if isinstance(metadata, str) else list(metadata or ()))
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

    pixels = _manifest_pixels(project, environment)
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
    sources = _sources(load, project)
    shipped = _without_tests(project, sources)
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
    _scan_for_secrets(files, _secret_env_vars(project), env_vars)

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
