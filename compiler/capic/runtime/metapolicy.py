"""Run-time checks of the event types Meta added in 2024-2026 (capi-facts §15), and the
settings that switch them: ``[meta]`` in capic.toml, compiled into the rule module.

- **physical_store window**: Meta's offline-events page states both the 7-day ``event_time``
  limit and a 62-day upload window (§8.2). capic enforces 7 days unless
  ``physical_store_window_days = 62``; other action sources always keep 7 days.
- **AppendAttribution**: the original conversion must be less than 48 hours old when the event
  is processed, and be one of ``append_attribution_originals`` (Purchase and
  fb_mobile_purchase by default); ``append_attribution_checks = false`` turns both off. The
  fields that link the event to its original are read from ``schemas/append_attribution``
  (``x-capic-link``), the one place they are written down (they are unverified).
- **Conversion Leads (CRM)**: a stage event (``custom_data.event_source = "crm"``) must carry
  ``user_data.lead_id``, the Lead Ads lead id, as an integer: a string of digits (what CRM
  exports often hold) becomes the integer, anything else rejects the event.

Every default comes from the schemas through :mod:`capic.meta.catalog`. Rejection reasons are
short fixed strings (never values), like :mod:`capic.runtime.validate`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from capic.meta import catalog

__all__ = [
    "APPEND_ATTRIBUTION",
    "REASONS",
    "MetaPolicy",
    "check_meta",
    "default_policy",
    "is_crm_stage",
]

APPEND_ATTRIBUTION: Final = "AppendAttribution"
_DAY: Final = 24 * 3600

NO_ORIGINAL_TIME: Final = "AppendAttribution without original_event_data.event_time"
NO_ORIGINAL_NAME: Final = "AppendAttribution without original_event_data.event_name"
NO_ORIGINAL_ID: Final = "AppendAttribution without the original's order_id or event_id"
ORIGINAL_TOO_OLD: Final = "AppendAttribution more than 48 hours after the original event"
ORIGINAL_NOT_ALLOWED: Final = (
    "AppendAttribution for an original event not in append_attribution_originals"
)
CRM_WITHOUT_LEAD: Final = "CRM stage without user_data.lead_id"
CRM_LEAD_NOT_INTEGER: Final = "CRM stage whose lead_id is not an integer"

#: Every reason :func:`check_meta` (and the physical_store window) can give.
REASONS: Final = (
    NO_ORIGINAL_TIME,
    NO_ORIGINAL_NAME,
    NO_ORIGINAL_ID,
    ORIGINAL_TOO_OLD,
    ORIGINAL_NOT_ALLOWED,
    CRM_WITHOUT_LEAD,
    CRM_LEAD_NOT_INTEGER,
)


@functools.cache
def _append_attribution() -> dict[str, Any]:
    return catalog.schema("append_attribution")


@functools.cache
def _store_window() -> dict[str, Any]:
    branch = catalog.action_source_branch("physical_store")
    found = branch.get("x-capic-max-age-days", {})
    return found if isinstance(found, dict) else {}


def _link(name: str) -> tuple[str, str]:
    path = _append_attribution()["x-capic-link"][name]
    return str(path[0]), str(path[1])


@functools.cache
def _id_links() -> tuple[tuple[str, str], ...]:
    return tuple((str(p[0]), str(p[1])) for p in _append_attribution()["x-capic-link"]["ids"])


@dataclass(frozen=True, slots=True)
class MetaPolicy:
    """The settings of ``[meta]``, with the schemas' defaults for what is not set."""

    #: Oldest physical_store event accepted, in days (7 or 62).
    physical_store_window_days: int
    #: Check AppendAttribution events at run time.
    append_attribution_checks: bool
    #: Original event names an AppendAttribution may credit.
    append_attribution_originals: tuple[str, ...]
    #: Hours within which an AppendAttribution must follow its original (schema fact).
    append_attribution_window_hours: int

    @classmethod
    def from_settings(cls, meta: Mapping[str, Any] | None) -> MetaPolicy:
        """From a ``[meta]`` table (or the ``SETTINGS["meta"]`` of a rule module); missing
        or malformed values take the schemas' defaults (capic.toml is validated before)."""
        given = dict(meta or {})
        facts = _append_attribution()
        window = _store_window()
        days = given.get("physical_store_window_days")
        if days not in window.get("choices", (7,)) or type(days) is not int:
            days = int(window.get("default", 7))
        checks = given.get("append_attribution_checks")
        originals = given.get("append_attribution_originals")
        if not (isinstance(originals, list | tuple) and originals):
            originals = facts["x-capic-original-events"]
        return cls(
            physical_store_window_days=days,
            append_attribution_checks=checks if isinstance(checks, bool) else True,
            append_attribution_originals=tuple(str(o) for o in originals),
            append_attribution_window_hours=int(facts["x-capic-window-hours"]),
        )

    def to_settings(self) -> dict[str, Any]:
        """The ``[meta]`` settings in force, as a rule module's ``SETTINGS["meta"]``."""
        return {
            "physical_store_window_days": self.physical_store_window_days,
            "append_attribution_checks": self.append_attribution_checks,
            "append_attribution_originals": list(self.append_attribution_originals),
        }

    @property
    def physical_store_max_age(self) -> int:
        """Seconds a physical_store event may be old."""
        return self.physical_store_window_days * _DAY


@functools.cache
def default_policy() -> MetaPolicy:
    return MetaPolicy.from_settings(None)


def is_crm_stage(event: Mapping[str, Any]) -> bool:
    """``custom_data.event_source == "crm"``: the Conversion Leads payload."""
    custom = event.get("custom_data")
    return type(custom) is dict and custom.get("event_source") == "crm"


def _integer(value: Any) -> int | None:
    if type(value) is int:
        return value if value >= 0 else None
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def check_meta(event: dict[str, Any], now: float, policy: MetaPolicy | None = None) -> str | None:
    """The reason an AppendAttribution or CRM event cannot be sent, or None. A CRM stage's
    lead_id written as digits becomes the integer Meta expects (in ``event``)."""
    pol = policy if policy is not None else default_policy()
    if event.get("event_name") == APPEND_ATTRIBUTION and pol.append_attribution_checks:
        reason = _append_attribution_reason(event, now, pol)
        if reason is not None:
            return reason
    if is_crm_stage(event):
        user = event.get("user_data")
        lead = user.get("lead_id") if type(user) is dict else None
        if lead is None or lead == "":
            return CRM_WITHOUT_LEAD
        number = _integer(lead)
        if number is None:
            return CRM_LEAD_NOT_INTEGER
        if number is not lead:
            assert type(user) is dict
            user["lead_id"] = number
    return None


def _append_attribution_reason(event: Mapping[str, Any], now: float, pol: MetaPolicy) -> str | None:
    section, key = _link("event_time")
    original = event.get(section)
    original = original if type(original) is dict else {}
    t = original.get(key)
    if type(t) is not int:
        return NO_ORIGINAL_TIME
    name_section, name_key = _link("event_name")
    holder = event.get(name_section)
    name = holder.get(name_key) if type(holder) is dict else None
    if type(name) is not str or not name:
        return NO_ORIGINAL_NAME
    if not any(
        type(h := event.get(s)) is dict and h.get(k) not in (None, "") for s, k in _id_links()
    ):
        return NO_ORIGINAL_ID
    if name not in pol.append_attribution_originals:
        return ORIGINAL_NOT_ALLOWED
    if now - t >= pol.append_attribution_window_hours * 3600:
        return ORIGINAL_TOO_OLD
    return None
