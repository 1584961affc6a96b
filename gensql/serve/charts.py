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
    # the label column fits the longest label: ids are never cut (about 7 px a character)
    label_w = max(_LABEL, 7 * max((len(label) for label, _ in items), default=0) + 12)
    chart_w = _WIDTH - _LABEL + label_w
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {chart_w} {height}" width="{chart_w}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    span = chart_w - label_w - 90
    for i, (label, value) in enumerate(items):
        y = 24 + i * (_BAR + _GAP)
        out.append(
            f'<text x="{label_w - 6}" y="{y + _BAR - 5}" text-anchor="end" class="chart-label">{escape(label)}</text>'
        )
        if value is None:
            out.append(
                f'<rect x="{label_w}" y="{y}" width="{span // 3}" height="{_BAR}" class="bar-unknown"><title>{escape(label)}: unknown</title></rect>'
            )
            out.append(f'<text x="{label_w + span // 3 + 6}" y="{y + _BAR - 5}" class="chart-value">unknown</text>')
            continue
        width = 0 if not top else max(1, round(span * value / top))
        cls = "bar-special" if label in special else "bar"
        shown = f"{value:,.2f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:,.0f}"
        out.append(
            f'<rect x="{label_w}" y="{y}" width="{width}" height="{_BAR}" class="{cls}"><title>{escape(label)}: {shown}{escape(unit)}</title></rect>'
        )
        out.append(
            f'<text x="{label_w + width + 6}" y="{y + _BAR - 5}" class="chart-value">{shown}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


#: The heat scale's two ends (pale for the lowest value, deep blue for the highest) and the no-value grey.
_PALE = (239, 243, 255)
_DEEP = (33, 102, 172)
_NONE = (238, 238, 238)


def _heat_rgb(value: float | None, low: float, high: float) -> tuple[int, int, int]:
    if value is None:
        return _NONE
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = min(1.0, max(0.0, t))
    return (
        round(_PALE[0] - t * (_PALE[0] - _DEEP[0])),
        round(_PALE[1] - t * (_PALE[1] - _DEEP[1])),
        round(_PALE[2] - t * (_PALE[2] - _DEEP[2])),
    )


def heat_colour(value: float | None, low: float, high: float) -> str:
    """A background colour from pale (low) to deep blue (high); grey for no value."""
    r, g, b = _heat_rgb(value, low, high)
    return f"rgb({r},{g},{b})"


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white)."""

    def channel(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two colours (1 .. 21; body text needs 4.5)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def heat_text(value: float | None, low: float, high: float) -> str:
    """Black or white, whichever contrasts more with the cell's background (its luminance decides)."""
    bg = _heat_rgb(value, low, high)
    return "#000" if contrast(bg, (0, 0, 0)) >= contrast(bg, (255, 255, 255)) else "#fff"


def heat_legend(low: float | None, high: float | None, fmt=None, steps: int = 5) -> Markup:
    """The heat scale as a row of swatches from ``low`` to ``high`` (with the no-value grey): the key a reader
    needs to read a cell's colour."""
    if low is None or high is None:
        return Markup("")
    fmt = fmt or (lambda v: f"{v:.2f}")
    values = [low] if high <= low else [low + (high - low) * i / (steps - 1) for i in range(steps)]
    cells = "".join(
        f'<span class="swatch" style="background: {heat_colour(v, low, high)}; color: {heat_text(v, low, high)}">'
        f"{escape(fmt(v))}</span>"
        for v in values
    )
    none = f'<span class="swatch" style="background: {heat_colour(None, low, high)}">no score</span>'
    return Markup(f'<div class="legend" aria-label="colour scale"><span>mean score:</span>{cells}{none}</div>')
