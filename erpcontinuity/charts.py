"""Server-rendered SVG charts.

Charts are drawn on the server as inline SVG: they need no JavaScript and no asset from the
internet (intranets), print exactly as they look, and a screen reader gets a table fallback from
the page. Three shapes cover what managers read: horizontal bars (counts per category), columns
over time (per month), and lines over time (a metric or a trend, several series).

Every function returns markup marked safe; all text is escaped here.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#1f5fbf", "#e5534b", "#1e7d3c", "#f9a65a", "#7a4fbf", "#0f8b8d", "#9a6200", "#5b6475"]


@dataclass
class Series:
    label: str
    values: Sequence[float | None]
    color: str | None = None


def text_width(text: str, size: int = 11) -> float:
    """Approximate width in px of text at a font size: CJK characters are about twice as wide."""
    return sum(size * (1.1 if unicodedata.east_asian_width(ch) in "WF" else 0.62) for ch in str(text))


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2, 2.5 or 5 × 10^n so ticks read well."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    base = 10**exponent
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * base:
            return step * base
    return 10 * base


def _divisions(axis_max: float) -> int:
    """Gridlines for an axis from 0 to a _nice_max value, each at a round step: small whole
    maxima (counts of drills, incidents) get one line per unit, never 0.25 of a drill."""
    if axis_max <= 5 and abs(axis_max - round(axis_max)) < 1e-9:
        return int(round(axis_max))
    leading = axis_max / 10 ** math.floor(math.log10(axis_max))
    return 4 if abs(leading - 2) < 1e-9 else 5


def _fmt(value: float) -> str:
    if value is None:
        return "—"
    if abs(value - round(value)) < 1e-9:
        return f"{int(round(value))}"
    return f"{value:.1f}"


def hbar(
    items: Sequence[tuple[str, float]],
    *,
    title: str = "",
    unit: str = "",
    color: str = PALETTE[0],
    width: int = 520,
    bar_height: int = 22,
    colors: Sequence[str] | None = None,
) -> SafeString:
    """Horizontal bars, one per (label, value)."""
    label_w = 170
    gap = 8
    height = max(1, len(items)) * (bar_height + gap) + 10
    top = max((v or 0) for _, v in items) if items else 0
    scale = (width - label_w - 60) / (_nice_max(top) if top else 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * (bar_height + gap)
        w = max(0.0, (value or 0) * scale)
        fill = colors[i % len(colors)] if colors else color
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" font-size="12" '
            f'fill="#1d2330">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" fill="{fill}"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.7:.1f}" font-size="12" fill="#1d2330">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _frame(labels: Sequence[str], top: float, *, title: str, unit: str, width: int, height: int):
    left, right, top_pad, bottom = 52, 16, 14, 38
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    axis_max = _nice_max(top)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    divisions = _divisions(axis_max)
    for k in range(divisions + 1):
        value = axis_max * k / divisions
        y = top_pad + plot_h - plot_h * k / divisions
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dde5" stroke-width="1"></line>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6475">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    n = max(1, len(labels))
    step = plot_w / n
    every = max(1, math.ceil(n / 12))  # at most ~12 x labels
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = left + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" fill="#5b6475">'
            f"{escape(label)}</text>"
        )
    geometry = {"left": left, "top": top_pad, "plot_w": plot_w, "plot_h": plot_h, "step": step, "max": axis_max}
    return parts, geometry


def _legend(series: Sequence[Series], width: int, y: int) -> str:
    if len(series) < 2:
        return ""
    out, x = [], 52
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"></rect>'
            f'<text x="{x + 14}" y="{y}" font-size="11" fill="#1d2330">{escape(s.label)}</text>'
        )
        x += 24 + text_width(s.label)
    return "".join(out)


def columns(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    unit: str = "",
    width: int = 640,
    height: int = 240,
    stacked: bool = False,
) -> SafeString:
    """Columns per label (e.g. month), grouped or stacked by series."""
    if stacked:
        top = max((sum((s.values[i] or 0) for s in series) for i in range(len(labels))), default=0)
    else:
        top = max(((v or 0) for s in series for v in s.values), default=0)
    parts, g = _frame(labels, top, title=title, unit=unit, width=width, height=height)
    groups = 1 if stacked else max(1, len(series))
    bar_w = g["step"] * 0.7 / groups
    for i in range(len(labels)):
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i] or 0
            color = s.color or PALETTE[j % len(PALETTE)]
            h = g["plot_h"] * value / g["max"]
            x = g["left"] + g["step"] * i + g["step"] * 0.15 + (0 if stacked else j * bar_w)
            y = g["top"] + g["plot_h"] - h - (g["plot_h"] * base / g["max"] if stacked else 0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(s.label)} {escape(labels[i])}: {escape(_fmt(value))}{escape(unit)}</title></rect>"
            )
            if stacked:
                base += value
    parts.append(_legend(series, width, height - 4))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def lines(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    unit: str = "",
    width: int = 640,
    height: int = 240,
    target: float | None = None,
    target_label: str = "",
) -> SafeString:
    """Lines over labels (time); None values leave a gap. An optional dashed target line (e.g. RTO)."""
    top = max([(v or 0) for s in series for v in s.values] + [target or 0], default=0)
    parts, g = _frame(labels, top, title=title, unit=unit, width=width, height=height)

    def point(i: int, value: float) -> tuple[float, float]:
        return g["left"] + g["step"] * (i + 0.5), g["top"] + g["plot_h"] - g["plot_h"] * value / g["max"]

    if target is not None:
        _, y = point(0, target)
        parts.append(
            f'<line x1="{g["left"]}" x2="{g["left"] + g["plot_w"]}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b42318" '
            f'stroke-dasharray="6 4" stroke-width="1.5"></line>'
            f'<text x="{g["left"] + g["plot_w"] - 4}" y="{y - 5:.1f}" text-anchor="end" font-size="11" fill="#b42318">'
            f"{escape(target_label)}</text>"
        )
    for j, s in enumerate(series):
        color = s.color or PALETTE[j % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(s.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = point(i, value)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(s.label)} '
                f"{escape(labels[i])}: {escape(_fmt(value))}{escape(unit)}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" stroke-width="2"></polyline>'
                )
    parts.append(_legend(series, width, height - 4))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def paired_hbar(
    items: Sequence[tuple[str, float | None, float | None]],
    *,
    labels: tuple[str, str],
    title: str = "",
    unit: str = "",
    width: int = 720,
) -> SafeString:
    """Two horizontal bars per row, e.g. planned vs actual minutes of each step of a drill. A
    missing value (a step not run) draws no bar and prints "—"."""
    label_w, bar_h, gap, legend_h = 270, 11, 10, 22
    height = legend_h + max(1, len(items)) * (2 * bar_h + gap) + 6
    top = max([v or 0 for _, a, b in items for v in (a, b)], default=0)
    scale = (width - label_w - 70) / (_nice_max(top) if top else 1)
    colors = (PALETTE[7], PALETTE[0])
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for color, name in zip(colors, labels, strict=True):
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{color}"></rect>'
            f'<text x="{x + 14}" y="13" font-size="11" fill="#1d2330">{escape(name)}</text>'
        )
        x += 30 + text_width(name)
    for i, (label, first, second) in enumerate(items):
        y = legend_h + i * (2 * bar_h + gap)
        shown = label if text_width(label, 12) <= label_w - 12 else label[: max(4, int((label_w - 12) / 9))] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h + 4}" text-anchor="end" font-size="12" fill="#1d2330">'
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
        )
        for k, value in enumerate((first, second)):
            w = max(0.0, (value or 0) * scale)
            yy = y + k * bar_h
            parts.append(
                f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar_h - 1}" fill="{colors[k]}"></rect>'
                f'<text x="{label_w + w + 4:.1f}" y="{yy + bar_h - 2}" font-size="10" fill="#1d2330">'
                f"{escape(_fmt(value))}{escape(unit) if value is not None else ''}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
