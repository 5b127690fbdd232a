"""What capic knows of the rules before asking Meta: per pixel and event name, the sends that
produce it, the customer information and parameters each can carry, where its
``client_ip_address`` comes from, and capic's match-quality estimate (the one home of the
estimate, :mod:`capic.meta.estimate`, as Q002 computes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from capic.lint.values import Analyzer
from capic.meta import catalog
from capic.meta.estimate import Estimate, estimate, is_ipv4
from capic.model import ir

__all__ = ["IpKind", "SendInfo", "sends_by_event", "source_text"]

#: Where a send's client_ip_address comes from: a literal IPv4 or IPv6 address, an expression
#: (known at run time only: the client's address is IPv4 unless it connects over IPv6), or
#: nowhere (not sent).
IpKind = Literal["ipv4", "ipv6", "run time", "none"]


@dataclass(frozen=True, slots=True)
class SendInfo:
    """One send of one rule, as far as it matters for Meta's verdict."""

    rule: str
    file: str
    line: int
    pixel: str
    event_names: tuple[str, ...]
    #: user_data keys the send can carry.
    keys: frozenset[str]
    #: Other parameters it can carry: top-level keys and ``custom_data.<key>``.
    params: frozenset[str]
    ip_kind: IpKind
    #: The source text of its client_ip_address (None when it sends none).
    ip_source: str | None
    estimate: Estimate
    #: Its action_source when written as a literal (None: known at run time).
    action_source: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def sends(self, param: str) -> bool:
        return param in self.keys or param in self.params


def source_text(project: ir.Project, expr: ir.Expr) -> str:
    """The source text of an expression (one line; long ones shortened)."""
    span = expr.span
    source = next((f for f in project.files if f.path == span.file), None)
    if source is None or not source.text:
        return "an expression"
    lines = source.text.splitlines()
    if span.line != span.end_line or not 0 < span.line <= len(lines):
        return lines[span.line - 1].strip() if 0 < span.line <= len(lines) else "an expression"
    text = lines[span.line - 1][span.column - 1 : span.end_column - 1].strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _info(project: ir.Project, analyzer: Analyzer, rule: ir.Rule, send: ir.Send) -> SendInfo:
    user = send.body.section("user_data")
    known = frozenset(catalog.user_data_keys())
    keys = frozenset(analyzer.present_keys(user) & known)
    params = set(analyzer.present_keys(send.body)) - {"user_data", "custom_data"}
    params |= {f"custom_data.{k}" for k in analyzer.present_keys(send.body.section("custom_data"))}
    ip_field = user.field("client_ip_address") if user is not None else None
    kind: IpKind = "none"
    ip_text: str | None = None
    if ip_field is not None and "client_ip_address" in keys:
        folded = analyzer.fold(ip_field.value)
        if isinstance(folded, str):
            kind = "ipv4" if is_ipv4(folded) else "ipv6"
        else:
            kind = "run time"
        ip_text = source_text(project, ip_field.value)
    source_field = send.body.field("action_source")
    source = analyzer.fold(source_field.value) if source_field is not None else None
    # Q002's reading: only a literal IPv4 address earns the reduced IP weight.
    return SendInfo(
        rule=rule.name,
        file=rule.file,
        line=send.span.line,
        pixel=send.pixel,
        event_names=send.event_names or (send.event,),
        keys=keys,
        params=frozenset(params),
        ip_kind=kind,
        ip_source=ip_text,
        estimate=estimate(keys, ipv4=kind == "ipv4"),
        action_source=source if isinstance(source, str) else None,
    )


def sends_by_event(project: ir.Project) -> dict[str, dict[str, list[SendInfo]]]:
    """pixel name -> event name -> the sends that produce it (in rule order). A send whose
    name comes from the event itself is listed under ``"*"``."""
    analyzer = Analyzer(project)
    out: dict[str, dict[str, list[SendInfo]]] = {}
    for rule in project.rules:
        for send in rule.sends:
            info = _info(project, analyzer, rule, send)
            names = info.event_names
            if send.event_expr is not None and not send.event_names:
                names = ("*",)
            for name in names:
                out.setdefault(send.pixel, {}).setdefault(name, []).append(info)
    return out
