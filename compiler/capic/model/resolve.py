"""AST -> IR: name resolution across files, context checks and literal type checks.

Everything found here is a front-end diagnostic (R* codes). The resolver keeps going after an
error so one run reports every problem; the IR it returns is complete but may contain
placeholders (a null constant) where an error was reported.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from capic import limits
from capic.codes import code
from capic.diagnostics import Diagnostic, Span
from capic.meta import catalog
from capic.model import ir
from capic.model.evaluate import Evaluator
from capic.model.payload import EXTINFO_FIELDS, KINDS, SEND_SECTIONS, PayloadResolver
from capic.model.serve import resolve_serve
from capic.model.stdlib import FUNCTIONS, ROOTS, TEST_MATCHERS
from capic.model.types import infer_type
from capic.runtime.stdlib import compile_regex
from capic.syntax import ast

PIXEL_FIELDS = {
    "id": "the pixel (dataset) id: a string of digits, or env()/secret()",
    "access_token": 'the Conversions API token: env("VAR") or secret("NAME")',
    "browser_pixel": "true when the Meta Pixel in the browser sends the same events",
    "api_version": 'the Graph API version, e.g. "v25.0"',
    "app_secret": "optional app secret for appsecret_proof: env() or secret()",
    "test_event_code": "a test event code for every event sent to this pixel",
}
ENVIRONMENT_FIELDS = {"test_event_code"}
TEST_FIELDS = {
    "event": "the incoming event (an object literal)",
    "request": "the request it arrived with (ip, headers, cookies, url)",
    "environment": "the environment the test runs in",
    "now": "the fixed clock: unix seconds or an ISO-8601 string",
}


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    pool = list(candidates)
    if not pool or len(name) > 2 * max(map(len, pool)) + 8:
        return None  # no near miss, and difflib's cost grows with the product of the lengths
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
    return match[0] if match else None


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    s = suggest(name, candidates)
    return f"did you mean `{s}`?" if s else None


__all__ = ["EXTINFO_FIELDS", "SEND_SECTIONS", "Resolver", "resolve", "suggest"]


class Resolver(PayloadResolver):
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
                            _did_you_mean(item.kind, KINDS) or f"kinds: {', '.join(KINDS)}",
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

    # ------------------------------------------------------------------ pixels
    def _pixel(self, decl: ast.PixelDecl, path: str) -> ir.Pixel:
        where = f"pixel `{decl.name}`"
        consent, items = self._split_consent(decl.body.items, where)
        fields = self._setting_fields(items, PIXEL_FIELDS, where)
        for required in ("id", "access_token"):
            if required not in fields:
                self.error(
                    "R015",
                    f"pixel `{decl.name}` has no `{required}`",
                    decl.name_span,
                    f"add {required} = ... ({PIXEL_FIELDS[required]})",
                )
        return ir.Pixel(decl.name, fields, decl.span, decl.name_span, path, consent)

    def _split_consent(
        self,
        items: Iterable[ast.Assignment | ast.Section | ast.Spread | ast.EnvPixel | ast.ServeDecl],
        where: str,
    ) -> tuple[ir.Consent | None, list[ast.Assignment | ast.Section | ast.Spread]]:
        """The consent gate among a pixel's or an environment's items, and the other items
        (environment pixel overrides and serve blocks are left out)."""
        consent: ir.Consent | None = None
        rest: list[ast.Assignment | ast.Section | ast.Spread] = []
        seen = False
        for item in items:
            if isinstance(item, ast.EnvPixel | ast.ServeDecl):
                continue
            if isinstance(item, ast.Section) and item.name == "consent":
                if seen:
                    self.error(
                        "R012", f"{where} has two consent gates", item.name_span, "merge them"
                    )
                    continue
                seen = True
                consent = self.consent_gate(item, where)
                continue
            rest.append(item)
        return consent, rest

    def _setting_fields(
        self,
        items: Iterable[ast.Assignment | ast.Section | ast.Spread],
        allowed: Mapping[str, str] | set[str],
        where: str,
    ) -> dict[str, ir.Field]:
        """Pixel / environment settings: constants or run-time references, checked by type."""
        out: dict[str, ir.Field] = {}
        for item in items:
            if isinstance(item, ast.Spread):
                self._spread(item, None, "pixel")
                continue
            if isinstance(item, ast.Section):
                self.error(
                    "R007",
                    f"{where} has no section `{item.name}`",
                    item.name_span,
                    "settings are `key = value` entries",
                )
                continue
            if item.key not in allowed:
                self.error(
                    "R011",
                    f"unknown field `{item.key}` in {where}",
                    item.key_span,
                    _did_you_mean(item.key, allowed) or f"allowed: {', '.join(sorted(allowed))}",
                )
                continue
            if item.key in out:
                self.error(
                    "R012", f"`{item.key}` is set twice in {where}", item.key_span, "remove one"
                )
                continue
            value = self.expr(item.value, scope=(), context="pixel")
            self._check_setting(item.key, value, where)
            out[item.key] = ir.Field(item.key, value, item.span, item.key_span, item.comments)
        return out

    def _check_setting(self, key: str, value: ir.Expr, where: str) -> None:
        if key == "browser_pixel":
            if not (isinstance(value, ir.Const) and isinstance(value.value, bool)):
                self.error("R015", f"`browser_pixel` of {where} must be true or false", value.span)
            return
        if key == "api_version":
            if not (isinstance(value, ir.Const) and isinstance(value.value, str)):
                self.error("R015", f"`api_version` of {where} must be a string", value.span)
            elif not re.fullmatch(r"v\d+\.\d", value.value):
                self.error(
                    "R015",
                    f"`api_version` {value.value!r} is not a Graph API version",
                    value.span,
                    'write it like "v25.0"',
                )
            return
        ok = isinstance(value, ir.SecretRef) or (
            isinstance(value, ir.Const) and (isinstance(value.value, str) or value.value is None)
        )
        if not ok:
            self.error(
                "R015",
                f'`{key}` of {where} must be a string, env("VAR") or secret("NAME")',
                value.span,
                "settings are fixed at build time or read from the environment at run time",
            )

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
                _did_you_mean(decl.pixel, self.pixel_decls)
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

    # ------------------------------------------------------------------ environments
    def _environment(self, decl: ast.EnvironmentDecl, path: str) -> ir.Environment:
        where = f"environment `{decl.name}`"
        consent, items = self._split_consent(decl.items, where)
        fields = self._setting_fields(items, ENVIRONMENT_FIELDS, where)
        pixels: dict[str, ir.PixelOverride] = {}
        for item in decl.items:
            if not isinstance(item, ast.EnvPixel):
                continue
            if item.name not in self.pixel_decls:
                self.error(
                    "R001",
                    f"{where} overrides unknown pixel `{item.name}`",
                    item.name_span,
                    _did_you_mean(item.name, self.pixel_decls) or "declare the pixel first",
                )
                continue
            if item.name in pixels:
                self.error(
                    "R012", f"pixel `{item.name}` is overridden twice in {where}", item.name_span
                )
                continue
            pixel_where = f"pixel `{item.name}` of {where}"
            pixel_consent, pixel_items = self._split_consent(item.body.items, pixel_where)
            over = self._setting_fields(pixel_items, PIXEL_FIELDS, pixel_where)
            pixels[item.name] = ir.PixelOverride(
                item.name, over, item.span, item.name_span, pixel_consent
            )
        serve: ir.ServeBlock | None = None
        for item in decl.items:
            if not isinstance(item, ast.ServeDecl):
                continue
            if serve is not None:
                self.error("R012", f"{where} has two serve blocks", item.span, "merge them")
                continue
            serve = resolve_serve(self, item, path, f"the serve block of {where}")
        return ir.Environment(
            decl.name, fields, pixels, decl.span, decl.name_span, path, consent, serve
        )

    # ------------------------------------------------------------------ tests
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
                        _did_you_mean(item.key, TEST_FIELDS) or f"fields: {', '.join(TEST_FIELDS)}",
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
                        _did_you_mean(item.rule, self.rule_names) or "use the name of a rule",
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
                        _did_you_mean(item.pixel, self.pixel_decls),
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
                    _did_you_mean(value.value, self.env_decls)
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

    # ------------------------------------------------------------------ expressions
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
            _did_you_mean(node.name, candidates) or "declare it with `element NAME = ...`",
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
                _did_you_mean(node.func, [f for f, d in FUNCTIONS.items() if d.context == "expr"])
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

    # ------------------------------------------------------------------ types
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


def resolve(files: list[ast.File]) -> tuple[dict[str, Any], list[Diagnostic]]:
    resolver = Resolver(files)
    result = resolver.resolve()
    # Expressions too deep once elements are expanded become null placeholders (R030).
    return result, [*resolver.diagnostics, *limits.check_model(result)]
