"""The code of one ``send``: what is known of it at compile time (:class:`SendPlan`), and the
statements that build its server event.

A plan lists the send's entries in source order (the event dict keeps that order): top-level
fields, sections, and the user section, whose place in the event is held by a ``user_data``
placeholder. The generated statements then:

1. build every section without nested sections straight-line, without its null members
   (``sec_N``); sections with nested sections stay a dict display, pruned at run time;
2. build the event dict ``ev`` (``event_name`` first);
3. call ``_begin`` (conversions of the top-level fields the runtime must look at, pruning of
   the other sections, the time offset);
4. convert the members of the straight-line sections and drop them when empty (what
   ``Sender.begin`` does for the others);
5. build user_data straight-line, one hashing call per hashed key;
6. call ``_finish`` (validation, then the event is returned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capic.codegen.errors import CodegenError
from capic.codegen.function import FunctionWriter
from capic.codegen.literals import Code, lit
from capic.codegen.module import ModuleParts
from capic.model import ir
from capic.model.evaluate import UNKNOWN, Evaluator
from capic.runtime.hashing import MEMO_KEYS
from capic.runtime.normalize import HASHED_KEYS
from capic.runtime.payload import SECTION_COERCIONS, TOP_COERCIONS

__all__ = ["FieldPlan", "SectionPlan", "SendPlan", "UserPlan", "send_lines"]

_USER = "user_data"
_TEST_EVENT_CODE = "test_event_code"


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """A field and its constant value (UNKNOWN when it depends on the event)."""

    key: str
    expr: ir.Expr
    value: Any

    @property
    def const(self) -> bool:
        return self.value is not UNKNOWN

    @property
    def scalar(self) -> bool:
        """A constant that is not a container (nothing to prune inside it)."""
        return self.const and type(self.value) not in (list, dict)


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

    @classmethod
    def of(cls, send: ir.Send, consts: Evaluator) -> SendPlan:
        entries: list[Entry] = []
        runtime_keys: list[str] = []
        test_code: ir.Expr | None = None
        test_at = 0
        for key, entry in send.body.entries.items():
            if isinstance(entry, ir.Section):
                fields = tuple(
                    FieldPlan(k, e.value, consts.value(e.value))
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
                plan = FieldPlan(key, entry.value, consts.value(entry.value))
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
        return cls(send, tuple(entries), test_code, test_at, tuple(runtime_keys), source)

    @property
    def exprs(self) -> list[ir.Expr]:
        return [fld.value for _, fld in self.send.body.fields()]

    @property
    def nested_sections(self) -> tuple[str, ...]:
        """Keys of the sections pruned and converted by ``Sender.begin`` at run time."""
        return tuple(e.key for e in self.entries if isinstance(e, SectionPlan) and not e.flat)


def _needs_no_work(plan: FieldPlan) -> bool:
    """True when the top-level field needs no work at run time: a constant that is not null,
    not a container (no nulls to remove) and already of the type Meta expects."""
    if not plan.scalar or plan.value is None:
        return False
    coercion = TOP_COERCIONS.get(plan.key)
    return coercion is None or type(plan.value) is coercion[1]


# ----------------------------------------------------------------------------- statements

_Entries = list[tuple[Code, "Code | _Entries"]]


def send_lines(
    fn: FunctionWriter, parts: ModuleParts, rule_index: int, send_index: int, plan: SendPlan
) -> None:
    """Emit the statements of one send (see the module docstring)."""
    send = plan.send
    fn.prepare(plan.exprs)
    # Every expression is built before the first line is emitted, in source order, so that
    # the object bindings they need go to the top level of the rule function.
    section_lines: list[tuple[str, int]] = []
    event: _Entries = [(lit("event_name"), lit(send.event))]
    test_code: Code | None = None
    user: UserPlan | None = None
    for index, entry in enumerate(plan.entries):
        if index == plan.test_event_code_at and plan.test_event_code is not None:
            test_code = fn.expr(plan.test_event_code).code
        if isinstance(entry, UserPlan):
            user = entry
            event.append((lit(_USER), Code("None")))
        elif isinstance(entry, SectionPlan):
            if entry.flat:
                section_lines.extend(_flat_section_lines(fn, entry))
                event.append((lit(entry.key), entry.var))
            else:
                event.append((lit(entry.key), _section_entries(fn, entry.section)))
        else:
            event.append((lit(entry.key), fn.expr(entry.expr).code))
    if plan.test_event_code is not None and plan.test_event_code_at == len(plan.entries):
        test_code = fn.expr(plan.test_event_code).code
    user_lines = _user_lines(fn, user) if user is not None else None
    spec = Code(f"_SEND_{rule_index}_{send_index}")
    parts.specs.append(
        (
            spec,
            [
                (Code("rule"), Code(f"_RULE_{rule_index}")),
                (Code("pixel"), lit(send.pixel)),
                (Code("event_name"), lit(send.event)),
                (Code("keys"), lit(plan.runtime_keys)),
                (Code("sections"), lit(plan.nested_sections)),
                *(
                    [(Code("action_source"), lit(plan.action_source))]
                    if plan.action_source is not None
                    else []
                ),
            ],
        )
    )
    fn.emit(f"# send {lit(send.event)} to {lit(send.pixel)}")
    for line, extra in section_lines:
        fn.emit(line, 1 + extra)
    fn.emit(f"ev = {_render_dict(event, 1)}")
    fn.emit(f"if _begin(s, {spec}, ev):")
    conversion_lines = _conversion_lines(fn, plan)
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


def _section_entries(fn: FunctionWriter, section: ir.Section) -> _Entries:
    """A section with nested sections as a (nested) dict display."""
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


def _flat_section_lines(fn: FunctionWriter, plan: SectionPlan) -> list[tuple[str, int]]:
    """Straight-line code that builds ``plan.var`` without its null members (what ``prune``
    would leave of the dict display, in the same order); containers go through
    ``put_pruned``."""
    name = plan.var
    lines: list[tuple[str, int]] = [(f"{name} = {{}}", 0)]
    for field in plan.fields:
        if field.value is None:
            continue  # null is left out
        code = fn.expr(field.expr).code
        if field.scalar:
            lines.append((f"{name}[{lit(field.key)}] = {code}", 0))
            continue
        fn.module.payload.add("put_pruned")
        lines.append((f"if (x := {code}) is not None:", 0))
        lines.append(("if type(x) is dict or type(x) is list:", 1))
        lines.append((f"_put_pruned({name}, {lit(field.key)}, x)", 2))
        lines.append(("else:", 1))
        lines.append((f"{name}[{lit(field.key)}] = x", 2))
    return lines


def _conversion_lines(fn: FunctionWriter, plan: SendPlan) -> list[tuple[str, int]]:
    """The conversions of the straight-line sections (``SECTION_COERCIONS``) and the removal
    of an empty section, in ``Sender.begin``'s order; constants already of the right type and
    null constants (left out) need no conversion."""
    lines: list[tuple[str, int]] = []
    for section in plan.entries:
        if not isinstance(section, SectionPlan) or not section.flat:
            continue
        name = section.var
        coercions = SECTION_COERCIONS.get(section.key, {})
        present = {f.key: f.value for f in section.fields}
        for key, (_, fast) in coercions.items():
            if key not in present:
                continue
            value = present[key]
            if value is None or (value is not UNKNOWN and type(value) is fast):
                continue
            conv, fast_name = fn.module.conversion(section.key, key)
            lines.append(
                (f"if (x := {name}.get({lit(key)})) is not None and type(x) is not {fast_name}:", 0)
            )
            lines.append((f"if (c := {conv}(x)) is None:", 1))
            lines.append((f"del {name}[{lit(key)}]", 2))
            lines.append((f"inv[{lit(f'{section.key}.{key}')}] += 1", 2))
            lines.append(("else:", 1))
            lines.append((f"{name}[{lit(key)}] = c", 2))
        lines.append((f"if not {name}:", 0))
        lines.append((f"del ev[{lit(section.key)}]", 1))
    return lines


def _user_lines(fn: FunctionWriter, plan: UserPlan) -> list[tuple[str, int]]:
    """Straight-line code that builds user_data in ``ud`` (lines and extra indentation), one
    put function call per hashed key."""
    lines: list[tuple[str, int]] = []
    for field in plan.fields:
        key = field.key
        if field.value is None:
            continue  # null is left out
        code = fn.expr(field.expr).code
        if key in HASHED_KEYS and key not in MEMO_KEYS:
            # The put function's common path inline: a stripped, non-blank string that cannot
            # be a digest is normalized and hashed here; every other value goes to the put.
            k = lit(key)
            lines.append(
                (f"if type(x := {code}) is str and (t := x.strip(_WS)) and len(t) != 64:", 0)
            )
            lines.append((f"if (n := {fn.module.normalizer(key)}(t)) is not None:", 1))
            lines.append((f"ud[{k}] = _sha(n.encode()).hexdigest()", 2))
            lines.append(("else:", 1))
            lines.append((f"inv[{k}] += 1", 2))
            lines.append(("else:", 0))
            lines.append((f"{fn.module.hasher(key)}(ud, x, inv)", 1))
        elif key in HASHED_KEYS:
            # Memoized keys: a digest already in the memo is stored here; every other value
            # (not memoized yet, invalid, not a string) goes to the put function.
            lines.append((f"if type(x := {code}) is str and (d := {fn.module.memo(key)}(x)):", 0))
            lines.append((f"ud[{lit(key)}] = d", 1))
            lines.append(("else:", 0))
            lines.append((f"{fn.module.hasher(key)}(ud, x, inv)", 1))
        elif field.const:
            lines.append((f"ud[{lit(key)}] = {code}", 0))
        else:
            lines.append((f"if (x := {code}) is not None:", 0))
            lines.append((f"ud[{lit(key)}] = x", 1))
    return lines
