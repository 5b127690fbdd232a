"""Per-event validation before an event is queued (capi-facts §2, §3.5).

One invalid event would make Meta reject its whole batch, so each server event is checked on
its own and, when it fails, left out and counted with a short, stable reason (never with the
values). The checks, in order:

- ``event_name`` present, at most 50 characters;
- ``event_time`` an integer (unix seconds), not older than 7 days and not more than 60 seconds
  ahead of the clock (the :class:`~capic.runtime.context.Context` clock);
- ``action_source`` one of the nine values Meta accepts;
- website events: ``event_source_url`` (``http://`` or ``https://``) and
  ``user_data.client_user_agent``;
- ``user_data`` not empty, and not only keys that Meta finds too broad to match (§3.5);
- the facts of :mod:`capic.runtime.limits`, read from the JSON Schemas: the keys its action
  source requires (``app_data`` of an app event), the custom_data keys the event requires (a Purchase without ``currency`` or ``value``, also when its value could
  not be converted), an ISO 4217 ``currency``, custom_data numbers finite, within 64 bits and
  within the schema's bounds (``value`` not negative), and the ``maxLength`` of top-level
  strings (a 20 MB ``event_source_url`` is rejected, never forwarded);
- the checks of :mod:`capic.runtime.metapolicy`: a physical_store event may be up to 62 days
  old when ``[meta]`` says so; AppendAttribution within 48 hours of an allowed original; a CRM
  stage with an integer ``lead_id``.
"""

from __future__ import annotations

import math
from typing import Any, Final

from capic.meta import catalog
from capic.runtime.coerce import OUT_OF_RANGE
from capic.runtime.limits import limits
from capic.runtime.metapolicy import APPEND_ATTRIBUTION, MetaPolicy, check_meta, default_policy

__all__ = [
    "ACTION_SOURCES",
    "MAX_EVENT_AGE",
    "MAX_FUTURE_SKEW",
    "OUT_OF_RANGE",
    "REASONS",
    "TOO_BROAD",
    "validate_event",
    "validate_timed_user",
    "validate_values",
]


_INT64: Final = 2**63

MAX_EVENT_AGE: Final = 7 * 24 * 3600
MAX_FUTURE_SKEW: Final = 60
MAX_EVENT_NAME: Final = 50

# Meta's facts come from the JSON Schemas (capic.meta.catalog), like everywhere else in capic.
ACTION_SOURCES: Final = frozenset(catalog.action_sources())
#: §3.5: a user_data whose keys are a subset of one of these cannot be matched.
TOO_BROAD: Final = catalog.too_broad_subsets()
_BROAD_KEYS: Final = frozenset().union(*TOO_BROAD)

MISSING_EVENT_NAME: Final = "missing event_name"
LONG_EVENT_NAME: Final = "event_name longer than 50 characters"
MISSING_EVENT_TIME: Final = "missing event_time"
INVALID_EVENT_TIME: Final = "invalid event_time"
OLD_EVENT_TIME: Final = "event_time older than 7 days"
FUTURE_EVENT_TIME: Final = "event_time in the future"
MISSING_ACTION_SOURCE: Final = "missing action_source"
INVALID_ACTION_SOURCE: Final = "invalid action_source"
MISSING_URL: Final = "website event without event_source_url"
INVALID_URL: Final = "event_source_url is not an http(s) URL"
MISSING_USER_AGENT: Final = "website event without client_user_agent"
EMPTY_USER_DATA: Final = "no customer information (empty user_data)"
BROAD_USER_DATA: Final = "customer information too broad to match"

#: Every reason :func:`validate_event` (and the payload builder) can give.
REASONS: Final = (
    MISSING_EVENT_NAME,
    LONG_EVENT_NAME,
    MISSING_EVENT_TIME,
    INVALID_EVENT_TIME,
    OLD_EVENT_TIME,
    FUTURE_EVENT_TIME,
    MISSING_ACTION_SOURCE,
    INVALID_ACTION_SOURCE,
    MISSING_URL,
    INVALID_URL,
    MISSING_USER_AGENT,
    EMPTY_USER_DATA,
    BROAD_USER_DATA,
)


def validate_event(
    event: dict[str, Any], now: float, policy: MetaPolicy | None = None
) -> str | None:
    """The first reason ``event`` cannot be sent, or None when it can. ``policy``: the
    ``[meta]`` settings of the module (:mod:`capic.runtime.metapolicy`; None: the defaults)."""
    name = event.get("event_name")
    if type(name) is not str or not name:
        return MISSING_EVENT_NAME
    if len(name) > MAX_EVENT_NAME:
        return LONG_EVENT_NAME
    return validate_timed_user(event, now, None, policy)


