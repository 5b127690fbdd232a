"""Loading a verified bundle's rule module, and switching bundles keeping the last good one.

This is what a runner imports. It needs the bundle reader, the verifier and
:mod:`capic.runtime`, never the compiler front end: loading a bundle does not import ``lark``
or ``jinja2`` (a test checks ``sys.modules``).

    >>> bundle = load_bundle("dist/storefront-production-3f2a9c1b7d4e.tar.gz")
    >>> bundle.module.process(event, request)

:class:`BundleSlot` holds the active bundle of a long-running runner: ``switch(path)``
verifies and loads the new bundle first and only then replaces the active one; when anything
fails the previous bundle stays active and the result (and the log) says why.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from capic import RUNTIME_API_VERSION
from capic.bundle.manifest import MODULE_NAME, Manifest
from capic.bundle.verify import SignatureStatus, verify_bundle

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["BundleError", "BundleSlot", "LoadedBundle", "SwitchResult", "load_bundle"]

log = logging.getLogger("capic.bundle")


class BundleError(Exception):
    """A bundle could not be verified or loaded. ``problems`` lists every reason."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]

    def describe(self) -> str:
        return "; ".join(self.problems)


@dataclass(frozen=True)
class LoadedBundle:
    """A verified bundle and its imported rule module."""

    path: str
    manifest: Manifest
    module: ModuleType
    signature: SignatureStatus
    warnings: tuple[str, ...] = ()

    @property
    def revision(self) -> str:
        return self.manifest.revision

    @property
    def environment(self) -> str:
        return self.manifest.environment

    def describe(self) -> str:
        m = self.manifest
        return f"{m.project} {m.environment} revision {m.revision[:12]} ({Path(self.path).name})"


def _public_key(key: Ed25519PublicKey | str | Path | None) -> Ed25519PublicKey | None:
    if key is None or not isinstance(key, str | Path):
        return key
    from capic.bundle.sign import SignatureError, load_public_key

    try:
        return load_public_key(key)
    except SignatureError as exc:
        raise BundleError(str(exc)) from None


def _module_name(manifest: Manifest) -> str:
    digest = manifest.files[MODULE_NAME].sha256[:16]
    project = re.sub(r"\W", "_", manifest.project)
    return f"capic_bundle_{project}_{digest}"


def load_bundle(
    path: str | Path,
    *,
    key: Ed25519PublicKey | str | Path | None = None,
    require_signature: bool = False,
) -> LoadedBundle:
    """Verify the bundle at ``path`` and import its rule module.

    ``key`` (a public key or a PEM file) makes the signature mandatory and checked. Raises
    :class:`BundleError` listing every problem when verification or loading fails.
    """
    public_key = _public_key(key)
    report = verify_bundle(path, key=public_key, require_signature=require_signature)
    if not report.ok or report.manifest is None:
        raise BundleError(f"{path}: verification failed", report.problems)
    manifest = report.manifest
    if manifest.runtime_api_version != RUNTIME_API_VERSION:
        raise BundleError(
            f"{path}: built for runtime API {manifest.runtime_api_version}, but this capic "
            f"provides runtime API {RUNTIME_API_VERSION}: rebuild the bundle with this capic"
        )
    try:
        source = report.files[MODULE_NAME].decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{MODULE_NAME}: not UTF-8 text") from None
    from capic.runtime.loader import load_module

    try:
        module = load_module(source, name=_module_name(manifest))
    except Exception as exc:  # a module that fails to import is a bad bundle, not a crash
        raise BundleError(f"{MODULE_NAME}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    warnings = tuple(report.warnings)
    if report.signature.state == "unchecked":
        # A runner configured without a key still says so: a signed bundle is never taken
        # as verified silently.
        warnings = (
            f"signed by key {report.signature.key_id}, signature not checked: "
            "no verification key was given",
        )
    for warning in warnings:
        log.warning("%s: %s", Path(path).name, warning)
    return LoadedBundle(str(path), manifest, module, report.signature, warnings)


@dataclass(frozen=True)
class SwitchResult:
    """What :meth:`BundleSlot.switch` did. ``active`` is the bundle in use afterwards."""

    switched: bool
    active: LoadedBundle | None
    reason: str | None = None
    problems: tuple[str, ...] = ()


@dataclass
class BundleSlot:
    """The active bundle of a runner, replaced only by bundles that verify and load."""

    key: Ed25519PublicKey | str | Path | None = None
    require_signature: bool = False
    _active: LoadedBundle | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def active(self) -> LoadedBundle | None:
        return self._active

    @property
    def module(self) -> ModuleType:
        if self._active is None:
            raise BundleError("no bundle is active")
        return self._active.module

    def switch(self, path: str | Path) -> SwitchResult:
        """Activate the bundle at ``path`` if it verifies and loads; otherwise keep the active
        one and say why (also logged as a warning)."""
        with self._lock:
            try:
                bundle = load_bundle(path, key=self.key, require_signature=self.require_signature)
            except BundleError as exc:
                kept = self._active
                keeping = (
                    f"keeping {kept.describe()}" if kept is not None else "no bundle is active"
                )
                reason = f"{Path(path).name} rejected: {exc.describe()}; {keeping}"
                log.warning("%s", reason)
                return SwitchResult(False, kept, reason, tuple(exc.problems))
            self._active = bundle
            log.info("activated %s", bundle.describe())
            return SwitchResult(True, bundle)
