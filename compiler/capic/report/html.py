"""The report as one self-contained HTML page.

Jinja2 with autoescaping on for everything: whatever comes from event data (a computed
event name, a rejection reason naming one) is text on the page, never markup. Styles are
inline and charts are inline SVG, so the page needs nothing from anywhere and carries a
Content-Security-Policy that allows nothing else (:data:`CSP`): no script runs in it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jinja2

from capic.report import charts

__all__ = ["CSP", "render_html"]

#: The page's Content-Security-Policy (a meta tag; the file is opened from disk).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.{digits}f} %"


def _num(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _signed(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:+,.2f}"
    return f"{int(value):+,}"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("capic.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    return env


def _coverage_chart(coverage: list[Mapping[str, Any]]) -> charts.Chart:
    rows = [
        (str(c["key"]), float(c["share"]), f"{_pct(c['share'])} ({_num(c['present'])})")
        for c in coverage
    ]
    return charts.bars(rows)


def _change_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline numbers of both versions side by side."""
    old, new = report["baseline"]["metrics"], report["metrics"]
    names = [
        ("sent", "server events sent", False),
        ("rejected", "server events rejected", False),
        ("matched", "events matched", False),
        ("estimate.mean", "estimate, mean (not Meta's EMQ)", False),
        ("event_id.coverage", "event_id from the rules (%)", True),
        ("duplicates", "duplicate event_ids within 48 h", False),
        ("fbc.present", "fbc present (%)", True),
        ("fbp.present", "fbp present (%)", True),
        ("consent.dropped", "dropped without consent", False),
        ("consent.limited_data_use", "sent with Limited Data Use", False),
    ]
    rows = []
    for key, label, points in names:
        a, b = float(old.get(key, 0.0)), float(new.get(key, 0.0))
        rows.append({"label": label, "old": a, "new": b, "change": round(b - a, 2), "pt": points})
    return rows


def render_html(report: Mapping[str, Any]) -> str:
    """The page for a report (:func:`capic.report.compose.make_report`)."""
    context: dict[str, Any] = {
        "r": report,
        "csp": CSP,
        "coverage_chart": _coverage_chart(report["coverage"]),
        "histogram": charts.histogram([b["events"] for b in report["estimate"]["histogram"]]),
        "click_chart": charts.bars(
            [
                (kind, float(c["share"]), f"{_pct(c['share'])} ({_num(c['present'])})")
                for kind, c in report["click_ids"].items()
            ]
        ),
        "changes": None,
        "coverage_change": None,
    }
    if "baseline" in report:
        old = {c["key"]: c for c in report["baseline"]["coverage"]}
        deltas = [
            (str(c["key"]), round(100 * (c["share"] - old[c["key"]]["share"]), 1))
            if c["key"] in old
            else (str(c["key"]), round(100 * c["share"], 1))
            for c in report["coverage"]
            if c["present"] or old.get(c["key"], {}).get("present")
        ]
        widest = max([abs(d) for _, d in deltas] + [5.0])
        context["changes"] = _change_rows(report)
        context["coverage_change"] = charts.diverging(deltas, span=widest)
    return _environment().get_template("report.html.j2").render(context)
