"""The emulator's Dataset Quality API: ``GET /{version}/dataset_quality?dataset_id=...``.

Meta's verdict is emulated from the payloads the emulator accepted, with arithmetic of its own
(deliberately not capic's match-quality estimator, so that the two can disagree the way Meta
and capic do): per dataset and web event name (EMQ exists only for web events),

- ``match_key_feedback``: the share of events that carry each customer-information key;
- ``composite_score``: 10 x the mean, over the events, of a match probability
  ``1 - prod(1 - p)`` of the signals each event carries (email .55, phone .45, Lead Ads or
  Login id .5, fbc .35, external_id .2, fbp .15, IP with user agent .2 (.12 for IPv4), name
  with a postal code or city .15; ``x-capic-emulated-match`` in the dataset_quality schema);
- ``diagnostics``: "Update IPv4 to IPv6" when events carry IPv4 addresses, plus whatever a
  fixture file injects;
- ``dedup_key_feedback``: the share of events carrying event_id (and fbp, external_id);
- ``data_freshness``: the median delay between ``event_time`` and receipt.

A fixture (``--quality-fixture FILE``) adds diagnostics and other fields per dataset and event
name, or makes the endpoint refuse a dataset with a Graph API error::

    {"datasets": {"1234": {"refuse": {"code": 10, "message": "..."},
                           "events": {"Purchase": {"diagnostics": [...],
                                                   "event_coverage": {"percentage": 62}}}}}}
"""

from __future__ import annotations

import ipaddress
import json
import statistics
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capic.emulator.validation import GraphError
from capic.resources import load_schema

__all__ = ["QualityBook", "QualityFixtureError", "load_fixture"]


@dataclass(frozen=True)
class _Signal:
    """One signal of the emulated match probability (schemas/dataset_quality.schema.json)."""

    every: frozenset[str]
    some: frozenset[str]
    p: float
    p_ipv4: float | None

    def weight(self, present: set[str], ipv4: bool) -> float:
        if not self.every <= present or (self.some and not self.some & present):
            return 0.0
        return self.p_ipv4 if ipv4 and self.p_ipv4 is not None else self.p


def _signals() -> tuple[_Signal, ...]:
    doc = load_schema("dataset_quality")["x-capic-emulated-match"]["signals"]
    return tuple(
        _Signal(frozenset(s["all"]), frozenset(s.get("any", ())), s["p"], s.get("p_ipv4"))
        for s in doc
    )


_SIGNALS = _signals()
_DEDUP_KEYS: tuple[str, ...] = tuple(load_schema("dataset_quality")["x-capic-dedup-keys"])
_DELAYS_KEPT = 1000


def _identifiers() -> dict[str, str]:
    """user_data key -> Meta's identifier name (the first the schema maps to it)."""
    names: dict[str, str] = {}
    doc = load_schema("dataset_quality")["x-capic-identifier-keys"]
    for identifier, keys in doc.items():
        if len(keys) == 1:
            names.setdefault(keys[0], identifier)
    return names


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _ipv4(value: Any) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_address(value.strip()).version == 4
    except ValueError:
        return False


@dataclass
class _Tally:
    """Counts for one dataset and event name."""

    events: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    match_sum: float = 0.0
    with_ip: int = 0
    ipv4: int = 0
    delays: list[float] = field(default_factory=list)

    def add(self, event: Mapping[str, Any], received_at: float) -> None:
        user = event.get("user_data")
        user = user if isinstance(user, Mapping) else {}
        present = {k for k, v in user.items() if _present(v)}
        for top in ("event_id",):
            if _present(event.get(top)):
                present.add(top)
        self.events += 1
        self.keys.update(present)
        v4 = False
        if "client_ip_address" in present:
            self.with_ip += 1
            v4 = _ipv4(user.get("client_ip_address"))
            self.ipv4 += int(v4)
        miss = 1.0
        for signal in _SIGNALS:
            miss *= 1.0 - signal.weight(present, v4)
        self.match_sum += 1.0 - miss
        t = event.get("event_time")
        if type(t) is int and len(self.delays) < _DELAYS_KEPT:
            self.delays.append(max(0.0, received_at - t))


class QualityFixtureError(ValueError):
    """A quality fixture file that cannot be used (one line)."""


