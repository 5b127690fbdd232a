"""What is known about one ``send`` at compile time (:class:`SendPlan`): its entries in source
order (top-level fields, sections, and the user section, whose place in the event is held by a
``user_data`` placeholder), their constant values, the top-level keys the runtime must look
at, the names of a computed event name and the consent gate in force. :mod:`capic.codegen.sends`
writes the statements from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capic.codegen.errors import CodegenError
from capic.codegen.literals import Code
from capic.model import ir
from capic.model.evaluate import UNKNOWN, Evaluator
from capic.runtime.payload import KEEP_EMPTY, TOP_COERCIONS

__all__ = ["FieldPlan", "SectionPlan", "SendPlan", "UserPlan", "is_empty"]

_USER = "user_data"
_TEST_EVENT_CODE = "test_event_code"


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """A field and its constant value (UNKNOWN when it depends on the event).
    ``shares_table``: its value can be a list or an object of a lookup table (a module
    constant): it is sent as a copy."""

    key: str
    expr: ir.Expr
    value: Any
    shares_table: bool = False

    @classmethod
    def of(cls, key: str, expr: ir.Expr, consts: Evaluator) -> FieldPlan:
        value = consts.value(expr)
        return cls(key, expr, value, value is UNKNOWN and _shares_table(expr, consts))

    @property
    def const(self) -> bool:
        return self.value is not UNKNOWN

    @property
    def scalar(self) -> bool:
        """A constant that is not a container (nothing to prune inside it)."""
        return self.const and type(self.value) not in (list, dict)

    @property
    def left_out(self) -> bool:
        """A constant that is never sent: null, or empty (``""``, ``[]``, ``{}``) where the
        schema gives the empty value no meaning."""
        return self.const and is_empty(self.value) and self.key not in KEEP_EMPTY


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """A section other than user_data. ``flat``: it has no nested sections, so generated code
    builds it straight-line (``sec_N``) without its null members."""

    key: str
    section: ir.Section
    var: Code
    flat: bool
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True, slots=True)
class UserPlan:
    """The user section: built straight-line, one put per key (it never nests sections)."""

    section: ir.Section
    fields: tuple[FieldPlan, ...]


Entry = FieldPlan | SectionPlan | UserPlan


@dataclass(frozen=True, slots=True)
class SendPlan:
    send: ir.Send
    #: Top-level entries in source order (``event_name`` and ``test_event_code`` excluded).
    entries: tuple[Entry, ...]
    test_event_code: ir.Expr | None
    #: How many entries come before ``test_event_code`` in the source (expressions are built
    #: in source order).
    test_event_code_at: int
    #: Top-level keys ``Sender.begin`` must look at (the others are constants already of the
    #: type Meta expects).
    runtime_keys: tuple[str, ...]
    #: The constant action_source, when it reaches the event as written.
    action_source: str | None
    #: A computed event name: the names it can take (None when the set is open).
    event_names: tuple[str, ...] | None = None
    #: The consent gate in force for this send (None: no gate, or the send is exempt), and
    #: the module function that evaluates it.
    gate: ir.Consent | None = None
    gate_fn: Code | None = None

    @classmethod
    def of(
        cls,
        send: ir.Send,
        consts: Evaluator,
        gates: dict[str, tuple[ir.Consent, Code]] | None = None,
    ) -> SendPlan:
        entries: list[Entry] = []
        runtime_keys: list[str] = []
        test_code: ir.Expr | None = None
        test_at = 0
        for key, entry in send.body.entries.items():
            if isinstance(entry, ir.Section):
                fields = tuple(
                    FieldPlan.of(k, e.value, consts)
                    for k, e in entry.entries.items()
                    if isinstance(e, ir.Field)
                )
                nested = len(fields) != len(entry.entries)
                if entry.key == _USER:
                    if nested:
                        raise CodegenError("a user section cannot hold sections")
                    entries.append(UserPlan(entry, fields))
                else:
                    var = Code(f"sec_{sum(isinstance(e, SectionPlan) for e in entries)}")
                    entries.append(SectionPlan(entry.key, entry, var, not nested, fields))
            elif key == _TEST_EVENT_CODE:
                test_code, test_at = entry.value, len(entries)
            elif key != "event_name":
                plan = FieldPlan.of(key, entry.value, consts)
                if plan.left_out and plan.value is not None:
                    continue  # "", [] or {}: never sent (null stays: begin drops it)
                if not _needs_no_work(plan):
                    runtime_keys.append(key)
                entries.append(plan)
        # A constant action_source (not converted at run time, so the event keeps it as
        # written) lets validation skip its checks; SendSpec checks that it is one Meta
        # accepts.
        source: str | None = None
        source_entry = send.body.entries.get("action_source")
        if isinstance(source_entry, ir.Field) and "action_source" not in runtime_keys:
            value = consts.value(source_entry.value)
            if type(value) is str:
                source = value
        names = send.event_names if send.event_expr is not None else None
        gate = (gates or {}).get(send.pixel) if send.exemption is None else None
        return cls(
            send,
            tuple(entries),
            test_code,
            test_at,
            tuple(runtime_keys),
            source,
            names,
            gate[0] if gate is not None else None,
            gate[1] if gate is not None else None,
        )

    @property
    def computed(self) -> bool:
        return self.send.event_expr is not None

    @property
    def exprs(self) -> list[ir.Expr]:
        return [fld.value for _, fld in self.send.body.fields()]

    @property
    def nested_sections(self) -> tuple[str, ...]:
        """Keys of the sections pruned and converted by ``Sender.begin`` at run time."""
        return tuple(e.key for e in self.entries if isinstance(e, SectionPlan) and not e.flat)


def _shares_table(expr: ir.Expr, consts: Evaluator) -> bool:
    """Whether a value can hold a list or an object of a constant lookup table (a path into a
    table whose result can be a container), anywhere in it, through elements too."""
    seen: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.ElementRef):
            element = consts.elements.get(node.name)
            if element is not None and node.name not in seen:
                seen.add(node.name)
                stack.append(element.value)
            continue
        if isinstance(node, ir.Path):
            possible = consts.possible(node)
            if possible is not None and all(type(v) not in (dict, list) for v, _ in possible):
                continue  # reads scalars out of whatever it walks (step.event)
            if type(consts.value(node.base)) in (dict, list):
                return True
            stack.append(node.base)  # segments are keys: they never reach the value
            continue
        stack.extend(ir.children(node))
    return False


def _needs_no_work(plan: FieldPlan) -> bool:
    """True when the top-level field needs no work at run time: a constant that is not null,
    not a container (no nulls to remove) and already of the type Meta expects."""
    if not plan.scalar or plan.value is None:
        return False
    coercion = TOP_COERCIONS.get(plan.key)
    return coercion is None or type(plan.value) is coercion[1]


def is_empty(value: Any) -> bool:
    """Null, or an empty string, list or object: left out of the payload."""
    return value is None or (type(value) in (str, list, dict) and not value)
