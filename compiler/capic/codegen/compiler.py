"""From the rule model to the pieces of a generated module (the templates lay them out).

Elements fall in three groups:

- **constant**: folded (:mod:`capic.codegen.fold`) and written as literals where used;
- **aliases**: a path with constant segments from ``event``, ``request`` or another alias
  (``element order = xdm.commerce.order``); inlined into every path that uses them, so
  ``order.priceTotal`` reads ``event.xdm.commerce.order.priceTotal`` directly (re-reading a
  few dict keys is cheaper than any memo). An alias tested in the conditions of several
  rules (``event_type == ...`` in each) is memoized instead, so each event reads it once;
- **computed**: everything else. One used by several rules is **memoized** per event: a
  function ``_el_NAME(s)`` stores its value on the event's scope the first time a rule that
  runs needs it. One used by a single rule is inlined into that rule: at its only use site
  when it is used once (outside loops), else into a local variable.

A rule function evaluates its condition first, one ``and`` operand at a time, computing the
elements each operand needs just before it (so a cheap test such as the event type rejects
an event before anything else is evaluated), then each send's elements and payload.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from capic.codegen.fold import NOT_CONST, REGEX_FLAGS, Folder
from capic.codegen.literals import Code, ident, lit, slug
from capic.model import ir
from capic.runtime import stdlib
from capic.runtime.hashing import MEMO_KEYS
from capic.runtime.normalize import HASHED_KEYS
from capic.runtime.payload import SECTION_COERCIONS, TOP_COERCIONS

__all__ = ["CodegenError", "ModuleParts", "compile_project_parts"]

_USER = "user_data"
_TEST_EVENT_CODE = "test_event_code"
_BOOL_OPS = frozenset(
    {
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "iequals",
        "icontains",
        "istarts_with",
        "iends_with",
        "and",
        "or",
    }
)
_CONTAINER_OPERAND = frozenset({"in", "not_in", "contains", "icontains"})


class CodegenError(ValueError):
    """The rule model cannot be compiled (it still has front-end errors)."""


@dataclass(frozen=True, slots=True)
class Val:
    code: Code
    #: "bool" when the value is statically a Python bool.
    kind: str | None = None


@dataclass
class ModuleParts:
    """Everything the module template needs (all text is :class:`Code`)."""

    imports: list[Code] = field(default_factory=list)
    regexes: list[tuple[Code, Code, Code]] = field(default_factory=list)
    constants: list[tuple[Code, Code]] = field(default_factory=list)
    specs: list[tuple[Code, list[tuple[Code, Code]]]] = field(default_factory=list)
    memo_attrs: list[Code] = field(default_factory=list)
    memo_functions: list[tuple[Code, Code, Code, Code]] = field(default_factory=list)
    rule_functions: list[tuple[Code, Code, list[Code]]] = field(default_factory=list)
    #: (module name, user_data key) of the per-key hashing functions the rules call.
    hashers: list[tuple[Code, Code]] = field(default_factory=list)
    #: (conversion name, fast type name, section, key) of the section conversions the rules
    #: apply in generated code (see ``capic.runtime.payload.section_conversion``).
    conversions: list[tuple[Code, Code, Code, Code]] = field(default_factory=list)
    #: (module name, user_data key) of the normalizers the rules call (inlined puts).
    normalizers: list[tuple[Code, Code]] = field(default_factory=list)
    #: (module name, user_data key) of the digest memo lookups of the memoized keys.
    memos: list[tuple[Code, Code]] = field(default_factory=list)


# ----------------------------------------------------------------------------- analysis


def _walk_refs(expr: ir.Expr, folder: Folder) -> Iterator[tuple[str, bool]]:
    """(element name, inside a loop) for every element reference of ``expr`` that is not
    folded away."""
    stack: list[tuple[ir.Expr, bool]] = [(expr, False)]
    while stack:
        node, in_loop = stack.pop()
        if folder.value(node) is not NOT_CONST:
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


class _Analysis:
    """Element classification and, per rule, which computed elements it needs."""

    def __init__(self, project: ir.Project, folder: Folder) -> None:
        self.project = project
        self.folder = folder
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
        return self.folder.element(name) is not NOT_CONST

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
            if not all(self.folder.segment(s) is not NOT_CONST for s in expr.segments):
                return False
            return self._alias_expr(expr.base)
        return False

    def refs(self, expr: ir.Expr) -> list[tuple[str, bool]]:
        """Computed elements ``expr`` refers to (through aliases), with the loop flag."""
        out: list[tuple[str, bool]] = []
        for name, in_loop in _walk_refs(expr, self.folder):
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
            exprs.extend(fld.value for _, fld in send.body.fields())
        return exprs

    def rule_needs(self, rule: ir.Rule) -> set[str]:
        direct = {name for e in self.rule_exprs(rule) for name, _ in self.refs(e)}
        return self.closure(direct)


# ----------------------------------------------------------------------------- module state


class _Module:
    """Module-wide names: imports, regexes, hoisted constants."""

    def __init__(self) -> None:
        self.stdlib: set[str] = set()
        self.paths: set[str] = set()
        self.regexes: dict[tuple[str, str], Code] = {}
        self.constants: dict[Code, Code] = {}
        self._const_names: dict[str, Code] = {}
        self.hashers: dict[str, Code] = {}
        self.conversions: dict[tuple[str, str], tuple[Code, Code]] = {}
        self.normalizers: dict[str, Code] = {}
        self.memos: dict[str, Code] = {}
        #: Names imported from ``capic.runtime.payload`` besides Sender and SendSpec.
        self.payload: set[str] = set()

    def hasher(self, key: str) -> Code:
        """The module name of the put function of the hashed user_data key ``key``."""
        name = self.hashers.get(key)
        if name is None:
            name = self.hashers[key] = ident(f"_H_{slug(key).upper()}")
        return name

    def normalizer(self, key: str) -> Code:
        """The module name of the normalizer of the (not memoized) hashed key ``key``."""
        name = self.normalizers.get(key)
        if name is None:
            name = self.normalizers[key] = ident(f"_N_{slug(key).upper()}")
        return name

    def memo(self, key: str) -> Code:
        """The module name of the digest memo lookup of the memoized hashed key ``key``."""
        name = self.memos.get(key)
        if name is None:
            name = self.memos[key] = ident(f"_M_{slug(key).upper()}")
        return name

    def conversion(self, section: str, key: str) -> tuple[Code, Code]:
        """Module names of the conversion of ``section.key`` and of the type it leaves as is."""
        names = self.conversions.get((section, key))
        if names is None:
            base = slug(f"{section}_{key}").upper()
            names = self.conversions[(section, key)] = (ident(f"_C_{base}"), ident(f"_T_{base}"))
            self.payload.add("section_conversion")
        return names

    def fn(self, impl: str) -> Code:
        """The local name of a runtime stdlib function."""
        if not hasattr(stdlib, impl):
            raise CodegenError(f"no runtime implementation {impl!r}")
        self.stdlib.add(impl)
        return Code(f"_f_{impl}")

    def path_fn(self, name: str) -> Code:
        self.paths.add(name)
        return Code(f"_p_{name}")

    def regex(self, pattern: str, flags: str) -> Code:
        key = (pattern, "".join(sorted(set(flags))))
        name = self.regexes.get(key)
        if name is None:
            name = self.regexes[key] = Code(f"_RE_{len(self.regexes)}")
        return name

    def constant(self, value: Any, prefix: str) -> Code:
        """A module constant holding ``value`` (tuples and strings only: immutable)."""
        text = lit(value)
        name = self._const_names.get(text)
        if name is None:
            name = self._const_names[text] = Code(f"_{prefix}{len(self._const_names)}")
            self.constants[name] = text
        return name


# ----------------------------------------------------------------------------- functions


class _Function:
    """Writes one function body: expressions, temporaries, element locals."""

    def __init__(
        self,
        module: _Module,
        analysis: _Analysis,
        *,
        memo: set[str],
        inline: set[str] | None = None,
        in_memo_function: bool = False,
    ) -> None:
        self.module = module
        self.analysis = analysis
        self.folder = analysis.folder
        self.memo = memo
        self.inline = inline or set()
        self.in_memo_function = in_memo_function
        self.assigned: set[str] = set()
        self.lines: list[Code] = []
        self._temps = 0
        #: (root, field, ...) -> the local holding that object bound with ``_p_obj``.
        self._objects: dict[tuple[str, ...], Code] = {}
        self._object_names: set[str] = set()
        #: Bindings of objects that the next statement uses, not emitted yet.
        self._pending: list[Code] = []

    # -- statements -------------------------------------------------------------------------

    def emit(self, line: str, indent: int = 1) -> None:
        if self._pending:
            # Object bindings go right before the first statement that reads them, always at
            # the function's top level (every statement that builds expressions is there).
            assert indent == 1, "object bindings must be emitted at the top level"
            self.lines.extend(self._pending)
            self._pending.clear()
        self.lines.append(Code("    " * indent + line))

    def bound_object(self, path: tuple[str, ...]) -> Code:
        """The local bound to the object at ``path`` (a root and field names), emitting its
        binding before the next statement the first time: ``o_event_customer =
        _p_obj(o_event.get('customer'))``. Reading several fields of one object then walks
        the event once, and each field is one ``dict.get``."""
        name = self._objects.get(path)
        if name is not None:
            return name
        if len(path) == 1:
            value = (
                f"{self.module.path_fn('obj')}({'s.event' if path[0] == 'event' else 's.request'})"
            )
        else:
            parent = self.bound_object(path[:-1])
            value = f"{self.module.path_fn('obj')}({parent}.get({lit(path[-1])}))"
        base = "o_" + "_".join(slug(p, 20) for p in path)
        text = base
        n = 1
        while text in self._object_names:
            n += 1
            text = f"{base}_{n}"
        self._object_names.add(text)
        name = self._objects[path] = ident(text)
        self._pending.append(Code(f"    {name} = {value}"))
        return name

    def prepare(self, exprs: list[ir.Expr]) -> None:
        """Assign the element locals ``exprs`` need that are not assigned yet."""
        for expr in exprs:
            for name, _ in self.analysis.refs(expr):
                self._assign(name)

    def _assign(self, name: str) -> None:
        if name in self.assigned:
            return
        if name in self.inline:
            for dep, _ in self.analysis.element_refs(name):
                self._assign(dep)
            return
        var = self.local(name)
        if name in self.memo:
            # The memo check inline: after the first rule that needed it, one attribute read.
            self.emit(f"{var} = s.{memo_attr(name)}")
            self.emit(f"if {var} is _UNSET:")
            self.emit(f"{var} = {memo_function(name)}(s)", 2)
        else:
            for dep, _ in self.analysis.element_refs(name):
                self._assign(dep)
            value = self.expr(self.analysis.elements[name].value)
            self.emit(f"{var} = {value.code}")
        self.assigned.add(name)

    @staticmethod
    def local(name: str) -> Code:
        return ident(f"e_{name}")

    def temp(self) -> Code:
        self._temps += 1
        return Code(f"_t{self._temps}")

    # -- expressions ------------------------------------------------------------------------

    def expr(self, node: ir.Expr, *, cond: bool = False, no_walrus: bool = False) -> Val:
        value = self.folder.value(node)
        if value is not NOT_CONST:
            return Val(lit(value), "bool" if type(value) is bool else None)
        if isinstance(node, ir.Root):
            return Val(Code("s.event" if node.name == "event" else "s.request"))
        if isinstance(node, ir.Var):
            return Val(ident(f"v_{node.name}"))
        if isinstance(node, ir.ElementRef):
            return self._element(node.name, no_walrus)
        if isinstance(node, ir.Path):
            return self._path(node, no_walrus)
        if isinstance(node, ir.Call):
            return self._call(node, no_walrus)
        if isinstance(node, ir.Unary):
            operand = self.expr(node.operand, cond=node.op == "not", no_walrus=no_walrus)
            if node.op == "not":
                return Val(Code(f"(not {operand.code})"), "bool")
            return Val(Code(f"{self.module.fn('neg')}({operand.code})"))
        if isinstance(node, ir.Binary):
            return self._binary(node, cond, no_walrus)
        if isinstance(node, ir.Match):
            operand = self.expr(node.operand, no_walrus=no_walrus)
            regex = self.module.regex(node.pattern, node.flags)
            return Val(Code(f"{self.module.fn('matches')}({regex}, {operand.code})"), "bool")
        if isinstance(node, ir.Comprehension):
            return self._comprehension(node, no_walrus)
        if isinstance(node, ir.ListOf):
            items = ", ".join(self.expr(i, no_walrus=no_walrus).code for i in node.items)
            return Val(Code(f"[{items}]"))
        if isinstance(node, ir.ObjectOf):
            entries = ", ".join(
                f"{lit(k)}: {self.expr(v, no_walrus=no_walrus).code}" for k, v in node.entries
            )
            return Val(Code("{" + entries + "}"))
        raise CodegenError(f"{type(node).__name__} is not allowed in a rule expression")

    def _element(self, name: str, no_walrus: bool) -> Val:
        analysis = self.analysis
        if name not in analysis.elements:
            raise CodegenError(f"unknown element `{name}`")
        if analysis.is_alias(name) or name in self.inline:
            return self.expr(analysis.elements[name].value, no_walrus=no_walrus)
        if self.in_memo_function:
            return Val(Code(f"{memo_function(name)}(s)"))
        if name not in self.assigned:
            raise CodegenError(f"element `{name}` used before it was computed")
        return Val(self.local(name))

    def _flatten(self, node: ir.Path) -> tuple[ir.Expr, list[str | int | ir.Expr]]:
        """Base and segments with alias elements expanded (``order.x`` -> ``event.xdm...x``)."""
        segments: list[str | int | ir.Expr] = list(node.segments)
        base = node.base
        while True:
            if isinstance(base, ir.ElementRef) and self.analysis.is_alias(base.name):
                base = self.analysis.elements[base.name].value
                continue
            if isinstance(base, ir.Path):
                segments = [*base.segments, *segments]
                base = base.base
                continue
            return base, segments

    def _path(self, node: ir.Path, no_walrus: bool) -> Val:
        base_expr, raw = self._flatten(node)
        base = self.expr(base_expr, no_walrus=no_walrus)
        segments: list[Any] = []
        dynamic = False
        for seg in raw:
            folded = self.folder.segment(seg)
            if folded is not NOT_CONST:
                segments.append(folded)
            else:
                assert not isinstance(seg, str | int)
                segments.append(self.expr(seg, no_walrus=no_walrus).code)
                dynamic = True
        if not segments:
            return base
        if (
            not dynamic
            and not self.in_memo_function
            and isinstance(base_expr, ir.Root)
            and all(type(s) is str for s in segments)
        ):
            parent = self.bound_object((base_expr.name, *segments[:-1]))
            return Val(Code(f"{parent}.get({lit(segments[-1])})"))
        if not dynamic and all(type(s) is str for s in segments):
            if len(segments) <= 3:
                fn = self.module.path_fn(f"get{len(segments)}")
                keys_code = ", ".join(lit(k) for k in segments)
                return Val(Code(f"{fn}({base.code}, {keys_code})"))
            keys = self.module.constant(tuple(segments), "K")
            return Val(Code(f"{self.module.path_fn('get_keys')}({base.code}, {keys})"))
        if not dynamic:
            consts = [s if type(s) in (str, int) else None for s in segments]
            keys = self.module.constant(tuple(consts), "K")
            return Val(Code(f"{self.module.path_fn('get_path')}({base.code}, {keys})"))
        parts = [s if isinstance(s, Code) else lit(s) for s in segments]
        tuple_code = f"({parts[0]},)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
        return Val(Code(f"{self.module.path_fn('get_path')}({base.code}, {tuple_code})"))

    def _call(self, node: ir.Call, no_walrus: bool) -> Val:
        if node.func == "now":
            return Val(Code("s.now_seconds()"))
        if node.func == "uuid":
            return Val(Code("s.uuid()"))
        args = [self.expr(a, no_walrus=no_walrus) for a in node.args]
        if node.func == "exists" and len(args) == 1:
            return Val(Code(f"({args[0].code} is not None)"), "bool")
        impl = stdlib.IMPLEMENTATIONS.get(node.func)
        if impl is None:
            raise CodegenError(f"`{node.func}()` cannot be used in a rule")
        joined = ", ".join(a.code for a in args)
        return Val(Code(f"{self.module.fn(impl)}({joined})"))

    def _operand(self, node: ir.Expr, no_walrus: bool) -> Code:
        """An operator operand; a constant list becomes a module tuple (no per-event list)."""
        value = self.folder.value(node)
        if type(value) is list and value:
            return self.module.constant(tuple(value), "C")
        return self.expr(node, no_walrus=no_walrus).code

    def _binary(self, node: ir.Binary, cond: bool, no_walrus: bool) -> Val:
        op = node.op
        if op in ("and", "or"):
            left = self.expr(node.left, cond=cond, no_walrus=no_walrus)
            right = self.expr(node.right, cond=cond, no_walrus=no_walrus)
            if cond:
                return Val(Code(f"({left.code} {op} {right.code})"))
            lc = left.code if left.kind == "bool" else Code(f"bool({left.code})")
            rc = right.code if right.kind == "bool" else Code(f"bool({right.code})")
            return Val(Code(f"({lc} {op} {rc})"), "bool")
        if op == "??":
            left = self.expr(node.left, no_walrus=no_walrus)
            right = self.expr(node.right, no_walrus=no_walrus)
            if no_walrus:
                return Val(Code(f"{self.module.fn('coalesce2')}({left.code}, {right.code})"))
            t = self.temp()
            return Val(Code(f"({t} if ({t} := {left.code}) is not None else {right.code})"))
        lv = self.folder.value(node.left)
        rv = self.folder.value(node.right)
        if op == "==" and (type(lv) is str or type(rv) is str):
            # A string constant is never equal to null, a number, a bool or a container,
            # which is exactly what Python's == says too.
            left = self.expr(node.left, no_walrus=no_walrus)
            right = self.expr(node.right, no_walrus=no_walrus)
            return Val(Code(f"({left.code} == {right.code})"), "bool")
        impl = stdlib.OPERATORS.get(op)
        if impl is None:
            raise CodegenError(f"unknown operator {op!r}")
        if op in _CONTAINER_OPERAND:
            lc = self._operand(node.left, no_walrus)
            rc = self._operand(node.right, no_walrus)
        else:
            lc = self.expr(node.left, no_walrus=no_walrus).code
            rc = self.expr(node.right, no_walrus=no_walrus).code
        kind = "bool" if op in _BOOL_OPS else None
        return Val(Code(f"{self.module.fn(impl)}({lc}, {rc})"), kind)

    def _comprehension(self, node: ir.Comprehension, no_walrus: bool) -> Val:
        # Python forbids := anywhere inside a comprehension's iterable.
        source = self.expr(node.source, no_walrus=True)
        var = ident(f"v_{node.var}")
        body = self.expr(node.body, no_walrus=no_walrus)
        iterate = f"{self.module.fn('iter_list')}({source.code})"
        if node.cond is None:
            return Val(Code(f"[{body.code} for {var} in {iterate}]"))
        test = self.expr(node.cond, cond=True, no_walrus=no_walrus)
        return Val(Code(f"[{body.code} for {var} in {iterate} if {test.code}]"))


def memo_function(name: str) -> Code:
    return ident(f"_el_{name}")


def memo_attr(name: str) -> Code:
    return ident(f"m_{name}")


# ----------------------------------------------------------------------------- rules


def _conjuncts(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Binary) and expr.op == "and":
        return [*_conjuncts(expr.left), *_conjuncts(expr.right)]
    return [expr]


def _inline_candidates(rule: ir.Rule, analysis: _Analysis, private: set[str]) -> set[str]:
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


_Entries = list[tuple[Code, "Code | _Entries"]]


def _render_dict(entries: _Entries, indent: int) -> str:
    """A dict display: ``{`` on the current line, one entry per line, ``}`` at ``indent``."""
    if not entries:
        return "{}"
    pad = "    " * indent
    lines = ["{"]
    for key, value in entries:
        text = _render_dict(value, indent + 1) if isinstance(value, list) else value
        lines.append(f"{pad}    {key}: {text},")
    lines.append(pad + "}")
    return "\n".join(lines)


def _section_entries(fn: _Function, section: ir.Section) -> _Entries:
    entries: _Entries = []
    for key, entry in section.entries.items():
        if isinstance(entry, ir.Section):
            if entry.key == "extinfo" and set(entry.entries) == {"extinfo"}:
                # app { extinfo { ... } }: Meta wants the 16-item list itself.
                extinfo = entry.entries["extinfo"]
                assert isinstance(extinfo, ir.Field)
                entries.append((lit(key), fn.expr(extinfo.value).code))
            else:
                entries.append((lit(key), _section_entries(fn, entry)))
        else:
            entries.append((lit(key), fn.expr(entry.value).code))
    return entries


def _skip_key(fn: _Function, key: str, value_expr: ir.Expr) -> bool:
    """True when the top-level field ``key`` needs no work at run time: a constant that is not
    null, not a container (no nulls to remove) and already of the type Meta expects."""
    value = fn.folder.value(value_expr)
    if value is NOT_CONST or value is None or type(value) in (list, dict):
        return False
    coercion = TOP_COERCIONS.get(key)
    return coercion is None or type(value) is coercion[1]


def _send_lines(
    fn: _Function, parts: ModuleParts, rule_index: int, send_index: int, send: ir.Send
) -> None:
    fn.prepare([fld.value for _, fld in send.body.fields()])
    keys: list[str] = []
    sections: list[str] = []
    #: Sections built without nulls by ``section_lines`` (no run-time pruning needed).
    clean: list[str] = []
    section_lines: list[tuple[str, int]] = []
    #: (section key, its variable, the keys it may hold) of the clean sections.
    flat_sections: list[tuple[str, Code, list[tuple[str, object]]]] = []
    event: _Entries = [(lit("event_name"), lit(send.event))]
    user_section: ir.Section | None = None
    test_code: Code | None = None
    for key, entry in send.body.entries.items():
        if isinstance(entry, ir.Section):
            if entry.key == _USER:
                user_section = entry
                event.append((lit(_USER), Code("None")))
            else:
                sections.append(entry.key)
                flat = _flat_section_lines(fn, entry, Code(f"sec_{len(sections) - 1}"))
                if flat is None:
                    event.append((lit(entry.key), _section_entries(fn, entry)))
                else:
                    clean.append(entry.key)
                    section_lines.extend(flat)
                    flat_sections.append(
                        (
                            entry.key,
                            Code(f"sec_{len(sections) - 1}"),
                            [
                                (k, fn.folder.value(e.value))
                                for k, e in entry.entries.items()
                                if isinstance(e, ir.Field)
                            ],
                        )
                    )
                    event.append((lit(entry.key), Code(f"sec_{len(sections) - 1}")))
        elif key == _TEST_EVENT_CODE:
            test_code = fn.expr(entry.value).code
        elif key != "event_name":
            if not _skip_key(fn, key, entry.value):
                keys.append(key)
            event.append((lit(key), fn.expr(entry.value).code))
    # A constant action_source (not converted at run time, so the event keeps it as written)
    # lets validation skip its checks; SendSpec checks that it is one Meta accepts.
    source: str | None = None
    source_entry = send.body.entries.get("action_source")
    if isinstance(source_entry, ir.Field) and "action_source" not in keys:
        value = fn.folder.value(source_entry.value)
        if type(value) is str:
            source = value
    user_lines = _user_lines(fn, user_section) if user_section is not None else None
    # Clean sections are finished in generated code after ``_begin`` (their conversions, then
    # left out when empty: what ``Sender.begin`` does last), unless the generic ``_send`` runs.
    compiled: list[tuple[str, Code, list[tuple[str, object]]]] = []
    if user_lines is not None or user_section is None:
        compiled = flat_sections
        done = {key for key, _, _ in compiled}
        sections = [key for key in sections if key not in done]
        clean = [key for key in clean if key not in done]
    spec = Code(f"_SEND_{rule_index}_{send_index}")
    parts.specs.append(
        (
            spec,
            [
                (Code("rule"), Code(f"_RULE_{rule_index}")),
                (Code("pixel"), lit(send.pixel)),
                (Code("event_name"), lit(send.event)),
                (Code("keys"), lit(tuple(keys))),
                (Code("sections"), lit(tuple(sections))),
                *([(Code("clean"), lit(tuple(clean)))] if clean else []),
                *([(Code("action_source"), lit(source))] if source is not None else []),
            ],
        )
    )
    fn.emit(f"# send {lit(send.event)} to {lit(send.pixel)}")
    if user_lines is None and user_section is not None:
        # A user section with nested sections: the generic builder.
        user = _render_dict(_section_entries(fn, user_section), 1)
        args = [f"s, out, {spec}", _render_dict(event, 1), user]
        if test_code is not None:
            args.append(test_code)
        fn.emit("_send(" + ", ".join(args) + ")")
        return
    for line, extra in section_lines:
        fn.emit(line, 1 + extra)
    fn.emit(f"ev = {_render_dict(event, 1)}")
    fn.emit(f"if _begin(s, {spec}, ev):")
    conversion_lines = _conversion_lines(fn, compiled)
    if conversion_lines or user_lines is not None:
        fn.emit("inv = s.stats.invalid_values", 2)
    for line, extra in conversion_lines:
        fn.emit(line, 2 + extra)
    if user_lines is None:
        ud = "None"
    else:
        ud = "ud"
        fn.emit("ud = {}", 2)
        for line, extra in user_lines:
            fn.emit(line, 2 + extra)
    finish = f"_finish(s, out, {spec}, ev, {ud}"
    finish += f", {test_code})" if test_code is not None else ")"
    fn.emit(finish, 2)


def _conversion_lines(
    fn: _Function, compiled: list[tuple[str, Code, list[tuple[str, object]]]]
) -> list[tuple[str, int]]:
    """The conversions of the clean sections (``SECTION_COERCIONS``) and the removal of an
    empty section, in ``Sender.begin``'s order; constants already of the right type and null
    constants (left out) need no conversion."""
    lines: list[tuple[str, int]] = []
    for section, name, entries in compiled:
        coercions = SECTION_COERCIONS.get(section, {})
        present = {key: value for key, value in entries}
        for key, (_, fast) in coercions.items():
            if key not in present:
                continue
            value = present[key]
            if value is None or (value is not NOT_CONST and type(value) is fast):
                continue
            conv, fast_name = fn.module.conversion(section, key)
            lines.append(
                (f"if (x := {name}.get({lit(key)})) is not None and type(x) is not {fast_name}:", 0)
            )
            lines.append((f"if (c := {conv}(x)) is None:", 1))
            lines.append((f"del {name}[{lit(key)}]", 2))
            lines.append((f"inv[{lit(f'{section}.{key}')}] += 1", 2))
            lines.append(("else:", 1))
            lines.append((f"{name}[{lit(key)}] = c", 2))
        lines.append((f"if not {name}:", 0))
        lines.append((f"del ev[{lit(section)}]", 1))
    return lines


def _flat_section_lines(
    fn: _Function, section: ir.Section, name: Code
) -> list[tuple[str, int]] | None:
    """Straight-line code that builds the section ``name`` without its null members (what
    ``prune`` would leave of the dict display, in the same order); containers go through
    ``put_pruned``. None when the section has nested sections (the generic path). The
    expressions are built here, before any line is emitted (see :func:`_user_lines`)."""
    lines: list[tuple[str, int]] = [(f"{name} = {{}}", 0)]
    for key, entry in section.entries.items():
        if isinstance(entry, ir.Section):
            return None
        value = fn.folder.value(entry.value)
        if value is None:
            continue  # null is left out
        code = fn.expr(entry.value).code
        if value is not NOT_CONST and type(value) not in (list, dict):
            lines.append((f"{name}[{lit(key)}] = {code}", 0))
            continue
        fn.module.payload.add("put_pruned")
        lines.append((f"if (x := {code}) is not None:", 0))
        lines.append(("if type(x) is dict or type(x) is list:", 1))
        lines.append((f"_put_pruned({name}, {lit(key)}, x)", 2))
        lines.append(("else:", 1))
        lines.append((f"{name}[{lit(key)}] = x", 2))
    return lines


def _user_lines(fn: _Function, section: ir.Section) -> list[tuple[str, int]] | None:
    """Straight-line code that builds user_data in ``ud`` (lines and extra indentation), one
    put function call per hashed key; None when the section has nested sections. The
    expressions are built here, before any line is emitted, so that the object bindings they
    need are emitted at the top level of the rule function."""
    lines: list[tuple[str, int]] = []
    # A phone number is read in the event's own country when it names one: ph's normalizer
    # and put take the raw country value as their last argument.
    country = section.entries.get("country")
    country_arg = ""
    if isinstance(country, ir.Field) and fn.folder.value(country.value) is not None:
        country_arg = ", " + fn.expr(country.value).code
    for key, entry in section.entries.items():
        if isinstance(entry, ir.Section):
            return None
        value = fn.folder.value(entry.value)
        if value is None:
            continue  # null is left out
        code = fn.expr(entry.value).code
        extra = country_arg if key == "ph" else ""
        if key in HASHED_KEYS and key not in MEMO_KEYS:
            # The put function's common path inline: a stripped, non-blank string that cannot
            # be a digest is normalized and hashed here; every other value goes to the put.
            k = lit(key)
            lines.append(
                (f"if type(x := {code}) is str and (t := x.strip(_WS)) and len(t) != 64:", 0)
            )
            lines.append((f"if (n := {fn.module.normalizer(key)}(t{extra})) is not None:", 1))
            lines.append((f"ud[{k}] = _sha(n.encode()).hexdigest()", 2))
            lines.append(("else:", 1))
            lines.append((f"inv[{k}] += 1", 2))
            lines.append(("else:", 0))
            lines.append((f"{fn.module.hasher(key)}(ud, x, inv{extra})", 1))
        elif key in HASHED_KEYS:
            # Memoized keys: a digest already in the memo is stored here; every other value
            # (not memoized yet, invalid, not a string) goes to the put function.
            lines.append((f"if type(x := {code}) is str and (d := {fn.module.memo(key)}(x)):", 0))
            lines.append((f"ud[{lit(key)}] = d", 1))
            lines.append(("else:", 0))
            lines.append((f"{fn.module.hasher(key)}(ud, x, inv)", 1))
        elif value is not NOT_CONST:
            lines.append((f"ud[{lit(key)}] = {code}", 0))
        else:
            lines.append((f"if (x := {code}) is not None:", 0))
            lines.append((f"ud[{lit(key)}] = x", 1))
    return lines


def _rule_function(
    index: int,
    rule: ir.Rule,
    analysis: _Analysis,
    module: _Module,
    parts: ModuleParts,
    memo: set[str],
) -> tuple[Code, Code, list[Code]]:
    private = analysis.rule_needs(rule) - memo
    inline = _inline_candidates(rule, analysis, private)
    fn = _Function(module, analysis, memo=memo, inline=inline)
    name = Code(f"_rule_{index}_{slug(rule.name)}")
    line = rule.name_span.line if rule.name_span is not None else 0
    comment = Code(f"rule {lit(rule.name)} ({lit(rule.file)}, line {int(line)})")
    if rule.condition is not None:
        cond_value = analysis.folder.value(rule.condition)
        if cond_value is not NOT_CONST:
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
    fn.emit(f"s.stats.matched[_RULE_{index}] += 1")
    for send_index, send in enumerate(rule.sends):
        _send_lines(fn, parts, index, send_index, send)
    fn.emit("return True")
    return name, comment, fn.lines


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


# ----------------------------------------------------------------------------- entry


def compile_project_parts(project: ir.Project) -> tuple[ModuleParts, list[str]]:
    """The compiled pieces of ``project`` and the names of the memoized elements."""
    folder = Folder(project.elements)
    analysis = _Analysis(project, folder)
    needs = [analysis.rule_needs(rule) for rule in project.rules]
    users: dict[str, int] = {}
    for need in needs:
        for name in need:
            users[name] = users.get(name, 0) + 1
    memo = {name for name, n in users.items() if n > 1}
    module = _Module()
    parts = ModuleParts()

    ordered_memo = [name for name in project.elements if name in memo]
    for name in ordered_memo:
        fn = _Function(module, analysis, memo=memo, in_memo_function=True)
        value = fn.expr(project.elements[name].value)
        parts.memo_attrs.append(memo_attr(name))
        parts.memo_functions.append((memo_function(name), memo_attr(name), lit(name), value.code))
    for index, rule in enumerate(project.rules):
        parts.rule_functions.append(_rule_function(index, rule, analysis, module, parts, memo))

    for (pattern, flags), name in module.regexes.items():
        flag_code = " | ".join(f"re.{_FLAG_NAMES[f]}" for f in flags) or "0"
        parts.regexes.append((name, lit(pattern), Code(flag_code)))
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
    if module.normalizers:
        imports.append(Code("from capic.runtime.hashing import WHITESPACE as _WS"))
        imports.append(Code("from capic.runtime.hashing import sha256 as _sha"))
    parts.imports = imports
    return parts, ordered_memo


_FLAG_NAMES: Mapping[str, str] = {
    ch: {"i": "IGNORECASE", "m": "MULTILINE", "s": "DOTALL"}[ch] for ch in REGEX_FLAGS
}
