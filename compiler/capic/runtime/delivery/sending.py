"""Delivering one batch: retries, bisection, dead letters, and what to tell the engine.

:class:`BatchSender` is what each of the engine's delivery threads runs for a batch of leases
of one destination. It follows :class:`~capic.runtime.delivery.retry.RetryPolicy`:

- accepted: the leases are acked;
- transient failure: the same request again after the policy's delay, up to ``max_attempts``
  requests; then the leases are released (they stay queued) and the destination rests;
- invalid parameter on several events: the batch is split in two and each half sent, until the
  bad events are alone and dead-lettered with Meta's reason (one bad event rejects a batch);
- configuration errors (permissions, missing object): dead-lettered without bisecting;
- token or app secret rejected: the leases are released and delivery stops.

A request that timed out may still have been accepted, so an event can reach Meta twice; it is
then the same bytes with the same event_id, which Meta deduplicates.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from capic.runtime.delivery.destination import Destination
from capic.runtime.delivery.queue import Consumer, DeadLetterReason, Lease
from capic.runtime.delivery.retry import RetryPolicy, Verdict
from capic.runtime.delivery.stats import DeliveryStats
from capic.runtime.delivery.transport import GraphTransport, TransportResult, scrub
from capic.runtime.delivery.versions import describe_signal, version_signal
from capic.runtime.secrets import Secret, SecretError, SecretRef, resolve

__all__ = ["BatchSender", "Credentials", "DeliveryObserver", "SendOutcome"]

#: How a batch ended: ``done`` (acked or dead-lettered), ``down`` (retries ran out; released),
#: ``stopped`` (credentials rejected or missing; released), ``abandoned`` (the engine stops).
SendOutcome = Literal["done", "down", "stopped", "abandoned"]


class DeliveryObserver(Protocol):
    """Metrics hook (serve and the workers feed prometheus-client with it). An observer may
    also have ``version_signal(dest, kind, count)``, called when an answer of Meta carries a
    Graph API version signal (:mod:`~capic.runtime.delivery.versions`; ``kind`` "deprecated"
    or "upgraded", ``count`` the events of the request)."""

    def delivered(self, dest: Destination, count: int, seconds: float) -> None: ...

    def retried(self, dest: Destination, count: int) -> None: ...

    def dead_lettered(self, dest: Destination, count: int, reason: str) -> None: ...


class Credentials:
    """Resolves the token and app secret of a destination (cached per reference).

    Queued destinations carry references only; a literal written in a project is withheld from
    the queue, so ``known`` destinations (the ones this process built, with their literals) are
    matched back by pixel, version and test event code.
    """

    def __init__(
        self,
        *,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        known: Iterable[Destination] = (),
    ) -> None:
        self._secrets_dir = secrets_dir
        self._environ = environ
        self._known: dict[tuple[str, str, str | None], Destination] = {}
        self._lock = threading.Lock()
        self.learn(known)
        self._cache: dict[SecretRef, Secret] = {}

    def learn(self, known: Iterable[Destination]) -> None:
        """Remember destinations built in this process (with their literal secrets)."""
        with self._lock:
            for dest in known:
                self._known[dest.batch_key] = dest
                # A send's own test event code makes another batch key, same credentials.
                self._known.setdefault((dest.pixel_id, dest.api_version, None), dest)

    def live(self, dest: Destination) -> Destination:
        """The destination with its literal secrets, when this process knows them."""
        secret = dest.app_secret
        if not dest.token.is_redacted and not (secret is not None and secret.is_redacted):
            return dest
        with self._lock:
            known = self._known.get(dest.batch_key) or self._known.get(
                (dest.pixel_id, dest.api_version, None)
            )
        if known is None:
            return dest
        return Destination(
            dest.pixel_id, dest.api_version, known.token, dest.test_event_code, known.app_secret
        )

    def _resolve(self, ref: SecretRef, dest: Destination, what: str) -> Secret:
        with self._lock:
            secret = self._cache.get(ref)
        if secret is None:
            try:
                secret = resolve(ref, secrets_dir=self._secrets_dir, environ=self._environ)
            except SecretError as exc:
                raise SecretError(f"the {what} of {dest.describe()}: {exc}") from None
            with self._lock:
                self._cache[ref] = secret
        return secret

    def resolve(self, dest: Destination) -> tuple[Secret, Secret | None]:
        """(access token, app secret or None); raises SecretError naming the reference."""
        dest = self.live(dest)
        token = self._resolve(dest.token, dest, "access token")
        secret = None
        if dest.app_secret is not None:
            secret = self._resolve(dest.app_secret, dest, "app secret")
        return token, secret

    def refresh(self, dest: Destination) -> bool:
        """Forget the cached values of ``dest`` and look them up again: True when they
        changed (a rotated token), so the rejected request is worth repeating."""
        dest = self.live(dest)
        refs = [r for r in (dest.token, dest.app_secret) if r is not None]
        with self._lock:
            before = [self._cache.pop(r, None) for r in refs]
        try:
            after = list(self.resolve(dest))[: len(refs)]
        except SecretError:
            return False
        return any(b is not None and a != b for a, b in zip(after, before, strict=True))


@dataclass
class SenderHooks:
    """What the engine lends a sender: interruptible waits and a guarded consumer call."""

    #: Wait up to the given seconds; False when the engine is stopping.
    wait: Callable[[float], bool]
    #: Run a consumer call unless the engine abandoned its leases (then return False).
    call: Callable[[Callable[[], None]], bool]
    log: Callable[[str], None] | None = None
    observer: DeliveryObserver | None = None


class BatchSender:
    """Delivers batches for one engine (thread-safe: one sender serves every worker)."""

    def __init__(
        self,
        consumer: Consumer,
        transport: GraphTransport,
        policy: RetryPolicy,
        credentials: Credentials,
        stats: DeliveryStats,
        hooks: SenderHooks,
    ) -> None:
        self.consumer = consumer
        self.transport = transport
        self.policy = policy
        self.credentials = credentials
        self.stats = stats
        self.hooks = hooks
        #: The last reason delivery stopped (set with outcome ``stopped``).
        self.stop_reason: str | None = None

    def _log(self, line: str) -> None:
        if self.hooks.log is not None:
            self.hooks.log(line)

    def send(self, dest: Destination, leases: Sequence[Lease], release_delay: float) -> SendOutcome:
        """Deliver ``leases`` (all for ``dest``); returns how it ended."""
        dest = self.credentials.live(dest)
        try:
            token, app_secret = self.credentials.resolve(dest)
        except SecretError as exc:
            self.stop_reason = str(exc)
            self.hooks.call(functools.partial(self.consumer.release, leases, 0.0))
            return "stopped"
        work: list[Sequence[Lease]] = [leases]
        while work:
            chunk = work.pop()
            started = time.perf_counter()
            verdict, result = self._post(dest, token, app_secret, chunk)
            rest = [lease for part in (chunk, *work) for lease in part]
            if verdict == "interrupted":
                # The engine stops: what this batch still holds stays queued for later.
                self.hooks.call(functools.partial(self.consumer.release, rest, 0.0))
                return "abandoned"
            if verdict == "fatal_token" and self.credentials.refresh(dest):
                token, app_secret = self.credentials.resolve(dest)
                work.append(chunk)  # the token was rotated meanwhile: try the new one
                continue
            if verdict == "ok":
                if not self.hooks.call(functools.partial(self.consumer.ack, chunk)):
                    return "abandoned"
                self.stats.add(sent=len(chunk), batches=1)
                if self.hooks.observer is not None:
                    self.hooks.observer.delivered(dest, len(chunk), time.perf_counter() - started)
            elif verdict == "bisect":
                self.stats.add(bisections=1)
                mid = len(chunk) // 2
                work.append(chunk[mid:])
                work.append(chunk[:mid])
            elif verdict == "reject":
                if not self._dead_letter(dest, chunk, result, token):
                    return "abandoned"
            elif verdict == "fatal_token":
                self.stop_reason = (
                    f"the credentials {dest.token.describe()} for pixel {dest.pixel_id} were "
                    f"rejected by the Graph API ({scrub(result.describe(), token)}); fix them, "
                    "the undelivered events stay queued"
                )
                self.hooks.call(functools.partial(self.consumer.release, rest, 0.0))
                return "stopped"
            else:  # retries exhausted: leave everything queued, rest the destination
                self._log(
                    f"{dest.describe()}: giving up for now after {self.policy.max_attempts} "
                    f"attempts ({scrub(result.describe(), token)}); {len(rest)} events stay queued"
                )
                self.hooks.call(functools.partial(self.consumer.release, rest, release_delay))
                return "down"
        return "done"

    def _post(
        self, dest: Destination, token: Secret, app_secret: Secret | None, chunk: Sequence[Lease]
    ) -> tuple[Verdict | Literal["interrupted"], TransportResult]:
        bodies = [lease.item.body for lease in chunk]
        attempt = 0
        while True:
            attempt += 1
            result = self.transport.post(dest, token, bodies, app_secret)
            self._watch_version(dest, result, len(chunk))
            verdict = self.policy.classify(
                result.status, result.json, result.error, batch_size=len(chunk)
            )
            retry = verdict == "retry" and attempt < self.policy.max_attempts
            self.stats.add(requests=1, retried=int(retry))
            if not retry:
                return verdict, result
            if self.hooks.observer is not None:
                self.hooks.observer.retried(dest, len(chunk))
            wait_for = self.policy.delay(attempt, result.retry_after)
            self._log(
                f"{dest.describe()}: {scrub(result.describe(), token)}; retrying "
                f"{len(chunk)} events in {wait_for:.2f}s "
                f"(attempt {attempt + 1}/{self.policy.max_attempts})"
            )
            if not self.hooks.wait(wait_for):
                return "interrupted", result

    def _watch_version(self, dest: Destination, result: TransportResult, events: int) -> None:
        """Count a Graph API version signal; log it once per pixel, version and kind; tell an
        observer that counts them (``version_signal``, optional)."""
        signal = version_signal(result.status, result.json, result.headers)
        if signal is None:
            return
        first = self.stats.version_signal(
            dest.pixel_id, dest.api_version, signal.kind, events, signal.message
        )
        if first:
            self._log(describe_signal(dest.pixel_id, dest.api_version, signal))
        count = getattr(self.hooks.observer, "version_signal", None)
        if count is not None:
            count(dest, signal.kind, events)

    def _dead_letter(
        self, dest: Destination, chunk: Sequence[Lease], result: TransportResult, token: Secret
    ) -> bool:
        err = result.error_fields or {}
        code = err.get("code") if isinstance(err.get("code"), int) else None
        subcode = err.get("error_subcode") if isinstance(err.get("error_subcode"), int) else None
        parts = [
            str(err[key]).strip()
            for key in ("error_user_title", "error_user_msg", "message")
            if isinstance(err.get(key), str) and str(err[key]).strip()
        ]
        message = scrub(" | ".join(dict.fromkeys(parts)) or result.describe(), token)
        trace = err.get("fbtrace_id") if isinstance(err.get("fbtrace_id"), str) else None
        reason = DeadLetterReason(message, code, subcode, trace, result.status)
        if not self.hooks.call(functools.partial(self.consumer.dead_letter, chunk, reason)):
            return False
        self.stats.reject(reason.key, len(chunk))
        if self.hooks.observer is not None:
            self.hooks.observer.dead_lettered(dest, len(chunk), reason.key)
        self._log(f"{dest.describe()}: {len(chunk)} event(s) dead-lettered: {message}")
        return True
