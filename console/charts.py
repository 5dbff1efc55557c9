"""Server-rendered SVG charts the console's pages share: pure functions of numbers and labels,
returning markup (every label escaped, a tooltip as an SVG `<title>`). No script, no
third-party code, nothing for the page's CSP to allow: colours, sizes and anchors are SVG
presentation attributes (`fill=`, `stroke=`, `font-size=`), never a `style=` attribute, which
the console's `style-src 'self'` would refuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = (
    "#417690",
    "#e07b39",
    "#2e7d32",
    "#8e44ad",
    "#c0392b",
    "#16a085",
    "#7f8c8d",
    "#b8860b",
)
LEFT, RIGHT, TOP_PAD, BOTTOM = 50, 10, 24, 30
FONT_SIZE = 11
# A character's width in ems, a little over the sans-serif fonts' average: what a label is
# estimated to take, so that none is drawn past the chart's edge.
CHAR_WIDTH = 0.62


def color(index: int) -> str:
    """The `index`th series' colour (the palette repeats after eight)."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Series:
    """One line (or one layer of stacked bars): a value per x label, None where there is none
    (a gap in a line, nothing in a bar)."""

    label: str
    values: Sequence[float | None]
    color: str


def _frame(width: int, height: int, css_class: str, aria_label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(aria_label)}" class="{escape(css_class)}">'
    ]


def _axes(width: int, height: int, top_label: str, zero_label: str = "0") -> list[str]:
    plot_h = height - BOTTOM - TOP_PAD
    return [
        f'<line x1="{LEFT}" y1="{TOP_PAD + plot_h}" x2="{width - RIGHT}" '
        f'y2="{TOP_PAD + plot_h}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP_PAD}" x2="{LEFT}" y2="{TOP_PAD + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 6}" y="{TOP_PAD + 10}" font-size="{FONT_SIZE}" text-anchor="end">'
        f"{escape(top_label)}</text>",
        f'<text x="{LEFT - 6}" y="{TOP_PAD + plot_h}" font-size="{FONT_SIZE}" '
        f'text-anchor="end">{escape(zero_label)}</text>',
    ]


def _text_width(text: str, font_size: float = FONT_SIZE) -> float:
    return len(text) * font_size * CHAR_WIDTH


