"""Safe pieces of generated Python: literals, identifiers, and code the compiler built.

Text from rule files never reaches generated code except through :func:`lit` (``repr`` of a
str, int, float, bool or None: a literal that evaluates to exactly that value, whatever
quotes, backslashes, newlines or control characters it holds) or through :func:`ident`
(identifiers checked against a strict pattern). The templates only accept :class:`Code`
values, so a raw string interpolated by mistake fails the build instead of injecting code.
"""

from __future__ import annotations

import hashlib
import keyword
import math
import re
from typing import Any

__all__ = ["Code", "comment_text", "ident", "lit", "slug"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


class Code(str):
    """A fragment of Python produced by the compiler (safe to place into a template)."""

    __slots__ = ()


def lit(value: Any) -> Code:
    """A Python literal for a JSON-like constant (nested lists and dicts included)."""
    if value is None or value is True or value is False:
        return Code(repr(value))
    t = type(value)
    if t is str:
        return Code(repr(value))
    if t is int:
        return Code(repr(value) if value >= 0 else f"({value!r})")
    if t is float:
        if math.isnan(value):
            return Code("float('nan')")
        if math.isinf(value):
            return Code("float('inf')" if value > 0 else "(-float('inf'))")
        text = repr(value)
        return Code(text if not text.startswith("-") else f"({text})")
    if t is list or t is tuple:
        items = ", ".join(lit(v) for v in value)
        if t is tuple:
            return Code(f"({items},)" if len(value) == 1 else f"({items})")
        return Code(f"[{items}]")
    if t is dict:
        entries = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items())
        return Code("{" + entries + "}")
    raise TypeError(f"no safe literal for {type(value).__name__}")


def ident(name: str) -> Code:
    """``name`` when it is a plain ASCII identifier that is not a keyword; ValueError else."""
    if not _IDENT.fullmatch(name) or keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return Code(name)


def slug(text: str, limit: int = 40) -> str:
    """An identifier-safe, lowercase ASCII rendering of ``text`` (for function names)."""
    s = re.sub(r"[^A-Za-z0-9]+", "_", text, flags=re.ASCII).strip("_").lower()[:limit]
    s = s.strip("_")
    if not s:
        s = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return s


def comment_text(text: str) -> Code:
    """Text for a ``#`` comment: its literal form, so no character can end the comment."""
    return Code(lit(text))
