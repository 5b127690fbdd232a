"""Writing the body of one generated function: statements, element locals, expressions.

Expressions become Python over the runtime's functions (``capic.runtime.stdlib`` as ``_f_*``,
``capic.runtime.paths`` as ``_p_*``). A constant subexpression (:mod:`capic.model.evaluate`)
is written as a literal; several field reads of one event object bind the object once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capic.codegen.analysis import Analysis
from capic.codegen.errors import CodegenError
from capic.codegen.literals import Code, ident, lit, slug
from capic.codegen.module import ModuleNames
from capic.model import ir
from capic.model.evaluate import COMPARISONS, UNKNOWN
from capic.runtime import stdlib

__all__ = ["FunctionWriter", "Val", "memo_attr", "memo_function"]

#: Operators whose result is a Python bool.
_BOOL_OPS = COMPARISONS | {"and", "or"}
_CONTAINER_OPERAND = frozenset({"in", "not_in", "contains", "icontains"})


@dataclass(frozen=True, slots=True)
class Val:
    code: Code
    #: "bool" when the value is statically a Python bool.
    kind: str | None = None


class FunctionWriter:
    """Writes one function body: expressions, temporaries, element locals."""

    def __init__(
        self,
        module: ModuleNames,
        analysis: Analysis,
        *,
        memo: set[str],
        inline: set[str] | None = None,
        in_memo_function: bool = False,
    ) -> None:
        self.module = module
        self.analysis = analysis
        self.consts = analysis.consts
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
        value = self.consts.value(node)
        if value is not UNKNOWN:
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
        if isinstance(node, ir.Cond):
            return self._cond(node, cond, no_walrus)
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
        table = self.consts.value(base_expr)
        if type(table) in (dict, list) and table:
            # A lookup table: one module constant, not a dict built for every event. Nothing
            # writes into it; a field whose value can be one of its lists or objects sends a
            # copy (sends.FieldPlan.shares_table).
            base = Val(self.module.table(table))
        else:
            base = self.expr(base_expr, no_walrus=no_walrus)
        segments: list[Any] = []
        dynamic = False
        for seg in raw:
            folded = self.consts.segment(seg)
            if folded is not UNKNOWN:
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
            known = [s if type(s) in (str, int) else None for s in segments]
            keys = self.module.constant(tuple(known), "K")
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
        if node.func == "fbc_from_url" and len(args) == 1:
            args.append(Val(Code("s.now()")))  # created now: the clock of this event
        if node.func == "exists" and len(args) == 1:
            return Val(Code(f"({args[0].code} is not None)"), "bool")
        impl = stdlib.IMPLEMENTATIONS.get(node.func)
        if impl is None:
            raise CodegenError(f"`{node.func}()` cannot be used in a rule")
        joined = ", ".join(a.code for a in args)
        return Val(Code(f"{self.module.fn(impl)}({joined})"))

    def _operand(self, node: ir.Expr, no_walrus: bool) -> Code:
        """An operator operand; a constant list becomes a module tuple (no per-event list)."""
        value = self.consts.value(node)
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
        lv = self.consts.value(node.left)
        rv = self.consts.value(node.right)
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

    def _cond(self, node: ir.Cond, cond: bool, no_walrus: bool) -> Val:
        """``if t then a else b``: Python's conditional expression has the language's truth
        (null, false, 0, "", [] and {} are false); a constant test keeps one branch only."""
        test = self.consts.value(node.test)
        if test is not UNKNOWN:
            chosen = node.then if stdlib.truthy(test) else node.otherwise
            return self.expr(chosen, cond=cond, no_walrus=no_walrus)
        t = self.expr(node.test, cond=True, no_walrus=no_walrus)
        a = self.expr(node.then, cond=cond, no_walrus=no_walrus)
        b = self.expr(node.otherwise, cond=cond, no_walrus=no_walrus)
        kind = "bool" if a.kind == "bool" and b.kind == "bool" else None
        return Val(Code(f"({a.code} if {t.code} else {b.code})"), kind)

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
