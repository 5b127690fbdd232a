"""The destinations of a rule module: each pixel's id, version, token and app-secret references.

Built from a generated module's ``PIXELS`` (or a bundle's). Pixel ids and test event codes
written as ``env()``/``secret()`` are resolved once, here; tokens and app secrets stay
references until a request is sent. A dry run resolves nothing it cannot: an unset reference
is named (``unresolved``) and stands in as its name, so a dry run never needs a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from capic.runtime.delivery.destination import Destination
from capic.runtime.secrets import SecretError, SecretRef, resolve

__all__ = ["Destinations", "RunConfigError"]


class RunConfigError(Exception):
    """The run cannot start: a pixel id, token or test event code that cannot be resolved."""


class Destinations:
    """The :class:`Destination` of every (pixel, test event code) of a module's rules.

    ``secrets`` replaces secret references by pixel name: ``{"shop": {"token": ref,
    "app_secret": ref}}`` (``capic run`` passes what a project wrote inline, which compiled
    modules never contain). ``dry_run=True`` accepts withheld literals and unset references.
    """

    def __init__(
        self,
        module: ModuleType,
        *,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        secrets: Mapping[str, Mapping[str, SecretRef]] | None = None,
        dry_run: bool = False,
    ) -> None:
        self.secrets_dir = secrets_dir
        self.environ = environ
        self.dry_run = dry_run
        #: Settings a dry run could not resolve: ``(pixel, setting, reference)``.
        self.unresolved: list[tuple[str, str, str]] = []
        pixels: Mapping[str, Mapping[str, Any]] = module.PIXELS
        used = {p for rule in module.RULES for p in rule.get("pixels", ())}
        self._base: dict[str, Destination] = {}
        self._cache: dict[tuple[str, str | None], Destination] = {}
        for name in sorted(used):
            spec = pixels.get(name)
            if spec is None:
                raise RunConfigError(f"pixel `{name}` is used by a rule but not defined")
            self._base[name] = self._build(name, spec, (secrets or {}).get(name, {}))

    def _build(
        self, name: str, spec: Mapping[str, Any], given: Mapping[str, SecretRef]
    ) -> Destination:
        where = f"pixel `{name}`"
        pixel_id = self._setting(spec.get("id"), name, "id")
        if not pixel_id:
            raise RunConfigError(f"{where} has no id")
        refs: dict[str, SecretRef | None] = {}
        for key, what in (("token", "access token"), ("app_secret", "app secret")):
            ref = given.get(key)
            if ref is None and spec.get(key) is not None:
                try:
                    ref = SecretRef.from_json(spec[key])
                except ValueError as exc:
                    raise RunConfigError(f"the {what} of {where}: {exc}") from None
            if ref is not None and ref.is_redacted and not self.dry_run:
                raise RunConfigError(
                    f"the {what} of {where} was written inline in a rule file and is never "
                    f'stored in compiled modules; use {key} = env("VAR")'
                )
            refs[key] = ref
        token = refs["token"]
        if token is None:
            raise RunConfigError(f"{where} has no access token")
        tec = self._setting(spec.get("test_event_code"), name, "test_event_code")
        version = str(spec.get("api_version") or "")
        try:
            return Destination(pixel_id, version, token, tec or None, refs["app_secret"])
        except ValueError as exc:
            raise RunConfigError(f"{where}: {exc}") from None

    def _setting(self, value: Any, pixel: str, key: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        what = f"the {key} of pixel `{pixel}`"
        if not isinstance(value, Mapping):
            raise RunConfigError(f"{what} is neither a string nor a secret reference")
        try:
            ref = SecretRef.from_json(value)
            return resolve(ref, secrets_dir=self.secrets_dir, environ=self.environ).reveal()
        except (SecretError, ValueError) as exc:
            if not self.dry_run:
                raise RunConfigError(f"{what}: {exc}") from None
        # A dry run shows the request anyway, with the reference's name in its place.
        try:
            described = SecretRef.from_json(value).describe()
        except ValueError:
            described = "an unreadable reference"
        self.unresolved.append((pixel, key, described))
        stand_in = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value.get("name") or "")).strip("_")
        return stand_in or "unresolved"

    @property
    def pixels(self) -> list[str]:
        return sorted(self._base)

    def all(self) -> list[Destination]:
        """The base destination of every pixel (without a send's own test event code)."""
        return [self._base[name] for name in self.pixels]

    def get(self, pixel: str, test_event_code: str | None = None) -> Destination:
        """The destination of a server event (a send's own test event code wins)."""
        key = (pixel, test_event_code)
        dest = self._cache.get(key)
        if dest is None:
            base = self._base.get(pixel)
            if base is None:
                raise RunConfigError(f"pixel `{pixel}` is not defined")
            dest = Destination(
                base.pixel_id,
                base.api_version,
                base.token,
                test_event_code or base.test_event_code,
                base.app_secret,
            )
            self._cache[key] = dest
        return dest

    def known(self) -> list[Destination]:
        """Every destination built so far (the engine matches withheld literals to these)."""
        return [*self._base.values(), *self._cache.values()]

    def check_secrets(self) -> None:
        """Resolve every token and app secret once, so a missing one stops the run before it
        starts (the message names the reference, never a value)."""
        for name, dest in sorted(self._base.items()):
            for ref, what in ((dest.token, "access token"), (dest.app_secret, "app secret")):
                if ref is None:
                    continue
                try:
                    resolve(ref, secrets_dir=self.secrets_dir, environ=self.environ)
                except SecretError as exc:
                    raise RunConfigError(f"the {what} of pixel `{name}`: {exc}") from None

    def describe(self) -> list[str]:
        return [f"{dest.describe()} (pixel `{name}`)" for name, dest in sorted(self._base.items())]
