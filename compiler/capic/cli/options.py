"""Command-line options shared by several verbs.

``--today YYYY-MM-DD`` (``capic check``, ``compile``, ``build``; or ``$CAPIC_TODAY``) sets the day
the Graph API version checks (M030-M033) compare with, for this command only; without it they
use ``$SOURCE_DATE_EPOCH``, then the system clock.

Bundle trust (``capic run --bundle``, ``capic verify``, ``capic serve``)::

    @bundle_trust_options
    def command(...): ...
        trust = bundle_trust()            # inside the command, when a bundle is loaded
        bundle = trust.load(path)         # capic.bundle.load.load_bundle with the key

``--key PEM`` (or ``$CAPIC_BUNDLE_KEY``) names the Ed25519 public key bundles must be signed
with: an unsigned bundle, one whose signature was stripped or made with another key, and one
whose manifest or any member changed after signing are refused. ``--require-signature`` (or
``$CAPIC_REQUIRE_SIGNED_BUNDLES=1``) refuses every bundle whose signature is not checked, so a
deployment that sets it can never run an unsigned bundle by accident (a missing key then
refuses everything, loudly). The options do not add parameters to the command function: their
values wait in the click context until :func:`bundle_trust` reads them, so a verb that only
sometimes loads a bundle never reads a key file it does not need.

The long-running verbs (``capic serve``, ``capic worker``) declare every option with
:func:`env_option` (a ``CAPIC_*`` variable shown by ``--help``), share ``--endpoint``
(:func:`endpoint_option`, checked by :func:`endpoint_problem`), and say which extra to install
with :func:`missing_extra` when an optional dependency is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from capic.bundle.load import BundleSlot, LoadedBundle

__all__ = [
    "BUNDLE_KEY_ENV",
    "REQUIRE_SIGNED_ENV",
    "TODAY_ENV",
    "BundleTrust",
    "bundle_key_path",
    "bundle_trust",
    "bundle_trust_options",
    "endpoint_option",
    "endpoint_problem",
    "env_option",
    "missing_extra",
    "today_option",
]

TODAY_ENV = "CAPIC_TODAY"
BUNDLE_KEY_ENV = "CAPIC_BUNDLE_KEY"
REQUIRE_SIGNED_ENV = "CAPIC_REQUIRE_SIGNED_BUNDLES"
_KEY = "capic.bundle_key"
_REQUIRE = "capic.require_signature"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BundleTrust:
    """How bundles are verified before their code is imported."""

    key: Ed25519PublicKey | None = None
    require_signature: bool = False
    key_path: str | None = None

    def load(self, path: str | Path) -> LoadedBundle:
        """Verify and import a bundle; :class:`capic.bundle.load.BundleError` says why not."""
        from capic.bundle.load import load_bundle

        return load_bundle(path, key=self.key, require_signature=self.require_signature)

    def slot(self) -> BundleSlot:
        """A :class:`~capic.bundle.load.BundleSlot` (hot reload keeping the last good bundle)
        that verifies every bundle the same way."""
        from capic.bundle.load import BundleSlot

        return BundleSlot(key=self.key, require_signature=self.require_signature)


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        ctx.meta[name] = value

    return callback


def bundle_trust_options(f: F) -> F:
    """Add ``--key`` and ``--require-signature`` (with their environment variables)."""
    f = click.option(
        "--require-signature",
        is_flag=True,
        envvar=REQUIRE_SIGNED_ENV,
        expose_value=False,
        callback=_store(_REQUIRE),
        help=f"Refuse any bundle whose signature is not checked by --key (also ${REQUIRE_SIGNED_ENV}=1).",
    )(f)
    f = click.option(
        "--key",
        type=click.Path(dir_okay=False),
        envvar=BUNDLE_KEY_ENV,
        expose_value=False,
        callback=_store(_KEY),
        help=f"Ed25519 public key (PEM) bundles must be signed with (also ${BUNDLE_KEY_ENV}).",
    )(f)
    return f


def bundle_key_path(ctx: click.Context | None = None) -> str | None:
    """The ``--key`` given to the running command, not yet read (to check option combinations
    before a key file is opened)."""
    path = (ctx or click.get_current_context()).meta.get(_KEY)
    return str(path) if path else None


def bundle_trust(ctx: click.Context | None = None) -> BundleTrust:
    """The bundle trust of the running command. Raises :class:`click.UsageError` (exit 2)
    for a key file that cannot be read as an Ed25519 public key."""
    ctx = ctx or click.get_current_context()
    path = ctx.meta.get(_KEY)
    required = bool(ctx.meta.get(_REQUIRE))
    if not path:
        return BundleTrust(None, required)
    from capic.bundle.sign import SignatureError, load_public_key

    try:
        key = load_public_key(path)
    except SignatureError as exc:
        raise click.UsageError(str(exc), ctx) from None
    return BundleTrust(key, required, str(path))


def _set_today(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if not value:
        return
    from capic.meta import versions

    try:
        day = versions.parse_today(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    token = versions.TODAY.set(day)
    ctx.call_on_close(lambda: versions.TODAY.reset(token))


def today_option(f: F) -> F:
    """Add ``--today`` (also ``$CAPIC_TODAY``): the day the version checks compare with."""
    return click.option(
        "--today",
        metavar="YYYY-MM-DD",
        envvar=TODAY_ENV,
        expose_value=False,
        is_eager=True,
        callback=_set_today,
        help="The day Graph API version dates are compared with (default: $SOURCE_DATE_EPOCH, "
        f"then the clock; also ${TODAY_ENV}).",
    )(f)


def env_option(*names: str, env: str, **kwargs: Any) -> Callable[[F], F]:
    """An option that the environment variable ``CAPIC_<env>`` also sets."""
    return click.option(*names, envvar=f"CAPIC_{env}", show_envvar=True, **kwargs)


def endpoint_option(f: F) -> F:
    """Add ``--endpoint`` (also ``$CAPIC_ENDPOINT``): the Graph API base URL."""
    return env_option(
        "--endpoint",
        env="ENDPOINT",
        default=None,
        help="Graph API base URL (default https://graph.facebook.com; e.g. the emulator's).",
    )(f)


def endpoint_problem(endpoint: str | None) -> str | None:
    """Why ``--endpoint`` cannot be used, or None (checked by the verb, not by click, so the
    message keeps the verb's one-line ``capic VERB: ...`` form and exit status 2)."""
    if endpoint is not None and not re.match(r"https?://[^/\s]+", endpoint):
        return f"--endpoint must be an http(s) URL, got {endpoint!r}"
    return None


def missing_extra(verb: str, extra: str, exc: ImportError) -> str:
    """The message for a verb whose optional dependencies (``capic[extra]``) are absent."""
    return f"capic {verb} needs the {extra} extra: pip install 'capic[{extra}]' ({exc.name} is missing)"