def validate_timed_user(
    event: dict[str, Any], now: float, website: bool | None, policy: MetaPolicy | None = None
) -> str | None:
    """:func:`validate_event` without the ``event_name`` checks; with ``website`` True or
    False, also without the ``action_source`` checks: the caller knows (at compile time) that
    ``event_name`` is valid and that ``action_source`` is a valid constant, ``website`` saying
    whether it is ``"website"``. Same answer as :func:`validate_event` for such events."""
    t = event.get("event_time")
    if t is None:
        return MISSING_EVENT_TIME
    if type(t) is not int:
        return INVALID_EVENT_TIME
    if t < now - MAX_EVENT_AGE:
        old = _old_event(event, t, now, policy)
        if old is not None:
            return old
    if t > now + MAX_FUTURE_SKEW:
        return FUTURE_EVENT_TIME
    if website is None:
        source = event.get("action_source")
        if source is None:
            return MISSING_ACTION_SOURCE
        if type(source) is not str or source not in ACTION_SOURCES:
            return INVALID_ACTION_SOURCE
        website = source == "website"
    user = event.get("user_data")
    if website:
        url = event.get("event_source_url")
        if url is None or url == "":
            return MISSING_URL
        if type(url) is not str or not url[:8].lower().startswith(("http://", "https://")):
            return INVALID_URL
        if type(user) is not dict or not user.get("client_user_agent"):
            return MISSING_USER_AGENT
    if type(user) is not dict or not user:
        return EMPTY_USER_DATA
    if len(user) <= 6 and user.keys() <= _BROAD_KEYS:
        keys = user.keys()
        for broad in TOO_BROAD:
            if keys <= broad:
                return BROAD_USER_DATA
    reason = validate_values(event)
    if reason is not None:
        return reason
    custom = event.get("custom_data")
    if event.get("event_name") == APPEND_ATTRIBUTION or (
        type(custom) is dict and custom.get("event_source") == "crm"
    ):
        return check_meta(event, now, policy)
    return None


def _old_event(event: dict[str, Any], t: int, now: float, policy: MetaPolicy | None) -> str | None:
    """An event older than 7 days: rejected, unless it is a physical_store event within the
    window of ``[meta] physical_store_window_days`` (Meta's docs also state 62 days)."""
    if event.get("action_source") != "physical_store":
        return OLD_EVENT_TIME
    pol = policy if policy is not None else default_policy()
    if pol.physical_store_max_age <= MAX_EVENT_AGE:
        return OLD_EVENT_TIME
    if t >= now - pol.physical_store_max_age:
        return None
    return f"physical_store event_time older than {pol.physical_store_window_days} days"


_LIMITS: Final = limits()
#: Values that count as "not given" for a key an action source requires (built once, not per
#: event: a tuple literal holding ``[]`` or ``{}`` is rebuilt on every evaluation).
_ABSENT: Final[tuple[object, ...]] = (None, "", [], {})
_ABSENT_USER: Final[tuple[object, ...]] = (None, "", [])


def validate_values(event: dict[str, Any]) -> str | None:
    """The checks of :mod:`capic.runtime.limits` (part of :func:`validate_event`)."""
    lim = _LIMITS
    for key, longest in lim.string_lengths:
        value = event.get(key)
        if type(value) is str and len(value) > longest:
            return f"{key} longer than {longest:,} characters"
    by_source = lim.required_by_source.get(event.get("action_source"))  # type: ignore[arg-type]
    if by_source is not None:
        top, user_keys = by_source
        for key in top:
            if event.get(key) in _ABSENT:
                return f"{event['action_source']} event without {key}"
        user = event.get("user_data")
        for key in user_keys:
            if type(user) is not dict or user.get(key) in _ABSENT_USER:
                return f"{event['action_source']} event without {key}"
    custom = event.get("custom_data")
    required = lim.required_custom.get(event.get("event_name"))  # type: ignore[arg-type]
    if required:
        for key in required:
            if type(custom) is not dict or custom.get(key) is None:
                return f"{event['event_name']} without custom_data.{key}"
    if type(custom) is not dict or not custom:
        return None
    currency = custom.get("currency")
    if currency is not None and currency not in lim.currencies:
        return "custom_data.currency is not an ISO 4217 code"
    for key, low, high in lim.custom_numbers:
        value = custom.get(key)
        if value is None:
            continue
        if value is OUT_OF_RANGE or (type(value) is float and not math.isfinite(value)):
            return f"custom_data.{key} out of range"
        if type(value) is int and not -_INT64 <= value < _INT64:
            return f"custom_data.{key} out of range"
        if type(value) is not int and type(value) is not float:
            continue
        if low is not None and value < low:
            return (
                f"custom_data.{key} is negative" if low == 0 else f"custom_data.{key} below {low}"
            )
        if high is not None and value > high:
            return f"custom_data.{key} out of range"
    return None
