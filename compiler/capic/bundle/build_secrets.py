"""What keeps secret values out of a bundle: pixel settings written to the manifest as
references only (``env("VAR")``, ``secret("NAME")``), and a scan of every bundled file for the
values of the environment variables that hold the project's tokens and app secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from capic.bundle.build_outcome import BuildError
from capic.syntax.redact import SECRET_SETTINGS

if TYPE_CHECKING:
    from capic.model.ir import Project

__all__ = ["manifest_pixels", "scan_for_secrets", "secret_env_vars"]

#: Pixel settings whose referenced values are secrets (scanned for in the bundle bytes).
_SECRET_SETTINGS = SECRET_SETTINGS
#: Shorter values are too likely to occur by chance to be searched for.
_MIN_SCANNED_SECRET = 8


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


def manifest_pixels(project: Project, environment: str) -> list[dict[str, Any]]:
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


def secret_env_vars(project: Project) -> set[str]:
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


def scan_for_secrets(
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
