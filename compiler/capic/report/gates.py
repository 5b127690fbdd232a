"""``--fail-on``: thresholds on the report's numbers that make ``capic report`` a CI gate.

A gate is ``METRIC OP NUMBER`` and fails when it holds, e.g. ``change.coverage.em<-5``: the
share of sent events carrying ``em`` dropped by more than 5 points against the baseline.
Metrics (:func:`metrics`) are the report's own numbers under stable names; ``change.NAME``
is the new value minus the baseline's (``--baseline``), and ``shadow.*`` are the counts of
the shadow diff. Percentages are in points (0-100).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from capic.meta import catalog

__all__ = ["Gate", "GateError", "evaluate", "metrics", "parse_gate"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
_GATE = re.compile(r"\s*([a-z][a-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*([-+]?\d+(?:\.\d+)?)\s*")

#: Metrics of one version that are always there (per-key ones are added by :func:`metrics`).
_FIXED = (
    "events",
    "matched",
    "unmatched",
    "sent",
    "rejected",
    "estimate.mean",
    "estimate.median",
    "event_id.coverage",
    "duplicates",
    "fbc.present",
    "fbc.malformed",
    "fbp.present",
    "fbp.malformed",
    "consent.dropped",
    "consent.limited_data_use",
)
_SHADOW = (
    "rules_changed",
    "events_changed",
    "now_sent",
    "no_longer_sent",
    "fields_gained",
    "fields_lost",
    "values_changed",
)


class GateError(Exception):
    """A ``--fail-on`` expression that cannot be used; one line."""


@dataclass(frozen=True, slots=True)
class Gate:
    text: str
    metric: str
    op: str
    limit: float

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


def _known(name: str) -> bool:
    base = name.removeprefix("change.")
    if name.startswith("shadow."):
        return name.removeprefix("shadow.") in _SHADOW
    if base in _FIXED:
        return True
    return (
        base.startswith("coverage.") and base.removeprefix("coverage.") in catalog.user_data_keys()
    )


def parse_gate(text: str, *, baseline: bool) -> Gate:
    """One ``--fail-on`` value; ``baseline``: whether a baseline was given (``change.*`` and
    ``shadow.*`` need one)."""
    match = _GATE.fullmatch(text)
    if match is None:
        raise GateError(f"--fail-on {text!r}: write METRIC OP NUMBER, e.g. 'change.coverage.em<-5'")
    metric, op, number = match.groups()
    if not _known(metric):
        raise GateError(
            f"--fail-on {text!r}: unknown metric {metric!r}; known: {', '.join(_FIXED)}, "
            "coverage.KEY (a user_data key), change.<any of those>, "
            + ", ".join(f"shadow.{s}" for s in _SHADOW)
        )
    if metric.startswith(("change.", "shadow.")) and not baseline:
        raise GateError(f"--fail-on {text!r}: {metric} compares with a baseline; pass --baseline")
    return Gate(text.strip(), metric, op, float(number))


def metrics(data: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of one version's numbers (:meth:`capic.report.tally.Tally.to_json`)."""
    totals = data["totals"]
    ids, clicks, consent = data["event_ids"], data["click_ids"], data["consent"]
    out: dict[str, float] = {
        "events": totals["events"],
        "matched": totals["matched"],
        "unmatched": totals["unmatched"],
        "sent": totals["sent"],
        "rejected": totals["rejected"],
        "estimate.mean": data["estimate"]["mean"],
        "estimate.median": data["estimate"]["median"],
        "event_id.coverage": round(100 * ids["share"], 2),
        "duplicates": ids["duplicates"],
        "consent.dropped": consent["dropped"],
        "consent.limited_data_use": consent["limited_data_use"],
    }
    for kind in ("fbc", "fbp"):
        out[f"{kind}.present"] = round(100 * clicks[kind]["share"], 2)
        out[f"{kind}.malformed"] = clicks[kind]["present"] - clicks[kind]["well_formed"]
    for entry in data["coverage"]:
        out[f"coverage.{entry['key']}"] = round(100 * entry["share"], 2)
    return out


def _value(
    gate: Gate,
    new: Mapping[str, float],
    old: Mapping[str, float] | None,
    shadow: Mapping[str, Any] | None,
) -> float:
    name = gate.metric
    if name.startswith("shadow."):
        assert shadow is not None
        return float(shadow["totals"][name.removeprefix("shadow.")])
    if name.startswith("change."):
        assert old is not None
        base = name.removeprefix("change.")
        return round(new.get(base, 0.0) - old.get(base, 0.0), 2)
    return float(new.get(name, 0.0))


def evaluate(
    gates: tuple[Gate, ...],
    new: Mapping[str, float],
    old: Mapping[str, float] | None = None,
    shadow: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each gate with the value it saw and whether it failed."""
    out = []
    for gate in gates:
        value = _value(gate, new, old, shadow)
        out.append({"gate": gate.text, "value": value, "failed": gate.holds(value)})
    return out
