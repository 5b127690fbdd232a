"""The statements of one ``send``, written from its :class:`~capic.codegen.plan.SendPlan`
(the event dict keeps the plan's source order). When a consent gate is in force they check it
first (drop, or mark the event for Limited Data Use); the statements then:

1. build every section without nested sections straight-line, without its empty members
   (null, ``""``, ``[]``, ``{}``: ``sec_N``); sections with nested sections stay a dict
   display, pruned at run time;
2. build the event dict ``ev`` (``event_name`` first);
3. call ``_begin`` (conversions of the top-level fields the runtime must look at, pruning of
   the other sections, the time offset);
4. convert the members of the straight-line sections and drop them when empty (what
   ``Sender.begin`` does for the others);
5. build user_data straight-line, one hashing call per hashed key;
6. call ``_finish`` (validation, then the event is returned).
"""

from __future__ import annotations

from capic.codegen.function import FunctionWriter
from capic.codegen.literals import Code, lit
from capic.codegen.module import ModuleParts
from capic.codegen.plan import FieldPlan, SectionPlan, SendPlan, UserPlan
from capic.model import ir
from capic.model.evaluate import UNKNOWN
from capic.runtime.hashing import MEMO_KEYS
from capic.runtime.normalize import HASHED_KEYS
from capic.runtime.payload import SECTION_COERCIONS

__all__ = ["send_lines"]

_USER = "user_data"


# ----------------------------------------------------------------------------- statements

_Entries = list[tuple[Code, "Code | _Entries"]]


def send_lines(
    fn: FunctionWriter,
    parts: ModuleParts,
    rule_index: int,
    send_index: int,
    plan: SendPlan,
    *,
    name_var: Code | None = None,
    guarded: bool = False,
) -> None:
    """Emit the statements of one send (see the module docstring). ``name_var``: the local
    holding a computed event name; ``guarded``: it may be None (the send is then skipped)."""
    send = plan.send
    fn.prepare(plan.exprs)
    # Every expression is built before the first line is emitted, in source order, so that
    # the object bindings they need go to the top level of the rule function.
    section_lines: list[tuple[str, int]] = []
    event: _Entries = [(lit("event_name"), name_var if name_var is not None else lit(send.event))]
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
            event.append((lit(entry.key), _code(fn, entry)))
    if plan.test_event_code is not None and plan.test_event_code_at == len(plan.entries):
        test_code = fn.expr(plan.test_event_code).code
    user_lines = _user_lines(fn, user) if user is not None else None
    spec = Code(f"_SEND_{rule_index}_{send_index}")
    args = [
        (Code("rule"), Code(f"_RULE_{rule_index}")),
        (Code("pixel"), lit(send.pixel)),
        (Code("keys"), lit(plan.runtime_keys)),
        (Code("sections"), lit(plan.nested_sections)),
        *(
            [(Code("action_source"), lit(plan.action_source))]
            if plan.action_source is not None
            else []
        ),
    ]
    if name_var is None:
        parts.specs.append(
            (
                spec,
                Code("_SendSpec"),
                [args[0], args[1], (Code("event_name"), lit(send.event)), *args[2:]],
            )
        )
        spec_use = spec
    else:
        fn.module.runtime.add(("sendspecs", "SpecsByName"))
        parts.specs.append(
            (spec, Code("_SpecsByName"), [(Code("names"), lit(plan.event_names or ())), *args])
        )
        spec_use = Code(f"(sp := {spec}[{name_var}])")
        spec = Code("sp")
    fn.emit(f"# send {lit(send.event)} to {lit(send.pixel)}")
    for line, extra in section_lines:
        fn.emit(line, 1 + extra)
    fn.emit(f"ev = {_render_dict(event, 1)}")
    named = f"{name_var} is not None and " if guarded and name_var is not None else ""
    begin = f"{named}_begin(s, {spec_use}, ev)"
    if plan.gate is not None and plan.gate_fn is not None:
        if plan.gate.otherwise == "drop":
            fn.emit(f"if {named}not {plan.gate_fn}(s):")
            fn.emit("s.stats.consent['dropped'] += 1", 2)
            fn.emit(f"elif {begin}:")
        else:
            fn.emit(f"if {named}not {plan.gate_fn}(s):")
            for text, extra in _ldu_lines():
                fn.emit(text, 2 + extra)
            fn.emit(f"if {begin}:")
    else:
        fn.emit(f"if {begin}:")
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


def _ldu_lines() -> list[tuple[str, int]]:
    """Consent denied, outcome Limited Data Use: the event goes with ``["LDU"]``, and with
    country and state 0 (Meta geolocates) unless the send set them."""
    return [
        ("s.stats.consent['limited_data_use'] += 1", 0),
        ("ev['data_processing_options'] = ['LDU']", 0),
        ("if ev.get('data_processing_options_country') is None:", 0),
        ("ev['data_processing_options_country'] = 0", 1),
        ("if ev.get('data_processing_options_state') is None:", 0),
        ("ev['data_processing_options_state'] = 0", 1),
    ]


def _code(fn: FunctionWriter, field: FieldPlan) -> Code:
    code = fn.expr(field.expr).code
    return Code(f"{fn.module.fn('copy_json')}({code})") if field.shares_table else code


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
            plan = FieldPlan.of(key, entry.value, fn.consts)
            entries.append((lit(key), _code(fn, plan)))
    return entries


def _flat_section_lines(fn: FunctionWriter, plan: SectionPlan) -> list[tuple[str, int]]:
    """Straight-line code that builds ``plan.var`` without its null members (what ``prune``
    would leave of the dict display, in the same order); containers go through
    ``put_pruned``."""
    name = plan.var
    lines: list[tuple[str, int]] = [(f"{name} = {{}}", 0)]
    for field in plan.fields:
        if field.left_out:
            continue  # null, "", [] and {} are left out
        code = _code(fn, field)
        if field.scalar:
            lines.append((f"{name}[{lit(field.key)}] = {code}", 0))
            continue
        fn.module.payload.add("put_pruned")
        # Truthy, or a falsy value that is sent (0, 0.0, false): not null, "", [] or {}.
        lines.append((f"if (x := {code}) or x == 0:", 0))
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
        present = {f.key: f.value for f in section.fields if not f.left_out}
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
    # A phone number is read in the event's own country when it names one: ph's normalizer
    # and put take the raw country value as their last argument.
    country = next((f for f in plan.fields if f.key == "country" and not f.left_out), None)
    country_arg = "" if country is None else ", " + fn.expr(country.expr).code
    for field in plan.fields:
        key = field.key
        if field.left_out:
            continue  # null, "", [] and {} are left out
        code = _code(fn, field)
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
        elif field.const:
            lines.append((f"ud[{lit(key)}] = {code}", 0))
        else:
            lines.append((f"if (x := {code}) or x == 0:", 0))
            lines.append((f"ud[{lit(key)}] = x", 1))
    return lines
