"""Server-rendered SVG charts for the console's insights page: pure functions of the insights
answer, returning markup (every label escaped). No script, no third-party code."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from console.charts import Series, line_chart

from .insights import FUNNEL

LABELS = {
    "started": "Started",
    "active": "Active",
    "shipping_completed": "Shipping done",
    "delivery_completed": "Delivery done",
    "billing_completed": "Billing done",
    "payment_attempted": "Payment attempted",
    "completed": "Completed",
}
BAR = "#417690"
DROP = "#e8b4b0"


def funnel_svg(figures: dict, *, width: int = 720) -> SafeString:
    """One bar per funnel step, its length the share of started checkouts, with the count, the
    conversion from the step before and, in red, the drop-off."""
    started = figures["started"] or 0
    label_w, row_h, bar_h = 150, 34, 22
    chart_w = width - label_w - 150
    height = row_h * len(FUNNEL) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="Checkout funnel" class="funnel">'
    ]
    for index, step in enumerate(FUNNEL):
        count = figures[step]
        y = 5 + index * row_h
        share = count / started if started else 0
        w = round(chart_w * share)
        drop = figures["drop_off"].get(step, 0) if index else 0
        drop_w = round(chart_w * drop / started) if started else 0
        rate = figures["step_conversion"].get(step) if index else None
        note = f"{count:,}" + (f" · {rate:.0%} of previous" if rate is not None else "")
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="13" fill="#333">{escape(LABELS[step])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{BAR}" rx="2">'
            f"<title>{escape(LABELS[step])}: {count:,}</title></rect>"
            f'<rect x="{label_w + w}" y="{y}" width="{drop_w}" height="{bar_h}" fill="{DROP}">'
            f"<title>dropped here: {drop:,}</title></rect>"
            f'<text x="{label_w + w + drop_w + 6}" y="{y + 16}" font-size="12" fill="#333">'
            f"{escape(note)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def daily_svg(
    buckets: list[dict], *, first: date, last: date, width: int = 720, height: int = 220
) -> SafeString:
    """Started (blue) and completed (green) per day from `first` to `last`, days without
    checkouts at zero: the console's line chart (`console.charts.line_chart`), whose date
    labels are drawn whole, the last one at the right edge too."""
    by_day = {b["bucket"]: b for b in buckets}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    series = [
        Series(name, [by_day.get(d.isoformat(), {}).get(name, 0) for d in days], fill)
        for name, fill in (("started", BAR), ("completed", "#2e7d32"))
    ]
    return line_chart(
        series,
        [d.strftime("%b %d") for d in days],
        width=width,
        height=height,
        css_class="daily",
        aria_label="Started and completed checkouts per day",
    )
