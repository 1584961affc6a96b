"""Server-side SVG charts for the workbench (bar charts, heatmap colours): no JavaScript, every label escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

_BAR = 18
_GAP = 6
_LABEL = 190
_WIDTH = 560


def bar_chart(
    items: list[tuple[str, float | None]], title: str, unit: str = "", special: set[str] | None = None
) -> Markup:
    """Horizontal bars, one per (label, value); a None value is drawn as a hatched 'unknown' bar.

    ``special`` labels (e.g. the unpriced bucket) are drawn in a second colour with their own legend.
    """
    special = special or set()
    values = [v for _, v in items if v is not None]
    top = max(values) if values else 0
    height = len(items) * (_BAR + _GAP) + 28
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    span = _WIDTH - _LABEL - 90
    for i, (label, value) in enumerate(items):
        y = 24 + i * (_BAR + _GAP)
        text = label if len(label) <= 28 else label[:27] + "…"
        out.append(
            f'<text x="{_LABEL - 6}" y="{y + _BAR - 5}" text-anchor="end" class="chart-label">{escape(text)}</text>'
        )
        if value is None:
            out.append(
                f'<rect x="{_LABEL}" y="{y}" width="{span // 3}" height="{_BAR}" class="bar-unknown"><title>{escape(label)}: unknown</title></rect>'
            )
            out.append(f'<text x="{_LABEL + span // 3 + 6}" y="{y + _BAR - 5}" class="chart-value">unknown</text>')
            continue
        width = 0 if not top else max(1, round(span * value / top))
        cls = "bar-special" if label in special else "bar"
        shown = f"{value:,.2f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:,.0f}"
        out.append(
            f'<rect x="{_LABEL}" y="{y}" width="{width}" height="{_BAR}" class="{cls}"><title>{escape(label)}: {shown}{escape(unit)}</title></rect>'
        )
        out.append(
            f'<text x="{_LABEL + width + 6}" y="{y + _BAR - 5}" class="chart-value">{shown}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def heat_colour(value: float | None, low: float, high: float) -> str:
    """A background colour from pale (low) to deep blue (high); grey for no value."""
    if value is None:
        return "#eeeeee"
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = min(1.0, max(0.0, t))
    r = round(239 - t * (239 - 33))
    g = round(243 - t * (243 - 102))
    b = round(255 - t * (255 - 172))
    return f"rgb({r},{g},{b})"


def heat_text(value: float | None, low: float, high: float) -> str:
    if value is None or high <= low:
        return "#000"
    return "#fff" if (value - low) / (high - low) > 0.55 else "#000"
