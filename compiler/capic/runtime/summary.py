"""What a ``capic run`` did: counts, delivery, and the exit status they imply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunSummary", "plural"]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 request``, ``2 requests`` (with thousands separators)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


@dataclass
class RunSummary:
    """``exit_code``: 0 everything read was delivered or deliberately not matched; 1 something
    was malformed, rejected, dead-lettered or left in the outbox; 2 the run stopped on a
    configuration problem or credentials Meta rejected."""

    #: Input lines read by this run.
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
    #: Ended by an abort: what was read but not committed was not stored.
    aborted: bool = False
    fatal: str | None = None
    #: Input lines whose events are durable in the outbox, counted from the input's start
    #: (None in dry runs). A restarted stream resends the lines after this count.
    committed_lines: int | None = None
    #: Lines an earlier run had committed, skipped by this one (a resumed file).
    resumed_from: int = 0

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
            "committed_lines": self.committed_lines,
            "resumed_from": self.resumed_from,
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
        extra = []
        if self.malformed:
            extra.append(plural(self.malformed, "malformed line"))
        if self.errors:
            extra.append(f"{self.errors:,} failed with an internal error")
        read = plural(self.events, "event") + " read"
        out.append(read + (f" ({', '.join(extra)})" if extra else ""))
        if self.resumed_from:
            out.append(f"resumed after line {self.resumed_from:,} (committed by an earlier run)")
        total = sum(self.matched.values())
        out.append(
            f"{plural(total, 'rule match', 'rule matches')}, "
            f"{plural(self.unmatched, 'event')} matched no rule"
        )
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
        out.append(f"{plural(self.emitted, 'server event')} valid, {rejected:,} rejected")
        for reason, n in sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  rejected: {reason}  {n:,}")
        if self.invalid_values:
            listed = ", ".join(f"{k} {n:,}" for k, n in sorted(self.invalid_values.items()))
            out.append(f"invalid values left out: {listed}")
        if self.dry_run:
            out.append(
                f"dry run: {plural(d.get('sent', 0), 'event')} in "
                f"{plural(d.get('requests', 0), 'request')} printed, nothing sent"
            )
        else:
            if self.committed_lines is not None:
                out.append(f"{plural(self.committed_lines, 'input line')} committed to the outbox")
            recovered = d.get("recovered", 0)
            line = (
                f"{d.get('sent', 0):,} delivered in {plural(d.get('batches', 0), 'request')}, "
                f"{d.get('retried', 0):,} retried, {d.get('dead_lettered', 0):,} dead-lettered"
            )
            if d.get("queue"):  # capic run --queue: workers deliver what it appended
                line = f"{d.get('sent', 0):,} appended to the queue {d['queue']} (capic worker delivers them)"
            if recovered:
                line += f" ({recovered:,} recovered from an earlier run)"
            out.append(line)
            for reason, n in sorted(d.get("rejected_by_reason", {}).items()):
                out.append(f"  dead-lettered: Graph API error {reason}  {n:,}")
            out.extend(_version_lines(d.get("version_signals", ())))
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


def _version_lines(signals: Any) -> list[str]:
    """Graph API version drift (runtime.delivery.versions): one line per pixel and version."""
    out = []
    for s in signals:
        what = (
            "deprecated (#2635): events dead-lettered, set api_version"
            if s["kind"] == "deprecated"
            else "upgraded by Meta (X-Ad-Api-Version-Warning): set api_version"
        )
        out.append(
            f"Graph API {s['api_version']} for pixel {s['pixel_id']} {what} "
            f"({plural(s['requests'], 'request')}, {plural(s['events'], 'event')})"
        )
    return out
