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
