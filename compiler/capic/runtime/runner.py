"""The event-stream loop behind ``capic run``, reusable by anything that holds a rule module.

    from capic.runtime.runner import Destinations, read_lines, run_stream

    with open("events.jsonl", "rb") as f:
        summary = run_stream(module, read_lines(f), sink, destinations=Destinations(module))

``module`` is a generated rule module (from :func:`capic.runtime.loader.load_module`, a
bundle, or ``import``), ``sink`` a :class:`~capic.runtime.delivery.Deliverer` or a
:class:`~capic.runtime.delivery.DryRunSink`.

Input: JSON Lines. Each line is either a bare event, or an envelope
``{"event": {...}, "request": {...}}`` (an object whose keys are ``event`` and optionally
``request``, nothing else). Blank lines are skipped. A line that is not JSON, not an object,
or an envelope whose ``event`` is not an object is *malformed*: reported with its line number,
counted, and the run goes on. ``None`` items in ``lines`` mean "no input for a while": the
sink gets a chance to send batches that have waited ``max_age``.

Nothing accumulates per event: memory stays flat however long the stream is.

Time rebasing (``capic run --rebase-time``): :func:`probe_time_offset` runs the rules over the
input once without sending anything and returns ``floor(now) - newest`` where ``newest`` is
the largest ``event_time`` (unix seconds, after conversion) of every server event the rules
would send; the second pass runs with ``Context(time_offset=offset)``, which adds the offset
to the ``event_time`` of every server event before validation. Events without an
``event_time`` are not changed; an ``event_time`` computed with ``now()`` is shifted too.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Protocol

import orjson

from capic.runtime.context import Context, Rejection
from capic.runtime.delivery import DeliveryStats, Destination
from capic.runtime.secrets import SecretError, SecretRef, resolve

__all__ = [
    "Destinations",
    "RunAborted",
    "RunConfigError",
    "RunSummary",
    "Sink",
    "probe_time_offset",
    "read_lines",
    "run_stream",
]

#: Reports of the same kind shown before they are only counted.
MAX_REPORTS = 20
_READ_CHUNK = 1 << 16
#: How long a blocking read waits before the loop looks at its stop flag and the batch ages.
_IDLE_POLL = 0.25


class RunAborted(BaseException):
    """Raise it (from a signal handler) to end a run at once, without flushing: everything
    submitted is in the outbox already (committed before every request) or was never
    acknowledged to anyone."""


class RunConfigError(Exception):
    """The run cannot start: a pixel id, token or test event code that cannot be resolved."""


class Sink(Protocol):
    """What :func:`run_stream` delivers to (the Deliverer and the DryRunSink)."""

    stats: DeliveryStats

    def submit(self, dest: Destination, event: dict[str, Any]) -> None: ...

    def tick(self) -> None: ...

    def flush(self) -> None: ...


# ----------------------------------------------------------------------------- destinations


def _setting(
    value: Any, what: str, secrets_dir: Path | None, environ: Mapping[str, str] | None
) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        try:
            ref = SecretRef.from_json(value)
            return resolve(ref, secrets_dir=secrets_dir, environ=environ).reveal()
        except (SecretError, ValueError) as exc:
            raise RunConfigError(f"{what}: {exc}") from None
    raise RunConfigError(f"{what} is neither a string nor a secret reference")


class Destinations:
    """The :class:`Destination` of every (pixel, test event code), from a module's ``PIXELS``.

    Pixel ids and test event codes written as ``env()``/``secret()`` are resolved once, here.
    ``tokens`` replaces token references (``capic run`` passes a token written inline in the
    project, which compiled modules never contain); ``tokens_required=False`` (dry runs)
    accepts a module whose inline token was withheld.
    """

    def __init__(
        self,
        module: ModuleType,
        *,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        tokens: Mapping[str, SecretRef] | None = None,
        tokens_required: bool = True,
    ) -> None:
        self.secrets_dir = secrets_dir
        self.environ = environ
        pixels: Mapping[str, Mapping[str, Any]] = module.PIXELS
        used = {p for rule in module.RULES for p in rule.get("pixels", ())}
        self._base: dict[str, tuple[str, str, SecretRef, str | None]] = {}
        self._cache: dict[tuple[str, str | None], Destination] = {}
        for name in sorted(used):
            spec = pixels.get(name)
            if spec is None:
                raise RunConfigError(f"pixel `{name}` is used by a rule but not defined")
            where = f"pixel `{name}`"
            pixel_id = _setting(spec.get("id"), f"the id of {where}", secrets_dir, environ)
            if not pixel_id:
                raise RunConfigError(f"{where} has no id")
            token = (tokens or {}).get(name)
            if token is None:
                try:
                    token = SecretRef.from_json(spec.get("token") or {})
                except ValueError as exc:
                    raise RunConfigError(f"the access token of {where}: {exc}") from None
            if token.is_redacted and tokens_required:
                raise RunConfigError(
                    f"the access token of {where} was written inline in a rule file and is "
                    'never stored in compiled modules; use access_token = env("VAR")'
                )
            tec = _setting(
                spec.get("test_event_code"), f"the test_event_code of {where}", secrets_dir, environ
            )
            version = str(spec.get("api_version") or "")
            try:
                Destination(pixel_id, version, token, tec or None)
            except ValueError as exc:
                raise RunConfigError(f"{where}: {exc}") from None
            self._base[name] = (pixel_id, version, token, tec or None)

    @property
    def pixels(self) -> list[str]:
        return sorted(self._base)

    def get(self, pixel: str, test_event_code: str | None = None) -> Destination:
        """The destination of a server event (a send's own test event code wins)."""
        key = (pixel, test_event_code)
        dest = self._cache.get(key)
        if dest is None:
            base = self._base.get(pixel)
            if base is None:
                raise RunConfigError(f"pixel `{pixel}` is not defined")
            pixel_id, version, token, tec = base
            dest = Destination(pixel_id, version, token, test_event_code or tec)
            self._cache[key] = dest
        return dest

    def check_tokens(self) -> None:
        """Resolve every token once, so that a missing one stops the run before it starts."""
        for name, (_, _, token, _) in sorted(self._base.items()):
            try:
                resolve(token, secrets_dir=self.secrets_dir, environ=self.environ)
            except SecretError as exc:
                raise RunConfigError(f"the access token of pixel `{name}`: {exc}") from None

    def describe(self) -> list[str]:
        return [
            Destination(pid, version, token, tec).describe() + f" (pixel `{name}`)"
            for name, (pid, version, token, tec) in sorted(self._base.items())
        ]


# ----------------------------------------------------------------------------- summary


@dataclass
class RunSummary:
    """What a run did. ``exit_code``: 0 everything read was delivered or deliberately not
    matched; 1 something was malformed, rejected, dead-lettered or left in the outbox;
    2 the run stopped on a configuration problem or an invalid token."""

    lines: int = 0
    events: int = 0
    malformed: int = 0
    errors: int = 0
    matched: dict[str, int] = field(default_factory=dict)
    unmatched: int = 0
    #: Sends skipped by reason (a computed event name missing for the event).
    skipped: dict[str, int] = field(default_factory=dict)
    #: Sends a false consent gate dropped or sent with Limited Data Use.
    consent: dict[str, int] = field(default_factory=dict)
    emitted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    invalid_values: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    time_offset: int | None = None
    duration: float = 0.0
    interrupted: str | None = None
    #: Ended by :class:`RunAborted`: in-flight events were not flushed (they are in the outbox).
    aborted: bool = False
    fatal: str | None = None

    @property
    def sent(self) -> int:
        return int(self.delivery.get("sent", 0))

    @property
    def dead_lettered(self) -> int:
        return int(self.delivery.get("dead_lettered", 0))

    @property
    def pending(self) -> int:
        return int(self.delivery.get("deferred", 0))

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return 2
        if self.aborted or self.malformed or self.errors or self.rejected:
            return 1
        if self.dead_lettered or self.pending:
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        rate = self.events / self.duration if self.duration > 0 else None
        return {
            "lines": self.lines,
            "events": self.events,
            "malformed": self.malformed,
            "errors": self.errors,
            "matched": dict(sorted(self.matched.items())),
            "matched_total": sum(self.matched.values()),
            "unmatched": self.unmatched,
            "skipped": dict(sorted(self.skipped.items())),
            "consent": dict(sorted(self.consent.items())),
            "emitted": self.emitted,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "invalid_values": dict(sorted(self.invalid_values.items())),
            "delivery": self.delivery,
            "dry_run": self.dry_run,
            "time_offset": self.time_offset,
            "duration": round(self.duration, 3),
            "events_per_second": round(rate, 1) if rate is not None else None,
            "interrupted": self.interrupted,
            "aborted": self.aborted,
            "fatal": self.fatal,
            "exit_code": self.exit_code,
        }

    def render_text(self) -> str:
        d = self.delivery
        out: list[str] = []
        read = f"{self.events:,} events read"
        extra = []
        if self.malformed:
            extra.append(f"{self.malformed:,} malformed line{'s' if self.malformed != 1 else ''}")
        if self.errors:
            extra.append(f"{self.errors:,} failed with an internal error")
        out.append(read + (f" ({', '.join(extra)})" if extra else ""))
        total = sum(self.matched.values())
        out.append(f"{total:,} rule matches, {self.unmatched:,} events matched no rule")
        width = max((len(r) for r in self.matched), default=0)
        for rule, n in sorted(self.matched.items()):
            out.append(f"  {rule:<{width}}  {n:>8,}")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"  skipped: {reason}  {n:,}")
        if self.consent:
            dropped = self.consent.get("dropped", 0)
            limited = self.consent.get("limited_data_use", 0)
            out.append(
                f"without consent: {dropped:,} sends dropped, "
                f"{limited:,} sent with Limited Data Use"
            )
        rejected = sum(self.rejected.values())
        out.append(f"{self.emitted:,} server events valid, {rejected:,} rejected")
        for reason, n in sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  rejected: {reason}  {n:,}")
        if self.invalid_values:
            listed = ", ".join(f"{k} {n:,}" for k, n in sorted(self.invalid_values.items()))
            out.append(f"invalid values left out: {listed}")
        if self.dry_run:
            out.append(
                f"dry run: {d.get('sent', 0):,} events in {d.get('requests', 0):,} "
                "request(s) printed, nothing sent"
            )
        else:
            recovered = d.get("recovered", 0)
            line = (
                f"{d.get('sent', 0):,} delivered in {d.get('batches', 0):,} request(s), "
                f"{d.get('retried', 0):,} retried, {d.get('dead_lettered', 0):,} dead-lettered"
            )
            if recovered:
                line += f" ({recovered:,} recovered from an earlier run)"
            out.append(line)
            for reason, n in sorted(d.get("rejected_by_reason", {}).items()):
                out.append(f"  dead-lettered: Graph API error {reason}  {n:,}")
            if self.pending:
                out.append(f"{self.pending:,} left in the outbox (capic outbox replay sends them)")
        if self.time_offset is not None:
            out.append(f"event times shifted by {self.time_offset:+,} s (--rebase-time)")
        if self.interrupted:
            out.append(f"stopped early: {self.interrupted}")
        if self.fatal:
            out.append(f"stopped: {self.fatal}")
        rate = self.events / self.duration if self.duration > 0 else 0.0
        out.append(f"took {self.duration:.2f} s ({rate:,.0f} events/s)")
        return "\n".join(out)


