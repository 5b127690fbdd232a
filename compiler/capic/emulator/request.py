"""What a Graph API request carries and whether Meta would take it: parameters merged from
the query string and a JSON or form body (as the SDKs send them), then the token, the
appsecret_proof, the pixel id and the events, each refused with Meta's own error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from capic.emulator.validation import GraphError, check_appsecret_proof, validate_events

if TYPE_CHECKING:
    from capic.emulator.state import EmulatorState

__all__ = ["check_events_request", "check_token", "query_params", "request_params"]


def query_params(query: str) -> dict[str, Any]:
    """The query string's parameters, the last of each name winning."""
    return {k: v[-1] for k, v in parse_qs(query).items()}


def request_params(query: str, body: bytes) -> dict[str, Any] | None:
    """Merge query-string parameters with a JSON or form-encoded body."""
    params = query_params(query)
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            decoded = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(decoded, dict):
            return None
        params.update(decoded)
    elif stripped:
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        params.update({k: v[-1] for k, v in form.items()})
    data = params.get("data")
    if isinstance(data, str) and data:
        try:
            params["data"] = orjson.loads(data)
        except orjson.JSONDecodeError:
            params["data"] = data
    data = params.get("data")
    if isinstance(data, list):
        # The SDK sends each event as its own JSON-encoded string.
        events: list[Any] = []
        for item in data:
            if isinstance(item, str):
                try:
                    events.append(orjson.loads(item))
                except orjson.JSONDecodeError:
                    events.append(item)
            else:
                events.append(item)
        params["data"] = events
    return params


def check_token(params: dict[str, Any], token: str | None) -> GraphError | None:
    """Code 190 for a missing or wrong ``access_token`` (None: any token will do)."""
    if token is not None:
        given = params.get("access_token")
        if not isinstance(given, str) or not given:
            return GraphError(400, 190, "An access token is required to request this resource.")
        if given != token:
            return GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
    return None


def check_events_request(
    state: EmulatorState, pixel_id: str, params: dict[str, Any]
) -> GraphError | None:
    """The first reason Meta would refuse ``POST /{pixel_id}/events`` with these parameters:
    token, appsecret_proof, pixel id, then the events themselves."""
    problem = check_token(params, state.token)
    if problem is not None:
        return problem
    if state.app_secret is not None:
        problem = check_appsecret_proof(params, state.app_secret)
        if problem is not None:
            return problem
    if not pixel_id.isdigit():
        return GraphError(
            400,
            100,
            f"Unsupported post request. Object with ID '{pixel_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            33,
            type="GraphMethodException",
        )
    return validate_events(params.get("data"), state.now(), state.rules)
