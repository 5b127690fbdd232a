"""Completion: what may be written at the cursor.

The context comes from the text before the cursor (the last check's rule model may be stale
or missing while typing): a light scan that skips strings and comments and keeps the stack of
open blocks, each with the words that opened it (``rule "x"``, ``send Purchase to shop``,
``user``). From that:

* at the start of a statement: the keywords of the block (or of the file), and in a send or
  one of its sections the keys Meta's JSON Schema allows there, in a pixel, environment or
  test the keys they take;
* after ``send``: the standard events; after ``to`` (and ``pixel`` in an environment): pixels;
* where a value is expected: the project's elements, ``event`` and ``request``, the standard
  library's functions (with their signatures), ``true``, ``false``, ``null``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from capic.model import ir

TOP_LEVEL = ("pixel", "element", "shared", "rule", "environment", "test", "serve")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|\?\?|\S")


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    #: "keyword" | "event" | "field" | "section" | "element" | "pixel" | "function" | "value"
    kind: str
    detail: str | None = None
    documentation: str | None = None


def _tokens(text: str) -> list[str]:
    """Words and punctuation of ``text``; strings become ``"`` and comments vanish."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append('"')
            i = j + 1
            continue
        if ch == "\n":
            out.append("\n")
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        m = _WORD.match(text, i)
        assert m is not None
        out.append(m.group())
        i = m.end()
    return out


@dataclass
class Context:
    #: Headers of the open blocks, outermost first (each the words that opened it).
    blocks: list[list[str]]
    #: Tokens of the current statement before the cursor.
    statement: list[str]
    #: The word being typed (may be empty).
    prefix: str


def context(text: str) -> Context:
    """The completion context at the end of ``text`` (the document up to the cursor)."""
    m = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", text)
    prefix = m.group() if m else ""
    tokens = _tokens(text[: len(text) - len(prefix)])
    blocks: list[list[str]] = []
    statement: list[str] = []
    brackets = 0
    for tok in tokens:
        if tok in ("(", "["):
            brackets += 1
            statement.append(tok)
        elif tok in (")", "]"):
            brackets = max(0, brackets - 1)
            statement.append(tok)
        elif (
            tok == "{" and brackets == 0 and (not statement or statement[-1] not in {"=", ":", ","})
        ):
            blocks.append(statement)
            statement = []
        elif tok == "{":
            brackets += 1
            statement.append(tok)
        elif tok == "}" and brackets == 0:
            if blocks:
                blocks.pop()
            statement = []
        elif tok == "}":
            brackets = max(0, brackets - 1)
            statement.append(tok)
        elif tok == "\n":
            if brackets == 0 and (not statement or statement[-1] not in _CONTINUES):
                statement = []
        else:
            statement.append(tok)
    return Context(blocks, statement, prefix)


#: A statement continues on the next line after these.
_CONTINUES = frozenset({"=", "and", "or", "not", "+", "-", "*", "/", "??", "==", "!=", "<",
                        ">", "<=", ">=", "in", "(", "[", ",", ":", "when"})  # fmt: skip


def _section_path(blocks: list[list[str]]) -> tuple[str, tuple[str, ...]] | None:
    """("send" | "pixel" | ..., the sections opened inside it) of the innermost declaration."""
    for i in range(len(blocks) - 1, -1, -1):
        head = blocks[i][0] if blocks[i] else ""
        inner = tuple(b[0] for b in blocks[i + 1 :] if b)
        if head in {"send", "pixel", "environment", "test", "rule", "expect"}:
            return head, inner
        if head == "shared" and len(blocks[i]) >= 2:
            # shared KIND NAME { ... }: a send body, or the section KIND of one.
            kind = blocks[i][1]
            return "send", inner if kind == "send" else (kind, *inner)
    return None


