"""AST <-> plain JSON data, for the parse cache.

The cache lives in the user's tree, so it must never be able to execute code when read (a
pickle could): this is a closed, data-only format that rebuilds only AST classes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from capic.diagnostics import Diagnostic, Severity, Span
from capic.syntax import ast

_CLASSES: dict[str, type] = {
    name: obj
    for name, obj in vars(ast).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)
}


def dump(obj: Any) -> Any:
    if isinstance(obj, Span):
        return [obj.file, obj.line, obj.column, obj.end_line, obj.end_column]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"@": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = dump(getattr(obj, f.name))
        return out
    if isinstance(obj, tuple):
        return {"@t": [dump(v) for v in obj]}
    return obj


@functools.cache
def _builder(name: str) -> Any:
    """A function rebuilding one AST class from its JSON object (generated once per class:
    one keyword call, no per-field loop)."""
    cls = _CLASSES[name]
    args = []
    for f in dataclasses.fields(cls):
        if f.name == "span" or f.name.endswith("_span"):
            args.append(f"{f.name}=Span(*d[{f.name!r}])")
        else:
            args.append(f"{f.name}=(load(v) if type(v := d[{f.name!r}]) is dict else v)")
    namespace: dict[str, Any] = {"cls": cls, "Span": Span, "load": load}
    exec(f"def build(d):\n    return cls({', '.join(args)})\n", namespace)
    return namespace["build"]


def load(data: Any, span_fields: frozenset[str] = frozenset()) -> Any:
    if type(data) is not dict:
        return data
    if "@t" in data:
        return tuple([load(v) if type(v) is dict else v for v in data["@t"]])
    return _builder(data["@"])(data)


def dump_diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "severity": int(d.severity),
        "message": d.message,
        "span": dump(d.span) if d.span else None,
        "help": d.help,
        "data": d.data,
    }


def load_diagnostic(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        data["code"],
        data["name"],
        Severity(data["severity"]),
        data["message"],
        Span(*data["span"]) if data["span"] else None,
        data["help"],
        data["data"],
    )
