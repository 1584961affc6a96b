"""Which judge is biased, which is noise: ``gensql report judges`` on a store of planted judges (a +1
judge, a random one, one fond of long essays, one fond of its own model; tests/planted_judges.py) and
human labels. Every expected figure comes from the generator's own scores (the truth), computed here
with numpy, scipy and the ``krippendorff`` package, never read back from gensql.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

krippendorff = pytest.importorskip("krippendorff")
st = pytest.importorskip("scipy.stats")

import planted_judges as pj  # noqa: E402
from storebuilder import tree_digest  # noqa: E402

from gensql.labels import LabelsError, import_labels, read_labels  # noqa: E402
from gensql.reports import build_judges  # noqa: E402


@pytest.fixture(scope="module")
def planted():
    return pj.planted_store()


def _means(p) -> dict[str, dict[str, float]]:
    """judge -> essay -> the mean of its replicates (the truth)."""
    acc: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (essay, judge, _), score in p.scores.items():
        acc[(judge, essay)].append(score)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (judge, essay), scores in acc.items():
        out[judge][essay] = sum(scores) / len(scores)
    return out


@pytest.fixture(scope="module")
def vs_honest(planted):
    return build_judges(planted.data, reference="honest", prices=planted.prices, resamples=400)


@pytest.fixture(scope="module")
def vs_others(planted):
    return build_judges(planted.data, prices=planted.prices, resamples=400)


def _row(rep, judge) -> dict:
    return rep.df.filter(pl.col("judge") == judge).row(0, named=True)


def test_a_plus_one_judge_that_correlates_shows_its_offset(planted, vs_honest):
    row = _row(vs_honest, "biased")
    assert row["pearson"] > 0.95  # it ranks the essays like the honest judge...
    assert row["offset"] == pytest.approx(pj.BIAS, abs=0.1)  # ...and reads one point high
    assert row["offset_ci_low"] < pj.BIAS < row["offset_ci_high"]
    assert row["offset_ci_low"] > 0.8
    honest2 = _row(vs_honest, "honest2")
    assert abs(honest2["offset"]) < 0.1 and honest2["offset_ci_low"] < 0 < honest2["offset_ci_high"]
    assert _row(vs_honest, "honest")["note"] == "the reference itself"


def test_calibration_figures_equal_numpy_and_scipy_on_the_truth(planted, vs_honest):
    means = _means(planted)
    for judge in ("biased", "lengthy", "vain", "random"):
        common = sorted(set(means[judge]) & set(means["honest"]))
        y = np.array([means[judge][e] for e in common])
        x = np.array([means["honest"][e] for e in common])
        row = _row(vs_honest, judge)
        d = y - x
        assert row["essays"] == len(common)
        assert row["offset"] == pytest.approx(d.mean(), abs=1e-12)
        assert row["loa_low"] == pytest.approx(d.mean() - 1.96 * d.std(ddof=1), abs=1e-12)  # Bland-Altman
        assert row["loa_high"] == pytest.approx(d.mean() + 1.96 * d.std(ddof=1), abs=1e-12)
        assert row["mean_abs_diff"] == pytest.approx(np.abs(d).mean(), abs=1e-12)
        fit = st.linregress(x, y)
        assert row["slope"] == pytest.approx(fit.slope, abs=1e-9)
        assert row["pearson"] == pytest.approx(st.pearsonr(x, y).statistic, abs=1e-12)
        assert row["spearman"] == pytest.approx(st.spearmanr(x, y).statistic, abs=1e-12)
        # Deming with equal error variances = the first principal axis of the centred points
        _, _, vt = np.linalg.svd(np.column_stack([x - x.mean(), y - y.mean()]), full_matrices=False)
        assert row["deming_slope"] == pytest.approx(vt[0, 1] / vt[0, 0], rel=1e-9)
        scores = [s for (_, j, _), s in planted.scores.items() if j == judge]
        assert row["scores"] == len(scores) and row["mean"] == pytest.approx(np.mean(scores), abs=1e-12)
        assert row["score_median"] == pytest.approx(np.median(scores), abs=1e-12)
        assert row["pearson_ci_low"] <= row["pearson"] <= row["pearson_ci_high"]
        counts = {}
        for v in scores:
            counts[round(v)] = counts.get(round(v), 0) + 1
        assert row["distribution"] == "~" + " ".join(f"{v:g}:{c}" for v, c in sorted(counts.items()))
    # length_p: Holm over the report's rows, from scipy's linregress p of each judge
    raw = {}
    for judge in sorted(means):
        common = sorted(set(means[judge]) & set(means["honest"]))
        if judge == "honest":
            continue
        d = [means[judge][e] - means["honest"][e] for e in common]
        raw[judge] = st.linregress([planted.chars[e] / 1000 for e in common], d).pvalue
    rows = vs_honest.df.filter(pl.col("judge") != "honest").sort("judge")
    m = len(raw)
    ordered = sorted(raw, key=raw.get)
    expected, running = {}, 0.0
    for k, judge in enumerate(ordered):
        running = max(running, min(1.0, (m - k) * raw[judge]))
        expected[judge] = running
    for row in rows.to_dicts():
        assert row["length_p"] == pytest.approx(expected[row["judge"]], rel=1e-9)


def test_length_and_self_preference_are_found(planted, vs_honest):
    lengthy = _row(vs_honest, "lengthy")
    assert lengthy["length_slope"] == pytest.approx(pj.LENGTH_SLOPE, abs=0.15) and lengthy["length_p"] < 1e-6
    for judge in ("biased", "honest2", "vain"):
        assert abs(_row(vs_honest, judge)["length_slope"]) < 0.15
    vain = _row(vs_honest, "vain")
    assert vain["self_essays"] == sum(1 for m in planted.essay_model.values() if m == "vain")
    assert vain["self_offset"] == pytest.approx(pj.SELF_BONUS, abs=0.2) and vain["self_p"] < 1e-6
    # the truth: its differences on its own model's essays minus on the others (Welch's test from scipy)
    means = _means(planted)
    d_own = [means["vain"][e] - means["honest"][e] for e, m in planted.essay_model.items() if m == "vain"]
    d_other = [means["vain"][e] - means["honest"][e] for e, m in planted.essay_model.items() if m != "vain"]
    assert vain["self_offset"] == pytest.approx(np.mean(d_own) - np.mean(d_other), abs=1e-12)
    # the only judge with essays of its own model: a family of one test, so Holm leaves its p as it is
    assert vain["self_p"] == pytest.approx(st.ttest_ind(d_own, d_other, equal_var=False).pvalue, rel=1e-9)
    assert _row(vs_honest, "biased")["self_essays"] == 0 and _row(vs_honest, "biased")["self_offset"] is None
    # the essay's characters, straight from the files the generator wrote
    rated = sorted(means["lengthy"])
    r = st.pearsonr([planted.chars[e] for e in rated], [means["lengthy"][e] for e in rated]).statistic
    assert lengthy["length_r"] == pytest.approx(r, abs=1e-12)


def test_alpha_with_each_judge_left_out_names_the_random_judge(planted, vs_others):
    means = _means(planted)
    judges = sorted(means)
    essays = sorted({e for j in judges for e in means[j]})
    matrix = np.array([[means[j].get(e, np.nan) for e in essays] for j in judges])
    alpha_all = krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
    rows = {r["judge"]: r for r in vs_others.df.to_dicts()}
    for i, judge in enumerate(judges):
        without = krippendorff.alpha(reliability_data=np.delete(matrix, i, axis=0), level_of_measurement="interval")
        assert rows[judge]["alpha_all"] == pytest.approx(alpha_all, abs=1e-9)
        assert rows[judge]["alpha_without"] == pytest.approx(without, abs=1e-9)
    assert max(rows, key=lambda j: rows[j]["alpha_without"]) == "random"
    # against the others, the leave-one-out consensus: the +1 judge still stands out, the honest ones do not
    assert rows["biased"]["offset"] > 0.7 and abs(rows["honest"]["offset"]) < 0.35


def test_failures_truncation_and_cost_per_usable_score(planted, vs_others):
    rows = {r["judge"]: r for r in vs_others.df.to_dicts()}
    for judge in pj.JUDGES:
        row = rows[judge]
        calls = planted.calls[judge]
        assert row["calls"] == calls
        assert row["parse_failure_rate"] == pytest.approx(planted.parse_failures.get(judge, 0) / calls, abs=1e-12)
        assert row["truncation_rate"] == pytest.approx(planted.truncated.get(judge, 0) / calls, abs=1e-12)
        # price table: $1 / $10 per million; prompt "evaluate\n" is 9 bytes = an estimated 2 tokens
        expected = calls * (2 * 1.0 + pj.COMPLETION_TOKENS * 10.0) / 1e6
        assert row["cost_total"] == pytest.approx(expected, rel=1e-9)
        assert row["cost_per_score"] == pytest.approx(expected / row["scores"], rel=1e-9)
    assert rows["random"]["parse_failure_rate"] > 0.1 and rows["lengthy"]["truncation_rate"] > 0.05
    assert rows["random"]["cost_per_score"] > rows["honest"]["cost_per_score"]  # failed calls cost too
    assert any("position" in n for n in vs_others.notes)  # no prompt records an order: said, not skipped


def test_humans_as_the_reference(planted, tmp_path):
    before = tree_digest(planted.data / "gens")
    done = import_labels(planted.humans_csv, planted.data, "panel")
    assert done.path == planted.data / "labels" / "panel.parquet" and done.raters == 2
    assert tree_digest(planted.data / "gens") == before  # never inside gens/
    labels = read_labels(planted.data)
    assert labels.height == 2 * pj.HUMAN_ESSAYS and set(labels["labels"].to_list()) == {"panel"}
    rep = build_judges(planted.data, reference="humans", resamples=300)
    rows = {r["judge"]: r for r in rep.df.to_dicts()}
    human = labels.group_by("essay_gen_id").agg(pl.col("score").mean())
    human = dict(zip(human["essay_gen_id"].to_list(), human["score"].to_list()))
    means = _means(planted)
    for judge, row in rows.items():
        common = sorted(set(means[judge]) & set(human))
        d = np.array([means[judge][e] - human[e] for e in common])
        assert row["reference"] == "humans" and row["essays"] == len(common)
        assert row["offset"] == pytest.approx(d.mean(), abs=1e-12)
    assert rows["biased"]["offset"] == pytest.approx(pj.BIAS, abs=0.2)
    assert rows["biased"]["offset_ci_low"] > 0.5
    closest = min(rows, key=lambda j: rows[j]["mean_abs_diff"])
    assert closest in ("honest", "honest2")
    assert any(f"closest to the humans: {closest}" in n for n in rep.notes)


def test_labels_import_refuses_what_it_cannot_match(planted, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("essay_gen_id,criterion,score,rater\ne000A,crit,7,ann\nnope,crit,3,ann\n")
    with pytest.raises(LabelsError, match="1 row name an essay or evaluation the index does not know"):
        import_labels(bad, planted.data, "bad")
    bad.write_text("essay,criterion,score,rater\ne000A,crit,seven,ann\n")
    with pytest.raises(LabelsError, match="bad.csv:2: score 'seven' is not a number"):
        import_labels(bad, planted.data, "bad")
    bad.write_text("essay,criterion,score\ne000A,crit,7\n")
    with pytest.raises(LabelsError, match="no column rater"):
        import_labels(bad, planted.data, "bad")
    assert not (planted.data / "labels" / "bad.parquet").exists()
    # an evaluation id stands for its essay and criterion
    by_eval = tmp_path / "by_eval.csv"
    by_eval.write_text("evaluation_gen_id,score,rater\nv00001,6,cy\n")
    done = import_labels(by_eval, planted.data, "by-eval")
    assert read_labels(planted.data, "by-eval").select("essay_gen_id", "criterion").row(0) == ("e000A", pj.CRITERION)
    done.path.unlink()


def test_cli_labels_import_and_report_judges(planted, tmp_path):
    def gensql(*args):
        return subprocess.run([sys.executable, "-m", "gensql", *map(str, args)], capture_output=True, text=True)

    res = gensql("labels", "import", planted.humans_csv, "--name", "cli-panel", "--data-root", planted.data)
    assert res.returncode == 0, res.stderr
    assert "120 ratings of 60 essays" in res.stderr
    assert res.stdout.strip() == str(planted.data / "labels" / "cli-panel.parquet")
    res = gensql(
        "report", "judges", "--reference", "humans", "--labels", "cli-panel", "--data-root", planted.data,
        "--resamples", "50", "--format", "csv",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    df = pl.read_csv(res.stdout.encode())
    assert set(df["judge"].to_list()) == set(pj.JUDGES) and "closest to the humans" in res.stderr
    res = gensql("report", "judges", "--reference", "nobody", "--data-root", planted.data)
    assert res.returncode == 2 and "reference 'nobody' is not a judge" in res.stderr and "Traceback" not in res.stderr
    res = gensql("labels", "import", tmp_path / "missing.csv", "--data-root", planted.data)
    assert res.returncode == 2 and "cannot read" in res.stderr and "missing.csv" in res.stderr
    (planted.data / "labels" / "cli-panel.parquet").unlink()


def test_agreement_on_planted_judges_intervals_icc_and_humans(planted):
    from gensql.reports import build_agreement

    import_labels(planted.humans_csv, planted.data, "panel")  # the same name again: replaced
    rep = build_agreement(planted.data, resamples=300, reference="humans", labels="panel")
    df = rep.df
    pair = df.filter(
        (pl.col("comparison") == "pair") & (pl.col("judge_a") == "biased") & (pl.col("judge_b") == "honest")
    )
    row = pair.row(0, named=True)
    assert row["icc3_1"] > 0.9 and row["icc2_1"] < row["icc3_1"] - 0.1  # consistent, but not in absolute terms
    assert row["pearson_ci_low"] <= row["pearson"] <= row["pearson_ci_high"]
    assert row["spearman_ci_low"] <= row["spearman"] <= row["spearman_ci_high"]
    assert row["alpha_ci_low"] <= row["alpha"] <= row["alpha_ci_high"]
    alls = df.filter(pl.col("comparison") == "all judges").row(0, named=True)
    assert alls["alpha_ci_low"] < alls["alpha"] < alls["alpha_ci_high"] and alls["judges"] == len(pj.JUDGES) + 1
    without = df.filter(pl.col("comparison") == "without")
    assert without.sort("alpha", descending=True)["judge_a"][0] == "random"
    # the humans as a judge: the honest judges are the closest to them
    with_humans = df.filter(
        (pl.col("comparison") == "pair") & ((pl.col("judge_b") == "humans") | (pl.col("judge_a") == "humans"))
    ).with_columns(judge=pl.when(pl.col("judge_a") == "humans").then("judge_b").otherwise("judge_a"))
    assert sorted(with_humans["judge"].to_list()) == sorted(pj.JUDGES)
    assert with_humans.sort("mean_abs_diff")["judge"][0] in ("honest", "honest2")
    tested = df.filter(pl.col("pearson_p").is_not_null())
    assert (tested["p_holm"] >= tested["pearson_p"]).all()


def test_unbalanced_judges_are_noted_and_adjusted_means_are_the_fixed_effect_fit(planted):
    from gensql.reports import build_scores

    raw = build_scores(planted.data, ci=True, by=("essay-template",), resamples=200)
    assert any("judges are unbalanced across these groups" in n for n in raw.notes)
    adj = build_scores(planted.data, ci=True, by=("essay-template",), resamples=200, adjust="judge")
    rows = {r["essay_template_id"]: r for r in adj.df.to_dicts()}
    # reference: ordinary least squares on dummy columns (numpy lstsq), score = template + judge
    truth = [(planted.essay_template[e], j, s) for (e, j, _), s in planted.scores.items()]
    templates, judges = sorted({t for t, _, _ in truth}), sorted({j for _, j, _ in truth})
    x = np.zeros((len(truth), len(templates) + len(judges) - 1))
    y = np.array([s for _, _, s in truth])
    for i, (t, j, _) in enumerate(truth):
        x[i, templates.index(t)] = 1.0
        if judges.index(j) > 0:
            x[i, len(templates) + judges.index(j) - 1] = 1.0
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    effects = np.concatenate([[0.0], beta[len(templates) :]])
    share = np.array([sum(1 for _, j, _ in truth if j == judge) for judge in judges]) / len(truth)
    for k, t in enumerate(templates):
        assert rows[t]["mean"] == pytest.approx(beta[k] + (share * effects).sum(), abs=1e-9)
        assert rows[t]["mean_raw"] == pytest.approx(np.mean([s for tt, _, s in truth if tt == t]), abs=1e-12)
        assert rows[t]["ci_low"] <= rows[t]["mean"] <= rows[t]["ci_high"]
    # the +1 judge skipped half of B's essays: the raw gap is inflated, the adjusted one is the within-judge gap
    raw_gap = rows["A"]["mean_raw"] - rows["B"]["mean_raw"]
    adj_gap = rows["A"]["mean"] - rows["B"]["mean"]
    assert raw_gap > adj_gap + 0.05
    # balanced: the honest judges scored every essay, so no note and nothing to adjust
    fair = build_scores(planted.data, ci=True, by=("essay-template",), model=["honest", "honest2"], resamples=50)
    assert not any("unbalanced" in n for n in fair.notes)
    with pytest.raises(Exception, match="drop evaluation-model"):
        build_scores(planted.data, ci=True, by=("evaluation-model",), adjust="judge")


def test_position_effects_are_looked_for_in_the_prompts(planted, tmp_path):
    from hand_store import HandStore

    import gensql
    from gensql.reports.judges import order_note

    con = gensql.connect(planted.data)
    assert "none of 200 sampled evaluation prompts presents more than one item" in order_note(con, planted.data)
    hs = HandStore(tmp_path)
    hs.draft("d1")
    hs.essay("e1", "d1")
    hs.evaluation("v1", "e1", prompt="Compare.\nEssay A: first text\n\nEssay B: second text\nWhich is better?\n")
    hs.evaluation("v2", "e1", prompt="Rate this essay.\n", model="m4")
    con = hs.connect()
    note = order_note(con, hs.data)
    assert "1 of 2 sampled evaluation prompts present items in an order" in note
    assert "not checked" in order_note(con, con)  # a connection alone: nowhere to read prompts from
