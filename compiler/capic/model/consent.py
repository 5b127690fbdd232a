"""Resolving consent: the gates of pixels and environments (``consent { granted = EXPR
otherwise = "drop" }``) and the exemptions of sends (``consent { exempt = "reason" }``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capic.diagnostics import Span
from capic.model import ir
from capic.model.suggest import did_you_mean
from capic.syntax import ast

__all__ = ["ConsentResolver", "consent_keys"]


def consent_keys() -> dict[str, str]:
    return {
        "granted": "the gate: an expression that is true when the person consented",
        "otherwise": 'what happens without consent: "drop" (the default) or "limited_data_use"',
    }


class ConsentResolver:
    """The consent part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    exemption: ir.Exemption | None

    if TYPE_CHECKING:  # provided by the resolver

        def error(
            self, code_id: str, message: str, span: Span | None, help: str | None = None
        ) -> None: ...

        def expr(self, node: ast.Expr, scope: tuple[str, ...], context: str) -> ir.Expr: ...

    def consent_gate(self, item: ast.Section, where: str) -> ir.Consent | None:
        """``consent { granted = EXPR  otherwise = "drop" }`` of a pixel or an environment."""
        granted: ir.Expr | None = None
        otherwise = "drop"
        seen: set[str] = set()
        allowed = consent_keys()
        for sub in item.body.items:
            if not isinstance(sub, ast.Assignment) or sub.key not in allowed:
                span = (
                    sub.span
                    if isinstance(sub, ast.Spread)
                    else (sub.name_span if isinstance(sub, ast.Section) else sub.key_span)
                )
                shown = sub.key if isinstance(sub, ast.Assignment) else "this"
                self.error(
                    "R054",
                    f"`{shown}` is not part of the consent gate of {where}",
                    span,
                    did_you_mean(shown, allowed) or "a gate holds granted = EXPR and otherwise",
                )
                continue
            if sub.key in seen:
                self.error("R012", f"`{sub.key}` is set twice", sub.key_span, "remove one")
                continue
            seen.add(sub.key)
            if sub.key == "granted":
                granted = self.expr(sub.value, (), "expr")
                continue
            value = sub.value
            if not (
                isinstance(value, ast.Literal)
                and isinstance(value.value, str)
                and value.value in ir.CONSENT_OUTCOMES
            ):
                self.error(
                    "R054",
                    'the outcome without consent is "drop" or "limited_data_use"',
                    value.span,
                    '"drop" sends nothing; "limited_data_use" sends the event with Limited '
                    "Data Use",
                )
                continue
            otherwise = value.value
        if granted is None:
            self.error(
                "R054",
                f"the consent gate of {where} has no `granted`",
                item.name_span,
                "add granted = EXPR, true when the person consented "
                '(e.g. event.consent.marketing == "granted")',
            )
            return None
        return ir.Consent(granted, otherwise, item.span, item.name_span)

    def _exemption(self, item: ast.Section, origin: str | None) -> None:
        """``consent { exempt = "reason" }`` in a send body."""
        if origin is not None:
            self.error(
                "R054",
                f"a consent exemption cannot be written in the shared block `{origin}`",
                item.name_span,
                'write consent { exempt = "..." } in each send that needs no consent',
            )
            return
        reason: str | None = None
        for sub in item.body.items:
            if isinstance(sub, ast.Assignment) and sub.key == "exempt":
                value = sub.value
                if isinstance(value, ast.Literal) and isinstance(value.value, str):
                    reason = value.value.strip()
                if not reason:
                    self.error(
                        "R054",
                        "`exempt` takes the reason, written as a non-empty string",
                        value.span,
                        'write exempt = "why this send needs no consent"',
                    )
                    return
                continue
            span = (
                sub.span
                if isinstance(sub, ast.Spread)
                else (sub.name_span if isinstance(sub, ast.Section) else sub.key_span)
            )
            self.error(
                "R054",
                'a send\'s consent block holds only `exempt = "reason"`',
                span,
                "gates (granted, otherwise) belong to pixels and environments",
            )
            return
        if reason is None:
            self.error(
                "R054",
                "a consent exemption needs its reason",
                item.name_span,
                'write consent { exempt = "why this send needs no consent" }',
            )
            return
        self.exemption = ir.Exemption(reason, item.span)
