"""The statistics behind the judge reports: Krippendorff's alpha, correlations, cluster bootstrap, Wilcoxon.

numpy and scipy are an optional extra (``pip install 'gensql[stats]'``): they are imported when a
statistic is computed, and their absence is a :class:`MissingStatsError` that says what to install.
Correlations and the Wilcoxon signed-rank test are scipy's (``scipy.stats``); Krippendorff's alpha is
computed here from the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
Alpha-Reliability"), checked in the tests against that paper's worked examples and against the
``krippendorff`` package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from .report import ReportError

#: The extra that provides numpy and scipy.
STATS_EXTRA = "stats"
METRICS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")


class MissingStatsError(ReportError):
    """A judge statistic was asked for, but numpy/scipy (the ``stats`` extra) are not installed."""

    exit_code = 2


def require_scipy():
    """``(numpy, scipy.stats)``, or a :class:`MissingStatsError` naming the extra to install."""
    try:
        import numpy as np
        import scipy.stats as st
    except ImportError as exc:
        raise MissingStatsError(
            f"this report needs numpy and scipy ({exc.name or 'scipy'} is not installed): "
            f"pip install 'gensql[{STATS_EXTRA}]'"
        ) from None
    return np, st


# ---- Krippendorff's alpha -------------------------------------------------------------------------


def krippendorff_alpha(data, metric: str = "interval") -> float | None:
    """Krippendorff's alpha of ``data`` (coders x units; ``None``/NaN = missing value).

    Units with fewer than two values are not pairable and are left out. Returns ``None`` when fewer
    than two pairable values remain, NaN when there is no variation at all (expected disagreement 0).
    ``metric``: ``nominal``, ``ordinal``, ``interval`` or ``ratio`` (Krippendorff 2011, section C).
    """
    np, _ = require_scipy()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
    x = np.array(
        [[np.nan if v is None else v for v in row] for row in data] if not hasattr(data, "shape") else data, dtype=float
    )
    if x.ndim != 2 or x.size == 0:
        return None
    if metric == "interval":
        return _interval_alpha(np, x)
    values = np.unique(x[~np.isnan(x)])
    if values.size == 0:
        return None
    # counts[u, c]: how many coders gave value c to unit u
    counts = np.stack([(x == v).sum(axis=0) for v in values], axis=1).astype(float)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    if counts.shape[0] == 0:
        return None
    w = 1.0 / (m - 1.0)
    # coincidences o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)
    o = (counts * w[:, None]).T @ counts - np.diag((counts * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n < 2:
        return None
    d2 = _delta2(np, values, n_c, metric)
    d_o = (o * d2).sum() / n
    d_e = (np.outer(n_c, n_c) * d2).sum() / (n * (n - 1.0))
    if d_e == 0:
        return float("nan")
    return float(1.0 - d_o / d_e)


def _interval_alpha(np, x) -> float | None:
    """The interval metric without the coincidence matrix (any number of distinct values, O(values)):
    within a unit, the sum over ordered pairs of (x_i - x_j)^2 is 2 m SS (SS: squares about the unit mean)."""
    present = ~np.isnan(x)
    m = present.sum(axis=0)
    keep = m >= 2
    x, present, m = x[:, keep], present[:, keep], m[keep]
    n = m.sum()
    if n < 2:
        return None
    filled = np.where(present, x, 0.0)
    unit_mean = filled.sum(axis=0) / m
    ss_within = (np.where(present, x - unit_mean, 0.0) ** 2).sum(axis=0)
    d_o = (2.0 * m * ss_within / (m - 1.0)).sum() / n
    grand = filled.sum() / n
    d_e = 2.0 * n * (np.where(present, x - grand, 0.0) ** 2).sum() / (n * (n - 1.0))
    if d_e == 0:
        return float("nan")
    return float(1.0 - d_o / d_e)


def _delta2(np, values, n_c, metric: str):
    c, k = np.meshgrid(values, values, indexing="ij")
    if metric == "nominal":
        return (c != k).astype(float)
    if metric == "interval":
        return (c - k) ** 2
    if metric == "ratio":
        total = c + k
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ((c - k) / total) ** 2
        return np.where(total == 0, 0.0, out)
    # ordinal: (sum of n_g from c to k) - (n_c + n_k) / 2, squared
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    i, j = np.meshgrid(np.arange(values.size), np.arange(values.size), indexing="ij")
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    between = cum[hi + 1] - cum[lo]
    return (between - (n_c[i] + n_c[j]) / 2.0) ** 2


# ---- correlations ---------------------------------------------------------------------------------


def correlations(a: Sequence[float], b: Sequence[float]) -> tuple[float | None, float | None]:
    """(Spearman, Pearson) of paired values (scipy.stats); None where a side has no variation."""
    np, st = require_scipy()
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None
    return float(st.spearmanr(x, y).statistic), float(st.pearsonr(x, y).statistic)


def wilcoxon_p(diffs: Iterable[float]) -> tuple[float | None, float | None]:
    """(statistic, two-sided p-value) of the Wilcoxon signed-rank test on paired differences (scipy;
    zero differences dropped, as Wilcoxon did); (None, None) when every difference is zero."""
    np, st = require_scipy()
    d = np.asarray(diffs, dtype=float)
    if d.size == 0 or not np.any(d != 0):
        return None, None
    res = st.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


# ---- the cluster bootstrap ------------------------------------------------------------------------


def group_rng(seed: int, key: Sequence[object]):
    """A numpy Generator for one group of a report: from the seed and the group's own labels, so a
    group's interval does not change when other groups are filtered in or out."""
    np, _ = require_scipy()
    digest = hashlib.sha256(repr(tuple(key)).encode("utf-8")).digest()
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, int.from_bytes(digest[:8], "little")])))


