"""Stores written by the real pipeline's own writer code, era by era, indexed by `gensql refresh`.

Each fixture runs the copied writer code of one era (tests/realwriter/<era>/) on a fake LLM and keeps
what the real code was given for every generation (realwriter.gens_common.Gen). The tests check, fact
by fact, that `gens`, `lineage`, `latest_attempt` and `scores` hold exactly that (model, templates,
combo, parent, replicate, mode, tokens, status, score, run id and created_at from documents.sqlite),
and where each borrowed fact came from (`facts_from`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime

import pytest
from realwriter import docs_0906, docs_0907, gens_0915, gens_0927, gens_head
from storebuilder import tree_digest

import gensql
from gensql.ids import logical_key_id

pytestmark = pytest.mark.slow  # the real pipeline's writer code of each era, run per module

STAGES = ("draft", "essay", "evaluation")


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "gensql", *args], capture_output=True, text=True, env=os.environ.copy()
    )


def rows(con, sql, *params):
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def by_id(con, view):
    return {(r["stage"], r["gen_id"]): r for r in rows(con, f"SELECT * FROM {view}")}


def check_gens_facts(truth, con, *, store_root="gens"):
    """Every generation the real code wrote has one row holding what that code was given."""
    gens = by_id(con, "gens")
    assert set(gens) == set(truth.gens)
    for key, g in truth.gens.items():
        r = gens[key]
        assert r["store_root"] == store_root, key
        assert r["template_id"] == g.template_id, key
        assert r["parent_gen_id"] == g.parent_gen_id, key
        assert r["replicate"] == g.replicate, key
        assert r["run_id"] == g.run_id, key
        if g.mode == "copy":
            assert r["mode"] == "copy" and r["is_model_call"] is False, key
            assert r["completion_tokens"] is None and r["max_tokens"] is None, key
        else:
            assert r["is_model_call"] is True, key
            assert r["completion_tokens"] == g.completion_tokens, key
            assert r["max_tokens"] == g.max_tokens, key
        assert r["prompt_tokens"] is None and r["total_tokens"] is None, key  # the real client never records them
        assert r["status"] == g.outcome, key
        if g.stage == "evaluation":
            assert r["score"] == g.score and r["score_error"] is None, key
    return gens


def check_lineage_and_scores(truth, con):
    lineage = by_id(con, "lineage")
    for key, g in truth.gens.items():
        line = lineage[key]
        assert line["broken_link"] is False, key
        chain = [g]
        while chain[-1].parent_gen_id:
            parent_stage = STAGES[STAGES.index(chain[-1].stage) - 1]
            chain.append(truth.gens[(parent_stage, chain[-1].parent_gen_id)])
        draft = chain[-1]
        assert line["draft_gen_id"] == draft.gen_id and line["combo_id"] == draft.combo_id, key
        assert line["draft_template_id"] == draft.template_id and line["draft_model_id"] == draft.model_id, key
        if g.stage != "draft":
            essay = chain[-2]
            assert line["essay_gen_id"] == essay.gen_id and line["essay_template_id"] == essay.template_id, key
    scores = {r["gen_id"]: r for r in rows(con, "SELECT * FROM scores")}
    for g in truth.of_stage("evaluation"):
        s = scores[g.gen_id]
        essay = truth.gens[("essay", g.parent_gen_id)]
        draft = truth.gens[("draft", essay.parent_gen_id)]
        assert (s["score"], s["evaluation_template_id"], s["evaluation_model_id"], s["replicate"]) == (
            g.score,
            g.template_id,
            g.model_id,
            g.replicate,
        )
        assert (s["essay_gen_id"], s["essay_template_id"], s["draft_template_id"], s["combo_id"]) == (
            essay.gen_id,
            essay.template_id,
            draft.template_id,
            draft.combo_id,
        )
    latest = by_id(con, "latest_attempt")
    ok = {k for k, g in truth.gens.items() if g.outcome == "ok"}
    assert set(latest) == ok  # every product was asked for once: each is its own latest success


# --- 2025-09-15: one fat metadata.json, wide membership.csv --------------------------------------


@pytest.fixture(scope="module")
def era_0915(tmp_path_factory):
    root = tmp_path_factory.mktemp("era0915") / "data"
    truth = gens_0915.build(root)
    proc = run_cli("refresh", "--data-root", str(root))
    assert proc.returncode == 0, proc.stderr
    return truth, gensql.connect(root)


def test_0915_store_is_what_the_real_code_writes(era_0915):
    truth, _ = era_0915
    drafts = truth.of_stage("draft")
    assert len(drafts) == 4 and len(truth.of_stage("essay")) == 8 and len(truth.of_stage("evaluation")) == 16
    meta = (truth.data_root / "gens" / "draft" / drafts[0].gen_id / "metadata.json").read_text()
    assert '"combo_id"' not in meta  # the era's drafts record their combo only in membership.csv
    header = (truth.data_root / "cohorts" / truth.cohort_id / "membership.csv").read_text().splitlines()[0]
    assert header == "stage,gen_id,cohort_id,parent_gen_id,combo_id,template_id,llm_model_id,replicate"


def test_0915_gens_hold_every_fact_the_real_code_was_given(era_0915):
    truth, con = era_0915
    gens = check_gens_facts(truth, con)
    for key, g in truth.gens.items():
        r = gens[key]
        assert r["combo_id"] == g.combo_id, key  # from membership: the metadata lacks it
        assert r["model_id"] == g.model_id, key  # copy essays: the draft model their membership line names
        assert r["facts_from"] == "membership", key
        assert r["origin_cohort_id"] == truth.cohort_id
    for g in truth.of_stage("draft"):
        assert gens[("draft", g.gen_id)]["logical_key"] == logical_key_id(
            "draft", g.combo_id, g.template_id, g.model_id, g.replicate
        )
    copies = [g for g in truth.of_stage("essay") if g.mode == "copy"]
    assert len(copies) == 4
    assert {r["gen_id"] for r in rows(con, "SELECT gen_id FROM token_usage WHERE stage = 'essay'")} == {
        g.gen_id for g in truth.of_stage("essay") if g.mode == "llm"
    }


def test_0915_lineage_latest_attempt_and_scores(era_0915):
    truth, con = era_0915
    check_lineage_and_scores(truth, con)
    drafts_by_key = rows(con, "SELECT count(DISTINCT logical_key) AS n FROM gens WHERE stage = 'draft'")
    assert drafts_by_key[0]["n"] == 4  # four different products, not merged under a NULL combo
    assert rows(con, "SELECT count(*) AS n FROM problems")[0]["n"] == 0


# --- 2025-09-27: raw/parsed split, metadata.json seeded by the cohort --------------------------------


@pytest.fixture(scope="module")
def era_0927(tmp_path_factory):
    root = tmp_path_factory.mktemp("era0927") / "data"
    truth = gens_0927.build(root)
    gensql.refresh(root)
    return truth, gensql.connect(root)


def test_0927_everything_comes_from_the_directory(era_0927):
    truth, con = era_0927
    gens = check_gens_facts(truth, con)
    for key, g in truth.gens.items():
        r = gens[key]
        assert (r["combo_id"], r["model_id"]) == (g.combo_id, g.model_id), key
        assert r["facts_from"] is None, key  # the seeded metadata.json records what membership.csv says
        assert r["has_raw_metadata"] and r["has_parsed_metadata"], key
    for g in truth.of_stage("essay"):
        r = gens[("essay", g.gen_id)]
        if g.mode == "copy":
            # the real code copied the draft's parsed text into raw.txt: no model call, not spend
            assert r["finish_reason"] == "copy" and r["has_raw"] and r["is_model_call"] is False
    check_lineage_and_scores(truth, con)
    assert rows(con, "SELECT count(*) AS n FROM problems")[0]["n"] == 0


# --- HEAD (2025-10-18): deterministic d_/e_/v_ ids, slim membership ------------------------------------


@pytest.fixture(scope="module")
def era_head(tmp_path_factory):
    root = tmp_path_factory.mktemp("erahead") / "data"
    truth = gens_head.build(root)
    gensql.refresh(root)
    return truth, gensql.connect(root)


def test_head_gens_lineage_and_scores(era_head):
    truth, con = era_head
    assert (truth.data_root / "cohorts" / truth.cohort_id / "membership.csv").read_text().splitlines()[
        0
    ] == "stage,gen_id"
    gens = check_gens_facts(truth, con)
    prefixes = {"draft": "d_", "essay": "e_", "evaluation": "v_"}
    for (stage, gen_id), g in truth.gens.items():
        r = gens[(stage, gen_id)]
        assert gen_id.startswith(prefixes[stage])
        assert r["model_id"] == g.model_id and r["facts_from"] is None and r["origin_cohort_id"] == truth.cohort_id
        assert r["combo_id"] == (g.combo_id if stage == "draft" else None)  # combo only on drafts: lineage carries it
    check_lineage_and_scores(truth, con)
    assert rows(con, "SELECT count(*) AS n FROM problems")[0]["n"] == 0


# --- seed 000's docs store (2025-09-06 nested, 2025-09-07 flat) with db/documents.sqlite ------------


def sqlite_rows(root):
    con = sqlite3.connect(f"file:{root / 'db' / 'documents.sqlite'}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        return {(r["stage"], r["doc_id"]): dict(r) for r in con.execute("SELECT * FROM documents")}
    finally:
        con.close()


@pytest.fixture(scope="module", params=["nested", "flat"])
def era_docs(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"docs-{request.param}") / "data"
    truth = (docs_0906 if request.param == "nested" else docs_0907).build(root)
    store = [root / "docs", root / "db"]
    before = tree_digest(*store)
    gensql.refresh(root)
    assert tree_digest(*store) == before  # the docs tree and documents.sqlite: not a byte, not an mtime, no -wal/-shm
    return request.param, truth, gensql.connect(root)


def test_docs_rows_hold_the_files_and_sqlite_facts(era_docs):
    layout, truth, con = era_docs
    db = sqlite_rows(truth.data_root)
    gens = by_id(con, "gens")
    assert set(gens) == set(truth.gens)
    assert {k for k in db} <= set(truth.gens)
    for key, g in truth.gens.items():
        r = gens[key]
        where = f"docs/{g.stage}/" + (r["gen_dir"].split("/")[2] + "/" if layout == "nested" else "") + g.gen_id
        assert (r["store_root"], r["gen_dir"]) == ("docs", where), key
        assert (r["template_id"], r["model_id"], r["parent_gen_id"], r["replicate"]) == (
            g.template_id,
            g.model_id,
            g.parent_gen_id,
            1,
        ), key
        assert r["combo_id"] == (g.combo_id if g.stage == "draft" else None), key
        assert r["completion_tokens"] is None and r["prompt_tokens"] is None  # the docs era recorded no usage
        assert r["status"] == "ok", key
        row = db.get(key)
        if row is not None:  # the real code inserted a row: its run id and insert time are the row's facts
            assert r["run_id"] == g.run_id == row["run_id"], key
            assert r["created_at"] == datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")), key
            assert r["created_at_source"] == "sqlite" and "sqlite" in r["facts_from"], key
        else:  # 2025-09-07's essay_response never inserted its row (an undefined name, caught and logged)
            assert layout == "flat" and g.stage == "essay", key
            assert r["run_id"] is None and r["created_at_source"] == "raw", key
        if g.mode == "copy":
            assert r["mode"] == "copy" and r["is_model_call"] is False and r["facts_from"].endswith("templates"), key
            if layout == "flat":
                assert not r["has_prompt"], key  # from 6c8ad15 copy mode writes no prompt.txt
            else:
                assert (truth.data_root / r["gen_dir"] / "prompt.txt").read_text().startswith("COPY_MODE"), key
        else:
            assert r["mode"] is None and r["is_model_call"] is True, key
        if g.stage == "evaluation":
            assert r["score"] == g.score, key


def test_docs_lineage_scores_and_attempts(era_docs):
    _, truth, con = era_docs
    lineage = by_id(con, "lineage")
    for key, g in truth.gens.items():
        line = lineage[key]
        assert line["broken_link"] is False, key
        if g.stage == "evaluation":
            essay = truth.gens[("essay", g.parent_gen_id)]
            draft = truth.gens[("draft", essay.parent_gen_id)]
            assert (line["essay_gen_id"], line["draft_gen_id"], line["combo_id"]) == (
                essay.gen_id,
                draft.gen_id,
                draft.combo_id,
            )
            assert (line["essay_template_id"], line["draft_model_id"]) == (essay.template_id, draft.model_id)
    evaluations = truth.of_stage("evaluation")
    rerun = [
        g
        for g in evaluations
        if (g.parent_gen_id, g.template_id) == (evaluations[0].parent_gen_id, evaluations[0].template_id)
    ]
    assert len(rerun) == 2  # the first evaluation task ran twice: two attempts of one product
    attempts = rows(con, "SELECT * FROM attempts WHERE stage = 'evaluation' AND attempts = 2")
    assert len(attempts) == 1 and attempts[0]["latest_gen_id"] == rerun[1].gen_id
    latest = {r["gen_id"] for r in rows(con, "SELECT gen_id FROM latest_attempt WHERE stage = 'evaluation'")}
    assert latest == {g.gen_id for g in evaluations} - {rerun[0].gen_id}
    scores = rows(con, "SELECT * FROM scores")
    assert {(s["gen_id"], s["score"], s["evaluation_model_id"], s["essay_gen_id"]) for s in scores} == {
        (g.gen_id, g.score, g.model_id, g.parent_gen_id) for g in evaluations
    }
    assert rows(con, "SELECT count(*) AS n FROM problems")[0]["n"] == 0


def test_refresh_neither_waits_for_nor_disturbs_a_writer_holding_documents_sqlite(tmp_path):
    root = tmp_path / "data"
    truth = docs_0907.build(root)
    db = root / "db" / "documents.sqlite"
    draft = truth.of_stage("draft")[0]
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("PRAGMA locking_mode=EXCLUSIVE")  # the writer keeps its lock: ordinary readers get 'locked'
        writer.execute(
            "UPDATE documents SET run_id = 'committed-later' WHERE doc_id = ?", (draft.gen_id,)
        )  # committed, still in the WAL
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("UPDATE documents SET run_id = 'uncommitted'")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0).execute(
                "SELECT count(*) FROM documents"
            ).fetchone()
        main_bytes, files = db.read_bytes(), sorted(p.name for p in db.parent.iterdir())
        started = time.monotonic()
        gensql.refresh(root)
        assert time.monotonic() - started < 10
        assert db.read_bytes() == main_bytes and sorted(p.name for p in db.parent.iterdir()) == files
        gens = by_id(gensql.connect(root), "gens")
        assert gens[("draft", draft.gen_id)]["run_id"] == "committed-later"  # committed rows in the WAL are read
        others = [g for k, g in truth.gens.items() if g.stage == "evaluation"]
        assert all(gens[("evaluation", g.gen_id)]["run_id"] == g.run_id for g in others)  # the open transaction is not
    finally:
        writer.close()
