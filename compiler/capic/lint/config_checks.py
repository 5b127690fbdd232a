"""Validation of a lint table (``[lint]`` of capic.toml, ``[tool.capic]`` of pyproject.toml):
schema failures (C101) and selectors matching no check (C102), each placed at the key it is
about in the file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from capic.diagnostics import Diagnostic, Span
from capic.lint.config import ConfigSource, known_selector, suggest
from capic.lint.registry import PSEUDO_CODES, Check, all_checks, all_infos


def _key_span(source: ConfigSource, rel: str, table: Sequence[str], key: str | None) -> Span:
    """Where ``key`` of ``table`` (a path below the lint section) is written; falls back to the
    section's header, then to the start of the file."""
    prefix = ["lint"] if source.section == "[lint]" else ["tool", "capic"]
    wanted = [*prefix, *table]
    current: list[str] | None = None
    fallback: Span | None = None
    for number, line in enumerate(source.text.split("\n"), start=1):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            whole = Span(rel, number, 1, number, len(line.rstrip()) + 1)
            if current == prefix and fallback is None:
                fallback = whole
            if key is not None and current == [*wanted, key] and key in line:
                col = line.index(key) + 1
                return Span(rel, number, col, number, col + len(key))
            if key is None and current == wanted:
                return whole
            continue
        if key is not None and current == wanted:
            m = re.match(rf"""^(\s*)["']?{re.escape(key)}["']?\s*=""", line)
            if m:
                col = len(m.group(1)) + 1
                return Span(rel, number, col, number, col + len(key))
    return fallback or Span.point(rel, 1, 1)


def validate(source: ConfigSource, rel: str) -> list[Diagnostic]:
    """Diagnostics for a lint table: schema failures (C101) and selectors matching no check
    (C102)."""
    from capic.lint.schema import dotted, evaluator

    c101, c102 = PSEUDO_CODES["C101"], PSEUDO_CODES["C102"]
    diags: list[Diagnostic] = []
    where = f"{source.path.name} {source.section}"
    document = "pyproject_tool_capic"
    for f in evaluator().validate(document, dict(source.table)):
        path = [str(p) for p in f.path]
        if f.kind == "additionalProperties":
            known = list(f.schema.get("properties", {}))
            hint = suggest(f.key or "", known)
            diags.append(
                c101.diagnostic(
                    f"{where}: unknown key `{dotted(f.target)}`",
                    _key_span(source, rel, path, f.key),
                    f"did you mean `{hint}`?" if hint else f"keys: {', '.join(known)}",
                )
            )
            continue
        key = path[-1] if path else None
        table = path[:-1]
        if key is not None and len(path) >= 2 and path[0] in {"select", "ignore", "extend-select"}:
            table, key = [], path[0]
        elif len(path) >= 2 and path[0] == "per-file-ignores":
            table, key = ["per-file-ignores"], path[1]
        message = _config_message(f.kind, f.expected, f.instance)
        hint = None
        if f.kind == "enum" and isinstance(f.instance, str):
            hint = suggest(f.instance, [str(o) for o in f.expected])
        elif (
            f.kind == "pattern"
            and isinstance(f.instance, str)
            and known_selector(f.instance.upper())
        ):
            hint = f.instance.upper()
        diags.append(
            c101.diagnostic(
                f"{where}: `{dotted(f.target)}` {message}",
                _key_span(source, rel, table, key),
                f"did you mean {hint!r}?" if hint else "see `capic schema config` ($defs/lint)",
            )
        )
    diags.extend(_check_selectors(source, rel, where, c102))
    diags.extend(_check_options(source, rel, where, c101))
    return diags


def _config_message(kind: str, expected: Any, instance: Any) -> str:
    if kind == "type":
        return f"must be of type {expected}, got {type(instance).__name__}"
    if kind in {"enum", "const"}:
        options = expected if isinstance(expected, list) else [expected]
        return f"must be one of {', '.join(map(str, options))}, got {instance!r}"
    if kind == "pattern":
        return f"{instance!r} is not a code or prefix (uppercase letters and digits, or ALL)"
    if kind == "uniqueItems":
        return "lists a selector twice"
    return f"is not valid ({kind})"


def _check_selectors(source: ConfigSource, rel: str, where: str, info: Any) -> Iterable[Diagnostic]:
    table = source.table
    lists: list[tuple[list[str], str, Any]] = []
    for key in ("select", "ignore", "extend-select"):
        if isinstance(table.get(key), list):
            lists.append(([], key, table[key]))
    if isinstance(table.get("per-file-ignores"), dict):
        for pattern, value in table["per-file-ignores"].items():
            if isinstance(value, list):
                lists.append((["per-file-ignores"], pattern, value))
    codes = list(all_infos())
    for parent, key, values in lists:
        for selector in values:
            if not isinstance(selector, str) or not re.fullmatch(r"[A-Z][A-Z0-9]*", selector):
                continue
            if known_selector(selector):
                continue
            hint = suggest(selector, codes)
            yield info.diagnostic(
                f"{where}: `{selector}` in {key} matches no check",
                _key_span(source, rel, parent, key),
                f"did you mean {hint}?" if hint else "`capic rules` lists the codes",
            )


def _check_options(source: ConfigSource, rel: str, where: str, info: Any) -> Iterable[Diagnostic]:
    raw = source.table.get("options")
    if not isinstance(raw, dict):
        return
    checks: dict[str, type[Check]] = {cls.name: cls for cls in all_checks().values()}
    for name, values in raw.items():
        cls = checks.get(name)
        if cls is None:
            hint = suggest(name, list(checks))
            yield info.diagnostic(
                f"{where}: options for unknown check `{name}`",
                _key_span(source, rel, ["options"], name),
                f"did you mean `{hint}`?"
                if hint
                else "options are keyed by check name (`capic rules`)",
            )
            continue
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            option = cls.options.get(key)
            if option is None:
                hint = suggest(key, list(cls.options))
                known = ", ".join(cls.options) or "none"
                yield info.diagnostic(
                    f"{where}: `{name}` has no option `{key}`",
                    _key_span(source, rel, ["options", name], key),
                    f"did you mean `{hint}`?" if hint else f"its options: {known}",
                )
            elif not option.accepts(value):
                yield info.diagnostic(
                    f"{where}: option `{key}` of `{name}` must be a {option.type}, got {value!r}",
                    _key_span(source, rel, ["options", name], key),
                    option.description,
                )
