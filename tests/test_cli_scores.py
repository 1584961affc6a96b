"""One answer to one question: `report scores`, `query score_pivot`, `scores_report()` and SQL over
`counted_scores()` count the same scores (newest scored attempt per logical evaluation), and say what
they left out. Through the real entry point on a hand-written store."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner
from hand_store import HandStore

import gensql
from gensql.cli import cli
from gensql.reports import ReportNote, build_scores, scores_report


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = HandStore(tmp_path_factory.mktemp("scores"))
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.evaluation("v1", "e1", score="7\n", at=30)  # first attempt of (e1, vt, m3, 1)
    s.evaluation("v1b", "e1", score="3\n", at=60)  # newer attempt with a score: this one counts
    s.evaluation("v1c", "e1", score=None, at=70)  # newest attempt, no score: does not count
    s.evaluation("v2", "e1", score="5\n", replicate=2, at=40)
    s.evaluation("v3", "gone", score="6\n", at=50)  # its essay does not exist: left out
    s.cohort("A", [("evaluation", "v1"), ("evaluation", "v2")])
    s.refresh()
    return s.data


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_report_query_and_library_count_the_same_scores(store):
    r = run("report", "scores", "--long", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0, r.stderr
    [row] = json.loads(r.stdout)
    assert (row["essay_gen_id"], row["n"], row["mean"], row["min"], row["max"]) == ("e1", 2, 4.0, 3.0, 5.0)
    assert "1 scored evaluation left out" in r.stderr

    q = run("query", "score_pivot", "--format", "json", "--data-root", str(store))
    assert q.exit_code == 0, q.stderr
    [prow] = json.loads(q.stdout)
    assert (prow["essay_gen_id"], prow["n"], prow["mean_score"], prow["min_score"], prow["max_score"]) == (
        "e1",
        2,
        4.0,
        3.0,
        5.0,
    )

    con = gensql.connect(store)
    counted = con.sql(
        "SELECT gen_id, score FROM counted_scores() WHERE score IS NOT NULL AND essay_gen_id IS NOT NULL "
        "ORDER BY gen_id"
    ).fetchall()
    assert counted == [("v1b", 3.0), ("v2", 5.0)]
    report = build_scores(con, long=True)  # the notes as data (scores_report issues them as warnings)
    df, notes = report.df, report.notes
    assert df["n"].to_list() == [2]
    assert any(n.startswith("1 scored evaluation left out") for n in notes)


def test_scores_report_without_with_notes_warns(store):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = scores_report(store, long=True)
    assert df.height == 1
    assert any(issubclass(w.category, ReportNote) and "left out" in str(w.message) for w in caught)


def test_cohort_filter_considers_only_the_cohorts_attempts(store):
    r = run("report", "scores", "--long", "--cohort", "A", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0, r.stderr
    [row] = json.loads(r.stdout)
    assert (row["n"], row["mean"]) == (2, 6.0)  # v1 (7) and v2 (5): the cohort's own attempts