def _schema_keys(path: tuple[str, ...]) -> list[Item]:
    from capic.meta import catalog
    from capic.model.resolve import SEND_SECTIONS

    if not path:
        props = catalog.schema("server_event").get("properties", {})
        fields = [
            Item(k, "field", None, v.get("description"))
            for k, v in props.items()
            if k != "event_name" and k not in {s[0] for s in SEND_SECTIONS.values()}
        ]
        sections = [
            Item(name, "section", f"{key} {{ ... }}", props.get(key, {}).get("description"))
            for name, (key, _) in SEND_SECTIONS.items()
        ]
        return fields + sections
    section = SEND_SECTIONS.get(path[0])
    if section is None or len(path) > 1:
        if path[:1] == ("app",) and path[1:] == ("extinfo",):
            from capic.model.resolve import EXTINFO_FIELDS

            return [Item(k, "field", "app_data.extinfo") for k in EXTINFO_FIELDS]
        return []
    schema_name = section[0]
    try:
        props = catalog.schema(schema_name).get("properties", {})
    except (FileNotFoundError, KeyError, ValueError):
        props = catalog.schema("server_event").get("properties", {}).get(schema_name, {})
        props = props.get("properties", {}) if isinstance(props, dict) else {}
    items = [Item(k, "field", schema_name, v.get("description")) for k, v in props.items()]
    if path[0] == "app":
        items.append(Item("extinfo", "section", "app_data.extinfo { ... }"))
    return items


def _values(project: ir.Project | None) -> list[Item]:
    from capic.lsp.hover import signature
    from capic.model.stdlib import FUNCTIONS

    items = [Item(name, "value") for name in ("event", "request", "true", "false", "null")]
    if project is not None:
        items += [
            Item(name, "element", f"element {name}", None) for name in sorted(project.elements)
        ]
    items += [Item(name, "function", signature(name), fn.doc) for name, fn in FUNCTIONS.items()]
    return items


def completions(text_before: str, project: ir.Project | None) -> list[Item]:
    """What may be written at the end of ``text_before``; filtered by the word being typed."""
    ctx = context(text_before)
    return [i for i in _complete(ctx, project) if i.label.startswith(ctx.prefix)]


def _complete(ctx: Context, project: ir.Project | None) -> list[Item]:
    from capic.meta import catalog
    from capic.model.resolve import ENVIRONMENT_FIELDS, PIXEL_FIELDS, TEST_FIELDS

    stmt = ctx.statement
    pixels = sorted(project.pixels) if project is not None else []
    if stmt[-1:] in (["send"], ["sends"]):
        return [Item(e, "event", "standard event") for e in catalog.standard_events()]
    if stmt[-1:] == ["to"] or (stmt == ["pixel"] and ctx.blocks):
        return [Item(p, "pixel", f"pixel {p}") for p in pixels]
    if stmt and (stmt[-1] in _CONTINUES or "=" in stmt or stmt[0] == "when"):
        return _values(project)
    if not ctx.blocks:
        return [Item(k, "keyword") for k in TOP_LEVEL] if not stmt else []
    where = _section_path(ctx.blocks)
    if where is None:
        return []
    kind, path = where
    if stmt:
        return []
    if kind == "rule":
        return [Item("when", "keyword"), Item("send", "keyword")]
    if kind == "send" or (kind == "expect" and path):
        return _schema_keys(path)
    if kind == "expect":
        return _schema_keys(())
    if kind == "pixel" and not path:
        return [Item(k, "field", "pixel", v) for k, v in PIXEL_FIELDS.items()]
    if kind == "environment":
        if path:
            return [Item(k, "field", "pixel", v) for k, v in PIXEL_FIELDS.items()]
        return [Item(k, "field", "environment") for k in sorted(ENVIRONMENT_FIELDS)] + [
            Item("pixel", "keyword", "pixel NAME { ... }: override a pixel here")
        ]
    if kind == "test" and not path:
        return [Item(k, "field", "test", v) for k, v in TEST_FIELDS.items()] + [
            Item("expect", "keyword")
        ]
    return []
