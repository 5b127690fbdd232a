"""From one incoming event to the queue items its rules produce, with an outcome per input.

``capic run`` (per line) and ``capic serve`` (per event of a request) hand each incoming event
to :meth:`Ingestor.process` and get an :class:`Outcome`: accepted (with the encoded items to
queue), unmatched (no rule wanted it), or rejected with a reason. It never raises for bad
input; whatever a rule module makes of an event is checked here once more before it can reach
a queue:

- every server event gets an ``event_id``: the rules' own, or one generated here, stored in
  the encoded event, so that every retry of it carries the same id and Meta can deduplicate.
  With ``id_source`` (``capic run`` passes its input's identity) a generated id is derived
  from the source, the input's index and the incoming event itself (not from the server event,
  whose time may depend on the clock or ``--rebase-time``): the same line of the same input
  gets the same id on every run, so a re-run's copies deduplicate too; without it, a random
  UUID (``new_id``);
- an event JSON cannot carry (an integer wider than 64 bits, which orjson refuses, a NaN or an
  infinity, which it would turn into null) is rejected, and so is one larger than the schema's
  ``x-capic-max-event-bytes``;
- an exception inside a rule module (generated code never raises by design) rejects that event
  only.

Rejections are counted in the context's ``stats.rejected`` like the module's own, and passed to
``on_reject`` with the input's index. Contexts are per thread (``context_factory``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any, Literal

import orjson

from capic.runtime.context import Context, Emitted, Rejection, RuntimeStats, uuid_hex
from capic.runtime.delivery.queue import QueueItem
from capic.runtime.destinations import Destinations
from capic.runtime.limits import Limits, limits

__all__ = ["NOT_AN_OBJECT", "Ingestor", "Outcome", "OutcomeStatus"]

OutcomeStatus = Literal["accepted", "unmatched", "rejected"]

NOT_AN_OBJECT = "the event is not a JSON object"
WIDE_NUMBER = "a number wider than 64 bits"
NOT_FINITE = "a number that is not finite"
NOT_JSON = "a value JSON cannot carry"


@dataclass(slots=True)
class Outcome:
    """What became of one input event (not frozen: a frozen dataclass costs a microsecond
    more to build, on every event)."""

    index: int
    status: OutcomeStatus
    #: Why it was rejected (the first reason when several server events were); else None.
    reason: str | None
    #: The rules whose condition held.
    rules: tuple[str, ...]
    #: What to queue (empty unless accepted).
    items: tuple[QueueItem, ...]
    #: Server events left out, with their reasons (also when others were accepted).
    rejected: tuple[Rejection, ...] = ()
    #: The rule module raised (a defect of capic, counted apart from bad input).
    failed: bool = False


def _not_finite(value: Any) -> bool:
    t = type(value)
    if t is float:
        return not math.isfinite(value)
    if t is dict:
        return any(_not_finite(v) for v in value.values())
    if t is list:
        return any(_not_finite(v) for v in value)
    return False


class Ingestor:
    """One rule module with its :class:`~capic.runtime.destinations.Destinations`.

    ``context_factory`` makes the :class:`~capic.runtime.context.Context` of each thread (the
    clock, the time offset); ``limits`` defaults to the schemas' (:mod:`capic.runtime.limits`);
    ``new_id`` makes the event ids of server events that have none.
    """

    def __init__(
        self,
        module: ModuleType,
        destinations: Destinations,
        *,
        context_factory: Callable[[], Context] = Context,
        limits: Limits | None = None,
        new_id: Callable[[], str] = uuid_hex,
        id_source: str | None = None,
        on_reject: Callable[[int, Rejection], None] | None = None,
    ) -> None:
        self.module = module
        self.destinations = destinations
        self._process = module.process
        self._factory = context_factory
        self._limits = limits
        self._new_id = new_id
        self._id_source = id_source.encode("utf-8") if id_source is not None else None
        self.on_reject = on_reject
        self._local = threading.local()
        self._contexts: list[Context] = []
        self._lock = threading.Lock()

    def context(self) -> Context:
        """This thread's context."""
        ctx: Context | None = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = self._factory()
            with self._lock:
                self._contexts.append(ctx)
        return ctx

    def stats(self) -> RuntimeStats:
        """The counters of every thread's context, added up."""
        total = RuntimeStats()
        with self._lock:
            contexts = list(self._contexts)
        for ctx in contexts:
            for f in fields(RuntimeStats):  # every counter the runtime keeps, whatever they are
                mine, theirs = getattr(total, f.name), getattr(ctx.stats, f.name)
                if isinstance(mine, Counter):
                    mine.update(dict(theirs))
                elif type(mine) is int and type(theirs) is int:
                    setattr(total, f.name, mine + theirs)
        return total

    def process(
        self, event: object, request: Mapping[str, Any] | None = None, index: int = 0
    ) -> Outcome:
        """Run the rules over ``event`` (the client's ``request`` context, if any)."""
        if type(event) is not dict:
            return Outcome(index, "rejected", NOT_AN_OBJECT, (), ())
        ctx = self.context()
        rejections: list[Rejection] = []
        outer = ctx.on_reject
        ctx.on_reject = rejections.append
        try:
            emitted: list[Emitted] = self._process(event, request, context=ctx)
        except Exception as exc:  # generated code never raises by design; never lose the run
            reason = f"internal error ({type(exc).__name__})"
            return Outcome(index, "rejected", reason, (), (), failed=True)
        finally:
            ctx.on_reject = outer
        items: list[QueueItem] = []
        basis: list[Any] = [event, request, index]
        for k, sent in enumerate(emitted):
            item = self._item(sent, ctx, rejections, basis, k)
            if item is not None:
                items.append(item)
        if not rejections:
            if len(emitted) == 1:
                return Outcome(index, "accepted", None, (emitted[0].rule,), tuple(items))
            if not emitted:
                return Outcome(index, "unmatched", None, (), ())
        for rejection in rejections:
            if outer is not None:
                outer(rejection)
            if self.on_reject is not None:
                self.on_reject(index, rejection)
        rules = tuple(dict.fromkeys([e.rule for e in emitted] + [r.rule for r in rejections]))
        if items:
            return Outcome(index, "accepted", None, rules, tuple(items), tuple(rejections))
        if rejections:
            return Outcome(index, "rejected", rejections[0].reason, rules, (), tuple(rejections))
        return Outcome(index, "unmatched", None, rules, ())

    def _event_id(self, basis: list[Any], k: int, sent: Emitted) -> str:
        """A generated event id (see the module docstring). ``basis`` is the incoming event,
        its request and its index; ``k`` the server event's place among its siblings."""
        if self._id_source is None:
            return self._new_id()
        digest = hashlib.sha256(self._id_source)
        try:
            digest.update(orjson.dumps([*basis, k, sent.rule, sent.pixel]))
        except TypeError:  # an input JSON never gives; a caller's own objects might
            return self._new_id()
        return digest.hexdigest()[:32]

    def _item(
        self, sent: Emitted, ctx: Context, rejections: list[Rejection], basis: list[Any], k: int
    ) -> QueueItem | None:
        ev = sent.event
        event_id = ev.get("event_id")
        if type(event_id) is not str or not event_id:
            event_id = ev["event_id"] = self._event_id(basis, k, sent)
        reason: str | None = None
        try:
            body = orjson.dumps(ev)
        except TypeError as exc:
            reason = WIDE_NUMBER if "64-bit" in str(exc) else NOT_JSON
        else:
            lim = self._limits
            if lim is None:
                lim = self._limits = limits()
            if len(body) > lim.max_event_bytes:
                reason = f"event larger than {lim.max_event_bytes:,} bytes"
            elif b"null" in body and _not_finite(ev):  # orjson writes NaN and inf as null
                reason = NOT_FINITE
        if reason is None:
            try:
                dest = self.destinations.get(sent.pixel, sent.test_event_code)
            except Exception as exc:  # a pixel the module names but does not define
                reason = str(exc)
            else:
                return QueueItem(dest, body, event_id)
        ctx.stats.emitted -= 1
        ctx.stats.rejected[reason] += 1
        name = str(ev.get("event_name"))
        rejections.append(Rejection(sent.rule, sent.pixel, name, reason))
        return None
