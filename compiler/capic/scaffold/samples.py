"""Sample events of a scaffolded project and the payload each generated rule must send.

The expectations are computed here from the sample, by the same steps the generated
``elements.capi`` spells out (upper-case currency, numbers from strings, contents items with id,
quantity and item_price, content_ids from contents, num_items as the sum of quantities), so the
generated ``test`` blocks say exactly what the rules do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from capic.scaffold import literals
from capic.scaffold.events import (
    CLIENT_IP,
    CUSTOMER,
    CUSTOMER_KEYS,
    FBC,
    FBP,
    USER_AGENT,
    StandardEvent,
)

#: The clock of a generated test runs this many seconds after the event's timestamp.
CLOCK_OFFSET = 2


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_url(domain: str, path: str) -> str:
    return f"https://{domain}{path}"


def event_of(ev: StandardEvent, domain: str) -> dict[str, Any]:
    """The data layer object the site forwards for ``ev`` (see the generated README)."""
    conversion: dict[str, Any] = {"eventId": ev.event_id, **ev.conversion}
    event: dict[str, Any] = {
        "eventName": ev.name,
        "timestamp": ev.time,
        "page": {"url": page_url(domain, ev.page), "referrer": page_url(domain, "/")},
        "conversionData": conversion,
    }
    if ev.known_customer:
        event["customerInformation"] = dict(CUSTOMER)
    event["fbp"] = FBP
    if ev.from_ad:
        event["fbc"] = FBC
    return event


def request_of() -> dict[str, Any]:
    """The HTTP request the event reached the collector with."""
    return {"ip": CLIENT_IP, "headers": {"user-agent": USER_AGENT}}


def envelope(ev: StandardEvent, domain: str) -> dict[str, Any]:
    return {"event": event_of(ev, domain), "request": request_of()}


def clock(ev: StandardEvent) -> str:
    return iso(parse_iso(ev.time) + timedelta(seconds=CLOCK_OFFSET))


# ----------------------------------------------------------------------------- expectations


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


def _contents(conversion: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in conversion.get("contents") or []:
        if item.get("id") is None:
            continue
        entry: dict[str, Any] = {"id": str(item["id"]), "quantity": int(item.get("quantity", 1))}
        price = _number(item.get("item_price"))
        if price is not None:
            entry["item_price"] = price
        out.append(entry)
    return out


def _custom_value(key: str, conversion: dict[str, Any]) -> Any:
    contents = _contents(conversion)
    if key == "currency":
        raw = conversion.get("currency")
        return raw.strip().upper() if isinstance(raw, str) else None
    if key in {"value", "predicted_ltv"}:
        return _number(conversion.get(key))
    if key == "contents":
        return contents
    if key == "content_ids":
        return conversion.get("content_ids") or [c["id"] for c in contents]
    if key == "content_type":
        return conversion.get("content_type", "product")
    if key == "num_items":
        given = conversion.get("num_items")
        return int(given) if given is not None else sum(c["quantity"] for c in contents)
    if key == "search_string":
        raw = conversion.get("search_string")
        return raw.strip() if isinstance(raw, str) else None
    if key == "order_id":
        raw = conversion.get("order_id")
        return None if raw is None else str(raw)
    return conversion.get(key)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a generated test expects: ``(key, capic source of the expected value)`` pairs."""

    top: tuple[tuple[str, str], ...]
    user: tuple[tuple[str, str], ...]
    custom: tuple[tuple[str, str], ...]


def expected(ev: StandardEvent, domain: str) -> Expected:
    event_time = int(parse_iso(ev.time).timestamp())
    top = (
        ("event_id", literals.string(ev.event_id)),
        ("event_time", str(event_time)),
        ("action_source", '"website"'),
        ("event_source_url", literals.string(page_url(domain, ev.page))),
    )
    user: list[tuple[str, str]] = []
    if ev.known_customer:
        for key, _, field in CUSTOMER_KEYS:
            user.append((key, f"hashed({literals.string(CUSTOMER[field])})"))
    else:
        user.append(("em", "absent"))
    user.append(("client_ip_address", literals.string(CLIENT_IP)))
    user.append(("client_user_agent", literals.string(USER_AGENT)))
    user.append(("fbp", literals.string(FBP)))
    user.append(("fbc", literals.string(FBC) if ev.from_ad else "absent"))
    custom: list[tuple[str, str]] = []
    for key in ev.custom:
        value = _custom_value(key, ev.conversion)
        shown = "absent" if value is None else literals.block_value(value, 6, 72)
        custom.append((key, shown))
    return Expected(top, tuple(user), tuple(custom))
