"""``capic quality`` output: text for people, JSON for tools. capic's numbers are always
labelled as its estimate; Meta's are Meta's (or the emulator's, against ``--endpoint``)."""

from __future__ import annotations

from typing import Any

from capic.meta import catalog
from capic.meta.estimate import LABEL, SOURCE
from capic.quality.compare import DiagnosticMatch, EventComparison
from capic.quality.report import PixelReport
from capic.quality.rules import SendInfo

__all__ = ["render_json", "render_text"]


def _coverage_target() -> float:
    return float(catalog.schema("dataset_quality")["x-capic-event-coverage-target"])


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _brief(value: Any) -> str:
    """An unverified field as Meta gave it, short."""
    if isinstance(value, list):
        parts = []
        for entry in value:
            if isinstance(entry, dict):
                key = entry.get("dedup_key") or entry.get("key") or entry.get("identifier")
                pct = next(
                    (v.get("percentage") for v in entry.values() if isinstance(v, dict)), None
                )
                parts.append(f"{key} {pct}%" if key is not None and pct is not None else str(entry))
            else:
                parts.append(str(entry))
        return ", ".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _diag_lines(match: DiagnosticMatch) -> list[str]:
    d = match.diagnostic
    share = []
    if d.percentage is not None:
        share.append(f"{d.percentage:.1f}%")
    if d.affected is not None and d.total is not None:
        share.append(f"{d.affected} of {d.total} events")
    out = [f"    diagnostic: {d.name}" + (f" ({', '.join(share)})" if share else "")]
    if d.solution:
        out.append(f"      Meta suggests: {d.solution}")
    if match.likely:
        first, why = match.likely[0]
        out.append(f"      most likely: rule {first.rule} ({first.where}): {why}")
        for other, why in match.likely[1:]:
            out.append(f"      also: rule {other.rule} ({other.where}): {why}")
    elif match.params:
        out.append(f"      no rule sends {', '.join(match.params)} for this event")
    else:
        out.append("      capic cannot tell which parameter it concerns (every rule of this event)")
    return out


def _event_lines(event: EventComparison) -> list[str]:
    verdict = event.verdict
    capic = f"capic {_num(event.low)}-{_num(event.high)}"
    if verdict is None or verdict.composite_score is None:
        sources = {s.action_source for s in event.sends}
        if sources and "website" not in sources and None not in sources:
            why = f"Meta computes EMQ for web events only ({', '.join(sorted(map(str, sources)))})"
        else:
            why = "no web events of this name reached Meta"
        lines = [f"  {event.event_name}: no EMQ from Meta ({capic}); {why}"]
    else:
        head = f"  {event.event_name}: Meta EMQ {verdict.composite_score:.1f}, {capic}"
        if event.disagreement:
            head += f"  DISAGREES: {event.disagreement}"
        lines = [head]
    for send in event.sends:
        lines.append(
            f"    rule {send.rule} ({send.where}): capic {send.estimate.rounded:.1f} "
            f"from {', '.join(sorted(send.keys)) or 'no customer information'}"
        )
    for reason in event.reasons:
        lines.append(f"    why: {reason}")
    if verdict is not None:
        if verdict.keys:
            keys = ", ".join(f"{k.identifier} {_num(k.coverage)}%" for k in verdict.keys)
            lines.append(f"    Meta's match keys: {keys}")
        facts = []
        if verdict.event_coverage is not None:
            facts.append(
                f"event coverage {verdict.event_coverage:.1f}% (target {_coverage_target():.0f}%)"
            )
        if verdict.dedup:
            facts.append(f"dedup keys: {_brief(verdict.dedup)}")
        if verdict.freshness:
            facts.append(f"freshness: {_brief(verdict.freshness)}")
        if facts:
            lines.append("    " + "; ".join(facts))
        for match in event.diagnostics:
            lines.extend(_diag_lines(match))
    return lines


def render_text(
    reports: list[PixelReport], project: str, environment: str | None, endpoint: str
) -> str:
    out = [
        f"capic quality: {project} ({environment or 'no environment'}), Meta's verdict from "
        f"{endpoint}; capic's numbers are {LABEL}"
    ]
    for report in reports:
        out.append(f"pixel {report.name} (dataset {report.dataset_id}, {report.api_version})")
        if report.error is not None:
            out.append(f"  error: {report.error}")
        if report.version_warning:
            out.append(f"  version warning from Meta: {report.version_warning}")
        for event in report.events:
            out.extend(_event_lines(event))
        for send in report.unnamed:
            out.append(
                f"  rule {send.rule} ({send.where}): its event names come from the events; "
                "not compared"
            )
        if report.not_sent_by_rules:
            out.append(
                "  Meta reports events no rule sends: " + ", ".join(report.not_sent_by_rules)
            )
    disagreements = sum(e.disagrees for r in reports for e in r.events)
    diagnostics = sum(len(e.diagnostics) for r in reports for e in r.events)
    errors = sum(r.error is not None for r in reports)
    out.append(
        f"{disagreements} disagreement(s), {diagnostics} diagnostic(s), {errors} pixel(s) "
        "without a verdict"
    )
    return "\n".join(out) + "\n"


def _send_json(send: SendInfo) -> dict[str, Any]:
    low, high = send.estimate.range
    return {
        "rule": send.rule,
        "file": send.file,
        "line": send.line,
        "estimate": send.estimate.rounded,
        "range": [low, high],
        "keys": sorted(send.keys),
        "client_ip_address": {"source": send.ip_source, "kind": send.ip_kind},
    }


def _event_json(event: EventComparison) -> dict[str, Any]:
    v = event.verdict
    meta: dict[str, Any] | None = None
    if v is not None:
        meta = {
            "composite_score": v.composite_score,
            "match_keys": [
                {
                    "identifier": k.identifier,
                    "keys": list(k.keys),
                    "coverage": k.coverage,
                    "potential_acr_increase": k.acr_increase,
                }
                for k in v.keys
            ],
            "event_coverage": v.event_coverage,
            "dedup_key_feedback": v.dedup,
            "data_freshness": v.freshness,
        }
    return {
        "event_name": event.event_name,
        "meta": meta,
        "capic": {
            "low": event.low,
            "high": event.high,
            "rules": [_send_json(s) for s in event.sends],
        },
        "disagreement": event.disagreement,
        "reasons": list(event.reasons),
        "diagnostics": [
            {
                "name": m.diagnostic.name,
                "description": m.diagnostic.description,
                "solution": m.diagnostic.solution,
                "percentage": m.diagnostic.percentage,
                "affected_event_count": m.diagnostic.affected,
                "total_event_count": m.diagnostic.total,
                "parameters": list(m.params),
                "likely_rules": [
                    {"rule": s.rule, "file": s.file, "line": s.line, "why": why}
                    for s, why in m.likely
                ],
            }
            for m in event.diagnostics
        ],
    }


def render_json(
    reports: list[PixelReport], project: str, environment: str | None, endpoint: str
) -> dict[str, Any]:
    return {
        "project": project,
        "environment": environment,
        "endpoint": endpoint,
        "estimate": {"label": LABEL, "source": SOURCE},
        "pixels": [
            {
                "name": r.name,
                "dataset_id": r.dataset_id,
                "api_version": r.api_version,
                "error": r.error,
                "version_warning": r.version_warning,
                "events": [_event_json(e) for e in r.events],
                "not_sent_by_rules": r.not_sent_by_rules,
                "rules_with_event_names_from_events": [_send_json(s) for s in r.unnamed],
            }
            for r in reports
        ],
        "disagreements": sum(e.disagrees for r in reports for e in r.events),
    }
