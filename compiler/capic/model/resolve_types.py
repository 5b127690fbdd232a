"""Literal type checks of resolved expressions: operands of arithmetic, comparisons and string
operators whose type is known from the text (R009)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capic.diagnostics import Span
from capic.model import ir
from capic.model.types import infer_type

__all__ = ["TypeChecks"]


class TypeChecks:
    """The type-check part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    if TYPE_CHECKING:  # provided by the resolver

        def error(
            self, code_id: str, message: str, span: Span | None, help: str | None = None
        ) -> None: ...

    def _expect_type(self, expr: ir.Expr, allowed: set[str], what: str) -> None:
        ty = infer_type(expr)
        if ty is not None and ty != "null" and ty not in allowed:
            self.error(
                "R009",
                f"{what} needs {' or '.join(sorted(allowed))}, got {ty}",
                expr.span,
                "convert with number(...)/string(...) or fix the literal",
            )

    def _check_binary(self, op: str, left: ir.Expr, right: ir.Expr) -> None:
        if op in {"+", "-", "*", "/"}:
            self._expect_type(left, {"number"}, f"`{op}`")
            self._expect_type(right, {"number"}, f"`{op}`")
            if op == "/" and isinstance(right, ir.Const) and right.value == 0:
                self.error("R009", "division by zero", right.span, "divide by a non-zero number")
        elif op in {"<", "<=", ">", ">="}:
            lt, rt = infer_type(left), infer_type(right)
            if lt and rt and "null" not in (lt, rt) and lt != rt:
                self.error(
                    "R009",
                    f"`{op}` compares {lt} with {rt}",
                    left.span.join(right.span),
                    "compare values of the same type (number(...) converts strings)",
                )
        elif op in {
            "contains",
            "starts_with",
            "ends_with",
            "icontains",
            "istarts_with",
            "iends_with",
        }:
            self._expect_type(
                right, {"string"} if op != "contains" else {"string", "number", "bool"}, f"`{op}`"
            )
        elif op in {"in", "not_in"}:
            self._expect_type(right, {"list", "string", "object"}, f"`{op.replace('_', ' ')}`")
