"""The site settings a rule module carries: its ``SERVE`` constant, checked and typed.

The constant is written by the code generator from the project's ``serve { }`` blocks (see
:mod:`capic.model.serve`); a module built before those existed has none and gets the
defaults. Ingest tokens stay references until :func:`ingest_tokens` resolves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from capic.runtime.secrets import Secret, SecretError, SecretRef, resolve

__all__ = ["INGEST_TOKEN_ENV", "SiteError", "SiteSettings", "ingest_tokens"]

#: Read when the project names no ingest token.
INGEST_TOKEN_ENV = "CAPIC_INGEST_TOKEN"
_DEFAULT_TTL = 7 * 24 * 3600


class SiteError(ValueError):
    """The module's site settings cannot be used (one line, said at start-up or reload)."""


@dataclass(frozen=True, slots=True)
class SiteSettings:
    allowed_origins: frozenset[str] = frozenset()
    cookie_domain: str | None = None
    cookies: bool = True
    ingest_tokens: tuple[SecretRef, ...] = ()
    enhancement: bool = False
    enhancement_ttl: int = _DEFAULT_TTL

    @classmethod
    def from_module(cls, module: ModuleType) -> SiteSettings:
        raw = getattr(module, "SERVE", None)
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise SiteError("the rule module's SERVE constant is not a mapping")
        return cls.from_json(raw)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SiteSettings:
        origins = raw.get("allowed_origins") or []
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise SiteError("allowed_origins is not a list of strings")
        domain = raw.get("cookie_domain")
        if domain is not None and not isinstance(domain, str):
            raise SiteError("cookie_domain is not a string")
        refs: list[SecretRef] = []
        for item in raw.get("ingest_tokens") or []:
            if not isinstance(item, Mapping):
                raise SiteError("ingest_tokens holds something that is not a reference")
            try:
                refs.append(SecretRef.from_json(item))
            except ValueError as exc:
                raise SiteError(f"ingest_tokens: {exc}") from None
        ttl = raw.get("enhancement_ttl", _DEFAULT_TTL)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise SiteError("enhancement_ttl is not a positive number of seconds")
        return cls(
            allowed_origins=frozenset(o.strip() for o in origins if o.strip() and o != "*"),
            cookie_domain=(domain.strip().lstrip(".").lower() or None) if domain else None,
            cookies=bool(raw.get("cookies", True)),
            ingest_tokens=tuple(refs),
            enhancement=bool(raw.get("enhancement", False)),
            enhancement_ttl=ttl,
        )


def ingest_tokens(
    site: SiteSettings,
    *,
    secrets_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Secret, ...]:
    """The bearer tokens ``/v1/events`` accepts: the project's references, else
    ``$CAPIC_INGEST_TOKEN``; empty when neither is set. Raises :class:`SiteError` when a
    reference cannot be resolved (the service refuses to start rather than run open)."""
    refs = site.ingest_tokens or (SecretRef.env(INGEST_TOKEN_ENV),)
    out: list[Secret] = []
    for ref in refs:
        if ref.is_redacted:
            raise SiteError(
                "an ingest token was written inline in a rule file (W001) and is never stored "
                'in compiled modules; use ingest_tokens = env("CAPIC_INGEST_TOKEN")'
            )
        try:
            secret = resolve(ref, secrets_dir=secrets_dir, environ=environ)
        except SecretError as exc:
            if not site.ingest_tokens:  # the fallback variable is optional
                return ()
            raise SiteError(f"ingest token {ref.describe()}: {exc}") from None
        if secret.reveal():
            out.append(secret)
    return tuple(out)
