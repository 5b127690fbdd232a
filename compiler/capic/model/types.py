"""Static types of expressions, where they are known without running anything."""

from __future__ import annotations

from capic.model import ir
from capic.model.stdlib import FUNCTIONS

_BOOL_OPS = {
    "==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "starts_with", "ends_with",
    "iequals", "icontains", "istarts_with", "iends_with", "and", "or",
}  # fmt: skip


def value_type(value: object) -> str | None:
    """The static type of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return None


def infer_type(expr: ir.Expr) -> str | None:
    """ "string" | "number" | "bool" | "list" | "object" | "null", or None when unknown."""
    if isinstance(expr, ir.Const):
        v = expr.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float):
            return "number"
        return "string"
    if isinstance(expr, ir.ListOf | ir.Comprehension):
        return "list"
    if isinstance(expr, ir.ObjectOf):
        return "object"
    if isinstance(expr, ir.Binary):
        if expr.op in _BOOL_OPS:
            return "bool"
        if expr.op in {"+", "-", "*", "/"}:
            return "number"
        if expr.op == "??":
            lt, rt = infer_type(expr.left), infer_type(expr.right)
            return lt if lt == rt else None
        return None
    if isinstance(expr, ir.Unary):
        return "bool" if expr.op == "not" else "number"
    if isinstance(expr, ir.Match):
        return "bool"
    if isinstance(expr, ir.Call):
        fn = FUNCTIONS.get(expr.func)
        return fn.returns if fn else None
    if isinstance(expr, ir.SecretRef):
        return "string"
    if isinstance(expr, ir.Cond):
        return join_types(infer_type(expr.then), infer_type(expr.otherwise))
    return None


def join_types(a: str | None, b: str | None) -> str | None:
    """The type of a value that is one of two: null joins with anything."""
    if a == "null":
        return b
    if b == "null":
        return a
    return a if a == b else None
