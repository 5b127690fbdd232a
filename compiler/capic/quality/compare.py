"""Meta's verdict beside capic's estimate, per event name and per rule.

- **Disagreement**: Meta's composite score outside the range of capic's estimates for the
  sends of that event name (each estimate ± its spread, :mod:`capic.meta.estimate`). The
  reasons named are the keys the rules send whose coverage Meta reports below
  :data:`LOW_COVERAGE` percent (capic's estimate assumes every key it can send is on every
  event), or the keys Meta measures that no rule sends.
- **Which rule a diagnostic concerns**: the words of the diagnostic are mapped to parameters
  (``x-capic-diagnostic-keys`` of the dataset_quality schema, capic's heuristic); the sends of
  that event name that carry one of them are named, those that most likely cause it first
  (for IPv4/IPv6: a literal IPv4 address, then an address known at run time; never a literal
  IPv6 one).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from capic.meta import catalog
from capic.meta.estimate import SPREAD
from capic.quality.rules import SendInfo
from capic.quality.verdict import Diagnostic, EventVerdict

__all__ = ["LOW_COVERAGE", "DiagnosticMatch", "EventComparison", "compare_event"]

#: Coverage (percent) below which a key the rules send counts as "often missing".
LOW_COVERAGE = 90.0
_IP_RANK = {"ipv4": 0, "run time": 1, "ipv6": 2, "none": 3}


@functools.cache
def _diagnostic_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    doc = catalog.schema("dataset_quality")["x-capic-diagnostic-keys"]
    return tuple(sorted(((w, tuple(k)) for w, k in doc.items()), key=lambda e: -len(e[0])))


@dataclass(frozen=True)
class DiagnosticMatch:
    diagnostic: Diagnostic
    #: The parameters the diagnostic's words point at (empty: none recognised).
    params: tuple[str, ...]
    #: The sends that carry them, most likely first, each with why.
    likely: tuple[tuple[SendInfo, str], ...]


@dataclass(frozen=True)
class EventComparison:
    event_name: str
    sends: tuple[SendInfo, ...]
    verdict: EventVerdict | None
    low: float | None
    high: float | None
    disagreement: str | None
    reasons: tuple[str, ...] = ()
    diagnostics: tuple[DiagnosticMatch, ...] = field(default=())

    @property
    def disagrees(self) -> bool:
        return self.disagreement is not None


def _params_of(diag: Diagnostic) -> tuple[str, ...]:
    text = f"{diag.name} {diag.description}".lower()
    found: dict[str, None] = {}
    for word, params in _diagnostic_words():
        if word in text:
            found.update(dict.fromkeys(params))
    return tuple(found)


def _why(send: SendInfo, params: tuple[str, ...], ip_question: bool) -> str:
    if ip_question and "client_ip_address" in params and send.ip_source is not None:
        what = {
            "ipv4": "a literal IPv4 address",
            "run time": "an address known at run time (IPv4 unless the visitor uses IPv6)",
            "ipv6": "a literal IPv6 address",
            "none": "",
        }[send.ip_kind]
        return f"client_ip_address = {send.ip_source}: {what}"
    sent = [p for p in params if send.sends(p)]
    return "sends " + ", ".join(sent)


def match_diagnostic(diag: Diagnostic, sends: tuple[SendInfo, ...]) -> DiagnosticMatch:
    params = _params_of(diag)
    text = f"{diag.name} {diag.description}".lower()
    ip_question = "ipv4" in text or "ipv6" in text
    candidates = [s for s in sends if any(s.sends(p) for p in params)]
    if ip_question and "client_ip_address" in params:
        candidates = [s for s in candidates if s.ip_kind != "ipv6"]
        candidates.sort(key=lambda s: _IP_RANK[s.ip_kind])
    return DiagnosticMatch(
        diag, params, tuple((s, _why(s, params, ip_question)) for s in candidates)
    )


def compare_event(
    name: str, sends: tuple[SendInfo, ...], verdict: EventVerdict | None
) -> EventComparison:
    scores = [s.estimate.score for s in sends]
    low = round(max(0.0, min(scores) - SPREAD), 1) if scores else None
    high = round(min(10.0, max(scores) + SPREAD), 1) if scores else None
    meta = verdict.composite_score if verdict is not None else None
    below = meta is not None and low is not None and meta < low
    above = meta is not None and high is not None and meta > high
    disagreement = None
    if below or above:
        side = "below" if below else "above"
        disagreement = f"Meta's EMQ {meta:.1f} is {side} capic's estimate ({low}-{high})"
    reasons = _reasons(sends, verdict, below=below) if verdict and disagreement else []
    diagnostics = tuple(
        match_diagnostic(d, sends) for d in (verdict.diagnostics if verdict else ())
    )
    return EventComparison(
        name, sends, verdict, low, high, disagreement, tuple(reasons), diagnostics
    )


def _reasons(sends: tuple[SendInfo, ...], verdict: EventVerdict, *, below: bool) -> list[str]:
    """Why Meta and capic may disagree: below, the keys the rules send that Meta often does not
    see (capic assumes each is on every event); above, that capic's weights are its own. Both:
    keys Meta measures that no rule sends."""
    reasons: list[str] = []
    sent = sorted({k for s in sends for k in s.keys})
    if below:
        for key in sent:
            coverage = verdict.coverage_of(key)
            if coverage is not None and coverage < LOW_COVERAGE:
                senders = ", ".join(s.rule for s in sends if key in s.keys)
                reasons.append(
                    f"{key} is on {coverage:.1f}% of the events Meta received; {senders} "
                    "sends it only when the event has it"
                )
            elif coverage is None and verdict.keys:
                reasons.append(f"{key}: sent by the rules, but Meta reports no coverage for it")
    else:
        reasons.append(
            "Meta matches these events better than capic's weights predict (the weights are "
            "capic's assumption, not Meta's formula)"
        )
    for feedback in verdict.keys:
        if feedback.keys and not any(k in sent for k in feedback.keys):
            reasons.append(
                f"{feedback.identifier}: Meta measures it, no rule sends it (the browser pixel may)"
            )
    return reasons
