"""From the rule model to the pieces of a generated module (the templates lay them out).

The work is split by concept: :mod:`~capic.codegen.analysis` decides which elements are folded,
inlined or memoized; :mod:`~capic.codegen.module` holds the module-wide names;
:mod:`~capic.codegen.function` writes function bodies and expressions;
:mod:`~capic.codegen.rules` writes one function per rule and :mod:`~capic.codegen.sends` the
code of each send. Constants are folded by the project's one evaluator
(:mod:`capic.model.evaluate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from capic.codegen.analysis import Analysis
from capic.codegen.errors import CodegenError
from capic.codegen.function import FunctionWriter, memo_attr, memo_function
from capic.codegen.literals import Code, lit
from capic.codegen.module import ModuleNames, ModuleParts
from capic.codegen.rules import rule_function
from capic.model import ir
from capic.model.evaluate import Evaluator

__all__ = ["CodegenError", "ModuleParts", "compile_project_parts"]

#: Folded results larger than this (in items) stay code, to keep modules small.
_MAX_FOLDED_ITEMS: Final = 10_000


def compile_project_parts(
    project: ir.Project, consent: Mapping[str, ir.Consent] | None = None
) -> tuple[ModuleParts, list[str]]:
    """The compiled pieces of ``project`` and the names of the memoized elements.
    ``consent``: the consent gate in force for each pixel that has one."""
    consts = Evaluator(project.elements, max_items=_MAX_FOLDED_ITEMS)
    analysis = Analysis(project, consts)
    needs = [analysis.rule_needs(rule) for rule in project.rules]
    users: dict[str, int] = {}
    for need in needs:
        for name in need:
            users[name] = users.get(name, 0) + 1
    memo = {name for name, n in users.items() if n > 1}
    # Gates are functions of their own (serve asks them too): what they read is memoized.
    gate_exprs = [gate.granted for gate in (consent or {}).values()]
    memo |= analysis.closure({n for e in gate_exprs for n, _ in analysis.refs(e)})
    module = ModuleNames()
    parts = ModuleParts()

    ordered_memo = [name for name in project.elements if name in memo]
    for name in ordered_memo:
        fn = FunctionWriter(module, analysis, memo=memo, in_memo_function=True)
        value = fn.expr(project.elements[name].value)
        parts.memo_attrs.append(memo_attr(name))
        parts.memo_functions.append((memo_function(name), memo_attr(name), lit(name), value.code))
    gates: dict[str, tuple[ir.Consent, Code]] = {}
    for i, (pixel, gate) in enumerate(sorted((consent or {}).items())):
        fn = FunctionWriter(module, analysis, memo=memo, in_memo_function=True)
        value = fn.expr(gate.granted, cond=True)
        fname, attr = Code(f"_consent_{i}"), Code(f"c_{i}")
        parts.consent_functions.append((fname, attr, lit(pixel), value.code))
        gates[pixel] = (gate, fname)
    for index, rule in enumerate(project.rules):
        parts.rule_functions.append(
            rule_function(index, rule, analysis, module, parts, memo, gates)
        )

    parts.regexes = module.regex_definitions()
    parts.constants = list(module.constants.items())
    parts.hashers = [(name, lit(key)) for key, name in sorted(module.hashers.items())]
    parts.memos = [(name, lit(key)) for key, name in sorted(module.memos.items())]
    parts.normalizers = [(name, lit(key)) for key, name in sorted(module.normalizers.items())]
    parts.conversions = [
        (conv, fast, lit(section), lit(key))
        for (section, key), (conv, fast) in sorted(module.conversions.items())
    ]
    imports: list[Code] = []
    if module.paths:
        names = ", ".join(f"{n} as _p_{n}" for n in sorted(module.paths))
        imports.append(Code(f"from capic.runtime.paths import {names}"))
    if module.stdlib:
        names = ", ".join(f"{n} as _f_{n}" for n in sorted(module.stdlib))
        imports.append(Code(f"from capic.runtime.stdlib import {names}"))
    for n in sorted(module.payload):
        imports.append(Code(f"from capic.runtime.payload import {n} as _{n}"))
    for mod, n in sorted(module.runtime):
        imports.append(Code(f"from capic.runtime.{mod} import {n} as _{n}"))
    if module.normalizers:
        imports.append(Code("from capic.runtime.hashing import WHITESPACE as _WS"))
        imports.append(Code("from capic.runtime.hashing import sha256 as _sha"))
    parts.imports = imports
    return parts, ordered_memo
