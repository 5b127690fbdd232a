"""What capic knows of the event types and restrictions Meta added in 2024-2026 (capi-facts
§15), read from the schemas like everything in :mod:`capic.meta.catalog`:

- AppendAttribution: ``append_attribution.schema.json`` (the 48-hour window, the default
  original events, the fields that link the event to its original, which are unverified);
- Conversion Leads (CRM): ``conversion_leads.schema.json`` (how a CRM stage is recognised);
- offline events: the ``physical_store`` branch of ``action_sources.schema.json`` (the dedup
  keys and their window);
- custom event names that suggest health conditions or financial status:
  ``standard_events.schema.json`` (capic's heuristic word list).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capic.meta import catalog

__all__ = [
    "AppendAttributionFacts",
    "append_attribution",
    "crm_markers",
    "is_crm_instance",
    "offline_dedup_keys",
    "offline_dedup_window_days",
    "sensitive_terms",
    "sensitive_words",
]

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppendAttributionFacts:
    window_hours: int
    originals: tuple[str, ...]
    #: Where the original's event name and time are, and the ids (any one) that link it.
    event_name: Path
    event_time: Path
    ids: tuple[Path, ...]
    #: Payload paths whose meaning is unverified [U].
    unverified: tuple[str, ...]


@functools.cache
def append_attribution() -> AppendAttributionFacts:
    doc = catalog.schema("append_attribution")
    link = doc["x-capic-link"]
    return AppendAttributionFacts(
        window_hours=int(doc["x-capic-window-hours"]),
        originals=tuple(doc["x-capic-original-events"]),
        event_name=tuple(link["event_name"]),
        event_time=tuple(link["event_time"]),
        ids=tuple(tuple(p) for p in link["ids"]),
        unverified=tuple(doc["x-capic-unverified"]),
    )


@functools.cache
def crm_markers() -> tuple[dict[str, Any], ...]:
    """The ways a send is recognised as a CRM stage (``x-capic-markers``)."""
    return tuple(catalog.schema("conversion_leads")["x-capic-markers"])


def _at(instance: Mapping[str, Any], path: list[str] | tuple[str, ...]) -> Any:
    node: Any = instance
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def _marker_holds(instance: Mapping[str, Any], marker: Mapping[str, Any]) -> bool:
    value = _at(instance, marker["path"])
    if value is None:
        return False
    if "equals" in marker and value != marker["equals"]:
        return False
    extra = marker.get("and")
    return extra is None or _marker_holds(instance, extra)


def is_crm_instance(instance: Mapping[str, Any]) -> bool:
    """True when a send's instance (literals known, expressions as sentinels) carries one of
    the CRM markers: ``custom_data.event_source = "crm"``, a ``lead_event_source``, or
    ``action_source = "system_generated"`` with a ``lead_id``."""
    return any(_marker_holds(instance, m) for m in crm_markers())


@functools.cache
def offline_dedup_keys() -> tuple[str, ...]:
    """custom_data keys Meta deduplicates physical_store events by (``order_id``,
    ``item_number``), besides ``event_time`` and ``event_name``."""
    return tuple(catalog.action_source_branch("physical_store")["x-capic-offline-dedup-keys"])


@functools.cache
def offline_dedup_window_days() -> int:
    return int(catalog.action_source_branch("physical_store")["x-capic-offline-dedup-window-days"])


@functools.cache
def sensitive_terms() -> dict[str, frozenset[str]]:
    """Category (``health``, ``financial``) -> words (capic's heuristic)."""
    terms = catalog.schema("standard_events")["x-capic-sensitive-name-terms"]
    return {category: frozenset(words) for category, words in terms.items()}


_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """The words of an event name, lowercased: ``WeightLossPlan_v2`` -> weight, loss, plan,
    v, 2."""
    return [w.lower() for w in _WORDS.findall(name)]


def sensitive_words(
    name: str, extra: Mapping[str, frozenset[str]] | None = None
) -> list[tuple[str, str]]:
    """``(word, category)`` for every word of ``name`` (or two adjacent words written
    together: ``WeightLoss`` -> ``weightloss``) in the heuristic lists, in name order."""
    lists = dict(sensitive_terms())
    for category, more in (extra or {}).items():
        lists[category] = lists.get(category, frozenset()) | more
    parts = words(name)
    candidates = parts + [a + b for a, b in itertools.pairwise(parts)]
    found: list[tuple[str, str]] = []
    for word in candidates:
        for category, terms in lists.items():
            if word in terms and (word, category) not in found:
                found.append((word, category))
    return found
