"""The judges page of ``gensql serve``: agreement, per-judge bias, intervals per essay template and the
paired comparison of one criterion, from :func:`gensql.reports.judge_panel` (the same report functions
as ``gensql report agreement / judges / scores --ci / compare``, with their defaults), and the charts a
reviewer puts in a paper: judge against judge, Bland-Altman, intervals per template. Server-side SVG,
every label escaped, no JavaScript.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from ..errors import InvalidIdError
from ..reports.report import ReportError
from .pages import Page
from .workbench import Workbench

REFERENCES = ("others", "humans")
_W, _H, _PAD = 380, 320, 44


def judges_page(wb: Workbench, args: dict[str, list[str]]) -> Page:
    """``/judges?template=T&reference=others|humans|JUDGE&a=J1&b=J2&judge=J``."""
    from ..labels import read_labels
    from ..reports import judge_panel

    def arg(name: str) -> str | None:
        values = args.get(name)
        return values[0] or None if values else None

    template, reference = arg("template"), arg("reference") or "others"
    labels = read_labels(wb.data_root) if reference == "humans" else None
    if labels is not None and labels.height == 0:
        raise InvalidIdError("no human labels yet: import them with `gensql labels import FILE.csv`")

    def compute():
        cur = wb.cursor()
        try:
            return judge_panel(cur, template, reference=reference, labels=labels, prompts_root=wb.data_root)
        except ReportError as exc:  # an unknown criterion or reference: the request's fault
            raise InvalidIdError(str(exc)) from None
        finally:
            cur.close()

    panel = wb.cached(("judges", template, reference), compute)
    judges = panel.judges.df.to_dicts()
    names = [r["judge"] for r in judges]
    if reference not in REFERENCES and reference not in names:
        raise InvalidIdError(f"unknown reference {reference!r}: expected others, humans or a judge")
    pairs = [r for r in panel.agreement.df.to_dicts() if r["comparison"] == "pair"]
    with_r = sorted((r for r in pairs if r["pearson"] is not None), key=lambda r: -r["essays"])
    a, b = arg("a"), arg("b")
    if not (a in names and b in names and a != b) and with_r:
        a, b = with_r[0]["judge_a"], with_r[0]["judge_b"]
    # by default the judge furthest from its reference, among those with enough essays to say so
    biased = [r for r in judges if r["offset"] is not None and r["offset_ci_low"] is not None]
    judge = arg("judge")
    if judge not in names and biased:
        judge = max(biased, key=lambda r: abs(r["offset"]))["judge"]
    points = panel.points
    charts = []
    if a and b:
        left = points.filter(points["judge"] == a).select("essay_gen_id", "value")
        right = points.filter(points["judge"] == b).select("essay_gen_id", "value")
        both = left.join(right, on="essay_gen_id", suffix="_b")
        charts.append(scatter(both["value"].to_list(), both["value_b"].to_list(), a, b))
    if judge:
        mine = points.filter((points["judge"] == judge) & points["reference"].is_not_null())
        row = next(r for r in judges if r["judge"] == judge)
        charts.append(bland_altman(mine["value"].to_list(), mine["reference"].to_list(), judge, panel.reference, row))
    intervals = panel.intervals.df.to_dicts()
    adjusted = {r["essay_template_id"]: r for r in panel.adjusted.df.to_dicts()}
    charts.append(forest(intervals, adjusted, panel.template))
    groups = {
        "all": [r for r in panel.agreement.df.to_dicts() if r["comparison"] in ("all judges", "without")],
        "pairs": pairs,
        "self": [r for r in panel.agreement.df.to_dicts() if r["comparison"] == "self"],
    }
    notes = list(dict.fromkeys(panel.agreement.notes + panel.judges.notes + panel.intervals.notes))
    notes += [n for n in panel.adjusted.notes if "unbalanced" in n]
    return Page(
        "judges.html",
        f"Judges: {panel.template}",
        f"-- computed by `{panel.commands['judges']}` (gensql.reports.judge_panel: every part is a report function)",
        None,
        panel.judges.df.to_arrow(),
        {
            "panel": panel,
            "judges": judges,
            "groups": groups,
            "intervals": intervals,
            "adjusted": adjusted,
            "compare": panel.compare.df.to_dicts() if panel.compare is not None else [],
            "compare_notes": panel.compare.notes if panel.compare is not None else [],
            "notes": notes,
            "charts": [Markup(c) for c in charts],
            "names": names,
            "pair": (a, b),
            "judge": judge,
            "reference": reference,
        },
    )


# -- charts ---------------------------------------------------------------------------------------


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    out, v = [], first
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


class _Frame:
    """A plot area with linear axes: data -> SVG coordinates, axes, ticks and labels."""

    def __init__(self, xlim, ylim, width=_W, height=_H):
        self.x0, self.x1 = xlim
        self.y0, self.y1 = ylim
        self.w, self.h = width, height

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return _PAD + (v - self.x0) / span * (self.w - _PAD - 12)

    def y(self, v: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.h - _PAD - (v - self.y0) / span * (self.h - _PAD - 28)

    def axes(self, title: str, xlabel: str, ylabel: str) -> list[str]:
        out = [
            f'<svg class="chart judges-chart" role="img" viewBox="0 0 {self.w} {self.h}" width="{self.w}" '
            f'height="{self.h}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
            f'<text x="4" y="14" class="chart-title">{escape(title)}</text>',
            f'<line x1="{_PAD}" y1="{self.h - _PAD}" x2="{self.w - 12}" y2="{self.h - _PAD}" stroke="#888"/>',
            f'<line x1="{_PAD}" y1="28" x2="{_PAD}" y2="{self.h - _PAD}" stroke="#888"/>',
        ]
        for t in _ticks(self.x0, self.x1):
            out.append(
                f'<text x="{self.x(t):.1f}" y="{self.h - _PAD + 14}" text-anchor="middle" class="chart-label">{t:g}</text>'
            )
        for t in _ticks(self.y0, self.y1):
            out.append(
                f'<text x="{_PAD - 4}" y="{self.y(t) + 4:.1f}" text-anchor="end" class="chart-label">{t:g}</text>'
            )
        out.append(
            f'<text x="{(self.w + _PAD) / 2:.0f}" y="{self.h - 8}" text-anchor="middle" class="chart-label">{escape(xlabel)}</text>'
        )
        out.append(
            f'<text x="12" y="{self.h / 2:.0f}" text-anchor="middle" class="chart-label" '
            f'transform="rotate(-90 12 {self.h / 2:.0f})">{escape(ylabel)}</text>'
        )
        return out

    def hline(self, v: float, cls: str, label: str) -> str:
        y = self.y(v)
        return (
            f'<line x1="{_PAD}" y1="{y:.1f}" x2="{self.w - 12}" y2="{y:.1f}" class="{cls}" stroke="#c0392b" '
            f'stroke-dasharray="{"" if cls == "ba-bias" else "4 3"}"/>'
            f'<text x="{self.w - 14}" y="{y - 3:.1f}" text-anchor="end" class="chart-label">{escape(label)}</text>'
        )


def _limits(values: list[float], pad: float = 0.05) -> tuple[float, float]:
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    margin = (hi - lo) * pad or 0.5
    return lo - margin, hi + margin


def scatter(x: list[float], y: list[float], a: str, b: str) -> str:
    """Judge ``a`` against judge ``b``, one point per essay both scored, with the line of equality."""
    lo, hi = _limits(x + y)
    f = _Frame((lo, hi), (lo, hi))
    out = f.axes(f"{a} vs {b}: {len(x)} essays", a, b)
    out.append(
        f'<line x1="{f.x(lo):.1f}" y1="{f.y(lo):.1f}" x2="{f.x(hi):.1f}" y2="{f.y(hi):.1f}" stroke="#bbb" class="identity"/>'
    )
    for u, v in zip(x, y):
        out.append(
            f'<circle cx="{f.x(u):.1f}" cy="{f.y(v):.1f}" r="3" class="point" fill="#2c6fbb" fill-opacity="0.6">'
            f"<title>{u:g}, {v:g}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


def bland_altman(values: list[float], refs: list[float], judge: str, reference: str, row: dict) -> str:
    """Difference (judge - reference) against their mean, with the bias and the 95% limits of agreement."""
    means = [(u + v) / 2 for u, v in zip(values, refs)]
    diffs = [u - v for u, v in zip(values, refs)]
    extra = [row[k] for k in ("offset", "loa_low", "loa_high") if row.get(k) is not None]
    f = _Frame(_limits(means), _limits(diffs + extra + [0.0]))
    out = f.axes(f"Bland-Altman: {judge} - {reference}", f"mean of {judge} and {reference}", "difference")
    out.append(f'<line x1="{_PAD}" y1="{f.y(0):.1f}" x2="{f.w - 12}" y2="{f.y(0):.1f}" stroke="#ccc"/>')
    for m, d in zip(means, diffs):
        out.append(
            f'<circle cx="{f.x(m):.1f}" cy="{f.y(d):.1f}" r="3" class="point" fill="#2c6fbb" fill-opacity="0.6">'
            f"<title>mean {m:g}, difference {d:+g}</title></circle>"
        )
    if row.get("offset") is not None:
        out.append(f.hline(row["offset"], "ba-bias", f"bias {row['offset']:+.2f}"))
    for key in ("loa_low", "loa_high"):
        if row.get(key) is not None:
            out.append(f.hline(row[key], "ba-loa", f"{row[key]:+.2f}"))
    out.append("</svg>")
    return "".join(out)


def forest(rows: list[dict], adjusted: dict[str, dict], template: str) -> str:
    """Mean score per essay template with its 95% interval (drafts resampled); a ring marks the
    judge-adjusted mean."""
    shown = sorted((r for r in rows if r["mean"] is not None), key=lambda r: r["mean"])
    values = [v for r in shown for v in (r["ci_low"], r["ci_high"], r["mean"]) if v is not None]
    values += [adjusted[r["essay_template_id"]]["mean"] for r in shown if r["essay_template_id"] in adjusted]
    labels = [f"{r['essay_template_id'] or '(none)'} ({r['drafts']} drafts)" for r in shown]
    label_w = max(230, 7 * max((len(label) for label in labels), default=0) + 12)  # ids are never cut
    height = 60 + 24 * max(1, len(shown))
    lo, hi = _limits(values)
    f = _Frame((lo, hi), (0, 1), width=_W + label_w, height=height)

    def x(v: float) -> float:
        return label_w + (v - lo) / ((hi - lo) or 1.0) * (_W - 30)

    title = f"{template}: mean per essay template, 95% interval (drafts resampled)"
    out = [
        f'<svg class="chart judges-chart" role="img" viewBox="0 0 {f.w} {height}" width="{f.w}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="4" y="14" class="chart-title">{escape(title)}</text>',
    ]
    for i, (r, label) in enumerate(zip(shown, labels)):
        y = 36 + 24 * i
        out.append(f'<text x="{label_w - 6}" y="{y + 4}" text-anchor="end" class="chart-label">{escape(label)}</text>')
        if r["ci_low"] is not None:
            out.append(
                f'<line x1="{x(r["ci_low"]):.1f}" y1="{y}" x2="{x(r["ci_high"]):.1f}" y2="{y}" stroke="#2c6fbb" '
                f'stroke-width="2" class="interval"><title>{r["ci_low"]:.2f} to {r["ci_high"]:.2f}</title></line>'
            )
        out.append(
            f'<circle cx="{x(r["mean"]):.1f}" cy="{y}" r="4" fill="#2c6fbb" class="mean"><title>mean {r["mean"]:.2f}</title></circle>'
        )
        adj = adjusted.get(r["essay_template_id"])
        if adj is not None and adj["mean"] is not None:
            out.append(
                f'<circle cx="{x(adj["mean"]):.1f}" cy="{y}" r="6" fill="none" stroke="#c0392b" class="adjusted">'
                f"<title>judge-adjusted mean {adj['mean']:.2f}</title></circle>"
            )
    axis_y = 36 + 24 * len(shown)
    out.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + _W - 30}" y2="{axis_y}" stroke="#888"/>')
    for t in _ticks(lo, hi):
        out.append(f'<text x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="middle" class="chart-label">{t:g}</text>')
    out.append(
        f'<text x="{label_w}" y="{height - 4}" class="chart-label">dot: mean with its interval · ring: judge-adjusted mean</text>'
    )
    out.append("</svg>")
    return "".join(out)
