"""The ``serve { }`` block: site settings of ``capic serve`` that travel in the bundle.

    serve {
      allowed_origins = ["https://shop.example.com"]
      cookie_domain   = "shop.example.com"
      ingest_tokens   = env("CAPIC_INGEST_TOKEN")
    }
    environment production {
      serve { enhancement = true }
    }

What belongs to the *site* lives here (it is the same wherever the service runs); what belongs
to the *deployment* (host, ports, trusted proxies, limits, the outbox path) is flags and
environment variables of ``capic serve``. A block inside an environment overrides the keys it
writes; the others come from the top-level block, then from the defaults below.

The resolver checks each value's *type* here (R011/R012/R015); whether the values make sense
together (a literal token, a ``*`` origin, a cookie domain that misses an origin) is the
linter's job (``lint/checks/serve.py``, W codes). :func:`serve_constant` gives the JSON-able
``SERVE`` constant the code generator writes into every rule module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from capic.diagnostics import Span
from capic.model import ir
from capic.runtime.secrets import SecretRef
from capic.syntax import ast

__all__ = [
    "DEFAULTS",
    "SERVE_FIELDS",
    "effective_fields",
    "parse_duration",
    "resolve_serve",
    "serve_constant",
]

#: Key -> what it holds (shown in "unknown field" help and in docs/language.md).
SERVE_FIELDS: Final[dict[str, str]] = {
    "allowed_origins": 'origins allowed to POST /v1/collect, e.g. ["https://shop.example.com"]',
    "cookie_domain": 'the domain of the _fbp/_fbc cookies, e.g. "example.com" (null: host only)',
    "cookies": "set first-party _fbp/_fbc cookies on /v1/collect (default true)",
    "ingest_tokens": 'bearer token(s) of POST /v1/events: env("VAR"), secret("NAME") or a list',
    "enhancement": "remember hashed customer information per _fbp and add it to later events",
    "enhancement_ttl": 'how long it is remembered: seconds or "30m", "12h", "7d" (default 7d)',
}

#: Values in force when neither the environment's nor the top-level block sets a key.
DEFAULTS: Final[dict[str, Any]] = {
    "allowed_origins": [],
    "cookie_domain": None,
    "cookies": True,
    "ingest_tokens": [],
    "enhancement": False,
    "enhancement_ttl": 7 * 24 * 3600,
}

_DURATION = re.compile(r"\s*([0-9]+)\s*([smhd])\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> int | None:
    """Seconds of ``3600``, ``"90m"``, ``"12h"`` or ``"7d"`` (None when it is not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str):
        m = _DURATION.fullmatch(value)
        if m is not None and int(m[1]) > 0:
            return int(m[1]) * _UNITS[m[2]]
    return None


class _Resolver(Protocol):
    """What :func:`resolve_serve` needs of :class:`capic.model.resolve.Resolver`."""

    def error(self, code_id: str, message: str, span: Span | None, help: str | None = None) -> None:
        pass

    def expr(self, node: ast.Expr, scope: tuple[str, ...], context: str) -> ir.Expr:
        pass


def _is_text(value: ir.Expr) -> bool:
    return isinstance(value, ir.Const) and isinstance(value.value, str)


def _type_problem(key: str, value: ir.Expr) -> str | None:
    """Why ``value`` cannot be the setting ``key`` (None when its type fits)."""
    if key in ("cookies", "enhancement"):
        ok = isinstance(value, ir.Const) and isinstance(value.value, bool)
        return None if ok else f"`{key}` must be true or false"
    if key == "allowed_origins":
        ok = isinstance(value, ir.ListOf) and all(_is_text(i) for i in value.items)
        return None if ok else "`allowed_origins` must be a list of strings"
    if key == "cookie_domain":
        ok = isinstance(value, ir.Const) and (value.value is None or isinstance(value.value, str))
        return None if ok else "`cookie_domain` must be a string or null"
    if key == "ingest_tokens":
        items = value.items if isinstance(value, ir.ListOf) else (value,)
        # A string literal is accepted here so that W001 can say why it must not be one.
        ok = all(isinstance(i, ir.SecretRef) or _is_text(i) for i in items)
        return None if ok else '`ingest_tokens` must be env("VAR"), secret("NAME") or a list'
    if key == "enhancement_ttl":
        ok = isinstance(value, ir.Const) and parse_duration(value.value) is not None
        return None if ok else '`enhancement_ttl` must be seconds or a duration like "7d"'
    return None


def resolve_serve(resolver: _Resolver, decl: ast.ServeDecl, file: str, where: str) -> ir.ServeBlock:
    """The IR of one ``serve { }`` block; type problems are reported through ``resolver``."""
    fields: dict[str, ir.Field] = {}
    for item in decl.body.items:
        if not isinstance(item, ast.Assignment):  # a section (or anything else a block holds)
            resolver.error(
                "R007",
                f"{where} holds settings only",
                item.span,
                "settings are `key = value` entries",
            )
            continue
        if item.key not in SERVE_FIELDS:
            resolver.error(
                "R011",
                f"unknown field `{item.key}` in {where}",
                item.key_span,
                f"allowed: {', '.join(sorted(SERVE_FIELDS))}",
            )
            continue
        if item.key in fields:
            resolver.error(
                "R012", f"`{item.key}` is set twice in {where}", item.key_span, "remove one"
            )
            continue
        value = resolver.expr(item.value, scope=(), context="pixel")
        problem = _type_problem(item.key, value)
        if problem is not None:
            resolver.error("R015", f"{problem} in {where}", value.span, SERVE_FIELDS[item.key])
        fields[item.key] = ir.Field(item.key, value, item.span, item.key_span, item.comments)
    return ir.ServeBlock(fields, decl.span, file)


def effective_fields(project: ir.Project, env_name: str | None) -> dict[str, ir.Field]:
    """The fields in force in ``env_name``: the environment's block over the top-level one."""
    out: dict[str, ir.Field] = dict(project.serve.fields) if project.serve is not None else {}
    env = project.environments.get(env_name) if env_name is not None else None
    if env is not None and env.serve is not None:
        out.update(env.serve.fields)
    return out


def _json_value(key: str, value: ir.Expr) -> Any:
    if key == "ingest_tokens":
        items = value.items if isinstance(value, ir.ListOf) else (value,)
        refs: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, ir.SecretRef):
                refs.append(SecretRef(item.kind, item.name).to_json())  # type: ignore[arg-type]
            elif _is_text(item):
                # Written inline (W001): the value itself never reaches generated code.
                refs.append({"kind": "literal"})
        return refs
    if key == "allowed_origins":
        assert isinstance(value, ir.ListOf)
        return [i.value for i in value.items if isinstance(i, ir.Const)]
    if key == "enhancement_ttl":
        assert isinstance(value, ir.Const)
        return parse_duration(value.value)
    assert isinstance(value, ir.Const)
    return value.value


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def serve_constant(project: ir.Project, env_name: str | None) -> dict[str, Any]:
    """The ``SERVE`` constant of the rule module for ``env_name``: every key, defaults filled
    in, tokens as references (``{"kind": "env", "name": ...}``). Call it on projects without
    front-end errors."""
    fields = effective_fields(project, env_name)
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        f: Mapping[str, ir.Field] = fields
        out[key] = _json_value(key, f[key].value) if key in f else _copy(default)
    return out
