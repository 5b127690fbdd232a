"""Meta's verdict on one dataset, read from a Dataset Quality API answer
(``schemas/dataset_quality.schema.json``). Read leniently: the fields whose shape is
unverified are kept as given; a field that is not there is None, never a guess."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capic.meta import catalog

__all__ = ["Diagnostic", "EventVerdict", "KeyFeedback", "parse_verdict"]


@functools.cache
def _identifier_keys() -> dict[str, tuple[str, ...]]:
    doc = catalog.schema("dataset_quality")["x-capic-identifier-keys"]
    return {name: tuple(keys) for name, keys in doc.items()}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _percentage(value: Any) -> float | None:
    return _number(value.get("percentage")) if isinstance(value, Mapping) else None


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list Meta gave (a field of another shape: none)."""
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class KeyFeedback:
    identifier: str
    #: The user_data keys capic reads the identifier as (empty: unknown identifier).
    keys: tuple[str, ...]
    coverage: float | None
    acr_increase: float | None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    name: str
    description: str
    solution: str
    percentage: float | None
    affected: int | None
    total: int | None


@dataclass(frozen=True)
class EventVerdict:
    event_name: str
    composite_score: float | None
    keys: tuple[KeyFeedback, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    event_coverage: float | None = None
    #: Dedup key feedback and data freshness as Meta gave them (shapes unverified).
    dedup: Any = None
    freshness: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def coverage_of(self, key: str) -> float | None:
        """Meta's coverage of a user_data key (the highest of the identifiers measuring it)."""
        found = [k.coverage for k in self.keys if key in k.keys and k.coverage is not None]
        return max(found) if found else None


def _key(entry: Mapping[str, Any]) -> KeyFeedback | None:
    identifier = entry.get("identifier")
    if not isinstance(identifier, str):
        return None
    return KeyFeedback(
        identifier,
        _identifier_keys().get(identifier.lower(), ()),
        _percentage(entry.get("coverage")),
        _percentage(entry.get("potential_aly_acr_increase")),
    )


def _diagnostic(entry: Mapping[str, Any]) -> Diagnostic | None:
    name = entry.get("name")
    if not isinstance(name, str):
        return None

    def text(key: str) -> str:
        value = entry.get(key)
        return value if isinstance(value, str) else ""

    return Diagnostic(
        name,
        text("description"),
        text("solution"),
        _number(entry.get("percentage")),
        _int(entry.get("affected_event_count")),
        _int(entry.get("total_event_count")),
    )


def _row(row: Mapping[str, Any]) -> EventVerdict | None:
    name = row.get("event_name")
    if not isinstance(name, str):
        return None
    quality = row.get("event_match_quality")
    quality = quality if isinstance(quality, Mapping) else {}
    keys = [_key(e) for e in _objects(quality.get("match_key_feedback"))]
    diags = [_diagnostic(e) for e in _objects(quality.get("diagnostics"))]
    known = {"event_name", "event_match_quality", "event_coverage", "dedup_key_feedback"}
    known |= {"dedupe_key_feedback", "data_freshness"}
    return EventVerdict(
        event_name=name,
        composite_score=_number(quality.get("composite_score")),
        keys=tuple(k for k in keys if k is not None),
        diagnostics=tuple(d for d in diags if d is not None),
        event_coverage=_percentage(row.get("event_coverage")),
        dedup=row.get("dedup_key_feedback", row.get("dedupe_key_feedback")),
        freshness=row.get("data_freshness"),
        extra={k: v for k, v in row.items() if k not in known},
    )


def parse_verdict(answer: Any) -> dict[str, EventVerdict]:
    """Event name -> Meta's verdict, from the JSON of a Dataset Quality API answer."""
    rows = answer.get("web") if isinstance(answer, Mapping) else None
    if isinstance(rows, Mapping):  # a Graph API edge may wrap lists in {"data": [...]}
        rows = rows.get("data")
    out: dict[str, EventVerdict] = {}
    for row in rows if isinstance(rows, list) else ():
        verdict = _row(row) if isinstance(row, Mapping) else None
        if verdict is not None:
            out[verdict.event_name] = verdict
    return out