# ----------------------------------------------------------------------------- input


def read_lines(stream: IO[bytes], *, idle: float | None = None) -> Iterator[bytes | None]:
    """The lines of a binary stream. For pipes and terminals, ``None`` is yielded whenever no
    input arrived for ``idle`` seconds (so that batches do not wait for the next line)."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        fd, mode = -1, 0
    if fd < 0 or stat.S_ISREG(mode) or idle is None or os.name == "nt":
        yield from stream
        return
    timeout = min(idle, _IDLE_POLL) if idle > 0 else _IDLE_POLL
    pending: list[bytes] = []
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except (OSError, ValueError):
            yield from stream
            return
        if not ready:
            yield None
            continue
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                pending.append(chunk[start:])
                break
            if pending:
                pending.append(chunk[start : end + 1])
                yield b"".join(pending)
                pending.clear()
            else:
                yield chunk[start : end + 1]
            start = end + 1
    if pending:
        tail = b"".join(pending)
        if tail:
            yield tail


def _parse(raw: bytes | str) -> tuple[Any, Any, str | None]:
    """(event, request, problem) of one non-blank line."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, None, f"not valid JSON ({exc})"
    if type(obj) is not dict:
        return None, None, "not a JSON object"
    if "event" in obj and len(obj) <= 2 and (len(obj) == 1 or "request" in obj):
        event = obj["event"]
        if type(event) is not dict:
            return None, None, 'the envelope\'s "event" is not an object'
        return event, obj.get("request"), None
    return obj, None, None


