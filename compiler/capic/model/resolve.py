"""AST -> IR: name resolution across files, context checks and literal type checks.

Everything found here is a front-end diagnostic (R* codes). The resolver keeps going after an
error so one run reports every problem; the IR it returns is complete but may contain
placeholders (a null constant) where an error was reported.

This module holds the entry point, the collection of declarations and the elements and rules;
the :class:`Resolver` mixes in settings (``resolve_settings``), test blocks (``resolve_tests``),
expressions (``resolve_expr``), type checks (``resolve_types``), payloads (``payload``) and
consent (``consent``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capic import limits
from capic.codes import code
from capic.diagnostics import Diagnostic, Span
from capic.meta import catalog
from capic.model import ir
from capic.model.evaluate import Evaluator
from capic.model.payload import EXTINFO_FIELDS, KINDS, SEND_SECTIONS
from capic.model.resolve_settings import ENVIRONMENT_FIELDS, PIXEL_FIELDS, SettingsResolver
from capic.model.resolve_tests import TEST_FIELDS, TestResolver
from capic.model.serve import resolve_serve
from capic.model.stdlib import ROOTS
from capic.model.suggest import did_you_mean, suggest
from capic.syntax import ast

__all__ = [
    "ENVIRONMENT_FIELDS",
    "EXTINFO_FIELDS",
    "PIXEL_FIELDS",
    "SEND_SECTIONS",
    "TEST_FIELDS",
    "Resolver",
    "resolve",
    "suggest",
]


class Resolver(SettingsResolver, TestResolver):
    def __init__(self, files: list[ast.File]) -> None:
        self.files = files
        self.diagnostics: list[Diagnostic] = []
        self.pixel_decls: dict[str, ast.PixelDecl] = {}
        self.element_decls: dict[str, tuple[ast.ElementDecl, str]] = {}
        self.shared_decls: dict[str, tuple[ast.SharedDecl, str]] = {}
        self.env_decls: dict[str, ast.EnvironmentDecl] = {}
        self.rule_names: set[str] = set()
        self._init_payloads()

    # ------------------------------------------------------------------ reporting
    def error(self, code_id: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.diagnostics.append(code(code_id).diagnostic(message, span, help))

    # ------------------------------------------------------------------ entry
    def resolve(self) -> dict[str, Any]:
        self._collect()
        elements = self._elements()
        self.consts = Evaluator(elements)
        for name in self.shared_decls:
            self.shared_block(name)
        pixels = {
            name: self._pixel(decl, file) for name, (decl, file) in self._pixel_files().items()
        }
        rules: list[ir.Rule] = []
        environments: dict[str, ir.Environment] = {}
        tests: list[ir.Test] = []
        seen_tests: dict[str, Span] = {}
        serve: ir.ServeBlock | None = None
        for f in self.files:
            for item in f.items:
                if isinstance(item, ast.ServeDecl):
                    if serve is not None:
                        self.error(
                            "R003",
                            f"a serve block is already defined at {serve.span}",
                            item.span,
                            "keep one top-level serve block (environments may have their own)",
                        )
                        continue
                    serve = resolve_serve(self, item, f.path, "the serve block")
                elif isinstance(item, ast.RuleDecl):
                    rules.append(self._rule(item, f.path))
                elif isinstance(item, ast.EnvironmentDecl):
                    if self.env_decls.get(item.name) is item:
                        environments[item.name] = self._environment(item, f.path)
                elif isinstance(item, ast.TestDecl):
                    if item.name in seen_tests:
                        self.error(
                            "R003",
                            f'test "{item.name}" is already defined at {seen_tests[item.name]}',
                            item.name_span,
                            "rename one of the tests",
                        )
                        continue
                    seen_tests[item.name] = item.name_span
                    tests.append(self._test(item, f.path))
        return {
            "pixels": pixels,
            "elements": elements,
            "rules": tuple(rules),
            "environments": environments,
            "tests": tuple(tests),
            "shared": {n: self.shared[n] for n in self.shared_decls if n in self.shared},
            "serve": serve,
        }

    def _pixel_files(self) -> dict[str, tuple[ast.PixelDecl, str]]:
        out = {}
        for f in self.files:
            for item in f.items:
                if isinstance(item, ast.PixelDecl) and self.pixel_decls.get(item.name) is item:
                    out[item.name] = (item, f.path)
        return out

    def _collect(self) -> None:
        for f in self.files:
            for item in f.items:
                if isinstance(item, ast.PixelDecl):
                    self._unique(self.pixel_decls, item.name, item, "pixel")
                elif isinstance(item, ast.ElementDecl):
                    if item.name in ROOTS:
                        self.error(
                            "R016",
                            f"`{item.name}` is a reserved name (the root of every path)",
                            item.name_span,
                            "choose another element name",
                        )
                        continue
                    if item.name in self.element_decls:
                        prev = self.element_decls[item.name][0]
                        self.error(
                            "R003",
                            f"element `{item.name}` is already defined at {prev.name_span}",
                            item.name_span,
                            "rename or remove one of them",
                        )
                        continue
                    self.element_decls[item.name] = (item, f.path)
                elif isinstance(item, ast.SharedDecl):
                    if item.kind not in KINDS:
                        self.error(
                            "R050",
                            f"`{item.kind}` is not a kind of shared block",
                            item.kind_span,
                            did_you_mean(item.kind, KINDS) or f"kinds: {', '.join(KINDS)}",
                        )
                        continue
                    if item.name in self.shared_decls:
                        first = self.shared_decls[item.name][0]
                        self.error(
                            "R003",
                            f"shared block `{item.name}` is already defined at {first.name_span}",
                            item.name_span,
                            "rename or remove one of them",
                        )
                        continue
                    self.shared_decls[item.name] = (item, f.path)
                elif isinstance(item, ast.EnvironmentDecl):
                    self._unique(self.env_decls, item.name, item, "environment")
                elif isinstance(item, ast.RuleDecl):
                    self.rule_names.add(item.name)

    def _unique(self, table: dict[str, Any], name: str, item: Any, kind: str) -> None:
        if name in table:
            self.error(
                "R003",
                f"{kind} `{name}` is already defined at {table[name].name_span}",
                item.name_span,
                "rename or remove one of them",
            )
        else:
            table[name] = item

    # ------------------------------------------------------------------ elements
    def _elements(self) -> dict[str, ir.Element]:
        out: dict[str, ir.Element] = {}
        for name, (decl, path) in self.element_decls.items():
            value = self.expr(decl.value, scope=(), context="expr")
            deps = tuple(sorted({n.name for n in ir.walk(value) if isinstance(n, ir.ElementRef)}))
            out[name] = ir.Element(name, value, decl.span, decl.name_span, path, deps)
        self._cycles(out)
        return out

    def _cycles(self, elements: Mapping[str, ir.Element]) -> None:
        """Report each cycle of element references once. Depth first with an explicit stack:
        a chain of thousands of elements must not exhaust Python's recursion limit."""
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        for start in elements:
            if start in state:
                continue
            state[start] = 1
            path = [start]
            pending = [iter(elements[start].deps)]
            while pending:
                dep = next(pending[-1], None)
                if dep is None:
                    pending.pop()
                    state[path.pop()] = 2
                    continue
                if dep not in elements:
                    continue
                if state.get(dep) == 1:
                    cycle = path[path.index(dep) :]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        chain = " -> ".join([*cycle, dep])
                        self.error(
                            "R004",
                            f"elements refer to each other in a cycle: {chain}",
                            elements[dep].name_span,
                            "break the cycle by writing one element without the others",
                        )
                elif dep not in state:
                    state[dep] = 1
                    path.append(dep)
                    pending.append(iter(elements[dep].deps))

    # ------------------------------------------------------------------ rules
    def _rule(self, decl: ast.RuleDecl, path: str) -> ir.Rule:
        condition = (
            self.expr(decl.when, scope=(), context="expr") if decl.when is not None else None
        )
        sends = tuple(self._send(s) for s in decl.sends)
        return ir.Rule(decl.name, condition, sends, decl.span, decl.name_span, path, decl.comments)

    def _send(self, decl: ast.SendDecl) -> ir.Send:
        if decl.pixel not in self.pixel_decls:
            self.error(
                "R001",
                f"unknown pixel `{decl.pixel}`",
                decl.pixel_span,
                did_you_mean(decl.pixel, self.pixel_decls)
                or "declare it with `pixel NAME { ... }`",
            )
        event_expr: ir.Expr | None = None
        if decl.event_expr is not None:
            event_expr = self.expr(decl.event_expr, scope=(), context="expr")
            self._expect_type(event_expr, {"string"}, "an event name")
        elif (
            not decl.event_quoted
            and decl.event in self.element_decls
            and decl.event not in catalog.standard_events()
        ):
            self.error(
                "R053",
                f"`send {decl.event}` sends an event named {decl.event!r}, but "
                f"`{decl.event}` is an element",
                decl.event_span,
                f"write send ({decl.event}) to send the name the element holds, or quote "
                f'a custom event name: send "{decl.event}"',
            )
        self.spread_names = set()
        self.exemption = None
        body = self.payload(decl.body, "", "", decl.span, decl.event_span, "send", "expr")
        names: tuple[str, ...] = (decl.event,)
        if event_expr is not None:
            possible = self.consts.possible(event_expr) or []
            names = tuple(sorted({v for v, _ in possible if type(v) is str and v}))
        return ir.Send(
            decl.event,
            decl.event_quoted,
            decl.pixel,
            body,
            decl.span,
            decl.event_span,
            decl.pixel_span,
            event_expr=event_expr,
            exemption=self.exemption,
            spreads=tuple(sorted(self.spread_names)),
            event_names=names,
        )


def resolve(files: list[ast.File]) -> tuple[dict[str, Any], list[Diagnostic]]:
    resolver = Resolver(files)
    result = resolver.resolve()
    # Expressions too deep once elements are expanded become null placeholders (R030).
    return result, [*resolver.diagnostics, *limits.check_model(result)]
