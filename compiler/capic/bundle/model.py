"""Reading the rule model (``model.json``) of a bundle as plain JSON.

The bundler, the verifier and ``diff`` derive things from the model the same way: the
manifest's rule list (:func:`rules_summary`), a pixel's settings in an environment
(:func:`resolved_pixel_settings`), and a readable one-line form of an expression
(:func:`render_expr`). Working on JSON keeps these free of the compiler front end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capic.bundle.manifest import SOURCES_DIR

__all__ = [
    "PIXEL_SETTINGS",
    "render_expr",
    "resolved_pixel_settings",
    "rules_summary",
    "send_test_event_codes",
    "setting_value",
    "strip_spans",
]

#: Manifest pixel keys and the source setting each comes from.
PIXEL_SETTINGS = {
    "id": "id",
    "token_ref": "access_token",
    "browser_pixel": "browser_pixel",
    "api_version": "api_version",
    "test_event_code": "test_event_code",
}
_REF_KINDS = {"env", "secret"}
_SPAN_KEYS = {"span", "name_span", "key_span", "event_span", "pixel_span", "pattern_span"}


def _dedup(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def rules_summary(model: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's ``rules``: name, events and pixels (in source order), and source file."""
    out = []
    for rule in model.get("rules", []):
        sends = rule.get("sends", [])
        out.append(
            {
                "name": rule["name"],
                # A computed name lists the names it can take (ir.Send.event_names).
                "events": _dedup([n for s in sends for n in s.get("event_names") or [s["event"]]]),
                "pixels": _dedup([s["pixel"] for s in sends]),
                "file": f"{SOURCES_DIR}/{rule['file']}",
            }
        )
    return out


def send_test_event_codes(model: Mapping[str, Any]) -> list[str]:
    """``"<rule>: <event> -> <pixel>"`` of every send that sets its own test_event_code (one
    that is not ``null``): such a code is sent in every environment."""
    out = []
    for rule in model.get("rules", []):
        for send in rule.get("sends", []):
            entry = send.get("body", {}).get("entries", {}).get("test_event_code")
            value = entry.get("value") if isinstance(entry, Mapping) else None
            if value is not None and setting_value(value) is not None:
                out.append(f"{rule['name']}: {send['event']} -> {send['pixel']}")
    return out


def setting_value(expr: Any) -> Any:
    """A constant or reference setting as the manifest writes it (a ref is ``{kind, name}``);
    ``NotImplemented`` for anything else."""
    if not isinstance(expr, Mapping):
        return NotImplemented
    kind = expr.get("kind")
    if kind == "Const":
        return expr.get("value")
    if kind in _REF_KINDS:
        return {"kind": kind, "name": expr.get("name")}
    return NotImplemented


def _layer(fields: Any, key: str) -> tuple[bool, Any]:
    """(present, manifest value) of setting ``key`` in one layer of settings."""
    if isinstance(fields, Mapping) and isinstance(fields.get(key), Mapping):
        return True, setting_value(fields[key].get("value"))
    return False, None


def _pick(key: str, *layers: Any) -> tuple[bool, Any]:
    for layer in layers:
        present, value = _layer(layer, key)
        if present:
            return True, value
    return False, None


def resolved_pixel_settings(
    model: Mapping[str, Any], environment: str, pixel: str
) -> dict[str, Any]:
    """The manifest settings of ``pixel`` in ``environment`` recomputed from the model, with
    the precedence of :mod:`capic.codegen.environment` (which the bundler uses): the
    environment's pixel override, then the pixel declaration (then the project's
    ``api_version``); a test event code from the override, the environment block, then the
    pixel. Lets the verifier check a manifest against the model without the compiler."""
    decl = model.get("pixels", {}).get(pixel, {}).get("fields")
    env = model.get("environments", {}).get(environment, {})
    over = env.get("pixels", {}).get(pixel, {}).get("fields")
    _, pid = _pick("id", over, decl)
    _, token = _pick("access_token", over, decl)
    _, version = _pick("api_version", over, decl)
    _, browser = _pick("browser_pixel", over, decl)
    _, code = _pick("test_event_code", over, env.get("fields"), decl)
    return {
        "id": pid.strip() if isinstance(pid, str) else pid,
        "token_ref": token,
        "browser_pixel": browser is True,
        "api_version": version
        if isinstance(version, str) and version
        else model.get("config", {}).get("api_version"),
        "test_event_code": code if code != "" else None,
    }


