"""What a schema failure is (:class:`SchemaFinding`) and how its path reads in messages
(:func:`dotted`): what the checks of :mod:`capic.lint.checks` claim and describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Path", "Pointer", "SchemaFinding", "UnsupportedSchema", "dotted"]

Pointer = tuple[str | int, ...]
Path = tuple[str | int, ...]


class UnsupportedSchema(ValueError):
    """A schema uses a keyword the evaluator does not implement."""


@dataclass(frozen=True, slots=True)
class SchemaFinding:
    """One failure of an instance against the schemas."""

    #: The JSON Schema keyword that failed (required, type, enum, additionalProperties, ...).
    kind: str
    #: Path of the value the keyword applies to (for required/additionalProperties/
    #: dependentRequired: the object; ``key`` names the member).
    path: Path
    #: The missing (required, dependentRequired) or unexpected (additionalProperties) key.
    key: str | None
    #: The failing value (None for a missing key).
    instance: Any
    #: The keyword's value in the schema (the enum, the pattern, the type, ...).
    expected: Any
    #: The schema document and JSON pointer of the subschema holding the keyword.
    document: str
    pointer: Pointer
    #: The ``if`` branches on the way, outermost first (e.g. ("business_messaging", "whatsapp")).
    branches: tuple[str, ...]
    #: The subschema holding the keyword.
    schema: dict[str, Any]
    #: For dependentRequired: the key whose presence requires ``key``.
    trigger: str | None = None

    @property
    def target(self) -> Path:
        """Path of the member concerned (the object path plus ``key`` when there is one)."""
        return (*self.path, self.key) if self.key is not None else self.path

    def description(self) -> str | None:
        """The schema's description of the value concerned, when it has one."""
        if self.key is not None:
            prop = self.schema.get("properties", {}).get(self.key)
            if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                return str(prop["description"])
            return None
        desc = self.schema.get("description")
        return desc if isinstance(desc, str) else None


def dotted(path: Path) -> str:
    """``("custom_data", "contents", 0, "id")`` -> ``custom_data.contents[0].id``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out or "(event)"
