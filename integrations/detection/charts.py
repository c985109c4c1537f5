"""The statistics page's charts as inline SVG, drawn on the server: they read without JavaScript, need no
chart library or CDN, scale with the page (``viewBox``) and take their colours from the dashboard's CSS.

Every bar carries a ``<title>`` (the tooltip: what and how many) and a ``data-count``, so tests and assistive
technology read the numbers rather than pixel heights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

__all__ = ["bar_chart", "hour_chart"]

WIDTH = 720
HOUR_HEIGHT = 200
BAR_WIDTH = 480  # bar charts sit in half-width panels: a narrower drawing keeps their text legible
BAR_ROW = 26
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 36, 8, 10, 24
_LABEL_WIDTH = 130


def _hour_label(hour: float, span_hours: int) -> str:
    moment = dt.datetime.fromtimestamp(hour, dt.UTC)
    return moment.strftime("%H:%M") if span_hours <= 48 else moment.strftime("%m-%d")


def hour_chart(hours: Sequence[dict[str, Any]], title: str) -> Markup:
    """Vertical bars, one per UTC hour (``{"hour": epoch, "count": n}``), with a few time labels below."""
    count = len(hours)
    if count == 0:
        return Markup("")
    top = max((int(item["count"]) for item in hours), default=0) or 1
    plot_width = WIDTH - _PAD_LEFT - _PAD_RIGHT
    plot_height = HOUR_HEIGHT - _PAD_TOP - _PAD_BOTTOM
    step = plot_width / count
    bar_width = max(1.0, step * 0.8)
    parts = [
        f'<svg class="detection-chart hour-chart" viewBox="0 0 {WIDTH} {HOUR_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<line class="chart-grid" x1="{_PAD_LEFT}" y1="{_PAD_TOP + plot_height}" x2="{WIDTH - _PAD_RIGHT}" '
        f'y2="{_PAD_TOP + plot_height}"/>',
        f'<text class="chart-axis" x="{_PAD_LEFT - 4}" y="{_PAD_TOP + 8}" text-anchor="end">{top}</text>',
        f'<text class="chart-axis" x="{_PAD_LEFT - 4}" y="{_PAD_TOP + plot_height}" text-anchor="end">0</text>',
    ]
    label_every = max(1, round(count / 6))
    for index, item in enumerate(hours):
        value = int(item["count"])
        height = plot_height * value / top
        x = _PAD_LEFT + index * step + (step - bar_width) / 2
        label = _hour_label(float(item["hour"]), count)
        when = dt.datetime.fromtimestamp(float(item["hour"]), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(
            f'<rect class="chart-bar" data-hour="{int(item["hour"])}" data-count="{value}" x="{x:.1f}" '
            f'y="{_PAD_TOP + plot_height - height:.1f}" width="{bar_width:.1f}" height="{height:.1f}">'
            f"<title>{escape(when)}: {value}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text class="chart-axis" x="{_PAD_LEFT + index * step + step / 2:.1f}" y="{HOUR_HEIGHT - 6}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, one row per ``(name, count)``, the name on the left and the count at the bar's end."""
    if not items:
        return Markup("")
    top = max(count for _, count in items) or 1
    height = BAR_ROW * len(items) + 4
    plot_width = BAR_WIDTH - _LABEL_WIDTH - 50
    parts = [
        f'<svg class="detection-chart bar-chart" viewBox="0 0 {BAR_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for index, (name, count) in enumerate(items):
        y = 2 + index * BAR_ROW
        width = max(1.0, plot_width * count / top)
        short = name if len(name) <= 20 else name[:19] + "…"
        parts.append(
            f'<g class="chart-row" data-name="{escape(name)}" data-count="{count}">'
            f'<text class="chart-label" x="{_LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="chart-bar" x="{_LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="{BAR_ROW - 8}">'
            f"<title>{escape(name)}: {count}</title></rect>"
            f'<text class="chart-value" x="{_LABEL_WIDTH + width + 6:.1f}" y="{y + 17}">{count}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
