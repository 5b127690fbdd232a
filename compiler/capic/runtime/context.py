"""What a generated rule module needs at run time besides the event: a clock, an id source,
counters, and the per-event scope.

:class:`Context` is passed to ``process(event, request, context=...)``. Tests fix the clock and
the ids with it; services keep one per thread (the counters are plain ``Counter`` objects, not
locked). Within one event, ``now()`` and ``uuid()`` are read once and then stable: every use of
``now()`` in every rule and send of that event sees the same second, and every use of ``uuid()``
the same id, so an event id generated with ``uuid()`` is the same on every send of the event.
"""

from __future__ import annotations

import time
import uuid as _uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["UNSET", "Context", "Emitted", "EventScope", "Rejection", "RuntimeStats"]


class _Unset:
    """The "not evaluated yet" marker of memoized elements."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def uuid_hex() -> str:
    """A random UUID4 as 32 lowercase hex digits."""
    return _uuid.uuid4().hex


class Emitted(NamedTuple):
    """One server event a rule produced.

    ``event`` is the Conversions API server event (``event_name`` set, ``user_data`` already
    normalized and SHA-256 hashed, null fields left out). ``test_event_code`` is set only when
    the send itself wrote one (it then wins over the pixel's and the environment's).
    """

    rule: str
    pixel: str
    event: dict[str, Any]
    test_event_code: str | None = None


class Rejection(NamedTuple):
    """An event that failed validation and was not returned (see :mod:`capic.runtime.validate`)."""

    rule: str
    pixel: str
    event_name: str
    reason: str


@dataclass(slots=True)
class RuntimeStats:
    """Counters kept by generated modules. All bounded: keys are rules, reasons and keys."""

    #: Calls of ``process``.
    events: int = 0
    #: Rule name -> events whose condition held.
    matched: Counter[str] = field(default_factory=Counter)
    #: Events no rule matched.
    unmatched: int = 0
    #: Reason -> sends skipped for it: a computed event name that was missing for the event
    #: (a table lookup that missed). A rule whose every send was skipped did not match.
    skipped: Counter[str] = field(default_factory=Counter)
    #: Consent outcome -> sends it applied to: ``dropped`` (not sent) or
    #: ``limited_data_use`` (sent with Limited Data Use) when a consent gate was false.
    consent: Counter[str] = field(default_factory=Counter)
    #: Server events returned (valid).
    emitted: int = 0
    #: Validation failure reason -> server events rejected.
    rejected: Counter[str] = field(default_factory=Counter)
    #: user_data key -> values dropped because they were invalid (never the values).
    invalid_values: Counter[str] = field(default_factory=Counter)
    #: Largest event_time seen (``Context.probe``), before any offset.
    max_event_time: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "matched": dict(sorted(self.matched.items())),
            "unmatched": self.unmatched,
            "skipped": dict(sorted(self.skipped.items())),
            "consent": dict(sorted(self.consent.items())),
            "emitted": self.emitted,
            "rejected": dict(sorted(self.rejected.items())),
            "invalid_values": dict(sorted(self.invalid_values.items())),
        }


@dataclass(slots=True)
class Context:
    """Run-time settings of ``process``.

    - ``now``: the clock (unix seconds); read once per event (see the module docstring). Event
      times are validated against it.
    - ``uuid``: the id source of ``uuid()``; read once per event.
    - ``stats``: counters (:class:`RuntimeStats`).
    - ``validate``: check every server event (:mod:`capic.runtime.validate`) and leave out the
      invalid ones, counting them in ``stats.rejected``; False returns them unchecked.
    - ``time_offset``: seconds added to the ``event_time`` of every server event, after it was
      converted to unix seconds and before it is validated (``capic run --rebase-time``).
    - ``probe``: only record the largest ``event_time`` in ``stats.max_event_time`` and return
      nothing (the first pass of ``--rebase-time``); customer information is not even hashed.
    - ``on_reject``: called with a :class:`Rejection` for every rejected server event.
    """

    now: Callable[[], float] = time.time
    uuid: Callable[[], str] = uuid_hex
    stats: RuntimeStats = field(default_factory=RuntimeStats)
    validate: bool = True
    time_offset: int = 0
    probe: bool = False
    on_reject: Callable[[Rejection], None] | None = None


def _lower_headers(request: Any) -> Any:
    """A request whose header names are lowercase (HTTP header names are case-insensitive;
    rules write ``request.headers["user-agent"]``)."""
    if type(request) is not dict:
        return request
    headers = request.get("headers")
    if not isinstance(headers, Mapping):
        return request
    try:
        for k in headers:
            if type(k) is not str or not k.islower():
                break
        else:
            return request
        lowered = {(k.lower() if isinstance(k, str) else k): v for k, v in headers.items()}
    except Exception:  # a foreign mapping that misbehaves: leave the request alone
        return request
    return {**request, "headers": lowered}


class EventScope:
    """The evaluation scope of one event: roots, context, and (in the generated subclass) the
    memo of elements that several rules share, as class attributes defaulting to ``UNSET``."""

    __slots__ = ("_now", "_uuid", "ctx", "event", "request", "stats")

    def __init__(self, event: Any, request: Any, ctx: Context) -> None:
        self.event = event
        self.request = _lower_headers(request) if request is not None else None
        self.ctx = ctx
        self.stats = ctx.stats
        self._now: float | None = None
        self._uuid: str | None = None

    def now(self) -> float:
        """The clock of this event (read once)."""
        t = self._now
        if t is None:
            t = self._now = float(self.ctx.now())
        return t

    def now_seconds(self) -> int:
        """``now()`` of the language: whole unix seconds."""
        return int(self.now())

    def uuid(self) -> str:
        """``uuid()`` of the language: one id per event."""
        u = self._uuid
        if u is None:
            u = self._uuid = str(self.ctx.uuid())
        return u
