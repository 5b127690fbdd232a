"""What checks see: the project, static facts about its expressions, the schema failures of each
send (computed once), the environment being checked, and helpers that turn payload paths into
source spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from capic.diagnostics import Span
from capic.lint.schema import SchemaFinding, validate
from capic.lint.values import Analyzer, is_list_section
from capic.model import ir

PathT = tuple[str | int, ...]


def is_list_key(f: ir.Field) -> bool:
    """The field the front end keeps a list section in (``extinfo``)."""
    return f.key == "extinfo" and isinstance(f.value, ir.ListOf)


@dataclass(frozen=True, slots=True)
class SendData:
    """A send's JSON instance, where its values came from, and its schema failures."""

    instance: dict[str, Any]
    #: Payload path -> the element the value at that path came from.
    via: dict[PathT, str]
    findings: tuple[SchemaFinding, ...]

    def element_at(self, path: PathT) -> str | None:
        """The element that supplied the value at ``path`` (or at its closest parent)."""
        for n in range(len(path), 0, -1):
            name = self.via.get(path[:n])
            if name is not None:
                return name
        return None


@dataclass(frozen=True)
class EnvView:
    """The settings in force in one environment (``name`` None: no environment applied)."""

    project: ir.Project
    name: str | None

    @property
    def environment(self) -> ir.Environment | None:
        return self.project.environments.get(self.name) if self.name is not None else None

    def pixel_field(self, pixel: str, key: str) -> ir.Field | None:
        """The field in force for a pixel setting: the environment's override, else the pixel's."""
        env = self.environment
        if env is not None:
            override = env.pixels.get(pixel)
            if override is not None and key in override.fields:
                return override.fields[key]
        declared = self.project.pixels.get(pixel)
        return declared.fields.get(key) if declared is not None else None

    def browser_pixel(self, pixel: str) -> bool:
        f = self.pixel_field(pixel, "browser_pixel")
        return bool(f is not None and isinstance(f.value, ir.Const) and f.value.value is True)


