"""Resolving expressions: names, paths and calls, and the context checks on them (settings see
no event, tests see only literals, secrets only in settings)."""

from __future__ import annotations

import re

from capic.model import ir
from capic.model.payload import PayloadResolver
from capic.model.resolve_types import TypeChecks
from capic.model.stdlib import FUNCTIONS, ROOTS, TEST_MATCHERS
from capic.model.suggest import did_you_mean
from capic.model.types import infer_type
from capic.runtime.stdlib import compile_regex
from capic.syntax import ast

__all__ = ["ExprResolver"]


class ExprResolver(TypeChecks, PayloadResolver):
    """The expression part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    element_decls: dict[str, tuple[ast.ElementDecl, str]]

    def expr(self, node: ast.Expr, scope: tuple[str, ...], context: str) -> ir.Expr:
        """Resolve an expression. ``context``: "expr" (rules/elements), "pixel" (settings),
        "test" (expectation values), "const" (test inputs: literals only)."""
        if isinstance(node, ast.Literal):
            return ir.Const(node.value, node.span)
        if isinstance(node, ast.ListLit):
            return ir.ListOf(tuple(self.expr(i, scope, context) for i in node.items), node.span)
        if isinstance(node, ast.ObjectLit):
            seen: set[str] = set()
            entries: list[tuple[str, ir.Expr]] = []
            for e in node.entries:
                if e.key in seen:
                    self.error(
                        "R012",
                        f"key `{e.key}` appears twice in this object",
                        e.key_span,
                        "remove one",
                    )
                    continue
                seen.add(e.key)
                entries.append((e.key, self.expr(e.value, scope, context)))
            return ir.ObjectOf(tuple(entries), node.span)
        if context == "const":
            self.error(
                "R015",
                "test inputs are literals",
                node.span,
                "write the event as a literal object (JSON syntax works)",
            )
            return ir.Const(None, node.span)
        if isinstance(node, ast.Name):
            return self._name(node, scope, context)
        if isinstance(node, ast.Attr | ast.Index):
            return self._path(node, scope, context)
        if isinstance(node, ast.Call):
            return self._call(node, scope, context)
        if isinstance(node, ast.Unary):
            operand = self.expr(node.operand, scope, context)
            if node.op == "neg":
                self._expect_type(operand, {"number"}, "`-`")
            return ir.Unary(node.op, operand, node.span)
        if isinstance(node, ast.Binary):
            left = self.expr(node.left, scope, context)
            right = self.expr(node.right, scope, context)
            self._check_binary(node.op, left, right)
            return ir.Binary(node.op, left, right, node.span)
        if isinstance(node, ast.Match):
            operand = self.expr(node.operand, scope, context)
            try:
                compile_regex(node.pattern, node.flags)
            except re.error as exc:
                self.error(
                    "R008", f"invalid regex: {exc.msg}", node.pattern_span, "fix the pattern"
                )
            return ir.Match(operand, node.pattern, node.flags, node.span, node.pattern_span)
        if isinstance(node, ast.Conditional):
            test = self.expr(node.test, scope, context)
            then = self.expr(node.then, scope, context)
            otherwise = self.expr(node.otherwise, scope, context)
            types = {t for t in (infer_type(then), infer_type(otherwise)) if t and t != "null"}
            if len(types) > 1:
                self.error(
                    "R009",
                    f"the branches of `if` give {' and '.join(sorted(types))}",
                    then.span.join(otherwise.span),
                    "give both branches the same type (null is allowed in either)",
                )
            return ir.Cond(test, then, otherwise, node.span)
        if isinstance(node, ast.Comprehension):
            source = self.expr(node.source, scope, context)
            inner = (*scope, node.var)
            if node.var in ROOTS:
                self.error(
                    "R016",
                    f"`{node.var}` is reserved",
                    node.var_span,
                    "choose another variable name",
                )
            body = self.expr(node.body, inner, context)
            cond = self.expr(node.cond, inner, context) if node.cond is not None else None
            return ir.Comprehension(node.var, source, body, cond, node.span)
        raise AssertionError(f"unhandled node {type(node).__name__}")

    def _name(self, node: ast.Name, scope: tuple[str, ...], context: str) -> ir.Expr:
        if node.name in scope:
            return ir.Var(node.name, node.span)
        if node.name in ROOTS:
            if context == "pixel":
                self.error("R010", f"`{node.name}` is not available in settings", node.span)
            return ir.Root(node.name, node.span)
        if node.name in TEST_MATCHERS:
            if context == "test":
                return ir.Matcher(node.name, None, node.span)
            self.error(
                "R010",
                f"`{node.name}` is only meaningful in test expectations",
                node.span,
                "use null for a missing value",
            )
            return ir.Const(None, node.span)
        if node.name in self.element_decls:
            if context == "pixel":
                self.error("R010", "elements are not available in settings", node.span)
            return ir.ElementRef(node.name, node.span)
        candidates = [*self.element_decls, *scope, *ROOTS]
        self.error(
            "R002",
            f"unknown name `{node.name}`",
            node.span,
            did_you_mean(node.name, candidates) or "declare it with `element NAME = ...`",
        )
        return ir.Const(None, node.span)

    def _path(self, node: ast.Attr | ast.Index, scope: tuple[str, ...], context: str) -> ir.Expr:
        segments: list[str | int | ir.Expr] = []
        cur: ast.Expr = node
        while isinstance(cur, ast.Attr | ast.Index):
            if isinstance(cur, ast.Attr):
                segments.append(cur.name)
            else:
                idx = cur.index
                static = isinstance(idx, ast.Literal) and not isinstance(idx.value, bool)
                if static and isinstance(idx.value, str | int):  # type: ignore[union-attr]
                    segments.append(idx.value)  # type: ignore[union-attr]
                else:
                    segments.append(self.expr(idx, scope, context))
            cur = cur.base
        base = self.expr(cur, scope, context)
        segments.reverse()
        if isinstance(base, ir.Path):  # a call result indexed, e.g. split(x, ",")[0]
            return ir.Path(base.base, (*base.segments, *segments), node.span)
        return ir.Path(base, tuple(segments), node.span)

    def _call(self, node: ast.Call, scope: tuple[str, ...], context: str) -> ir.Expr:
        fn = FUNCTIONS.get(node.func)
        if fn is None:
            self.error(
                "R005",
                f"unknown function `{node.func}`",
                node.func_span,
                did_you_mean(node.func, [f for f, d in FUNCTIONS.items() if d.context == "expr"])
                or "see the standard library in docs/language.md",
            )
            return ir.Const(None, node.span)
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            self.error(
                "R006",
                f"`{fn.name}` takes {fn.arity_text()}, got {n}",
                node.span,
                f"{fn.name}: {fn.doc}",
            )
        if fn.context == "pixel":
            if context != "pixel":
                self.error(
                    "R010",
                    f"`{fn.name}()` is only valid in pixel and environment settings",
                    node.func_span,
                    "rules never see secrets; set tokens on the pixel",
                )
                return ir.Const(None, node.span)
            arg = node.args[0] if node.args else None
            if not (isinstance(arg, ast.Literal) and isinstance(arg.value, str) and arg.value):
                self.error("R015", f"`{fn.name}()` takes a non-empty string literal", node.span)
                return ir.Const(None, node.span)
            return ir.SecretRef(fn.name, arg.value, node.span)
        if fn.context == "test":
            if context != "test":
                self.error(
                    "R010",
                    f"`{fn.name}()` is only valid in test expectations",
                    node.func_span,
                    "capic hashes customer information itself",
                )
                return ir.Const(None, node.span)
            arg_ir = self.expr(node.args[0], scope, "expr") if node.args else None
            return ir.Matcher("hashed", arg_ir, node.span)
        if context == "pixel":
            self.error("R010", f"`{fn.name}()` is not available in settings", node.func_span)
            return ir.Const(None, node.span)
        args = tuple(self.expr(a, scope, context) for a in node.args)
        return ir.Call(fn.name, args, node.span)
