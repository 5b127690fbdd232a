"""What the routes share: the active rules (rebuilt on reload) and the service's parts.

:class:`ActiveRules` is everything derived from one rule module: its ingestor, the site
settings of its ``SERVE`` constant and the gates built from them (bearer auth, CORS, cookies,
enhancement). :func:`build_active` makes one, or raises when the module cannot serve (an
ingest token that cannot be resolved, no token and no ``--insecure-no-auth``, a pixel token
missing): at start-up that stops the service, on reload the previous rules stay active.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from capic.serve.auth import BearerAuth
from capic.serve.commit import LoopCommitter
from capic.serve.cookies import FirstPartyCookies
from capic.serve.cors import CorsPolicy
from capic.serve.enhance import EnhancementStore, Enhancer
from capic.serve.rules import Loaded, RuleSet, SourceError
from capic.serve.site import INGEST_TOKEN_ENV, SiteError, SiteSettings, ingest_tokens

if TYPE_CHECKING:
    from capic.runtime.delivery.commit import GroupCommitter
    from capic.runtime.delivery.queue import Consumer
    from capic.runtime.ingest import Ingestor
    from capic.serve.accesslog import AccessLog
    from capic.serve.config import ServeConfig
    from capic.serve.limits import RateLimiter
    from capic.serve.metrics import Metrics

__all__ = ["ActiveRules", "Delivery", "ServiceState", "build_active", "consent_check"]


class Delivery(Protocol):
    """What the service asks of its delivery: the engine (to Meta), or with ``--queue`` the
    forwarder of the local outbox into Redis (capic.queue.spill.Forwarder)."""

    @property
    def stopped_reason(self) -> str | None: ...

    def start(self) -> None: ...

    def drain(self, deadline: float | None) -> None: ...

    def stop(self, deadline: float | None) -> None: ...


ConsentCheck = Callable[..., Any]


def consent_check(module: ModuleType) -> ConsentCheck | None:
    """The module's consent gate check, when its project declares gates (modules compiled
    before consent existed have none)."""
    declared = getattr(module, "CONSENT", None)
    check = getattr(module, "consent_granted", None)
    if not isinstance(declared, Mapping) or not callable(check):
        return None
    return check if declared.get("pixels") else None


@dataclass(frozen=True, slots=True)
class ActiveRules:
    loaded: Loaded
    ingestor: Ingestor
    site: SiteSettings
    auth: BearerAuth
    cors: CorsPolicy
    #: None when the site turned cookies off.
    cookies: FirstPartyCookies | None
    #: None unless the environment turned enhancement on.
    enhancer: Enhancer | None
    #: The module's ``consent_granted`` when the project declares consent gates, else None:
    #: first-party cookies and enhancement are then used only for events it lets through.
    consent: ConsentCheck | None = None

    def consents(self, event: Any, request: Mapping[str, Any] | None) -> bool:
        """Whether cookies and enhancement may be used for ``event`` (no gates: yes)."""
        if self.consent is None:
            return True
        try:
            return bool(self.consent(event, request, context=self.ingestor.context()))
        except Exception:  # generated code never raises by design; if it did, assume no
            return False


def build_active(
    loaded: Loaded,
    *,
    config: ServeConfig,
    store: EnhancementStore | None,
    environ: Mapping[str, str] | None = None,
) -> ActiveRules:
    from capic.runtime.destinations import Destinations, RunConfigError
    from capic.runtime.ingest import Ingestor

    env = os.environ if environ is None else environ
    try:
        site = SiteSettings.from_module(loaded.module)
        tokens = ingest_tokens(site, secrets_dir=config.secrets_dir, environ=env)
    except SiteError as exc:
        raise SourceError(f"{loaded.description}: {exc}") from None
    if not tokens and not config.insecure_no_auth:
        raise SourceError(
            f"no ingest token: set {INGEST_TOKEN_ENV}, or ingest_tokens in the project's serve "
            "block; --insecure-no-auth serves /v1/events without one (development only)"
        )
    try:
        destinations = Destinations(loaded.module, secrets_dir=config.secrets_dir, environ=env)
        destinations.check_secrets()
    except RunConfigError as exc:
        raise SourceError(str(exc)) from None
    enhancer = None
    if site.enhancement and store is not None:
        enhancer = Enhancer(store, site.enhancement_ttl)
    cookies = (
        FirstPartyCookies(site.cookie_domain, secure=config.secure_cookies)
        if site.cookies
        else None
    )
    return ActiveRules(
        loaded=loaded,
        ingestor=Ingestor(loaded.module, destinations),
        site=site,
        auth=BearerAuth(tokens, open=config.insecure_no_auth),
        cors=CorsPolicy(site.allowed_origins),
        cookies=cookies,
        enhancer=enhancer,
        consent=consent_check(loaded.module),
    )


@dataclass
class ServiceState:
    config: ServeConfig
    rules: RuleSet[ActiveRules]
    committer: GroupCommitter
    consumer: Consumer
    engine: Delivery
    metrics: Metrics
    access: AccessLog
    limiter: RateLimiter
    draining: bool = False
    #: The last outbox failure (cleared by the next successful commit).
    outbox_problem: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Why the service is degraded but ready (Redis away: events spill to the outbox).
    degraded: Callable[[], list[str]] = lambda: []
    #: The request handlers' way to ``committer``: one submission per event-loop turn.
    loop_committer: LoopCommitter = field(init=False)

    def __post_init__(self) -> None:
        self.loop_committer = LoopCommitter(self.committer)

    def readiness_problems(self) -> list[str]:
        problems = []
        if self.draining:
            problems.append("shutting down")
        try:
            self.rules.active  # noqa: B018 - raises when none is
        except SourceError:
            problems.append("no rules are active")
        if self.outbox_problem:
            problems.append(f"outbox: {self.outbox_problem}")
        stopped = self.engine.stopped_reason
        if stopped:
            problems.append(f"delivery stopped: {stopped}")
        return problems

    def render_metrics(self) -> bytes:
        return self.metrics.render(self.consumer.depth)