@dataclass
class LintContext:
    """Everything checks share while linting one project."""

    project: ir.Project
    #: Environments checked, in order (one view with name None when none applies).
    environments: list[EnvView]
    #: Spans of front-end errors (values there are placeholders, not nulls).
    poisoned: frozenset[Span] = frozenset()
    #: True when the run checks only some of the declared environments (``--env``).
    env_restricted: bool = False
    analyzer: Analyzer = field(init=False)
    #: Per rule file: the elements its rules refer to directly (filled by the engine).
    element_refs_by_file: dict[str, frozenset[str]] = field(default_factory=dict, init=False)
    _sends: dict[int, SendData] = field(default_factory=dict, init=False)
    #: id(send) -> the sends the checks see for it (lint.variants).
    variant_cache: dict[int, list[ir.Send]] = field(default_factory=dict, init=False)
    _memo: dict[str, tuple[Any, list[Any]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.analyzer = Analyzer(self.project, self.poisoned)

    def rule_element_refs(self, rules: list[ir.Rule]) -> frozenset[str]:
        """The elements the given rules refer to directly (condition and payload)."""
        names: set[str] = set()
        for rule in rules:
            if rule.condition is not None:
                names |= self.analyzer.element_refs(rule.condition)
            for send in rule.sends:
                if send.event_expr is not None:
                    names |= self.analyzer.element_refs(send.event_expr)
                for _, f in send.body.fields():
                    names |= self.analyzer.element_refs(f.value)
        return frozenset(names)

    def used_elements(self) -> set[str]:
        """Every element a rule uses, directly or through other elements."""
        if self.element_refs_by_file:
            stack = [n for refs in self.element_refs_by_file.values() for n in refs]
        else:
            stack = list(self.rule_element_refs(list(self.project.rules)))
        used: set[str] = set()
        while stack:
            name = stack.pop()
            if name in used:
                continue
            used.add(name)
            element = self.project.elements.get(name)
            if element is not None:
                stack.extend(element.deps)
        return used

    # ------------------------------------------------------------------ sends
    def sends(self) -> list[tuple[ir.Rule, ir.Send]]:
        return [(rule, send) for rule in self.project.rules for send in rule.sends]

    def send_data(self, send: ir.Send) -> SendData:
        data = self._sends.get(id(send))
        if data is None:
            instance, via = self.analyzer.instance(send)
            data = SendData(instance, via, tuple(self._validate(instance)))
            self._sends[id(send)] = data
        return data

    def _validate(self, instance: dict[str, Any]) -> list[SchemaFinding]:
        # Sends are often alike (the same user block, the same custom data): validate each
        # distinct instance once per run.
        key = repr(instance)
        hit = self._memo.get(key)
        if hit is None:
            found = validate(instance)
            self._memo[key] = (instance, found)
            return found
        return list(hit[1])

    # ------------------------------------------------------------------ locating
    @staticmethod
    def head(send: ir.Send) -> Span:
        """``send EVENT to PIXEL``: where findings about a whole send point."""
        s = send.span
        return Span(s.file, s.line, s.column, send.pixel_span.end_line, send.pixel_span.end_column)

    @staticmethod
    def _walk(send: ir.Send, path: PathT) -> tuple[ir.Section | ir.Field | None, PathT]:
        """The deepest section or field on ``path`` and the rest of the path below it."""
        node: ir.Section | ir.Field = send.body
        rest = path
        while rest and isinstance(node, ir.Section):
            if is_list_section(node):
                field_ = node.entries[node.key]
                assert isinstance(field_, ir.Field)
                return field_, rest
            entry = node.entries.get(str(rest[0]))
            if entry is None:
                return node, rest
            node, rest = entry, rest[1:]
        return node, rest

    def key_span(self, send: ir.Send, path: PathT) -> Span:
        """The span of the key at ``path`` (:meth:`ir.Send.locate`: the key of a field, an
        item of a list value, the name of a section), or the send's head for the event."""
        if not path:
            return self.head(send)
        node, rest = self._walk(send, path)
        if isinstance(node, ir.Field) and rest and is_list_key(node):
            # Inside a list stored as a section (extinfo): Send.locate cannot see the items.
            return self._in_value(node.value, rest)
        return send.locate(path)

    def value_span(self, send: ir.Send, path: PathT) -> Span:
        """The span of the value at ``path`` (the expression), falling back to the key."""
        if path and path[0] == "event_name":
            return send.event_span
        node, rest = self._walk(send, path)
        if isinstance(node, ir.Field):
            return self._in_value(node.value, rest)
        return self.key_span(send, path)

    def container_span(self, send: ir.Send, path: PathT) -> Span:
        """Where a key missing from the object at ``path`` should be added."""
        if not path:
            return self.head(send)
        node, rest = self._walk(send, path)
        if isinstance(node, ir.Field):
            return self._in_value(node.value, rest)
        if node is None or node is send.body:
            return self.head(send)
        if rest or node.origin is not None:
            # The object itself is missing (e.g. custom_data), or the send got it whole from a
            # shared block: what to add goes in the send.
            return self.head(send)
        return node.name_span

    @staticmethod
    def _in_value(value: ir.Expr, rest: PathT) -> Span:
        for step in rest:
            if (
                isinstance(value, ir.ListOf)
                and isinstance(step, int)
                and 0 <= step < len(value.items)
            ):
                value = value.items[step]
            elif isinstance(value, ir.ObjectOf) and isinstance(step, str):
                found = dict(value.entries).get(step)
                if found is None:
                    return value.span
                value = found
            elif isinstance(value, ir.Comprehension) and isinstance(step, int):
                value = value.body
            else:
                return value.span
        return value.span

    def origin_note(self, send: ir.Send, path: PathT) -> str | None:
        """ "the value comes from element `x` (file:line)" when an element supplied it."""
        name = self.send_data(send).element_at(path)
        if name is None:
            return None
        element = self.project.elements.get(name)
        where = f" ({element.name_span})" if element is not None else ""
        return f"the value comes from element `{name}`{where}"