def _x_labels(labels: Sequence[str], x_of, width: int, height: int) -> list[str]:
    """Every few x labels and the last, each centred under its point or bar, but moved in as
    far as it takes to be drawn whole (the last day's label at the right edge was cut off)."""
    every = max(1, len(labels) // 6)
    parts = []
    for i, label in enumerate(labels):
        if i % every and i != len(labels) - 1:
            continue
        half = _text_width(label) / 2
        x = min(max(x_of(i), half + 1), width - half - 1)
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="{FONT_SIZE}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def _isolated(values: Sequence[float | None], i: int) -> bool:
    """A point with no neighbour to draw a line to: on its own, it is only a dot."""
    before = i > 0 and values[i - 1] is not None
    after = i < len(values) - 1 and values[i + 1] is not None
    return values[i] is not None and not before and not after


def _point_labels(labels: list[tuple[int, float, float, str, str]], width: int) -> list[str]:
    """The value beside each point drawn on its own, `(i, x, y, text, colour)`: above the point
    (below it at the top of the plot), to its right or, near the right edge, to its left; the
    labels of one x moved apart so that none covers another."""
    parts: list[str] = []
    by_x: dict[int, list[tuple[float, float, str, str]]] = {}
    for i, x, y, text, fill in labels:
        by_x.setdefault(i, []).append((x, y, text, fill))
    for placed in by_x.values():
        placed.sort(key=lambda p: p[1])
        last_y = None
        for x, y, text, fill in placed:
            label_y = y - 7 if y - 7 >= TOP_PAD + FONT_SIZE else y + FONT_SIZE + 5
            if last_y is not None and label_y < last_y + FONT_SIZE + 2:
                label_y = last_y + FONT_SIZE + 2
            last_y = label_y
            right = x + 7 + _text_width(text) <= width - RIGHT
            anchor, label_x = ("start", x + 7) if right else ("end", x - 7)
            parts.append(
                f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="{FONT_SIZE}" '
                f'font-weight="bold" fill="{escape(fill)}" text-anchor="{anchor}">'
                f"{escape(text)}</text>"
            )
    return parts


def _legend(series: Sequence[Series], width: int) -> str:
    items = " ".join(f'<tspan fill="{escape(s.color)}">■ {escape(s.label)}</tspan>' for s in series)
    return (
        f'<text x="{width - RIGHT}" y="14" font-size="12" text-anchor="end">{items}</text>'
        if series
        else ""
    )


def line_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    top: float | None = None,
    percent: bool = False,
    width: int = 720,
    height: int = 220,
    css_class: str = "line-chart",
    aria_label: str = "Chart",
) -> SafeString:
    """A line per series over the x `labels`, broken where a value is None, with a dot and a
    tooltip at each point. A point with no neighbour (all the data on one day) gets a larger
    marker and its value written beside it: a lone dot, at 0% lost in the corner of the axes,
    was all there was to see. `top`: the value at the top of the axis (default the largest
    value); `percent`: values are fractions, shown as percentages."""
    values = [v for s in series for v in s.values if v is not None]
    top = top if top is not None else max([1, *values])
    plot_w, plot_h = width - LEFT - RIGHT, height - BOTTOM - TOP_PAD
    step = plot_w / max(1, len(labels) - 1)

    def x_of(i: int) -> float:
        return LEFT + i * step

    def y_of(v: float) -> float:
        return TOP_PAD + plot_h - plot_h * (v / top if top else 0)

    def shown(v: float) -> str:
        return f"{v:.1%}" if percent else f"{v:,g}"

    parts = _frame(width, height, css_class, aria_label)
    if percent:
        parts += _axes(width, height, f"{top:.0%}", "0%")
    else:
        parts += _axes(width, height, f"{top:,g}")
    lone: list[tuple[int, float, float, str, str]] = []
    for s in series:
        path, pen_down = [], False
        for i, v in enumerate(s.values):
            if v is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x_of(i):.1f},{y_of(v):.1f}")
            pen_down = True
        if path:
            parts.append(
                f'<path fill="none" stroke="{escape(s.color)}" stroke-width="2" '
                f'd="{" ".join(path)}"><title>{escape(s.label)}</title></path>'
            )
        for i, v in enumerate(s.values):
            if v is None:
                continue
            marker = 'r="2.5"'
            if _isolated(s.values, i):
                marker = 'r="5" stroke="#fff" stroke-width="1.5"'
                lone.append((i, x_of(i), y_of(v), shown(v), s.color))
            parts.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" {marker} '
                f'fill="{escape(s.color)}"><title>{escape(s.label)}, {escape(labels[i])}: '
                f"{escape(shown(v))}</title></circle>"
            )
    parts += _point_labels(lone, width)
    parts += _x_labels(labels, x_of, width, height)
    parts.append(_legend(series, width))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_bar_chart(
    series: Sequence[Series],
    labels: Sequence[str],
    *,
    width: int = 720,
    height: int = 220,
    css_class: str = "bar-chart",
    aria_label: str = "Chart",
) -> SafeString:
    """A bar per x label, its layers the series' values stacked in order, each with a
    tooltip."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = max([1, *totals])
    plot_w, plot_h = width - LEFT - RIGHT, height - BOTTOM - TOP_PAD
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.7)

    def x_of(i: int) -> float:
        return LEFT + slot * i + slot / 2

    parts = _frame(width, height, css_class, aria_label)
    parts += _axes(width, height, f"{top:,g}")
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            v = s.values[i] or 0
            if not v:
                continue
            h = plot_h * v / top
            y = TOP_PAD + plot_h - plot_h * base / top - h
            parts.append(
                f'<rect x="{x_of(i) - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{escape(s.color)}"><title>{escape(s.label)}, '
                f"{escape(label)}: {v:,g}</title></rect>"
            )
            base += v
    parts += _x_labels(labels, x_of, width, height)
    parts.append(_legend(series, width))
    parts.append("</svg>")
    return mark_safe("".join(parts))
