"""Request bodies: what ``/v1/events`` and ``/v1/collect`` accept, parsed or refused.

``/v1/events`` takes the envelopes ``capic run`` reads (``{"event": ..., "request": ...}`` or a
bare event) as one JSON object, a JSON array, or JSON Lines. Each *input* is judged on its own:
one that is not an object is rejected with a reason, the others go on. Only a body with
nothing readable in it is refused as a whole (:class:`BodyError`, HTTP 400).

``/v1/collect`` takes one object ``{"event": {...}, "url": "<page URL>", "referrer": "..."}``
(sent as ``text/plain`` or JSON); a ``request`` key the browser sends is ignored, since the
request context comes from the HTTP request itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from capic.serve.limits import deeper_than, json_depth

__all__ = ["BodyError", "CollectBody", "Input", "TooManyEvents", "parse_collect", "parse_events"]

_MAX_URL: Final = 8192


class BodyError(ValueError):
    """The body cannot be read at all: HTTP 400 with this message."""


class TooManyEvents(BodyError):
    """More inputs than ``max_events`` in one request: HTTP 413."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} events in one request; the limit is {limit}")


@dataclass(frozen=True, slots=True)
class Input:
    """One input of ``/v1/events``: an event and its client's request context, or why not."""

    index: int
    event: Any = None
    request: Any = None
    problem: str | None = None


def _check_depth(value: Any, max_depth: int) -> None:
    if deeper_than(value, max_depth):
        depth = json_depth(value)
        raise BodyError(f"JSON nested {depth} levels deep; the limit is {max_depth}")


def _loads(body: bytes) -> Any:
    """orjson's parse; its own nesting limit (far above ours) is reported like ours."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc).lower() or "recursion" in str(exc).lower():
            raise BodyError("JSON nested deeper than the parser allows (1,024 levels)") from None
        raise


def _envelope(index: int, obj: Any) -> Input:
    if type(obj) is not dict:
        return Input(index, problem="not a JSON object")
    if "event" in obj and len(obj) <= 2 and (len(obj) == 1 or "request" in obj):
        event = obj["event"]
        if type(event) is not dict:
            return Input(index, problem='the envelope\'s "event" is not an object')
        request = obj.get("request")
        if request is not None and type(request) is not dict:
            return Input(index, problem='the envelope\'s "request" is not an object')
        return Input(index, event, request)
    return Input(index, obj)


def parse_events(body: bytes, *, max_depth: int, max_events: int) -> list[Input]:
    """The inputs of a ``/v1/events`` body (see the module docstring)."""
    if not body.strip():
        raise BodyError("the body is empty")
    try:
        whole = _loads(body)
    except orjson.JSONDecodeError:
        return _json_lines(body, max_events, max_depth)
    _check_depth(whole, max_depth)
    if type(whole) is list:
        if len(whole) > max_events:
            raise TooManyEvents(len(whole), max_events)
        return [_envelope(i, obj) for i, obj in enumerate(whole)]
    if type(whole) is dict:
        return [_envelope(0, whole)]
    raise BodyError("the body is neither a JSON object, an array nor JSON Lines")


def _json_lines(body: bytes, max_events: int, max_depth: int) -> list[Input]:
    lines = [line for line in body.split(b"\n") if line.strip()]
    if len(lines) > max_events:
        raise TooManyEvents(len(lines), max_events)
    out: list[Input] = []
    readable = 0
    for index, line in enumerate(lines):
        try:
            obj = _loads(line)
        except orjson.JSONDecodeError:
            out.append(Input(index, problem="not valid JSON"))
            continue
        _check_depth(obj, max_depth)
        readable += 1
        out.append(_envelope(index, obj))
    if not readable:
        raise BodyError("the body is not JSON (an object, an array, or JSON Lines)")
    return out


@dataclass(frozen=True, slots=True)
class CollectBody:
    event: dict[str, Any]
    url: str | None
    referrer: str | None


def _url(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_URL:
        raise BodyError(f'"{what}" must be a URL string of at most {_MAX_URL} characters')
    return value


def parse_collect(body: bytes, *, max_depth: int) -> CollectBody:
    if not body.strip():
        raise BodyError("the body is empty")
    try:
        obj = _loads(body)
    except orjson.JSONDecodeError:
        raise BodyError("the body is not JSON") from None
    _check_depth(obj, max_depth)
    if type(obj) is not dict or type(obj.get("event")) is not dict:
        raise BodyError('the body must be {"event": {...}, "url": "...", "referrer": "..."}')
    return CollectBody(
        obj["event"], _url(obj.get("url"), "url"), _url(obj.get("referrer"), "referrer")
    )