def load_fixture(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QualityFixtureError(f"cannot read the quality fixture {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("datasets", {}), dict):
        raise QualityFixtureError(
            f'{path}: a quality fixture is {{"datasets": {{"<dataset id>": {{...}}}}}}'
        )
    return data


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


class QualityBook:
    """Per dataset and web event name: what the accepted payloads show. Thread-safe."""

    def __init__(self, fixture: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[str, dict[str, _Tally]] = {}
        self._fixture = dict(fixture or {}).get("datasets", {})
        self._names = _identifiers()

    def observe(self, pixel_id: str, events: Iterable[Any], received_at: float) -> None:
        with self._lock:
            book = self._tallies.setdefault(pixel_id, {})
            for event in events:
                if not isinstance(event, Mapping) or event.get("action_source") != "website":
                    continue  # EMQ exists only for web events
                name = event.get("event_name")
                if isinstance(name, str):
                    book.setdefault(name, _Tally()).add(event, received_at)

    def reset(self) -> None:
        with self._lock:
            self._tallies.clear()

    def refusal(self, dataset_id: str) -> GraphError | None:
        refuse = self._fixture.get(dataset_id, {}).get("refuse")
        if not isinstance(refuse, Mapping):
            return None
        code = refuse.get("code", 10)
        return GraphError(
            int(refuse.get("status", 400)),
            int(code) if isinstance(code, int) else 10,
            str(
                refuse.get("message", "(#10) Application does not have permission for this action")
            ),
            type=str(refuse.get("type", "OAuthException")),
        )

    def answer(self, dataset_id: str) -> dict[str, Any]:
        with self._lock:
            tallies = {n: t for n, t in self._tallies.get(dataset_id, {}).items()}
            rows = [self._row(name, tally) for name, tally in sorted(tallies.items())]
        injected = self._fixture.get(dataset_id, {}).get("events", {})
        by_name = {row["event_name"]: row for row in rows}
        for name, extra in sorted(injected.items()) if isinstance(injected, Mapping) else ():
            row = by_name.get(name)
            if row is None:
                row = by_name[name] = {"event_name": name, "event_match_quality": {}}
                rows.append(row)
            _inject(row, extra)
        return {"web": rows}

    def _row(self, name: str, tally: _Tally) -> dict[str, Any]:
        n = tally.events
        feedback = []
        for key, identifier in self._names.items():
            count = tally.keys.get(key, 0)
            if not count:
                continue
            entry: dict[str, Any] = {
                "identifier": identifier,
                "coverage": {"percentage": _pct(count, n)},
            }
            missing = n - count
            if missing:
                entry["potential_aly_acr_increase"] = {
                    "percentage": round(50.0 * missing / n, 1),
                    "description": "emulator: events without this key, halved",
                }
            feedback.append(entry)
        diagnostics = []
        if tally.ipv4:
            diagnostics.append(
                {
                    "name": "Update IPv4 to IPv6",
                    "description": "Some events carry an IPv4 client_ip_address.",
                    "solution": "Send the IPv6 address when the visitor has one.",
                    "percentage": _pct(tally.ipv4, tally.with_ip),
                    "affected_event_count": tally.ipv4,
                    "total_event_count": tally.with_ip,
                }
            )
        delays = tally.delays
        return {
            "event_name": name,
            "event_match_quality": {
                "composite_score": round(10.0 * tally.match_sum / n, 1) if n else 0.0,
                "match_key_feedback": feedback,
                "diagnostics": diagnostics,
            },
            "dedup_key_feedback": [
                {
                    "dedup_key": key,
                    "server_events_with_key": {"percentage": _pct(tally.keys[key], n)},
                }
                for key in _DEDUP_KEYS
            ],
            "data_freshness": {
                "median_delay_seconds": round(statistics.median(delays)) if delays else None,
                "events": n,
            },
        }


def _inject(row: dict[str, Any], extra: Any) -> None:
    if not isinstance(extra, Mapping):
        return
    quality = row.setdefault("event_match_quality", {})
    for key, value in extra.items():
        if key == "diagnostics" and isinstance(value, list):
            quality.setdefault("diagnostics", []).extend(value)
        elif key in ("composite_score", "match_key_feedback"):
            quality[key] = value
        else:
            row[key] = value
