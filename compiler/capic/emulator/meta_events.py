"""The emulator's validation of the event types Meta added in 2024-2026 (capi-facts §15), read
from the same schemas as the linter and the runtime:

- physical_store events may be up to ``physical_store_days`` old (7, or 62 when the emulator
  is started with ``--physical-store-days 62``; Meta's docs state both);
- AppendAttribution needs the fields that link it to its original (unverified, see
  ``schemas/append_attribution``), an original named as allowed, less than 48 hours old; an
  original the emulator never received is accepted with a message in the response (Meta's
  behaviour there is not documented [U]);
- a CRM stage (``custom_data.event_source = "crm"``) needs ``user_data.lead_id`` as an integer.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from capic.emulator.validation import MAX_EVENT_AGE, GraphError, invalid
from capic.meta.coverage import AppendAttributionFacts, append_attribution

__all__ = ["MetaEventRules", "OriginalIndex"]

_DAY = 24 * 3600
#: Originals remembered per dataset (for the "original received" message).
_REMEMBERED = 100_000


def _at(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = event
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


@dataclass(frozen=True, slots=True)
class MetaEventRules:
    """How strictly the emulator treats store events, AppendAttribution and CRM stages."""

    physical_store_days: int = 7
    #: None: the schema's default originals (Purchase, fb_mobile_purchase).
    append_attribution_originals: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.physical_store_days not in (7, 62):
            raise ValueError("physical_store_days is 7 or 62 (the two windows Meta states)")

    @property
    def facts(self) -> AppendAttributionFacts:
        return append_attribution()

    def old_event_allowed(self, event: Mapping[str, Any], event_time: int, now: float) -> bool:
        """An event older than 7 days that is still accepted: a store event in the window."""
        return (
            event.get("action_source") == "physical_store"
            and event_time >= now - self.physical_store_days * _DAY
            and self.physical_store_days * _DAY > MAX_EVENT_AGE
        )

    def check(self, event: Mapping[str, Any], where: str, now: float) -> GraphError | None:
        """The first problem of an AppendAttribution or a CRM stage, or None."""
        if event.get("event_name") == "AppendAttribution":
            problem = self._append_attribution(event, where, now)
            if problem is not None:
                return problem
        custom = event.get("custom_data")
        if isinstance(custom, Mapping) and custom.get("event_source") == "crm":
            user = event.get("user_data")
            lead = user.get("lead_id") if isinstance(user, Mapping) else None
            if lead is not None and (type(lead) is not int or lead < 0):
                return invalid(
                    "Invalid lead ID",
                    f"{where}: user_data.lead_id must be the integer ID of a Lead Ads lead.",
                )
        return None

    def _append_attribution(
        self, event: Mapping[str, Any], where: str, now: float
    ) -> GraphError | None:
        facts = self.facts
        name = _at(event, facts.event_name)
        t = _at(event, facts.event_time)
        ids = [_at(event, p) for p in facts.ids]
        if not isinstance(name, str) or not name or type(t) is not int:
            return invalid(
                "Missing original event",
                f"{where}: AppendAttribution must name its original event "
                "(original_event_data.event_name and event_time).",
            )
        if not any(isinstance(i, str) and i for i in ids):
            return invalid(
                "Missing original event",
                f"{where}: AppendAttribution must carry the original's order_id or event_id.",
            )
        originals = self.append_attribution_originals or facts.originals
        if name not in originals:
            return invalid(
                "Unsupported original event",
                f"{where}: AppendAttribution can credit {', '.join(originals)}, not {name}.",
            )
        if now - t >= facts.window_hours * 3600:
            return invalid(
                "Original event too old",
                f"{where}: AppendAttribution must be received less than {facts.window_hours} "
                "hours after the original event.",
            )
        if not isinstance(event.get("attribution_data"), Mapping) or not event["attribution_data"]:
            return invalid(
                "Missing attribution data",
                f"{where}: AppendAttribution must carry attribution_data.",
            )
        return None


class OriginalIndex:
    """The original conversions a dataset received (by order_id and event_id), so that an
    AppendAttribution whose original never arrived gets a message. Thread-safe, bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, set[tuple[str, str]]] = {}
        self._order: dict[str, deque[tuple[str, str]]] = {}

    def observe(self, pixel_id: str, events: Iterable[Any]) -> None:
        keys: list[tuple[str, str]] = []
        for event in events:
            if not isinstance(event, Mapping) or event.get("event_name") == "AppendAttribution":
                continue
            name = event.get("event_name")
            custom = event.get("custom_data")
            order = custom.get("order_id") if isinstance(custom, Mapping) else None
            for ident in (order, event.get("event_id")):
                if isinstance(name, str) and isinstance(ident, str) and ident:
                    keys.append((name, ident))
        if not keys:
            return
        with self._lock:
            seen = self._seen.setdefault(pixel_id, set())
            order = self._order.setdefault(pixel_id, deque())
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    order.append(key)
            while len(order) > _REMEMBERED:
                seen.discard(order.popleft())

    def messages(self, pixel_id: str, events: list[Any]) -> list[str]:
        """One message per AppendAttribution whose original this dataset never received."""
        facts = append_attribution()
        out: list[str] = []
        with self._lock:
            seen = self._seen.get(pixel_id, set())
            for index, event in enumerate(events):
                if not isinstance(event, Mapping):
                    continue
                if event.get("event_name") != "AppendAttribution":
                    continue
                name = _at(event, facts.event_name)
                ids = [_at(event, p) for p in facts.ids]
                if not any((name, i) in seen for i in ids if isinstance(i, str)):
                    out.append(
                        f"data[{index}]: AppendAttribution: no {name} with that order_id or "
                        "event_id was received by this dataset; the credit cannot be appended"
                    )
        return out

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._order.clear()
