"""Geometry of the report's SVG charts: plain numbers the template draws as ``<rect>``s.

The charts are inline SVG (no script, no external asset, allowed by the page's
Content-Security-Policy). Coordinates are rounded to one decimal so that the same numbers
always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Chart", "bars", "diverging", "histogram"]

#: Left margin for labels, bar area width, row height (px).
LABEL_WIDTH = 150
BAR_WIDTH = 360
ROW = 22


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    caption: str
    x: float
    y: float
    width: float
    height: float
    #: A CSS class for the colour (``good``, ``bad``, ``neutral``, ``muted``).
    tone: str = "neutral"


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    #: Vertical guide lines: (x, label).
    guides: tuple[tuple[float, str], ...] = ()


def _r(value: float) -> float:
    return round(value, 1)


def bars(rows: Sequence[tuple[str, float, str]], *, tone: str = "neutral") -> Chart:
    """Horizontal bars for shares (0-1): one row per (label, share, caption)."""
    out = []
    for i, (label, value, caption) in enumerate(rows):
        clamped = min(1.0, max(0.0, value))
        out.append(
            Bar(
                label, caption, LABEL_WIDTH, _r(i * ROW + 3), _r(clamped * BAR_WIDTH), ROW - 6, tone
            )
        )
    guides = tuple((_r(LABEL_WIDTH + f * BAR_WIDTH), f"{int(f * 100)} %") for f in (0.5, 1.0))
    return Chart(LABEL_WIDTH + BAR_WIDTH + 150, max(1, len(rows)) * ROW + 16, tuple(out), guides)


def diverging(rows: Sequence[tuple[str, float]], *, span: float = 100.0) -> Chart:
    """Bars left (drop) or right (rise) of a middle line, for changes in points (-span..span)."""
    half = BAR_WIDTH / 2
    middle = LABEL_WIDTH + half
    out = []
    for i, (label, change) in enumerate(rows):
        size = min(1.0, abs(change) / span) * half if span else 0.0
        x = middle - size if change < 0 else middle
        tone = "bad" if change < 0 else "good" if change > 0 else "muted"
        caption = f"{change:+.1f} pt"
        out.append(Bar(label, caption, _r(x), _r(i * ROW + 3), _r(size), ROW - 6, tone))
    guides = ((_r(middle), "0"),)
    return Chart(LABEL_WIDTH + BAR_WIDTH + 150, max(1, len(rows)) * ROW + 16, tuple(out), guides)


def histogram(counts: Sequence[int], *, height: int = 140) -> Chart:
    """Vertical bars for the estimate's bins (0-1, 1-2, ... 9-10)."""
    top = max(counts) if counts and max(counts) > 0 else 1
    width = 36
    out = []
    for i, count in enumerate(counts):
        h = count / top * height
        out.append(
            Bar(
                f"{i}–{i + 1}",
                str(count),
                _r(40 + i * (width + 6)),
                _r(20 + height - h),
                width,
                _r(h),
                "good" if i >= 6 else "neutral" if i >= 3 else "bad",
            )
        )
    return Chart(40 + len(counts) * (width + 6) + 10, height + 50, tuple(out))
