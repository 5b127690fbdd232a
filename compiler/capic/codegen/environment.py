"""Environment resolution: the effective settings of every pixel in one environment.

Shared by the code generator and the bundler. Precedence of each pixel setting, highest
first:

- ``id``, ``access_token``, ``api_version``, ``browser_pixel``, ``app_secret``: the pixel's
  override in the environment (``environment E { pixel P { ... } }``), then the pixel
  declaration, then (``api_version`` only) the project's ``api_version`` in capic.toml;
- the consent gate (``consent { ... }``): the environment's override of the pixel, then the
  environment's own gate, then the pixel's (:func:`consent_gate`);
- ``test_event_code``: a ``test_event_code`` written in the ``send`` itself (applied at run
  time, see :class:`capic.runtime.Emitted`), then the pixel override in the environment, then
  the environment block, then the pixel declaration. Writing ``null`` at a level clears it.

Values are constants or secret references (``env("X")``/``secret("x")``), resolved at run
time. A literal access token is kept as a ``literal`` reference here; the code generator and
the bundler never write its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capic.model import ir
from capic.model.ir import consent_gate
from capic.runtime.secrets import SecretRef

__all__ = [
    "EnvironmentConfigError",
    "ResolvedEnvironment",
    "ResolvedPixel",
    "consent_gate",
    "resolve_environment",
]

Setting = str | SecretRef


class EnvironmentConfigError(ValueError):
    """The environment cannot be resolved (unknown name, a setting of the wrong kind)."""


@dataclass(frozen=True, slots=True)
class ResolvedPixel:
    name: str
    id: Setting
    token: SecretRef
    api_version: str
    test_event_code: Setting | None
    browser_pixel: bool
    app_secret: SecretRef | None = None

    def to_json(self, *, redact: bool = True) -> dict[str, Any]:
        """JSON form; literal secrets are withheld unless ``redact=False``."""

        def setting(value: Setting | None) -> Any:
            if isinstance(value, SecretRef):
                return value.to_json(redact=redact)
            return value

        out: dict[str, Any] = {
            "id": setting(self.id),
            "token": self.token.to_json(redact=redact),
            "api_version": self.api_version,
            "test_event_code": setting(self.test_event_code),
            "browser_pixel": self.browser_pixel,
        }
        if self.app_secret is not None:
            out["app_secret"] = self.app_secret.to_json(redact=redact)
        return out


@dataclass(frozen=True, slots=True)
class ResolvedEnvironment:
    #: The environment's name; None when the project was compiled without one.
    name: str | None
    pixels: Mapping[str, ResolvedPixel]
    default_country: str | None
    dob_order: str
    #: The consent gate in force for each pixel that has one (see :func:`consent_gate`).
    consent: Mapping[str, ir.Consent] = field(default_factory=dict)


def _value(field: ir.Field | None, what: str) -> Setting | None:
    if field is None:
        return None
    value = field.value
    if isinstance(value, ir.SecretRef):
        return SecretRef(value.kind, value.name)  # type: ignore[arg-type]
    if isinstance(value, ir.Const) and (value.value is None or isinstance(value.value, str)):
        return value.value
    raise EnvironmentConfigError(f'{what} must be a string, env("VAR") or secret("NAME")')


def _pick(key: str, *layers: Mapping[str, ir.Field] | None) -> tuple[bool, ir.Field | None]:
    for layer in layers:
        if layer is not None and key in layer:
            return True, layer[key]
    return False, None


def resolve_environment(project: ir.Project, env_name: str | None) -> ResolvedEnvironment:
    """Effective pixel settings of ``env_name`` (None: the project's default environment, or
    no environment at all when the project names none)."""
    name = env_name if env_name is not None else project.config.default_environment
    env: ir.Environment | None = None
    if name is not None:
        env = project.environments.get(name)
        if env is None:
            known = ", ".join(sorted(project.environments)) or "none declared"
            raise EnvironmentConfigError(f"unknown environment {name!r} (environments: {known})")
    pixels: dict[str, ResolvedPixel] = {}
    for pname in sorted(project.pixels):
        pixel = project.pixels[pname]
        override = env.pixels.get(pname) if env is not None else None
        over = override.fields if override is not None else None
        where = f"pixel `{pname}`"

        _, id_field = _pick("id", over, pixel.fields)
        pid = _value(id_field, f"the id of {where}")
        if pid is None or pid == "":
            raise EnvironmentConfigError(f"{where} has no id")
        if isinstance(pid, str):
            pid = pid.strip()

        _, token_field = _pick("access_token", over, pixel.fields)
        token_value = _value(token_field, f"the access_token of {where}")
        if token_value is None or token_value == "":
            raise EnvironmentConfigError(f"{where} has no access_token")
        token = (
            token_value if isinstance(token_value, SecretRef) else SecretRef.literal(token_value)
        )

        _, version_field = _pick("api_version", over, pixel.fields)
        version = _value(version_field, f"the api_version of {where}")
        if not isinstance(version, str) or not version:
            version = project.config.api_version

        _, bp_field = _pick("browser_pixel", over, pixel.fields)
        browser = bool(
            bp_field is not None
            and isinstance(bp_field.value, ir.Const)
            and bp_field.value.value is True
        )

        _, secret_field = _pick("app_secret", over, pixel.fields)
        app_secret_value = _value(secret_field, f"the app_secret of {where}")
        app_secret: SecretRef | None
        if app_secret_value is None or app_secret_value == "":
            app_secret = None
        elif isinstance(app_secret_value, SecretRef):
            app_secret = app_secret_value
        else:
            app_secret = SecretRef.literal(app_secret_value)

        env_fields = env.fields if env is not None else None
        _, tec_field = _pick("test_event_code", over, env_fields, pixel.fields)
        tec = _value(tec_field, f"the test_event_code of {where}")
        if tec == "":
            tec = None

        pixels[pname] = ResolvedPixel(
            name=pname,
            id=pid,
            token=token,
            api_version=version,
            test_event_code=tec,
            browser_pixel=browser,
            app_secret=app_secret,
        )
    gates = {p: g for p in sorted(project.pixels) if (g := consent_gate(project, env, p))}
    return ResolvedEnvironment(
        name=name,
        pixels=pixels,
        default_country=project.config.default_country,
        dob_order=project.config.dob_order,
        consent=gates,
    )
