"""One report: read the recorded events, replay each version of the rules over them, add up,
compare, judge the gates. The result is plain data (``--output-format json`` prints it as
is; the HTML page shows it).

The clock. Recorded events are judged as if they had just arrived: unless ``now`` is given,
the clock of each version stands at the newest event_time its rules produce (probed with the
clock at 0, so times the rules take from ``now()`` do not count). That is what
``capic run --dry-run --rebase-time`` does with the wall clock, without depending on it: the
same input always gives the same report.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from capic import __version__
from capic.report.digest import Digests
from capic.report.gates import Gate, evaluate, metrics
from capic.report.replay import Replayer
from capic.report.shadow import Shadow
from capic.report.subject import Subject
from capic.report.tally import Tally
from capic.runtime.inputs import InputError, open_input, parse_line, read_lines
from capic.runtime.runner import probe_time_offset

__all__ = ["FORMAT_VERSION", "ReportInputError", "make_report"]

#: Version of the report's data layout (``--output-format json``).
FORMAT_VERSION = 1


class ReportInputError(Exception):
    """The events cannot be read; one line."""


def _rewindable(events: str) -> tuple[IO[bytes], str, bytes]:
    """A stream of the events that can be read more than once (standard input is copied to a
    temporary file), the name to show for it, and the SHA-256 of its content (the key of
    the report's example digests)."""
    try:
        source = open_input(events)
    except InputError as exc:
        raise ReportInputError(str(exc)) from None
    digest = hashlib.sha256()
    if source.regular:
        try:
            for line in read_lines(source.stream):
                if line is not None:
                    digest.update(line)
        except OSError as exc:
            source.close()
            raise ReportInputError(f"cannot read {events}: {exc.strerror or exc}") from None
        return source.stream, events, digest.digest()
    spool = tempfile.TemporaryFile(prefix="capic-report-")  # noqa: SIM115 - caller closes
    for line in read_lines(source.stream):
        if line is not None:
            spool.write(line)
            digest.update(line)
    source.close()
    return spool, source.name, digest.digest()


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    for raw in read_lines(stream):
        if raw is not None:
            yield raw


def _clock(subject: Subject, stream: IO[bytes], now: float | None) -> float:
    if now is not None:
        return now
    return float(-probe_time_offset(subject.module, _lines(stream), now=lambda: 0.0))


def _iso(clock: float) -> str:
    return datetime.fromtimestamp(clock, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Side:
    """One version of the rules in a report: its clock, its replayer and its numbers."""

    subject: Subject
    clock: float
    replayer: Replayer
    tally: Tally

    @classmethod
    def of(cls, subject: Subject, stream: IO[bytes], now: float | None, digests: Digests) -> _Side:
        module = subject.module
        clock = _clock(subject, stream, now)
        consent = getattr(module, "CONSENT", None)
        gates = consent.get("pixels", {}) if isinstance(consent, dict) else {}
        tally = Tally(module.RULES, module.PIXELS, gates, digests)
        return cls(subject, clock, Replayer(module, clock=clock), tally)


def _replay(stream: IO[bytes], new: _Side, old: _Side | None, shadow: Shadow | None) -> None:
    sides = [new] if old is None else [new, old]
    line = 0
    for raw in _lines(stream):
        line += 1
        if not raw.strip():
            for side in sides:
                side.tally.blank()
            continue
        event, request, problem = parse_line(raw)
        if problem is not None:
            for side in sides:
                side.tally.bad_line()
            continue
        now = new.replayer.replay(line, event, request)
        new.tally.add(now)
        if old is not None and shadow is not None:
            was = old.replayer.replay(line, event, request)
            old.tally.add(was)
            shadow.add(was, now)


def make_report(
    subject: Subject,
    events: str,
    *,
    baseline: Subject | None = None,
    now: float | None = None,
    gates: tuple[Gate, ...] = (),
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The report of ``subject`` over the JSON Lines file ``events`` (``-``: standard input),
    compared with ``baseline`` when given. ``timings``, when given, receives the durations
    and is added to the report (it breaks byte identity: only on request)."""
    started = time.perf_counter()
    stream, shown, key = _rewindable(events)
    digests = Digests(key)
    try:
        new = _Side.of(subject, stream, now, digests)
        old = _Side.of(baseline, stream, now, digests) if baseline is not None else None
        shadow = Shadow(digests) if old is not None else None
        _replay(stream, new, old, shadow)
    finally:
        stream.close()
    replayed = time.perf_counter()
    numbers = new.tally.to_json()
    new_metrics = metrics(numbers)
    report: dict[str, Any] = {
        "report": "capic report",
        "format_version": FORMAT_VERSION,
        "capic_version": __version__,
        "subject": subject.describe(),
        "input": {"events": shown, "clock": _iso(new.clock)},
        **numbers,
        "metrics": new_metrics,
    }
    old_metrics: dict[str, float] | None = None
    shadow_json: dict[str, Any] | None = None
    if old is not None and shadow is not None:
        from capic.bundle.diff import diff_reports

        old_numbers = old.tally.to_json()
        old_metrics = metrics(old_numbers)
        static = diff_reports(old.subject.verified, subject.verified)
        order = [str(r["name"]) for r in (*subject.module.RULES, *old.subject.module.RULES)]
        shadow_json = shadow.to_json(static, list(dict.fromkeys(order)))
        report["baseline"] = {
            "subject": old.subject.describe(),
            "clock": _iso(old.clock),
            **old_numbers,
            "metrics": old_metrics,
        }
        report["shadow"] = shadow_json
    report["gates"] = evaluate(gates, new_metrics, old_metrics, shadow_json)
    if timings is not None:
        seconds = replayed - started
        timings["replay_seconds"] = round(seconds, 3)
        timings["events_per_second"] = round(new.tally.events / seconds if seconds else 0.0, 1)
        report["timings"] = timings
    return report