def cluster_bootstrap_ci(sums, counts, resamples: int, rng, level: float = 0.95) -> tuple[float | None, float | None]:
    """Percentile interval of a mean whose observations come in clusters (drafts).

    ``sums[i]``, ``counts[i]``: the sum and number of observations of cluster i. Each resample draws as
    many clusters as there are, with replacement, and takes the mean of all their observations. Needs at
    least two clusters (None, None otherwise).
    """
    np, _ = require_scipy()
    s, c = np.asarray(sums, dtype=float), np.asarray(counts, dtype=float)
    k = s.size
    if k < 2 or resamples < 1:
        return None, None
    means = np.empty(resamples)
    step = max(1, 2_000_000 // k)  # bounded memory: a block of resamples at a time
    for start in range(0, resamples, step):
        stop = min(resamples, start + step)
        idx = rng.integers(0, k, size=(stop - start, k))
        means[start:stop] = s[idx].sum(axis=1) / c[idx].sum(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


# ---- the scale's own precision --------------------------------------------------------------------

#: The finest resolution looked for: scores with more decimals than this are rounded to it.
MAX_DECIMALS = 6


def score_decimals(values) -> int:
    """How many decimals the scores are written with (0 for ``7.0``, 1 for ``8.8``, 2 for ``6.25``).

    Scores are read from text (``8.8``) into floats, so their differences and averages pick up binary
    rounding (8.8 + 4.6 - 4.8 - 8.6 is 8.9e-16, not 0). Scaled by ``10 ** decimals`` every score is an
    integer, and averages of integers can be compared exactly (:func:`exact_mean_diff`).
    """
    np, _ = require_scipy()
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    for d in range(MAX_DECIMALS + 1):
        scaled = x * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return d
    return MAX_DECIMALS


def scaled_ints(values, decimals: int):
    """The scores as integers at ``decimals`` (``8.8`` at 1 decimal: 88), int64."""
    np, _ = require_scipy()
    return np.round(np.asarray(values, dtype=float) * 10.0**decimals).astype(np.int64)


def exact_mean_diff(cells: Sequence[tuple[int, int, int, int]], decimals: int) -> float:
    """The mean over cells of ``sum_a / k_a - sum_b / k_b`` (sums of scaled integer scores), computed
    exactly with fractions and rounded once to a float: a difference that is zero on the scale is 0.0,
    never 8.9e-16, so ties are ties and Wilcoxon drops them."""
    from fractions import Fraction

    total = sum((Fraction(sa, ka) - Fraction(sb, kb) for sa, ka, sb, kb in cells), Fraction(0))
    return float(total / (len(cells) * 10**decimals))


# ---- effect sizes and multiple comparisons --------------------------------------------------------


def cohen_dz(diffs) -> float | None:
    """Cohen's d_z of paired differences: mean / standard deviation (n - 1); None below 2 pairs or
    when every difference is the same."""
    np, _ = require_scipy()
    d = np.asarray(diffs, dtype=float)
    if d.size < 2:
        return None
    sd = float(d.std(ddof=1))
    if sd == 0:
        return None
    return float(d.mean() / sd)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None and is not counted):
    the k-th smallest of m is multiplied by m - k + 1, made monotone, capped at 1. Controls the
    family-wise error rate under any dependence between the tests."""
    known = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(known)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for k, (p, i) in enumerate(known):
        running = max(running, min(1.0, (m - k) * p))
        out[i] = running
    return out


# ---- two raters on one scale: calibration, agreement, kappa, ICC -----------------------------------


def calibration(judge, reference) -> dict[str, float | None]:
    """How ``judge`` reads against ``reference`` on the same units (paired arrays).

    ``offset``: mean of judge - reference (signed: +1 reads one point high); ``loa_low``/``loa_high``:
    Bland-Altman 95% limits of agreement, offset -/+ 1.96 standard deviations of the differences;
    ``slope``/``intercept``: ordinary least squares of judge on reference (slope < 1: compresses the
    scale); ``deming_slope``: Deming regression with equal error variances (orthogonal regression),
    which does not shrink toward 0 when the reference is noisy too; ``pearson``, ``spearman``.
    """
    np, st = require_scipy()
    y, x = np.asarray(judge, dtype=float), np.asarray(reference, dtype=float)
    out: dict[str, float | None] = dict.fromkeys(
        ("offset", "loa_low", "loa_high", "slope", "intercept", "deming_slope", "pearson", "spearman")
    )
    if x.size == 0:
        return out
    d = y - x
    offset = float(d.mean())
    out["offset"] = offset
    if x.size >= 2:
        sd = float(d.std(ddof=1))
        out["loa_low"], out["loa_high"] = offset - 1.96 * sd, offset + 1.96 * sd
    if x.size >= 3 and np.ptp(x) > 0:
        sxx = float(((x - x.mean()) ** 2).sum())
        syy = float(((y - y.mean()) ** 2).sum())
        sxy = float(((x - x.mean()) * (y - y.mean())).sum())
        out["slope"] = sxy / sxx
        out["intercept"] = float(y.mean() - out["slope"] * x.mean())
        if sxy != 0:
            out["deming_slope"] = float((syy - sxx + np.sqrt((syy - sxx) ** 2 + 4 * sxy**2)) / (2 * sxy))
        out["spearman"], out["pearson"] = correlations(x, y)
    return out


def weighted_kappa(a, b, weights: str = "quadratic") -> float | None:
    """Cohen's weighted kappa of two raters on an ordinal scale (``weights``: ``quadratic``, ``linear``
    or ``none``). The categories are the values either rater used, in order; a disagreement between
    categories i and j weighs (i - j)^2 (quadratic) or |i - j| (linear) in category steps, as
    scikit-learn's ``cohen_kappa_score`` does. None when undefined (one category, or no pairs)."""
    np, _ = require_scipy()
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0:
        return None
    cats = np.unique(np.concatenate([x, y]))
    k = cats.size
    if k < 2:
        return None
    i, j = np.searchsorted(cats, x), np.searchsorted(cats, y)
    observed = np.zeros((k, k))
    np.add.at(observed, (i, j), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / x.size
    grid = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(float)
    if weights == "quadratic":
        w = grid**2
    elif weights == "linear":
        w = grid
    elif weights == "none":
        w = (grid > 0).astype(float)
    else:
        raise ValueError(f"unknown weights {weights!r}: expected quadratic, linear or none")
    denom = float((w * expected).sum())
    if denom == 0:
        return None
    return float(1.0 - (w * observed).sum() / denom)


def is_ordinal_scale(values, max_categories: int = 21) -> bool:
    """Scores on a few equally meaningful steps (0-9 integers, half points): where ordinal alpha and
    weighted kappa apply beside the interval statistics."""
    np, _ = require_scipy()
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    return bool(x.size) and np.unique(x).size <= max_categories and score_decimals(x) <= 1


def icc(matrix) -> dict[str, float | None]:
    """Intraclass correlations of a complete targets x raters matrix (Shrout and Fleiss 1979; McGraw
    and Wong 1996), from the two-way ANOVA mean squares:

    * ``icc2_1``: two-way random, absolute agreement, single rater (a judge reading one point high
      lowers it); ``icc2_k``: the same for the mean of the k raters;
    * ``icc3_1``: two-way mixed, consistency, single rater (a constant offset does not lower it);
      ``icc3_k``: the same for the mean of the k raters.
    """
    np, _ = require_scipy()
    x = np.asarray(matrix, dtype=float)
    out: dict[str, float | None] = dict.fromkeys(("icc2_1", "icc2_k", "icc3_1", "icc3_k"))
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        return out
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))

    def ratio(num, den):
        return float(num / den) if den != 0 else None

    out["icc2_1"] = ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
    out["icc2_k"] = ratio(msr - mse, msr + (msc - mse) / n)
    out["icc3_1"] = ratio(msr - mse, msr + (k - 1) * mse)
    out["icc3_k"] = ratio(msr - mse, msr)
    return out


