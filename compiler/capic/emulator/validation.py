"""Request validation the way the Graph API ``/events`` edge does it (capi-facts §1, §2, §3.5).

One invalid event rejects the whole request. Errors carry Meta's envelope: ``message``,
``type``, ``code``, ``error_subcode`` (when Meta documents one), ``is_transient``,
``error_user_title``, ``error_user_msg`` and ``fbtrace_id``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from capic.emulator.meta_events import MetaEventRules

from capic.meta import catalog

__all__ = [
    "ACTION_SOURCES",
    "HASHED_KEYS",
    "MAX_EVENTS",
    "MAX_EVENT_AGE",
    "MAX_FUTURE_SKEW",
    "TOO_BROAD",
    "GraphError",
    "check_appsecret_proof",
    "validate_events",
]

MAX_EVENTS = 1000
MAX_EVENT_AGE = 7 * 24 * 3600
MAX_FUTURE_SKEW = 60

# Meta's facts come from the JSON Schemas (capic.meta.catalog), like everywhere else in capic.
ACTION_SOURCES: frozenset[str] = frozenset(catalog.action_sources())
HASHED_KEYS: frozenset[str] = catalog.hashed_keys()
#: §3.5: an event whose customer-information keys are a subset of one of these is invalid.
TOO_BROAD: tuple[frozenset[str], ...] = catalog.too_broad_subsets()

SUBCODE_TOO_OLD = 2804003
SUBCODE_NOT_HASHED = 2804016
SUBCODE_TOO_BROAD = 2804050

_BROAD_KEYS: frozenset[str] = frozenset().union(*TOO_BROAD)


def _is_sha256(value: str) -> bool:
    """64 hexadecimal characters. ``bytes.fromhex`` is twice as fast as a regex; it skips
    whitespace, which the decoded length (32 bytes only if there was none) rules out."""
    if len(value) != 64:
        return False
    try:
        return len(bytes.fromhex(value)) == 32
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class GraphError:
    """A Graph API error response."""

    status: int
    code: int
    message: str
    subcode: int | None = None
    type: str = "OAuthException"
    is_transient: bool = False
    user_title: str | None = None
    user_msg: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)

    def to_json(self, fbtrace_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err["is_transient"] = self.is_transient
        if self.user_title is not None:
            err["error_user_title"] = self.user_title
        if self.user_msg is not None:
            err["error_user_msg"] = self.user_msg
        err["fbtrace_id"] = fbtrace_id
        return {"error": err}


def invalid(title: str, msg: str, subcode: int | None = None) -> GraphError:
    """A code-100 rejection (HTTP 400)."""
    return GraphError(400, 100, "(#100) Invalid parameter", subcode, user_title=title, user_msg=msg)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _is_object(value: Any) -> bool:
    # Decoded JSON objects are dicts; the ABC check is only for callers passing other mappings.
    return type(value) is dict or isinstance(value, Mapping)


def _validate_user_data(user_data: Any, where: str, website: bool) -> GraphError | None:
    if not _is_object(user_data):
        return invalid(
            "Missing customer information",
            f"{where}: user_data is required and must be an object.",
            SUBCODE_TOO_BROAD,
        )
    keys = {k for k, v in user_data.items() if v is not None and v != "" and v != []}
    for key in keys & HASHED_KEYS:
        value = user_data[key]
        values = value if type(value) is list else (value,)
        for item in values:
            if type(item) is not str or not _is_sha256(item):
                return invalid(
                    "User Parameter Not Hashed",
                    f"{where}: user_data.{key} must be a SHA-256 hash (64 hexadecimal "
                    "characters) of the normalized value.",
                    SUBCODE_NOT_HASHED,
                )
    if not keys or (keys <= _BROAD_KEYS and any(keys <= broad for broad in TOO_BROAD)):
        listed = ", ".join(sorted(keys)) or "none"
        return invalid(
            "Customer information too broad",
            f"{where}: the customer information parameters ({listed}) are too few or too broad "
            "to match; add an email, phone number, external_id, click or browser id.",
            SUBCODE_TOO_BROAD,
        )
    if website and not _present(user_data.get("client_user_agent")):
        return invalid(
            "Missing client user agent",
            f"{where}: website events require user_data.client_user_agent.",
        )
    return None


def validate_event(
    event: Any, index: int, now: float, rules: MetaEventRules | None = None
) -> GraphError | None:
    """The first problem with one server event, or None. ``rules``: how the event types of
    2024-2026 are checked (:mod:`capic.emulator.meta_events`; None: not at all)."""
    where = f"data[{index}]"
    if not _is_object(event):
        return invalid("Invalid event", f"{where} must be a JSON object.")
    name = event.get("event_name")
    if not isinstance(name, str) or not name.strip():
        return invalid("Missing event name", f"{where}: event_name is required.")
    if len(name) > 50:
        return invalid("Invalid event name", f"{where}: event_name is longer than 50 characters.")
    event_time = event.get("event_time")
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        return invalid(
            "Invalid event time", f"{where}: event_time must be an integer (unix seconds)."
        )
    if event_time < now - MAX_EVENT_AGE and not (
        rules is not None and rules.old_event_allowed(event, event_time, now)
    ):
        return invalid(
            "Event Timestamp Too Old",
            f"{where}: event_time is more than 7 days in the past.",
            SUBCODE_TOO_OLD,
        )
    if event_time > now + MAX_FUTURE_SKEW:
        return invalid("Event Timestamp In Future", f"{where}: event_time is in the future.")
    source = event.get("action_source")
    if source not in ACTION_SOURCES:
        return invalid(
            "Invalid action source",
            f"{where}: action_source must be one of {', '.join(sorted(ACTION_SOURCES))}.",
        )
    website = source == "website"
    if website and not _present(event.get("event_source_url")):
        return invalid(
            "Missing event source URL", f"{where}: website events require event_source_url."
        )
    custom = event.get("custom_data")
    if custom is not None and not _is_object(custom):
        return invalid("Invalid custom data", f"{where}: custom_data must be an object.")
    problem = _validate_user_data(event.get("user_data"), where, website)
    if problem is None and rules is not None:
        return rules.check(event, where, now)
    return problem


def validate_events(
    data: Any, now: float, rules: MetaEventRules | None = None
) -> GraphError | None:
    """Validate the ``data`` parameter: present, a list of at most 1,000 valid events."""
    if data is None or data == [] or data == "":
        return GraphError(400, 100, "(#100) The parameter data is required")
    if not isinstance(data, list):
        return invalid("Invalid data", "data must be an array of events.")
    if len(data) > MAX_EVENTS:
        return invalid(
            "Too many events",
            f"A request can hold at most {MAX_EVENTS} events; this one has {len(data)}.",
        )
    for index, event in enumerate(data):
        problem = validate_event(event, index, now, rules)
        if problem is not None:
            return problem
    return None


def check_appsecret_proof(params: Mapping[str, Any], app_secret: str) -> GraphError | None:
    """``appsecret_proof`` must be the hex HMAC-SHA256 of the access token keyed with the app
    secret, as Meta checks it for an app that requires it (code 100 otherwise)."""
    token = params.get("access_token")
    proof = params.get("appsecret_proof")
    if not isinstance(proof, str) or not proof:
        return GraphError(
            400,
            100,
            "API calls from the server require an appsecret_proof argument",
            type="GraphMethodException",
        )
    key = app_secret.encode("utf-8")
    expected = hmac.new(key, str(token or "").encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(proof.encode("utf-8"), expected.encode("ascii")):
        return GraphError(
            400,
            100,
            "Invalid appsecret_proof provided in the API argument",
            type="GraphMethodException",
        )
    return None
