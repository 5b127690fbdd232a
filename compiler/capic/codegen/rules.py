"""One generated function per rule: its condition, one ``and`` operand at a time, computing
the elements each operand needs just before it (so a cheap test such as the event type rejects
an event before anything else is evaluated), then each send's elements and payload."""

from __future__ import annotations

import dataclasses

from capic.codegen.analysis import Analysis
from capic.codegen.function import FunctionWriter
from capic.codegen.literals import Code, lit, slug
from capic.codegen.module import ModuleNames, ModuleParts
from capic.codegen.plan import SendPlan
from capic.codegen.sends import send_lines
from capic.model import ir
from capic.model.evaluate import UNKNOWN

__all__ = ["rule_function"]


def rule_function(
    index: int,
    rule: ir.Rule,
    analysis: Analysis,
    module: ModuleNames,
    parts: ModuleParts,
    memo: set[str],
    gates: dict[str, tuple[ir.Consent, Code]] | None = None,
) -> tuple[Code, Code, list[Code]]:
    private = analysis.rule_needs(rule) - memo
    inline = _inline_candidates(rule, analysis, private)
    fn = FunctionWriter(module, analysis, memo=memo, inline=inline)
    name = Code(f"_rule_{index}_{slug(rule.name)}")
    line = rule.name_span.line if rule.name_span is not None else 0
    comment = Code(f"rule {lit(rule.name)} ({lit(rule.file)}, line {int(line)})")
    if rule.condition is not None:
        cond_value = analysis.consts.value(rule.condition)
        if cond_value is not UNKNOWN:
            if not cond_value:
                fn.emit("return False  # the condition is always false")
                return name, comment, fn.lines
        else:
            for part in _conjuncts(rule.condition):
                fn.prepare([part])
                test = fn.expr(part, cond=True)
                code = test.code
                if code.startswith("(") and code.endswith(")") and _balanced(code[1:-1]):
                    code = Code(code[1:-1])
                fn.emit(f"if not ({code}):")
                fn.emit("return False", 2)
    plans = [SendPlan.of(send, analysis.consts, gates) for send in rule.sends]
    names = _event_names(fn, rule, plans)
    fn.emit(f"s.stats.matched[_RULE_{index}] += 1")
    if len(plans) == 1 and plans[0].gate is not None and plans[0].gate.otherwise == "drop":
        # The rule's one send needs consent: without it nothing is built.
        fn.emit(f"if not {plans[0].gate_fn}(s):")
        fn.emit("s.stats.consent['dropped'] += 1", 2)
        fn.emit("return True", 2)
        plans[0] = dataclasses.replace(plans[0], gate=None, gate_fn=None)
    for send_index, plan in enumerate(plans):
        send_lines(
            fn,
            parts,
            index,
            send_index,
            plan,
            name_var=names.get(send_index),
            guarded=len(plans) > 1,
        )
    fn.emit("return True")
    return name, comment, fn.lines


def _event_names(fn: FunctionWriter, rule: ir.Rule, plans: list[SendPlan]) -> dict[int, Code]:
    """Compute the event names of the sends that compute them (``n_N``). A send whose name is
    missing (not a non-empty string) is skipped and counted with its reason; a rule whose every
    send is skipped did not match."""
    names: dict[int, Code] = {}
    for j, plan in enumerate(plans):
        expr = plan.send.event_expr
        if expr is None:
            continue
        fn.prepare([expr])
        var = names[j] = Code(f"n_{j}")
        fn.emit(f"{var} = {fn.expr(expr).code}")
        reason = fn.module.constant(
            f'rule "{rule.name}": no event name from {plan.send.event}', "SKIP"
        )
        fn.emit(f"if type({var}) is not str or not {var}:")
        fn.emit(f"s.stats.skipped[{reason}] += 1", 2)
        fn.emit("return False" if len(plans) == 1 else f"{var} = None", 2)
    if len(plans) > 1 and len(names) == len(plans):
        fn.emit("if " + " and ".join(f"{v} is None" for v in names.values()) + ":")
        fn.emit("return False", 2)
    return names


def _balanced(text: str) -> bool:
    """True when ``text`` has no parenthesis closing before it opened (string literals are
    skipped roughly: only used to drop a redundant outer pair, so a False is always safe)."""
    depth = 0
    quote: str | None = None
    escaped = False
    for ch in text:
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and quote is None


def _conjuncts(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Binary) and expr.op == "and":
        return [*_conjuncts(expr.left), *_conjuncts(expr.right)]
    return [expr]


def _inline_candidates(rule: ir.Rule, analysis: Analysis, private: set[str]) -> set[str]:
    """Private elements referenced exactly once, not inside a loop."""
    counts: dict[str, int] = {}
    looped: set[str] = set()
    sources: list[list[tuple[str, bool]]] = [analysis.refs(e) for e in analysis.rule_exprs(rule)]
    sources.extend(analysis.element_refs(name) for name in private)
    for refs in sources:
        for name, in_loop in refs:
            if name not in private:
                continue
            counts[name] = counts.get(name, 0) + 1
            if in_loop:
                looped.add(name)
    return {name for name, n in counts.items() if n == 1 and name not in looped}