# ---- bootstrap by draft for any statistic ---------------------------------------------------------


def bootstrap_weights(clusters: Sequence[object], resamples: int, rng):
    """A ``resamples`` x units matrix of how many times each unit (essay) is drawn when the clusters
    (drafts) are drawn with replacement: units of one draft travel together. A statistic of a
    resample is the statistic of the units repeated that many times, so the weighted forms below
    (:func:`weighted_pearson`, :func:`weighted_spearman`, :func:`weighted_interval_alpha`) give every
    resample at once."""
    np, _ = require_scipy()
    labels = list(clusters)
    ids: dict[object, int] = {}
    of = np.array([ids.setdefault(c, len(ids)) for c in labels], dtype=np.int64)
    k = len(ids)
    if k == 0:
        return np.zeros((resamples, 0))
    picks = rng.integers(0, k, size=(resamples, k))
    drawn = np.zeros((resamples, k))
    np.add.at(drawn, (np.repeat(np.arange(resamples), k), picks.ravel()), 1.0)
    return drawn[:, of]


def weighted_mean(w, x):
    """Per resample (row of ``w``), the mean of ``x`` with those unit weights."""
    np, _ = require_scipy()
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ np.asarray(x, dtype=float)) / total


def weighted_pearson(w, x, y):
    """Per resample, Pearson's r of the units repeated as ``w`` says (NaN where a side is constant)."""
    np, _ = require_scipy()
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = np.broadcast_to(x, w.shape)
    if y.ndim == 1:
        y = np.broadcast_to(y, w.shape)
    n = w.sum(axis=1)
    sx, sy = (w * x).sum(axis=1), (w * y).sum(axis=1)
    sxx, syy, sxy = (w * x * x).sum(axis=1), (w * y * y).sum(axis=1), (w * x * y).sum(axis=1)
    vx, vy = n * sxx - sx**2, n * syy - sy**2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (n * sxy - sx * sy) / np.sqrt(vx * vy)
    constant = (vx <= 1e-12 * n * sxx) | (vy <= 1e-12 * n * syy)  # up to rounding: one value only
    return np.where(constant, np.nan, r)


