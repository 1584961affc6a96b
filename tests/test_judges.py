"""Judges you can trust: agreement, bootstrap intervals and paired comparisons, checked against
Krippendorff's published worked examples, the ``krippendorff`` package and scipy on random data, and the
sample store's planted judges (gensql.synth.judges), whose expected statistics are computed here from the
generator's truth with scipy and ``krippendorff``, never read back from gensql.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict
from itertools import combinations

import numpy as np
import polars as pl
import pytest

krippendorff = pytest.importorskip("krippendorff")
st = pytest.importorskip("scipy.stats")

from report_store import sample_store  # noqa: E402

import gensql  # noqa: E402
from gensql.reports import build_agreement, build_compare, build_scores  # noqa: E402
from gensql.reports.stats import cluster_bootstrap_ci, group_rng, krippendorff_alpha  # noqa: E402

NAN = math.nan


# ---- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability" ------------------------------

# A. Binary data, two observers, no missing data: alpha = 0.095.
EXAMPLE_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
# C. Any number of observers, any metric, missing data (observers A-D x units 1-12).
EXAMPLE_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_published_worked_examples():
    assert round(krippendorff_alpha(EXAMPLE_A, "nominal"), 3) == 0.095
    published = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
    for metric, alpha in published.items():
        assert round(krippendorff_alpha(EXAMPLE_C, metric), 3) == alpha, metric
    # unit 12 has one value only (not pairable) and changes nothing; None is missing like NaN
    assert krippendorff_alpha([row[:11] for row in EXAMPLE_C], "interval") == pytest.approx(0.849107, abs=1e-6)
    with_none = [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in EXAMPLE_C]
    assert krippendorff_alpha(with_none, "interval") == krippendorff_alpha(EXAMPLE_C, "interval")


def test_alpha_edge_cases():
    assert krippendorff_alpha([[1, NAN], [NAN, 2]]) is None  # nothing pairable
    assert math.isnan(krippendorff_alpha([[3, 3, 3], [3, 3, 3]]))  # no variation: undefined
    assert krippendorff_alpha([[1, 2, 3, 4], [1, 2, 3, 4]]) == 1.0
    with pytest.raises(ValueError):
        krippendorff_alpha(EXAMPLE_A, "circular")


@pytest.mark.parametrize("seed", range(6))
def test_alpha_equals_the_krippendorff_package_on_random_data(seed):
    rng = np.random.default_rng(seed)
    coders, units = rng.integers(2, 7), rng.integers(5, 60)
    quality = rng.normal(5, 2, units)
    data = np.clip(np.round(quality + rng.normal(0, rng.uniform(0.2, 3), (coders, units)) * 2) / 2, 0, 9)
    data[rng.random((coders, units)) < 0.3] = np.nan
    for metric in ("nominal", "ordinal", "interval", "ratio"):
        ours = krippendorff_alpha(data, metric)
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=metric)
        assert ours == pytest.approx(theirs, abs=1e-9), metric
    # continuous values (means of replicates): every value distinct
    smooth = quality + rng.normal(0, 1, (coders, units))
    smooth[rng.random((coders, units)) < 0.3] = np.nan
    assert krippendorff_alpha(smooth, "interval") == pytest.approx(
        krippendorff.alpha(reliability_data=smooth, level_of_measurement="interval"), abs=1e-9
    )


# ---- the cluster bootstrap ------------------------------------------------------------------------


def test_cluster_bootstrap_matches_a_plain_loop_and_is_reproducible():
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 5, 40)
    sums = np.array([rng.normal(6, 1.5, k).sum() for k in sizes])
    lo, hi = cluster_bootstrap_ci(sums, sizes, 500, group_rng(3, ("a", "b")))
    # the same draws one resample at a time
    ref, means = group_rng(3, ("a", "b")), []
    for _ in range(500):
        idx = ref.integers(0, len(sums), size=(1, len(sums)))[0]
        means.append(sums[idx].sum() / sizes[idx].sum())
    assert (lo, hi) == tuple(float(x) for x in np.quantile(means, [0.025, 0.975]))
    assert (lo, hi) == cluster_bootstrap_ci(sums, sizes, 500, group_rng(3, ("a", "b")))
    assert (lo, hi) != cluster_bootstrap_ci(sums, sizes, 500, group_rng(4, ("a", "b")))
    assert lo < sums.sum() / sizes.sum() < hi
    assert cluster_bootstrap_ci(sums[:1], sizes[:1], 500, group_rng(0, ())) == (None, None)


def test_bootstrap_interval_has_the_textbook_width_and_widens_with_clustering():
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, 400)
    lo, hi = cluster_bootstrap_ci(x, np.ones_like(x), 4000, group_rng(0, ("iid",)))
    half = 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    # 100 drafts of 4 essays that share the draft's effect: resampling drafts sees only 100 units
    effect = rng.normal(0, 1, 100)
    scores = np.repeat(effect, 4) + rng.normal(0, 0.3, 400)
    per_draft = scores.reshape(100, 4).sum(axis=1)
    clo, chi = cluster_bootstrap_ci(per_draft, np.full(100, 4.0), 4000, group_rng(0, ("c",)))
    nlo, nhi = cluster_bootstrap_ci(scores, np.ones(400), 4000, group_rng(0, ("c",)))
    assert (chi - clo) > 1.6 * (nhi - nlo)


# ---- the truth of the sample store ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return sample_store()


@pytest.fixture(scope="module")
def counted(sample):
    """Per logical evaluation: its newest scored attempt, with the essay and draft it reaches (truth)."""
    _, truth = sample
    best = {}
    for (stage, gen_id), g in truth.gens.items():
        v = g.values
        if stage != "evaluation" or v["score"] is None:
            continue
        key = (v["created_at"] is not None, v["created_at"], gen_id)
        if g.logical_group not in best or key > best[g.logical_group][0]:
            best[g.logical_group] = (key, gen_id, v)
    rows = []
    for _, gen_id, v in best.values():
        essay = truth.gens.get(("essay", v["parent_gen_id"]))
        if essay is None:
            continue
        draft = truth.gens.get(("draft", essay.values["parent_gen_id"]))
        rows.append(
            {
                "gen_id": gen_id,
                "essay": v["parent_gen_id"],
                "essay_template": essay.values["template_id"],
                "draft": draft.gen_id if draft else None,
                "judge": v["model_id"] or "(none)",
                "criterion": v["template_id"],
                "score": v["score"],
            }
        )
    return rows


def test_sample_truth_has_every_planted_judge(sample, counted):
    _, truth = sample
    judges = truth.judges
    assert judges.random_judge not in judges.consistent_pair
    seen = {r["judge"] for r in counted}
    assert {judges.random_judge, *judges.consistent_pair} <= seen


def _judge_means(rows):
    out = defaultdict(list)
    for r in rows:
        out[(r["essay"], r["judge"])].append(r["score"])
    return {k: sum(v) / len(v) for k, v in out.items()}


def test_agreement_numbers_follow_from_the_truth(sample, counted):
    data, _ = sample
    rep = build_agreement(data)
    df = rep.df
    by_template = defaultdict(list)
    for r in counted:
        by_template[r["criterion"]].append(r)
    assert set(df["evaluation_template_id"].to_list()) == set(by_template)
    checked_pairs = checked_self = 0
    for template, rows in by_template.items():
        means = _judge_means(rows)
        judges = sorted({j for _, j in means})
        essays = sorted({e for e, _ in means})
        part = df.filter(pl.col("evaluation_template_id") == template)
        for a, b in combinations(judges, 2):
            common = [e for e in essays if (e, a) in means and (e, b) in means]
            row = part.filter((pl.col("comparison") == "pair") & (pl.col("judge_a") == a) & (pl.col("judge_b") == b))
            if not common:
                assert row.height == 0
                continue
            (row,) = row.to_dicts()
            x, y = [means[(e, a)] for e in common], [means[(e, b)] for e in common]
            assert row["essays"] == len(common)
            assert row["mean_abs_diff"] == pytest.approx(np.mean(np.abs(np.subtract(x, y))), abs=1e-12)
            if len(common) >= 5 and np.ptp(x) > 0 and np.ptp(y) > 0:
                assert row["spearman"] == pytest.approx(st.spearmanr(x, y).statistic, abs=1e-12)
                assert row["pearson"] == pytest.approx(st.pearsonr(x, y).statistic, abs=1e-12)
                assert row["note"] is None
                checked_pairs += 1
            else:
                assert row["spearman"] is None and row["note"]
        # alpha across judges: the krippendorff package on the judge x essay matrix of means
        matrix = np.array([[means.get((e, j), np.nan) for e in essays] for j in judges])
        pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
        (alls,) = part.filter(pl.col("comparison") == "all judges").to_dicts()
        assert alls["essays"] == int(pairable.sum())
        if pairable.sum() >= 5:
            expected = krippendorff.alpha(reliability_data=matrix[:, pairable], level_of_measurement="interval")
            assert alls["alpha"] == pytest.approx(expected, abs=1e-9)
        # each judge against its replicates
        for judge in judges:
            reps = defaultdict(list)
            for r in sorted(rows, key=lambda r: r["gen_id"]):
                if r["judge"] == judge:
                    reps[r["essay"]].append(r["score"])
            multi = {e: s for e, s in reps.items() if len(s) >= 2}
            row = part.filter((pl.col("comparison") == "self") & (pl.col("judge_a") == judge)).to_dicts()
            if not multi:
                assert row == []
                continue
            (row,) = row
            assert row["essays"] == len(multi) and row["ratings"] == sum(map(len, multi.values()))
            diffs = [abs(s[i] - s[j]) for s in multi.values() for i, j in combinations(range(len(s)), 2)]
            assert row["mean_abs_diff"] == pytest.approx(np.mean(diffs), abs=1e-12)
            if len(multi) >= 5:
                width = max(map(len, multi.values()))
                m = np.array([[s[i] if i < len(s) else np.nan for s in multi.values()] for i in range(width)])
                assert row["alpha"] == pytest.approx(
                    krippendorff.alpha(reliability_data=m, level_of_measurement="interval"), abs=1e-9
                )
                checked_self += 1
    assert checked_pairs >= 12 and checked_self >= 6  # the sample is big enough to say something


def test_agreement_reveals_the_planted_judges(sample):
    data, truth = sample
    planted = truth.judges
    df = build_agreement(data).df
    main = [
        t
        for t in df["evaluation_template_id"].unique().to_list()
        if df.filter(
            (pl.col("evaluation_template_id") == t)
            & (pl.col("comparison") == "pair")
            & pl.col("spearman").is_not_null()
        ).height
        >= 6
    ]
    assert len(main) >= 3
    pair = tuple(sorted(planted.consistent_pair))
    for template in main:
        pairs = df.filter(
            (pl.col("evaluation_template_id") == template)
            & (pl.col("comparison") == "pair")
            & pl.col("spearman").is_not_null()
        )
        best = pairs.sort("spearman", descending=True).row(0, named=True)
        assert (best["judge_a"], best["judge_b"]) == pair, template  # the consistent pair agrees most
        assert best["spearman"] > 0.8
        assert pairs.sort("mean_abs_diff").row(0, named=True)["judge_a"] == pair[0]
        with_random = pairs.filter(
            (pl.col("judge_a") == planted.random_judge) | (pl.col("judge_b") == planted.random_judge)
        )
        honest = pairs.filter((pl.col("judge_a") != planted.random_judge) & (pl.col("judge_b") != planted.random_judge))
        assert with_random.height == 3
        assert with_random["mean_abs_diff"].min() > honest["mean_abs_diff"].max()
        assert with_random["spearman"].max() < honest["spearman"].max()
        selfs = df.filter((pl.col("evaluation_template_id") == template) & (pl.col("comparison") == "self"))
        assert selfs.sort("mean_abs_diff", descending=True).row(0, named=True)["judge_a"] == planted.random_judge
    # over all templates (essay-weighted), the near-random judge agrees with nobody
    pairs = df.filter((pl.col("comparison") == "pair") & pl.col("spearman").is_not_null())
    with_random = pairs.filter(
        (pl.col("judge_a") == planted.random_judge) | (pl.col("judge_b") == planted.random_judge)
    )
    weighted = (with_random["spearman"] * with_random["essays"]).sum() / with_random["essays"].sum()
    assert abs(weighted) < 0.35


@pytest.mark.slow
def test_compare_numbers_follow_from_the_truth(sample, counted):
    data, truth = sample
    effect = truth.judges.essay_template_effect
    a, b = max(effect, key=effect.get), min(effect, key=effect.get)
    rep = build_compare(data, "template", a, b, resamples=1000, seed=5)
    row = rep.df.row(0, named=True)
    assert row["judge"] == "all judges"
    cells = defaultdict(list)
    for r in counted:
        if r["draft"] is not None and r["essay_template"] in (a, b):
            cells[(r["draft"], r["judge"], r["criterion"], r["essay_template"])].append(r["score"])
    per_draft = defaultdict(list)
    for (draft, judge, criterion, side), scores in cells.items():
        if side == a and (draft, judge, criterion, b) in cells:
            other = cells[(draft, judge, criterion, b)]
            per_draft[draft].append(np.mean(scores) - np.mean(other))
    diffs = np.array([np.mean(v) for _, v in sorted(per_draft.items())])
    drafts_a = {k[0] for k in cells if k[3] == a}
    drafts_b = {k[0] for k in cells if k[3] == b}
    assert row["pairs"] == len(diffs) >= 5
    assert (row["units_a"], row["units_b"]) == (len(drafts_a), len(drafts_b))
    assert (row["only_a"], row["only_b"]) == (len(drafts_a - drafts_b), len(drafts_b - drafts_a))
    assert row["mean_diff"] == pytest.approx(diffs.mean(), abs=1e-12)
    assert (row["wins"], row["ties"], row["losses"]) == ((diffs > 0).sum(), (diffs == 0).sum(), (diffs < 0).sum())
    assert row["p_value"] == pytest.approx(st.wilcoxon(diffs).pvalue, abs=1e-12)
    assert row["ci_low"] < row["mean_diff"] < row["ci_high"]
    assert row["mean_diff"] > 0  # the planted template effect shows
    assert row["dz"] == pytest.approx(diffs.mean() / diffs.std(ddof=1), abs=1e-12)
    # one row per judge: its cells only (the dilution by a random judge: tests/test_judges_bias.py)
    per = rep.df.filter(pl.col("judge") != "all judges")
    assert set(per["judge"].to_list()) == {k[1] for k in cells if k[3] == a and (k[0], k[1], k[2], b) in cells}
    for jrow in per.to_dicts():
        jd = defaultdict(list)
        for (draft, judge, criterion, side), scores in cells.items():
            if judge == jrow["judge"] and side == a and (draft, judge, criterion, b) in cells:
                jd[draft].append(np.mean(scores) - np.mean(cells[(draft, judge, criterion, b)]))
        dj = np.array([np.mean(v) for _, v in sorted(jd.items())])
        assert jrow["pairs"] == len(dj)
        assert jrow["mean_diff"] == pytest.approx(dj.mean(), abs=1e-12)
        if len(dj) - (dj == 0).sum() > 0:
            assert jrow["p_value"] == pytest.approx(st.wilcoxon(dj).pvalue, abs=1e-12)
    # Holm over the rows: the k-th smallest of m p-values times (m - k + 1), monotone, capped at 1
    ps = rep.df["p_value"].to_list()
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    expected, running = {}, 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - k) * ps[i]))
        expected[i] = running
    assert rep.df["p_holm"].to_list() == pytest.approx([expected[i] for i in range(len(ps))], abs=1e-12)
    assert any("left out" in n for n in rep.notes)
    again = build_compare(data, "template", a, b, resamples=1000, seed=5).df
    assert again.equals(rep.df)
    assert build_compare(data, "template", a, b, resamples=1000, seed=6).df["ci_low"][0] != row["ci_low"]
    # judge and criterion filters: only those scores are paired
    only = build_compare(data, "template", a, b, judge=list(truth.judges.consistent_pair), resamples=200).df.row(
        0, named=True
    )
    assert only["scores_a"] == sum(
        len(s)
        for k, s in cells.items()
        if k[3] == a and k[1] in truth.judges.consistent_pair and (k[0], k[1], k[2], b) in cells
    )


def test_compare_refuses_unknown_sides_and_same_sides(sample):
    data, _ = sample
    with pytest.raises(gensql.GensqlError, match="no scored evaluation of template 'nope'"):
        build_compare(data, "template", "nope", "essay-refine-v2")
    with pytest.raises(gensql.GensqlError, match="two different"):
        build_compare(data, "template", "essay-refine-v2", "essay-refine-v2")
    with pytest.raises(gensql.GensqlError, match="cannot compare by"):
        build_compare(data, "judge", "a", "b")


def test_score_intervals_follow_from_the_truth(sample, counted):
    data, _ = sample
    rep = build_scores(data, ci=True, by=("essay-template",), resamples=800, seed=1)
    groups = defaultdict(list)
    for r in counted:
        groups[r["essay_template"]].append(r)
    shown = {r["essay_template_id"]: r for r in rep.df.to_dicts()}
    assert set(shown) == set(groups)
    for template, rows in groups.items():
        row = shown[template]
        assert row["n"] == len(rows)
        assert row["essays"] == len({r["essay"] for r in rows})
        assert row["drafts"] == len({r["draft"] or "essay:" + r["essay"] for r in rows})
        assert row["mean"] == pytest.approx(np.mean([r["score"] for r in rows]), abs=1e-12)
        if row["drafts"] >= 2:
            assert row["ci_low"] <= row["mean"] <= row["ci_high"]
        else:
            assert row["ci_low"] is None
    # the default grouping, and a group's interval does not depend on which other groups are shown
    default_rep = build_scores(data, ci=True, resamples=800, seed=1)
    default = default_rep.df
    few = default.filter((pl.col("drafts") >= 2) & (pl.col("drafts") < 5)).height
    assert few > 0 and any(f"{few:,} groups from fewer than 5 drafts" in n for n in default_rep.notes)
    assert default.columns[:2] == ["evaluation_model_id", "evaluation_template_id"]
    one = build_scores(data, ci=True, model="sonnet-4", resamples=800, seed=1).df
    assert one.to_dicts() == default.filter(pl.col("evaluation_model_id") == "sonnet-4").to_dicts()


# ---- the command line, formats, provenance --------------------------------------------------------


def _gensql(*args, pre: str = "") -> subprocess.CompletedProcess:
    code = f"{pre}\nimport sys\nfrom gensql.cli import main\nsys.argv = ['gensql', *sys.argv[1:]]\nmain()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)


def _invoke(*args):
    """The click group the ``gensql`` entry point runs, in process (stdout and stderr apart)."""
    from click.testing import CliRunner

    from gensql.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.slow
def test_cli_reports_with_provenance(sample, tmp_path):
    data, _ = sample
    out = tmp_path / "agreement.parquet"
    # the real entry point once: a subprocess, a file and its sidecar
    res = _gensql("report", "agreement", "--data-root", data, "--format", "parquet", "-o", out)
    assert res.returncode == 0, res.stderr
    side = json.loads((tmp_path / "agreement.parquet.meta.json").read_text())
    assert side["report"] == "agreement" and side["metric"] == "interval" and side["min_essays"] == 5
    assert side["snapshot_id"] and side["snapshot_id"] in str((data / "index" / "current").resolve())
    assert side["rows"] == build_agreement(data).df.height
    assert pl.read_parquet(out).equals(build_agreement(data).df)
    args = [
        "report",
        "compare",
        "creative-synthesis-essay-v3",
        "essay-theme-expansion",
        "--data-root",
        data,
        "--format",
        "csv",
        "--seed",
        "3",
        "--resamples",
        "300",
        "-o",
        tmp_path / "c.csv",
    ]
    res = _invoke(*args)
    assert res.exit_code == 0, res.output
    side = json.loads((tmp_path / "c.csv.meta.json").read_text())
    assert (side["seed"], side["resamples"], side["by"]) == (3, 300, "template")
    first = (tmp_path / "c.csv").read_bytes()
    assert _invoke(*args).exit_code == 0
    assert (tmp_path / "c.csv").read_bytes() == first  # same snapshot, options and seed: same bytes
    res = _invoke(
        "report", "scores", "--ci", "--by", "essay-template,evaluation-model", "--data-root", data, "--format", "json"
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert set(rows[0]) == {
        "essay_template_id",
        "evaluation_model_id",
        "n",
        "essays",
        "drafts",
        "mean",
        "ci_low",
        "ci_high",
    }
    assert "gensql: note:" in res.stderr  # notes on stderr, data on stdout
    for fmt in ("markdown", "xlsx"):
        res = _invoke(
            "report",
            "agreement",
            "--template",
            "novelty-v1",
            "--data-root",
            data,
            "--format",
            fmt,
            "-o",
            tmp_path / f"a.{fmt}",
        )
        assert res.exit_code == 0 and (tmp_path / f"a.{fmt}.meta.json").exists(), (fmt, res.output)


def test_cli_bad_input_is_exit_2(sample):
    data, _ = sample
    res = _invoke("report", "scores", "--seed", "3", "--data-root", data)
    assert res.exit_code == 2 and "--ci" in res.stderr
    res = _invoke("report", "scores", "--ci", "--long", "--data-root", data)
    assert res.exit_code == 2 and "does not combine with --long" in res.stderr
    res = _invoke("report", "scores", "--ci", "--by", "colour", "--data-root", data)
    assert res.exit_code == 2 and "cannot group scores by colour" in res.stderr
    res = _invoke("report", "compare", "nope", "essay-refine-v2", "--data-root", data)
    assert res.exit_code == 2 and "no scored evaluation of template 'nope'" in res.stderr
    res = _invoke("report", "agreement", "--template", "novelty-v2", "--data-root", data)
    assert res.exit_code == 0 and "'novelty-v2' matches no generation" in res.stderr and "novelty-v1" in res.stderr


@pytest.mark.slow
def test_missing_scipy_is_a_clear_message(sample):
    data, _ = sample
    block = "import sys\nsys.modules['scipy'] = None\nsys.modules['scipy.stats'] = None"
    res = _gensql("report", "agreement", "--data-root", data, pre=block)
    assert res.returncode == 2
    assert "pip install 'gensql[stats]'" in res.stderr and "Traceback" not in res.stderr
    assert (
        _gensql("report", "scores", "--data-root", data, "--format", "csv", pre=block).returncode == 0
    )  # the rest works


def test_python_api(sample):
    data, _ = sample
    report = build_agreement(data, template="novelty-v1")  # the notes as data; agreement_report warns them
    df, notes = report.df, report.notes
    assert set(df["evaluation_template_id"].to_list()) == {"novelty-v1"} and isinstance(notes, list)
    one = gensql.compare_report(data, "template", "creative-synthesis-essay-v3", "essay-refine-v2", resamples=100)
    assert one["judge"][0] == "all judges" and one["by"][0] == "template"
    assert one.height == 1 + len(set(one["judge"][1:].to_list()))
