"""Resolving test blocks: their inputs (literals only) and their expectations."""

from __future__ import annotations

from capic.model import ir
from capic.model.resolve_expr import ExprResolver
from capic.model.suggest import did_you_mean
from capic.syntax import ast

__all__ = ["TEST_FIELDS", "TestResolver"]

TEST_FIELDS = {
    "event": "the incoming event (an object literal)",
    "request": "the request it arrived with (ip, headers, cookies, url)",
    "environment": "the environment the test runs in",
    "now": "the fixed clock: unix seconds or an ISO-8601 string",
}


class TestResolver(ExprResolver):
    """The test part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    pixel_decls: dict[str, ast.PixelDecl]
    env_decls: dict[str, ast.EnvironmentDecl]
    rule_names: set[str]

    def _test(self, decl: ast.TestDecl, path: str) -> ir.Test:
        fields: dict[str, ir.Field] = {}
        expectations: list[ir.Expectation] = []
        for item in decl.items:
            if isinstance(item, ast.Assignment):
                if item.key not in TEST_FIELDS:
                    self.error(
                        "R011",
                        f"unknown field `{item.key}` in a test",
                        item.key_span,
                        did_you_mean(item.key, TEST_FIELDS) or f"fields: {', '.join(TEST_FIELDS)}",
                    )
                    continue
                if item.key in fields:
                    self.error(
                        "R012", f"`{item.key}` is set twice", item.key_span, "remove one of them"
                    )
                    continue
                value = self.expr(item.value, scope=(), context="const")
                fields[item.key] = ir.Field(
                    item.key, value, item.span, item.key_span, item.comments
                )
                self._check_test_field(item.key, value)
            elif isinstance(item, ast.ExpectNothing):
                expectations.append(ir.Expectation("nothing", None, None, None, None, item.span))
            else:
                if item.rule not in self.rule_names:
                    self.error(
                        "R014",
                        f'no rule named "{item.rule}"',
                        item.rule_span,
                        did_you_mean(item.rule, self.rule_names) or "use the name of a rule",
                    )
                if isinstance(item, ast.ExpectRuleNothing):
                    expectations.append(
                        ir.Expectation("rule_nothing", item.rule, None, None, None, item.span)
                    )
                    continue
                if item.pixel not in self.pixel_decls:
                    self.error(
                        "R001",
                        f"unknown pixel `{item.pixel}`",
                        item.pixel_span,
                        did_you_mean(item.pixel, self.pixel_decls),
                    )
                body = self.payload(item.body, "", "", item.span, item.event_span, "send", "test")
                expectations.append(
                    ir.Expectation("sends", item.rule, item.event, item.pixel, body, item.span)
                )
        if "event" not in fields:
            self.error(
                "R015", f'test "{decl.name}" has no `event`', decl.name_span, "add event = { ... }"
            )
        if not expectations:
            self.error(
                "R015",
                f'test "{decl.name}" expects nothing',
                decl.name_span,
                'add expect "RULE" sends EVENT to PIXEL { ... } or expect nothing',
            )
        return ir.Test(decl.name, fields, tuple(expectations), decl.span, decl.name_span, path)

    def _check_test_field(self, key: str, value: ir.Expr) -> None:
        if key == "environment":
            if not (isinstance(value, ir.Const) and isinstance(value.value, str)):
                self.error("R015", "`environment` must be a string", value.span)
            elif value.value not in self.env_decls:
                self.error(
                    "R013",
                    f'unknown environment "{value.value}"',
                    value.span,
                    did_you_mean(value.value, self.env_decls)
                    or "declare it with environment NAME { ... }",
                )
        elif key in {"event", "request"} and not (
            isinstance(value, ir.ObjectOf) or (isinstance(value, ir.Const) and value.value is None)
        ):
            self.error("R015", f"`{key}` must be an object literal", value.span)
        elif key == "now" and not (
            isinstance(value, ir.Const)
            and isinstance(value.value, int | float | str)
            and not isinstance(value.value, bool)
        ):
            self.error("R015", "`now` must be unix seconds or an ISO-8601 string", value.span)
