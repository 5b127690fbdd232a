"""What a server event must satisfy at run time beyond its shape, read from the JSON Schemas.

The schemas (``schemas/*.schema.json``, through :mod:`capic.meta.catalog`) are the one source
of Meta facts: the linter checks literals against them statically, and these are the same
facts for values that only exist at run time:

- the custom_data keys a standard event requires (``Purchase``: ``currency`` and ``value``);
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
    return Limits(
        required_custom=required,
        currencies=catalog.currencies(),
        custom_numbers=numbers,
        string_lengths=lengths,
        max_event_bytes=int(server["x-capic-max-event-bytes"]),
    )
