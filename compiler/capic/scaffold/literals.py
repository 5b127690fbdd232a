"""Rendering Python data as capic source literals (strings, numbers, lists, objects)."""

from __future__ import annotations

import math
from typing import Any

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def string(text: str) -> str:
    """A capic string literal: double quotes, the escapes the grammar knows, \\uXXXX for other
    control characters."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no capic literal")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _key(key: str) -> str:
    if key.isidentifier() and key.isascii():
        return key
    return string(key)


def inline(value: Any) -> str:
    """One-line capic literal; objects use ``key = value`` (the style of rule files)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(str(k))} = {inline(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no capic literal for {type(value).__name__}")


def json_block(value: Any, indent: int) -> str:
    """A multi-line literal in JSON syntax (which capic accepts for objects), continuation
    lines indented by ``indent`` spaces so that it sits inside a block. Short lists and
    objects of scalars stay on one line."""
    return _json(value, indent)


def _json_scalar(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return inline(value)
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"no capic literal for {type(value).__name__}")


def _json_inline(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{string(str(k))}: {_json_inline(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json_inline(v) for v in value) + "]"
    return _json_scalar(value)


def _json(value: Any, indent: int) -> str:
    flat = _json_inline(value)
    if not isinstance(value, dict | list | tuple):
        return flat
    # Objects holding objects or lists are spread out (events read best that way); anything
    # else stays on one line while it fits.
    nested = isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values())
    if not nested and indent + len(flat) <= 88:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{string(str(k))}: {_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_json(v, indent + 2)}" for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def block_value(value: Any, indent: int, width: int = 96) -> str:
    """``inline`` while it fits in ``width`` columns from ``indent``; a list that does not fit
    puts one item per line, its items indented two more spaces than ``indent``."""
    flat = inline(value)
    if indent + len(flat) <= width or not isinstance(value, list | tuple) or not value:
        return flat
    pad = " " * (indent + 2)
    items = ",\n".join(pad + inline(v) for v in value)
    return "[\n" + items + "\n" + " " * indent + "]"
