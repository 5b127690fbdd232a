"""Path access into incoming events that never raises.

A path is a base value and segments: a field name (``str``) or a list index (``int``; negative
counts from the end). Every step that cannot be taken gives ``None``: a missing key, an index
out of range, a value of the wrong type (a field of a list, an index into an object, anything
into a string or a number), or a segment that is neither a string nor an integer.

Generated rule modules call :func:`get1`, :func:`get2` and :func:`get3` for one to three field
names, :func:`get_keys` for longer chains (the key tuple is a module constant) and
:func:`get_path` for anything else. A rule that reads several fields of one object binds
the object once with :func:`obj` (``o = obj(event.get("customer"))``) and reads each field
with ``o.get(key)``: :func:`obj` gives something whose ``get`` answers exactly what
:func:`get1` would, and never raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Protocol

__all__ = ["Getter", "get1", "get2", "get3", "get_keys", "get_path", "obj", "step"]


class Getter(Protocol):
    """What :func:`obj` returns: ``get(key)`` is :func:`get1` of the bound value."""

    def get(self, key: str, /) -> Any: ...


class _SafeMapping:
    """A foreign mapping whose ``get`` must not break the rule (see :func:`get1`)."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: Mapping[Any, Any]) -> None:
        self._mapping = mapping

    def get(self, key: str, /) -> Any:
        try:
            return self._mapping.get(key)
        except Exception:
            return None


#: What a value that is not an object binds to: every field is None.
_NO_FIELDS: Final[Mapping[str, Any]] = MappingProxyType({})


def obj(value: Any) -> Getter:
    """``value`` bound for field reads: ``obj(v).get(k) == get1(v, k)`` for every ``v``."""
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return _SafeMapping(value)
    return _NO_FIELDS


def get1(value: Any, key: str) -> Any:
    """``value.key``: the field of an object, or None."""
    if type(value) is dict:
        return value.get(key)
    if isinstance(value, Mapping):
        try:
            return value.get(key)
        except Exception:  # a foreign mapping (e.g. a framework's headers) must not break us
            return None
    return None


def get_keys(value: Any, keys: tuple[str, ...]) -> Any:
    """``value.k1.k2...``: a chain of field names."""
    for key in keys:
        if type(value) is dict:
            value = value.get(key)
        else:
            value = get1(value, key)
        if value is None:
            return None
    return value


def get2(value: Any, k1: str, k2: str) -> Any:
    """``value.k1.k2`` (the most common path shape, without a loop)."""
    if type(value) is dict:
        value = value.get(k1)
        if type(value) is dict:
            return value.get(k2)
        return None if value is None else get1(value, k2)
    return get_keys(value, (k1, k2))


def get3(value: Any, k1: str, k2: str, k3: str) -> Any:
    """``value.k1.k2.k3``."""
    if type(value) is dict:
        v = value.get(k1)
        if type(v) is dict:
            v = v.get(k2)
            if type(v) is dict:
                return v.get(k3)
            return None if v is None else get1(v, k3)
        return None if v is None else get_keys(v, (k2, k3))
    return get_keys(value, (k1, k2, k3))


def step(value: Any, segment: Any) -> Any:
    """One step: a field name on an object, an integer index on a list."""
    if value is None:
        return None
    if type(segment) is str:
        return get1(value, segment)
    if type(segment) is int or (type(segment) is float and segment.is_integer()):
        if isinstance(value, list | tuple):
            index = int(segment)
            if -len(value) <= index < len(value):
                return value[index]
            return None
        if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
            try:
                return value[int(segment)]
            except Exception:
                return None
        return None
    if isinstance(segment, str):  # a str subclass
        return get1(value, str.__str__(segment))
    return None


def get_path(value: Any, segments: tuple[Any, ...]) -> Any:
    """``value`` followed along ``segments`` (field names and indexes, mixed)."""
    for segment in segments:
        t = type(segment)
        if t is str and type(value) is dict:
            value = value.get(segment)
        elif t is int and type(value) is list:
            if -len(value) <= segment < len(value):
                value = value[segment]
            else:
                return None
        else:
            value = step(value, segment)
        if value is None:
            return None
    return value
