"""Which elements a generated module folds, inlines or memoizes (see :mod:`capic.codegen`).

Elements fall in three groups:

- **constant**: folded (:mod:`capic.model.evaluate`) and written as literals where used;
- **aliases**: a path with constant segments from ``event``, ``request`` or another alias
  (``element order = xdm.commerce.order``); inlined into every path that uses them, so
  ``order.priceTotal`` reads ``event.xdm.commerce.order.priceTotal`` directly (re-reading a
  few dict keys is cheaper than any memo). An alias tested in the conditions of several
  rules (``event_type == ...`` in each) is memoized instead, so each event reads it once;
- **computed**: everything else. One used by several rules is **memoized** per event: a
  function ``_el_NAME(s)`` stores its value on the event's scope the first time a rule that
  runs needs it. One used by a single rule is inlined into that rule: at its only use site
  when it is used once (outside loops), else into a local variable.
"""

from __future__ import annotations

from collections.abc import Iterator

from capic.codegen.errors import CodegenError
from capic.model import ir
from capic.model.evaluate import UNKNOWN, Evaluator

__all__ = ["Analysis", "walk_refs"]


def walk_refs(expr: ir.Expr, consts: Evaluator) -> Iterator[tuple[str, bool]]:
    """(element name, inside a loop) for every element reference of ``expr`` that is not
    folded away."""
    stack: list[tuple[ir.Expr, bool]] = [(expr, False)]
    while stack:
        node, in_loop = stack.pop()
        if consts.value(node) is not UNKNOWN:
            continue
        if isinstance(node, ir.ElementRef):
            yield node.name, in_loop
            continue
        if isinstance(node, ir.Comprehension):
            stack.append((node.source, in_loop))
            stack.append((node.body, True))
            if node.cond is not None:
                stack.append((node.cond, True))
            continue
        stack.extend((child, in_loop) for child in ir.children(node))


class Analysis:
    """Element classification and, per rule, which computed elements it needs."""

    def __init__(self, project: ir.Project, consts: Evaluator) -> None:
        self.project = project
        self.consts = consts
        self.elements = project.elements
        self._alias: dict[str, bool] = {}
        self._refs: dict[str, list[tuple[str, bool]]] = {}
        self._check_cycles()
        #: Aliases tested by the conditions of several rules (``event_type == ...`` in every
        #: rule): memoized like computed elements, so each event reads them once.
        self.hot: frozenset[str] = frozenset()
        self.hot = self._hot_aliases()

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            state[name] = 1
            element = self.elements[name]
            for dep in element.deps:
                if dep not in self.elements:
                    raise CodegenError(f"element `{name}` refers to unknown element `{dep}`")
                if state.get(dep) == 1:
                    raise CodegenError(f"elements `{name}` and `{dep}` refer to each other")
                if dep not in state:
                    visit(dep)
            state[name] = 2

        for name in self.elements:
            if name not in state:
                visit(name)

    def _hot_aliases(self) -> frozenset[str]:
        users: dict[str, int] = {}
        for rule in self.project.rules:
            if rule.condition is None:
                continue
            names = {
                n.name
                for n in ir.walk(rule.condition)
                if isinstance(n, ir.ElementRef) and n.name in self.elements
            }
            for name in names:
                if self.is_alias(name):
                    users[name] = users.get(name, 0) + 1
        self._alias.clear()
        return frozenset(name for name, n in users.items() if n > 1)

    def is_const(self, name: str) -> bool:
        return self.consts.element(name) is not UNKNOWN

    def is_alias(self, name: str) -> bool:
        """A path with constant segments from a root or another alias."""
        known = self._alias.get(name)
        if known is not None:
            return known
        result = False
        if not self.is_const(name) and name not in self.hot:
            result = self._alias_expr(self.elements[name].value)
        self._alias[name] = result
        return result

    def _alias_expr(self, expr: ir.Expr) -> bool:
        if isinstance(expr, ir.Root):
            return True
        if isinstance(expr, ir.ElementRef):
            return self.is_alias(expr.name)
        if isinstance(expr, ir.Path):
            if not all(self.consts.segment(s) is not UNKNOWN for s in expr.segments):
                return False
            return self._alias_expr(expr.base)
        return False

    def refs(self, expr: ir.Expr) -> list[tuple[str, bool]]:
        """Computed elements ``expr`` refers to (through aliases), with the loop flag."""
        out: list[tuple[str, bool]] = []
        for name, in_loop in walk_refs(expr, self.consts):
            if name not in self.elements:
                raise CodegenError(f"unknown element `{name}`")
            if self.is_const(name):
                continue
            if self.is_alias(name):
                out.extend(self.element_refs(name))
                continue
            out.append((name, in_loop))
        return out

    def element_refs(self, name: str) -> list[tuple[str, bool]]:
        cached = self._refs.get(name)
        if cached is None:
            cached = self._refs[name] = self.refs(self.elements[name].value)
        return cached

    def closure(self, names: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(dep for dep, _ in self.element_refs(name))
        return seen

    def rule_exprs(self, rule: ir.Rule) -> list[ir.Expr]:
        exprs: list[ir.Expr] = []
        if rule.condition is not None:
            exprs.append(rule.condition)
        for send in rule.sends:
            if send.event_expr is not None:
                exprs.append(send.event_expr)
            exprs.extend(fld.value for _, fld in send.body.fields())
        return exprs

    def rule_needs(self, rule: ir.Rule) -> set[str]:
        direct = {name for e in self.rule_exprs(rule) for name, _ in self.refs(e)}
        return self.closure(direct)
