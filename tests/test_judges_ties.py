"""Ties that are ties: ``gensql report compare`` compares differences at the scores' own precision.

Replicates (8.8, 4.6) and (4.8, 8.6) both average 6.7, but in floating point their difference is
8.9e-16: before the fix a true tie counted as a win (8/0/0, p = 0.0078 instead of 7/1/0, p = 0.0156).
"""

from __future__ import annotations

import pytest

pytest.importorskip("scipy.stats")
st = pytest.importorskip("scipy.stats")

from hand_store import HandStore  # noqa: E402

from gensql.reports import build_compare  # noqa: E402
from gensql.reports.stats import exact_mean_diff, scaled_ints, score_decimals  # noqa: E402


def _store(tmp_path, tie_a, tie_b):
    """Eight drafts, essays of templates A and B on each, one judge scoring twice: seven clear wins for
    A and one draft where the replicates of A and B average the same."""
    hs = HandStore(tmp_path)
    for i in range(8):
        hs.draft(f"d{i}", combo=f"c{i}")
        for side in ("A", "B"):
            hs.essay(f"e{side}{i}", f"d{i}", template=side)
            if i == 0:
                scores = tie_a if side == "A" else tie_b
            else:
                scores = (7.5, 7.0 + i / 10) if side == "A" else (5.0, 5.5)
            for r, score in enumerate(scores, start=1):
                hs.evaluation(f"v{side}{i}r{r}", f"e{side}{i}", score=f"{score}\n", model="j1", replicate=r)
    hs.refresh()
    return hs.data


def test_float_noise_is_not_a_win(tmp_path):
    assert (8.8 + 4.6) / 2 - (4.8 + 8.6) / 2 != 0  # the trap: float says these differ
    data = _store(tmp_path, (8.8, 4.6), (4.8, 8.6))
    (row,) = build_compare(data, "template", "A", "B", resamples=200).df.to_dicts()
    assert (row["wins"], row["ties"], row["losses"]) == (7, 1, 0)
    assert row["p_value"] == pytest.approx(0.015625, abs=1e-12)  # 2 / 2**7: Wilcoxon drops the tie
    diffs = [float(v) for v in range(1, 8)]  # any seven positive differences: the exact test's p is rank-free
    assert row["p_value"] == pytest.approx(st.wilcoxon(diffs).pvalue, abs=1e-12)


def test_a_real_difference_of_one_step_is_not_a_tie(tmp_path):
    data = _store(tmp_path, (8.8, 4.6), (4.8, 8.5))  # 6.70 vs 6.65: A wins by half a step
    (row,) = build_compare(data, "template", "A", "B", resamples=200).df.to_dicts()
    assert (row["wins"], row["ties"], row["losses"]) == (8, 0, 0)
    assert row["p_value"] == pytest.approx(2 / 2**8, abs=1e-12)


def test_precision_helpers():
    assert score_decimals([7.0, 3.0]) == 0
    assert score_decimals([8.8, 4.6, 7.0]) == 1
    assert score_decimals([6.25, 1.5]) == 2
    assert score_decimals([1 / 3]) == 6  # more than the finest resolution: rounded there
    assert scaled_ints([8.8, 4.6], 1).tolist() == [88, 46]
    assert exact_mean_diff([(88 + 46, 2, 48 + 86, 2)], 1) == 0.0
    assert exact_mean_diff([(88 + 46, 2, 48 + 85, 2)], 1) == pytest.approx(0.05, abs=1e-15)
