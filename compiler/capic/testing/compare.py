"""Comparing what a rule sent with what a test expects, field by field.

Only the keys an expectation lists are compared (in sections and in objects alike); lists
compare item by item and must have the same length; scalars compare exactly, except that
numbers compare by value (``2`` equals ``2.0``) and ``true`` never equals ``1``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from capic.testing.spec import Absent, Anything, Exact, Hashed, ListSpec, ObjectSpec, Spec

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field that differs. ``path`` is the payload path (``custom_data.contents[0].id``)."""

    path: str
    expected: str
    actual: str
    note: str | None = None


def show(value: Any) -> str:
    """A value as the failure output shows it (JSON, or ``absent``)."""
    if value is _MISSING:
        return "absent"
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def show_spec(spec: Spec) -> str:
    if isinstance(spec, Exact):
        return show(spec.value)
    if isinstance(spec, Absent):
        return "absent"
    if isinstance(spec, Anything):
        return "any"
    if isinstance(spec, Hashed):
        raw = json.dumps(spec.raw, ensure_ascii=False)
        if spec.digest is None:
            return f"hashed({raw}) (not a valid {spec.key}: it normalizes to nothing)"
        if spec.normalized in (spec.digest, spec.raw):
            return f"hashed({raw}) = {spec.digest}"
        normalized = json.dumps(spec.normalized, ensure_ascii=False)
        return f"hashed({raw}) = sha256({normalized}) = {spec.digest}"
    if isinstance(spec, ListSpec):
        return "[" + ", ".join(show_spec(s) for s in spec.items) + "]"
    entries = (f"{json.dumps(k, ensure_ascii=False)}: {show_spec(s)}" for k, s in spec.entries)
    return "{" + ", ".join(entries) + "}"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def same(expected: Any, actual: Any) -> bool:
    """Exact equality of JSON values, numbers by value, booleans only with booleans."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if _is_number(expected) and _is_number(actual):
        if isinstance(expected, float) and isinstance(actual, float):
            return expected == actual or (math.isnan(expected) and math.isnan(actual))
        return bool(expected == actual)
    both_lists = isinstance(expected, list | tuple) and isinstance(actual, list | tuple)
    both_objects = isinstance(expected, dict) and isinstance(actual, dict)
    if type(expected) is not type(actual) and not (both_lists or both_objects):
        return False
    if isinstance(expected, list | tuple):
        return len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            same(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


def _empty_note(value: Any) -> str | None:
    """Why an empty value the test expects is absent: the payload leaves empty values out."""
    if value == "" or value == [] or value == {}:
        return 'empty values ("", [], {}) are not sent, like null: expect absent'
    return None


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def compare(spec: Spec, actual: Any, path: str) -> list[Mismatch]:
    """Mismatches of ``actual`` (``_MISSING`` when the key is absent) against ``spec``."""
    present = actual is not _MISSING and actual is not None
    if isinstance(spec, Absent):
        return [] if not present else [Mismatch(path, "absent", show(actual))]
    if isinstance(spec, Anything):
        return [] if present else [Mismatch(path, "any (a value)", "absent")]
    if isinstance(spec, Exact):
        if spec.value is None:
            return [] if not present else [Mismatch(path, "null (absent)", show(actual))]
        if not present:
            return [Mismatch(path, show_spec(spec), "absent", _empty_note(spec.value))]
        return [] if same(spec.value, actual) else [Mismatch(path, show_spec(spec), show(actual))]
    if isinstance(spec, Hashed):
        if spec.digest is not None and isinstance(actual, str) and actual == spec.digest:
            return []
        note = None
        if isinstance(actual, list) and spec.digest in actual:
            note = "the rule sent a list: expect a list, e.g. [hashed(...)]"
        return [Mismatch(path, show_spec(spec), show(actual) if present else "absent", note)]
    if isinstance(spec, ListSpec):
        if not isinstance(actual, list | tuple):
            note = _empty_note([]) if not present and not spec.items else None
            return [Mismatch(path, show_spec(spec), show(actual) if present else "absent", note)]
        if len(actual) != len(spec.items):
            return [
                Mismatch(
                    path,
                    show_spec(spec),
                    show(list(actual)),
                    f"expected {len(spec.items)} items, got {len(actual)}",
                )
            ]
        out: list[Mismatch] = []
        for i, (item_spec, item) in enumerate(zip(spec.items, actual, strict=True)):
            out.extend(compare(item_spec, item, _join(path, i)))
        return out
    return compare_object(spec, actual, path)


def compare_object(spec: ObjectSpec, actual: Any, path: str) -> list[Mismatch]:
    """The keys of ``spec`` in ``actual``. A missing section counts as an empty one, so that
    ``custom { currency = absent }`` holds when the rule sent no custom_data at all."""
    if actual is _MISSING or actual is None:
        actual = {}
    if not isinstance(actual, dict):
        return [Mismatch(path or "(event)", show_spec(spec), show(actual))]
    out: list[Mismatch] = []
    for key, sub in spec.entries:
        out.extend(compare(sub, actual.get(key, _MISSING), _join(path, key)))
    return out
