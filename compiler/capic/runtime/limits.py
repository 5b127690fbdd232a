"""What a server event must satisfy at run time beyond its shape, read from the JSON Schemas.

The schemas (``schemas/*.schema.json``, through :mod:`capic.meta.catalog`) are the one source
of Meta facts: the linter checks literals against them statically, and these are the same
facts for values that only exist at run time:

- the custom_data keys a standard event requires (``Purchase``: ``currency`` and ``value``);
- the keys an action source requires (``app``: ``app_data``; ``business_messaging``:
  ``messaging_channel``; ``website``: ``event_source_url`` and ``user_data.client_user_agent``);
- the ISO 4217 codes ``custom_data.currency`` may take;
- the bounds of custom_data numbers (``value`` not negative) and that they are finite;
- the ``maxLength`` of top-level strings (``event_name``, ``event_source_url``,
  ``referrer_url``);
- capic's limit on one encoded event (``x-capic-max-event-bytes``).

Nothing is listed here by hand: a fact added to a schema is checked at run time as well.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from capic.meta import catalog

__all__ = ["Limits", "limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    #: Event name -> custom_data keys it requires.
    required_custom: dict[str, tuple[str, ...]]
    #: Action source -> (top-level keys, user_data keys) it requires.
    required_by_source: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    #: Accepted ``custom_data.currency`` values (uppercase ISO 4217).
    currencies: frozenset[str]
    #: custom_data number keys with their inclusive (minimum, maximum), None where unbounded.
    custom_numbers: tuple[tuple[str, float | None, float | None], ...]
    #: Top-level string keys with their maximum length (characters).
    string_lengths: tuple[tuple[str, int], ...]
    #: Longest encoded server event accepted (bytes).
    max_event_bytes: int


def _numeric(prop: dict[str, Any]) -> bool:
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    return bool({"number", "integer"} & set(types))


@functools.cache
def limits() -> Limits:
    """The run-time limits (read once per process)."""
    server = catalog.schema("server_event")
    custom = catalog.schema("custom_data")["properties"]
    required = {
        name: keys
        for name in catalog.standard_events()
        if (keys := catalog.required_custom_keys(name))
    }
    numbers = tuple(
        (key, prop.get("minimum"), prop.get("maximum"))
        for key, prop in custom.items()
        if _numeric(prop)
    )
    lengths = tuple(
        (key, int(prop["maxLength"]))
        for key, prop in server["properties"].items()
        if prop.get("type") == "string" and "maxLength" in prop
    )
    by_source: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for branch in catalog.schema("action_sources").get("allOf", ()):
        source = branch.get("if", {}).get("properties", {}).get("action_source", {}).get("const")
        then = branch.get("then", {})
        top = tuple(then.get("required", ()))
        user = tuple(then.get("properties", {}).get("user_data", {}).get("required", ()))
        if isinstance(source, str) and (top or user):
            by_source[source] = (top, user)
    return Limits(
        required_custom=required,
        required_by_source=by_source,
        currencies=catalog.currencies(),
        custom_numbers=numbers,
        string_lengths=lengths,
        max_event_bytes=int(server["x-capic-max-event-bytes"]),
    )