def strip_spans(data: Any) -> Any:
    """The model without source positions (what a reviewer compares)."""
    if isinstance(data, Mapping):
        return {k: strip_spans(v) for k, v in data.items() if k not in _SPAN_KEYS}
    if isinstance(data, list):
        return [strip_spans(v) for v in data]
    return data


# ----------------------------------------------------------------------------- expressions

# Binding strength as in the grammar: or < and < not < comparison < ?? < + - < * / < unary.
_LEFT_ASSOC = {"or": 1, "and": 2, "+": 6, "-": 6, "*": 7, "/": 7}
_COMPARISON = 4
_COALESCE = 5
_NOT = 3
_UNARY = 8
_POSTFIX = 9


def _const(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return repr(value)


def _segment(seg: Any) -> str:
    if isinstance(seg, str):
        return f".{seg}" if seg.isidentifier() else f"[{_const(seg)}]"
    if isinstance(seg, int):
        return f"[{seg}]"
    return f"[{render_expr(seg)}]"


def render_expr(expr: Any, parent: int = 0) -> str:
    """A one-line, DSL-like rendering of an expression of ``model.json``."""
    if not isinstance(expr, Mapping):
        return _const(expr)
    kind = expr.get("kind")
    if kind == "Const":
        return _const(expr.get("value"))
    if kind in {"Root", "Var", "ElementRef"}:
        return str(expr.get("name"))
    if kind in _REF_KINDS:
        return f'{kind}("{expr.get("name")}")'
    if kind == "Path":
        return render_expr(expr.get("base"), _POSTFIX) + "".join(
            _segment(s) for s in expr.get("segments", [])
        )
    if kind == "Call":
        args = ", ".join(render_expr(a) for a in expr.get("args", []))
        return f"{expr.get('func')}({args})"
    if kind == "ListOf":
        return "[" + ", ".join(render_expr(i) for i in expr.get("items", [])) + "]"
    if kind == "ObjectOf":
        entries = ", ".join(f"{k} = {render_expr(v)}" for k, v in expr.get("entries", []))
        return "{" + entries + "}"
    if kind == "Unary":
        if expr.get("op") == "neg":
            return f"-{render_expr(expr.get('operand'), _UNARY)}"
        text = f"not {render_expr(expr.get('operand'), _NOT)}"
        return f"({text})" if parent > _NOT else text
    if kind == "Binary":
        op = str(expr.get("op"))
        left, right = expr.get("left"), expr.get("right")
        if op in _LEFT_ASSOC:
            prec = _LEFT_ASSOC[op]
            text = f"{render_expr(left, prec)} {op} {render_expr(right, prec + 1)}"
        elif op == "??":
            prec = _COALESCE
            text = f"{render_expr(left, prec + 1)} ?? {render_expr(right, prec)}"
        else:
            prec = _COMPARISON
            word = op.replace("_", " ") if op == "not_in" else op
            text = f"{render_expr(left, prec + 1)} {word} {render_expr(right, prec + 1)}"
        return f"({text})" if prec < parent else text
    if kind == "Match":
        flags = str(expr.get("flags") or "")
        pattern = str(expr.get("pattern")).replace("/", "\\/")
        text = f"{render_expr(expr.get('operand'), _COALESCE)} matches /{pattern}/{flags}"
        return f"({text})" if parent > _COMPARISON else text
    if kind == "Comprehension":
        cond = expr.get("cond")
        tail = f" if {render_expr(cond)}" if cond is not None else ""
        return (
            f"[for {expr.get('var')} in {render_expr(expr.get('source'))} : "
            f"{render_expr(expr.get('body'))}{tail}]"
        )
    if kind == "hashed":
        return f"hashed({render_expr(expr.get('arg'))})"
    if kind in {"absent", "any"}:
        return str(kind)
    return f"<{kind}>"
