"""Resolving payload blocks: send bodies, their sections, and shared blocks spread into them.

A block's entries come from the spreads it holds (``...customer``: the resolved body of a
shared block) and from what it writes itself. What it writes wins over every spread; a section
it writes merges with a section of the same name from a spread (its own entries winning), so a
send extends or overrides single keys of a shared block. Two spreads giving one key are an
error (R051) unless the block sets the key itself. Keys keep the order in which they first
appear in the text. Fields and sections remember the shared block they were written in
(``origin``), so a finding about one points at the line where it is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from capic.diagnostics import Span
from capic.model import ir
from capic.model.consent import ConsentResolver
from capic.model.suggest import did_you_mean
from capic.syntax import ast

__all__ = ["EXTINFO_FIELDS", "KINDS", "SEND_SECTIONS", "PayloadResolver"]

#: Source section name -> (Conversions API key, allowed nested sections).
SEND_SECTIONS: dict[str, tuple[str, str]] = {
    "user": ("user_data", "none"),
    "custom": ("custom_data", "free"),
    "app": ("app_data", "app"),
    "original_event": ("original_event_data", "none"),
    "attribution": ("attribution_data", "attribution"),
}
#: Kinds of shared blocks: a whole send body, or one of the send's sections.
KINDS: tuple[str, ...] = ("send", *SEND_SECTIONS)
#: The 16 positions of app_data.extinfo, in order (capi-facts §8.1).
EXTINFO_FIELDS: tuple[str, ...] = (
    "version",
    "package_name",
    "short_version",
    "long_version",
    "os_version",
    "device_model",
    "locale",
    "timezone_abbreviation",
    "carrier",
    "screen_width",
    "screen_height",
    "screen_density",
    "cpu_cores",
    "external_storage_size",
    "free_storage_size",
    "device_timezone",
)
_KIND_OF_KEY = {key: name for name, (key, _) in SEND_SECTIONS.items()}

Entry = ir.Field | ir.Section


class PayloadResolver(ConsentResolver):
    """The payload part of :class:`capic.model.resolve.Resolver` (a mixin)."""

    shared_decls: dict[str, tuple[ast.SharedDecl, str]]

    def _init_payloads(self) -> None:
        self.shared: dict[str, ir.Shared] = {}
        self._shared_active: list[str] = []
        #: Shared blocks spread while the current send is resolved (directly or not).
        self.spread_names: set[str] = set()
        #: ``consent { exempt = ... }`` of the send being resolved.
        self.exemption: ir.Exemption | None = None

    # ------------------------------------------------------------------ shared blocks
    def shared_block(self, name: str) -> ir.Shared | None:
        """The resolved shared block ``name`` (None when unknown or in a cycle)."""
        done = self.shared.get(name)
        if done is not None:
            return done
        found = self.shared_decls.get(name)
        if found is None or name in self._shared_active:
            return None
        decl, file = found
        self._shared_active.append(name)
        outer = self.spread_names
        self.spread_names = set()
        try:
            if decl.kind == "send":
                key, section_name, mode = "", "", "send"
            else:
                key, mode = SEND_SECTIONS[decl.kind]
                section_name = decl.kind
            body = self.payload(
                decl.body, key, section_name, decl.span, decl.name_span, mode, "expr", name
            )
            deps = tuple(sorted(self.spread_names))
        finally:
            self._shared_active.pop()
            self.spread_names = outer | self.spread_names
        shared = ir.Shared(decl.kind, name, body, decl.span, decl.name_span, file, deps)
        self.shared[name] = shared
        return shared

    def _spread(self, item: ast.Spread, kind: str | None, context: str) -> ir.Section | None:
        """The body of the shared block a spread names, when it fits here."""
        if kind is None or context != "expr":
            where = "test expectations" if context == "test" else "this block"
            self.error(
                "R050",
                f"`...{item.name}`: shared blocks cannot be spread into {where}",
                item.span,
                "spread shared blocks into a send body or one of its sections",
            )
            return None
        found = self.shared_decls.get(item.name)
        if found is None:
            self.error(
                "R002",
                f"unknown shared block `{item.name}`",
                item.name_span,
                did_you_mean(item.name, self.shared_decls)
                or "declare it with `shared KIND NAME { ... }`",
            )
            return None
        decl = found[0]
        if item.name in self._shared_active:
            chain = " -> ".join([*self._shared_active[self._shared_active.index(item.name) :]])
            self.error(
                "R052",
                f"shared blocks spread each other in a cycle: {chain} -> {item.name}",
                item.span,
                "move the keys they share into a third block that both spread",
            )
            return None
        if decl.kind != kind and decl.kind in KINDS:
            where = "a send body" if kind == "send" else f"a `{kind}` section"
            target = "a send body" if decl.kind == "send" else f"`{decl.kind} {{ ... }}`"
            self.error(
                "R050",
                f"`{item.name}` is a `{decl.kind}` block; it cannot be spread into {where}",
                item.span,
                f"spread it into {target}",
            )
            return None
        shared = self.shared_block(item.name)
        if shared is None:
            return None
        self.spread_names.add(item.name)
        self.spread_names.update(shared.deps)
        return shared.body

    # ------------------------------------------------------------------ blocks
    def payload(
        self,
        block: ast.Block,
        key: str,
        name: str,
        span: Span,
        name_span: Span,
        mode: str,
        context: str,
        origin: str | None = None,
    ) -> ir.Section:
        """A payload block. ``mode`` says which sections may nest here; ``origin`` names the
        shared block being resolved (None in a send)."""
        kind = (
            "send"
            if mode == "send"
            else _KIND_OF_KEY.get(key, "custom" if mode == "free" else None)
        )
        order: list[str] = []
        spread: dict[str, Entry] = {}
        spread_from: dict[str, str] = {}
        local: dict[str, Entry] = {}
        conflicts: list[tuple[tuple[str, ...], ast.Spread, str]] = []
        for item in block.items:
            if isinstance(item, ast.Spread):
                body = self._spread(item, kind, context)
                if body is None:
                    continue
                for k, entry in body.entries.items():
                    if k not in order:
                        order.append(k)
                    prev = spread.get(k)
                    if prev is None:
                        spread[k], spread_from[k] = entry, item.name
                    elif prev is entry:
                        continue  # the same entry reached through two blocks
                    elif isinstance(prev, ir.Section) and isinstance(entry, ir.Section):
                        spread[k] = _merge_sections(prev, entry, (k,), item, conflicts)
                    else:
                        conflicts.append(((k,), item, spread_from[k]))
                continue
            if isinstance(item, ast.Section):
                if mode == "send" and item.name == "consent":
                    self._exemption(item, origin)
                    continue
                sub = self._subsection(item, mode, context, origin)
                if sub is None:
                    continue
                if sub.key in local:
                    self.error(
                        "R012", f"section `{item.name}` appears twice", item.name_span, "merge them"
                    )
                    continue
                local[sub.key] = sub
                if sub.key not in order:
                    order.append(sub.key)
                continue
            if not self._writable(item, mode):
                continue
            if item.key in local:
                self.error(
                    "R012", f"`{item.key}` is set twice", item.key_span, "remove one of them"
                )
                continue
            value = self.expr(item.value, (), context)
            local[item.key] = ir.Field(
                item.key, value, item.span, item.key_span, item.comments, origin
            )
            if item.key not in order:
                order.append(item.key)
        for path, spread_item, other in conflicts:
            if _written(local, path):
                continue
            shown = ".".join((_KIND_OF_KEY.get(path[0], path[0]), *path[1:]))
            self.error(
                "R051",
                f"`{shown}` comes from both `{other}` and `{spread_item.name}`",
                spread_item.span,
                f"set `{shown}` in this block to choose (it wins over every spread)",
            )
        entries: dict[str, Entry] = {}
        for k in order:
            mine, theirs = local.get(k), spread.get(k)
            if isinstance(mine, ir.Section) and isinstance(theirs, ir.Section):
                entries[k] = _overlay(theirs, mine)
            else:
                chosen = mine if mine is not None else theirs
                assert chosen is not None
                entries[k] = chosen
        return ir.Section(key, name, entries, span, name_span, origin)

    def _writable(self, item: ast.Assignment, mode: str) -> bool:
        if mode == "send" and item.key == "event_name":
            self.error(
                "R011",
                "`event_name` comes from `send EVENT`",
                item.key_span,
                "remove it; write the event after `send`",
            )
            return False
        if mode == "send" and item.key in {f"{n}_data" for n in ("user", "custom", "app")}:
            short = item.key.removesuffix("_data")
            self.error(
                "R011",
                f"`{item.key}` is written as a section",
                item.key_span,
                f"write {short} {{ ... }}",
            )
            return False
        return True

    def _subsection(
        self, item: ast.Section, mode: str, context: str, origin: str | None
    ) -> ir.Section | None:
        if mode == "send":
            if item.name not in SEND_SECTIONS:
                self.error(
                    "R007",
                    f"unknown section `{item.name}`",
                    item.name_span,
                    did_you_mean(item.name, SEND_SECTIONS)
                    or f"sections: {', '.join(SEND_SECTIONS)}",
                )
                return None
            key, sub_mode = SEND_SECTIONS[item.name]
            return self.payload(
                item.body, key, item.name, item.span, item.name_span, sub_mode, context, origin
            )
        if mode == "free":
            return self.payload(
                item.body, item.name, item.name, item.span, item.name_span, "free", context, origin
            )
        if mode == "app" and item.name == "extinfo":
            return self._extinfo(item, context, origin)
        if mode == "attribution" and item.name == "attribution_setting":
            return self.payload(
                item.body, item.name, item.name, item.span, item.name_span, "none", context, origin
            )
        allowed = {"app": "extinfo", "attribution": "attribution_setting"}.get(mode)
        self.error(
            "R007",
            f"section `{item.name}` is not allowed here",
            item.name_span,
            f"the only section allowed here is `{allowed}`"
            if allowed
            else "this section takes `key = value` entries only",
        )
        return None

    def _extinfo(self, item: ast.Section, context: str, origin: str | None) -> ir.Section:
        """`extinfo { version = "i2" ... }` -> the 16-element list Meta expects, "" where unset."""
        values: dict[str, ir.Expr] = {}
        for sub in item.body.items:
            if isinstance(sub, ast.Spread):
                self._spread(sub, None, context)
                continue
            if isinstance(sub, ast.Section) or sub.key not in EXTINFO_FIELDS:
                span = sub.name_span if isinstance(sub, ast.Section) else sub.key_span
                name = sub.name if isinstance(sub, ast.Section) else sub.key
                self.error(
                    "R011",
                    f"unknown extinfo field `{name}`",
                    span,
                    did_you_mean(name, EXTINFO_FIELDS) or f"fields: {', '.join(EXTINFO_FIELDS)}",
                )
                continue
            if sub.key in values:
                self.error("R012", f"`{sub.key}` is set twice", sub.key_span, "remove one of them")
                continue
            values[sub.key] = self.expr(sub.value, (), context)
        items = tuple(values.get(name, ir.Const("", item.span)) for name in EXTINFO_FIELDS)
        as_list = ir.ListOf(items, item.span)
        # Stored as a field holding the list (the payload has the list itself).
        return ir.Section(
            "extinfo",
            "extinfo",
            {"extinfo": ir.Field("extinfo", as_list, item.span, item.name_span, (), origin)},
            item.span,
            item.name_span,
            origin,
        )


def _overlay(base: ir.Section, mine: ir.Section) -> ir.Section:
    """``mine`` (written in the block) over ``base`` (from a spread): entries of both, mine
    winning; sections of both merge the same way. The result is the block's own section."""
    entries: dict[str, Entry] = dict(base.entries)
    for k, entry in mine.entries.items():
        prev = entries.get(k)
        if isinstance(prev, ir.Section) and isinstance(entry, ir.Section):
            entries[k] = _overlay(prev, entry)
        else:
            entries[k] = entry
    return ir.Section(mine.key, mine.name, entries, mine.span, mine.name_span, mine.origin)


def _merge_sections(
    first: ir.Section,
    second: ir.Section,
    path: tuple[str, ...],
    item: ast.Spread,
    conflicts: list[tuple[tuple[str, ...], ast.Spread, str]],
) -> ir.Section:
    """The same section from two spreads: their entries together (a key both give is a
    conflict unless the block sets it)."""
    entries = dict(first.entries)
    for k, entry in second.entries.items():
        prev = entries.get(k)
        if prev is None or prev is entry:
            entries[k] = entry
        elif isinstance(prev, ir.Section) and isinstance(entry, ir.Section):
            entries[k] = _merge_sections(prev, entry, (*path, k), item, conflicts)
        else:
            conflicts.append(((*path, k), item, prev.origin or first.origin or "?"))
    return ir.Section(first.key, first.name, entries, first.span, first.name_span, first.origin)


def _written(local: dict[str, Entry], path: tuple[str, ...]) -> bool:
    """Whether the block itself writes the entry at ``path``."""
    entries: Mapping[str, Entry] = local
    for i, k in enumerate(path):
        entry = entries.get(k)
        if entry is None:
            return False
        if i == len(path) - 1:
            return True
        if not isinstance(entry, ir.Section):
            return False
        entries = entry.entries
    return False