def _weighted_ranks(np, w, x):
    """Per resample, each unit's average rank among the repeated units (ties share their mean rank)."""
    values, group = np.unique(x, return_inverse=True)
    onehot = np.zeros((x.size, values.size))
    onehot[np.arange(x.size), group] = 1.0
    wg = w @ onehot  # resamples x distinct values: how many drawn units hold each value
    below = np.cumsum(wg, axis=1) - wg
    return (below + (wg + 1.0) / 2.0)[:, group]


def weighted_spearman(w, x, y):
    """Per resample, Spearman's rho of the units repeated as ``w`` says: Pearson's r of the average
    ranks within the resample, as ``scipy.stats.spearmanr`` computes on the repeated values."""
    np, _ = require_scipy()
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return weighted_pearson(w, _weighted_ranks(np, w, x), _weighted_ranks(np, w, y))


def weighted_interval_alpha(w, matrix):
    """Per resample, Krippendorff's alpha (interval metric) of a coders x units matrix (NaN: missing)
    whose units are repeated as ``w`` says; NaN where undefined. Units with fewer than two values are
    not pairable and count for nothing, as in :func:`krippendorff_alpha`."""
    np, _ = require_scipy()
    x = np.asarray(matrix, dtype=float)
    present = ~np.isnan(x)
    m = present.sum(axis=0).astype(float)
    keep = m >= 2
    filled = np.where(present, x, 0.0)
    s = filled.sum(axis=0)
    q = (filled**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss_within = q - s**2 / m
        a = np.where(keep, 2.0 * m * ss_within / (m - 1.0), 0.0)
    m, s, q = np.where(keep, m, 0.0), np.where(keep, s, 0.0), np.where(keep, q, 0.0)
    n = w @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        d_o = (w @ a) / n
        grand = (w @ s) / n
        d_e = 2.0 * ((w @ q) - n * grand**2) / (n - 1.0)
        alpha = 1.0 - d_o / d_e
    return np.where((n >= 2) & (d_e > 0), alpha, np.nan)


def percentile_interval(values, level: float = 0.95) -> tuple[float | None, float | None]:
    """The percentile interval of bootstrap replicates (NaN and None replicates dropped; None when
    fewer than half of them are defined)."""
    np, _ = require_scipy()
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or v.size < len(values) / 2:
        return None, None
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [tail, 1.0 - tail])
    return float(lo), float(hi)