# ----------------------------------------------------------------------------- the loop


def probe_time_offset(
    module: ModuleType, lines: Iterable[bytes | str | None], *, now: Callable[[], float] = time.time
) -> int:
    """``floor(now()) - newest event_time`` over every server event the rules send for
    ``lines`` (0 when none has one). Malformed lines are skipped silently (the real pass
    reports them)."""
    ctx = Context(now=now, probe=True, validate=False)
    process = module.process
    for raw in lines:
        if raw is None or not raw.strip():
            continue
        event, request, problem = _parse(raw)
        if problem is not None:
            continue
        with contextlib.suppress(Exception):
            process(event, request, context=ctx)
    newest = ctx.stats.max_event_time
    return 0 if newest is None else int(now()) - newest


def run_stream(
    module: ModuleType,
    lines: Iterable[bytes | str | None],
    sink: Sink,
    *,
    destinations: Destinations | None = None,
    context: Context | None = None,
    stop: Callable[[], bool] | None = None,
    report: Callable[[str], None] | None = None,
    progress: Callable[[RunSummary], None] | None = None,
    progress_every: int = 1000,
    max_reports: int = MAX_REPORTS,
    dry_run: bool = False,
    rebased: bool = False,
) -> RunSummary:
    """Process every event of ``lines`` with ``module`` and hand the server events to
    ``sink``; flush it at the end (the caller closes it). ``stop`` is polled between lines;
    ``report`` gets one line per malformed input, rejected event or failure (the first
    ``max_reports`` of each kind); ``progress`` gets the running summary every
    ``progress_every`` events and on idle ticks. ``rebased`` says that ``context.time_offset``
    came from :func:`probe_time_offset` (the summary reports it).

    Exceptions from the sink other than a lost token are the caller's (an
    :class:`~capic.runtime.delivery.InvalidTokenError` is recorded as ``fatal`` and ends the
    run; the events stay in the outbox)."""
    from capic.runtime.delivery import InvalidTokenError

    dests = destinations if destinations is not None else Destinations(module)
    ctx = context if context is not None else Context()
    summary = RunSummary(dry_run=dry_run, time_offset=ctx.time_offset if rebased else None)
    shown: dict[str, int] = {}
    lineno = 0

    def say(kind: str, message: str) -> None:
        if report is None:
            return
        n = shown.get(kind, 0) + 1
        shown[kind] = n
        if n <= max_reports:
            report(message)
        elif n == max_reports + 1:
            report(f"more {kind} are counted but not shown")

    previous_hook = ctx.on_reject

    def on_reject(rejection: Rejection) -> None:
        say(
            "rejected events",
            f"line {lineno}: {rejection.event_name} from rule {rejection.rule!r} to pixel "
            f"`{rejection.pixel}` rejected: {rejection.reason}",
        )
        if previous_hook is not None:
            previous_hook(rejection)

    ctx.on_reject = on_reject
    process = module.process
    submit = sink.submit
    get_dest = dests.get
    started = time.monotonic()
    since_progress = 0
    try:
        for raw in lines:
            if stop is not None and stop():
                summary.interrupted = summary.interrupted or "stop requested"
                break
            if raw is None:
                sink.tick()
                if progress is not None:
                    _fill(summary, ctx, sink, started)
                    progress(summary)
                continue
            lineno += 1
            if not raw.strip():
                continue
            event, request, problem = _parse(raw)
            if problem is not None:
                summary.malformed += 1
                say("malformed lines", f"line {lineno}: {problem}")
                continue
            summary.events += 1
            try:
                emitted = process(event, request, context=ctx)
            except Exception as exc:  # generated code never raises by design; never lose the run
                summary.errors += 1
                say("internal errors", f"line {lineno}: internal error {type(exc).__name__}")
                continue
            for item in emitted:
                submit(get_dest(item.pixel, item.test_event_code), item.event)
            since_progress += 1
            if progress is not None and since_progress >= progress_every:
                since_progress = 0
                _fill(summary, ctx, sink, started)
                progress(summary)
        summary.lines = lineno
        sink.flush()
    except InvalidTokenError as exc:
        summary.fatal = str(exc)
    except RunAborted:
        summary.aborted = True
        summary.interrupted = "aborted; undelivered events stay in the outbox"
    finally:
        ctx.on_reject = previous_hook
        summary.lines = lineno
        _fill(summary, ctx, sink, started)
    return summary


def _fill(summary: RunSummary, ctx: Context, sink: Sink, started: float) -> None:
    stats = ctx.stats
    summary.matched = dict(stats.matched)
    summary.unmatched = stats.unmatched
    summary.skipped = dict(stats.skipped)
    summary.consent = dict(stats.consent)
    summary.emitted = stats.emitted
    summary.rejected = dict(stats.rejected)
    summary.invalid_values = dict(stats.invalid_values)
    summary.delivery = sink.stats.to_json()
    summary.duration = time.monotonic() - started
