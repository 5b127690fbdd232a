"""Sends as the checks see them, and their findings once per (field, send).

* A send whose event name is computed (``send names[event_type] ?? "Other" to shop``) is
  checked once per name it can take (:func:`variants`): a copy of the send with that name, so
  every per-event requirement applies (a Purchase among the names needs currency and value).
  Names from the table are checked as written event names (typos of standard events are
  reported where the table writes them); names from the ``??`` fallback as custom events; a
  part that comes from the event itself as a custom event of unknown name.
* :func:`send_findings` runs the checks on each variant and merges what they found: a finding
  every variant makes is reported once, worded with the send's expression; one that only some
  names cause says which.
* A finding about a field written elsewhere (a shared block, a table) keeps the line where it
  is written as its location and gets the send as a related location (SARIF
  ``relatedLocations``): one finding per (field, send).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from capic.diagnostics import Diagnostic, Related, Span
from capic.lint.context import LintContext
from capic.model import ir

__all__ = ["related_send", "send_findings", "variants"]

_MARK = "\0"


def variants(ctx: LintContext, send: ir.Send) -> list[ir.Send]:
    """The sends the checks see for ``send``: itself, or one per event name it can take."""
    expr = send.event_expr
    if expr is None:
        return [send]
    cached = ctx.variant_cache.get(id(send))
    if cached is not None:
        return cached
    parts: list[tuple[ir.Expr, bool]] = [(expr, False)]
    if isinstance(expr, ir.Binary) and expr.op == "??":
        parts = [(expr.left, False), (expr.right, True)]
    out: list[ir.Send] = []
    seen: set[tuple[str, bool]] = set()
    for part, fallback in parts:
        possible = ctx.analyzer.evaluator.possible(part)
        if possible is None:
            if (send.event, True) not in seen:
                seen.add((send.event, True))
                out.append(dataclasses.replace(send, quoted=True, event_expr=part, variant_of=send))
            continue
        for value, span in possible:
            if type(value) is not str or not value or (value, fallback) in seen:
                continue
            seen.add((value, fallback))
            out.append(
                dataclasses.replace(
                    send,
                    event=value,
                    quoted=fallback,
                    event_span=span or send.event_span,
                    event_expr=None,
                    variant_of=send,
                )
            )
    result = out or [send]
    ctx.variant_cache[id(send)] = result
    return result


def related_send(ctx: LintContext, rule: ir.Rule, send: ir.Send) -> Related:
    return Related(
        ctx.head(send), f'in send `{send.event}` to `{send.pixel}` of rule "{rule.name}"'
    )


def _inside(span: Span, outer: Span) -> bool:
    return span.file == outer.file and outer.line <= span.line <= outer.end_line


def _with_send(ctx: LintContext, rule: ir.Rule, send: ir.Send, d: Diagnostic) -> Diagnostic:
    """``d`` with the send as related location when it points outside the send's text."""
    if d.span is not None and _inside(d.span, send.span):
        return d
    related = related_send(ctx, rule, send)
    if related in d.related:
        return d
    return dataclasses.replace(d, related=(related, *d.related))


def _marked(message: str, name: str) -> str:
    """The message with the event name (as `Name` or "Name") replaced by a marker."""
    pattern = re.compile(rf"([`\"]){re.escape(name)}\1")
    return pattern.sub(lambda m: f"{m.group(1)}{_MARK}{m.group(1)}", message)


def _unmarked(marked: str, label: str, suffix: str) -> str:
    return re.sub(rf"([`\"]){_MARK}\1", lambda m: f"{m[1]}{label}{m[1]}{suffix}", marked)


def send_findings(
    ctx: LintContext,
    rule: ir.Rule,
    send: ir.Send,
    produce: Callable[[ir.Send], Iterable[Diagnostic]],
) -> list[Diagnostic]:
    """What ``produce`` finds for ``send`` (through its variants), once per finding."""
    seen = variants(ctx, send)
    if len(seen) == 1:
        return [_with_send(ctx, rule, send, d) for d in produce(seen[0])]
    groups: dict[tuple[object, ...], list[tuple[ir.Send, Diagnostic]]] = {}
    for variant in seen:
        for d in produce(variant):
            key = (d.code, d.span, _marked(d.message, variant.event), d.help, d.related)
            groups.setdefault(key, []).append((variant, d))
    out: list[Diagnostic] = []
    for (_, _, marked, _, _), items in groups.items():
        first = items[0][1]
        names = list(dict.fromkeys(v.event for v, _ in items))
        if len(items) == 1:
            message = first.message
        else:
            suffix = "" if len(names) == len(seen) else f" (as {', '.join(names)})"
            message = _unmarked(str(marked), send.event, suffix)
        out.append(
            _with_send(
                ctx,
                rule,
                send,
                dataclasses.replace(first, message=message, data={**first.data, "events": names}),
            )
        )
    return out
