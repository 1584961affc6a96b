"""The DuckDB views, each against a hand-built store with exact expected rows, then the sample store.

One store (``rich``) carries every case at once; it is built and refreshed once per module. Every
generation gets a known mtime (``at`` seconds after hand_store.T0), so created_at and every "latest"
ordering are known.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import duckdb
import pytest
from hand_store import HandStore, dicts, rows, ts

import gensql
from gensql.catalog import describe_views, view_files

SEED_000_COLUMNS = [
    "doc_id",
    "logical_key_id",
    "stage",
    "task_id",
    "parent_doc_id",
    "template_id",
    "model_id",
    "run_id",
    "prompt_path",
    "prompt_hash",
    "parser",
    "status",
    "usage_prompt_tokens",
    "usage_completion_tokens",
    "usage_max_tokens",
    "created_at",
    "doc_dir",
    "raw_chars",
    "parsed_chars",
    "raw_sha256",
    "parsed_sha256",
    "meta_small",
    "lineage_prev_doc_id",
]
PUBLIC_VIEWS = {
    "gens",
    "scan_errors",
    "documents",
    "membership",
    "attempts",
    "latest_attempt",
    "lineage",
    "token_usage",
    "scores",
    "problems",
}


def build_rich(s: HandStore) -> None:
    # drafts
    s.draft(
        "d1",
        combo="c1",
        at=10,
        raw_meta={"usage": {"completion_tokens": 100, "max_tokens": 1000}, "duration_s": 2.0, "finish_reason": "stop"},
    )
    s.draft("d2", combo="c2", template="dt2", at=20)
    s.gen("draft", "d_bad", None, files={"metadata.json": "{not json"}, raw="x\n", parsed="x\n", at=25)
    s.draft("d_inc", combo="c3", at=26, parsed_meta={"parser_name": "p", "success": False, "error": "boom"})
    # essays of d1: three attempts of one product (e1r failed first, e1 ok, e1n newest but failed)
    s.essay("e1r", "d1", at=50, parsed=None)
    s.essay(
        "e1", "d1", at=100, raw_meta={"usage": {"completion_tokens": 300, "max_tokens": 2000}, "finish_reason": "stop"}
    )
    s.essay("e1n", "d1", at=200, raw=None, parsed=None, prompt=None, raw_meta={"finish_reason": "error"})
    s.essay("e_wrong", "e1", template="et2", at=30)  # parent is an essay: wrong stage
    s.essay("e_dang", "task__abc", template="et3", at=40)  # dangling: a task id, not a gen id
    s.gen(
        "essay",
        "e_copy",
        {"stage": "essay", "gen_id": "e_copy", "mode": "copy", "template_id": "copy-t", "parent_gen_id": "d2"},
        parsed="copied\n",
        at=60,
    )
    s.essay(
        "e_inc",
        "d1",
        template="et4",
        at=70,
        raw=None,
        raw_meta={"usage": {"completion_tokens": 10}, "finish_reason": "stop"},
    )
    # evaluations of e1: replicates 1 and 2 of (vt, m3); v3r then v3 are two attempts of (vt, m4, 1)
    s.evaluation(
        "v1",
        "e1",
        score="7.0\n",
        at=300,
        raw_meta={"usage": {"prompt_tokens": "50", "completion_tokens": 5, "total_tokens": 55}},
    )
    s.evaluation("v2", "e1", score="Looks fine.\nSCORE: 5\n", replicate=2, at=310)
    s.evaluation("v3r", "e1", score="3\n", model="m4", at=305)
    s.evaluation("v3", "e1", score="9.0\n", model="m4", at=320)
    s.evaluation("v_mis", "e1", score="8\n", model="m5", at=330, extra={"stage": "essay", "gen_id": "v_old"})
    s.evaluation("v_inc", "e1", score=None, model="m9", at=340, parsed_meta={"success": True})
    s.evaluation("v4", "e_dang", score="6\n", at=350)  # lineage through a dangling link
    s.evaluation("v5", "gone", score=None, at=360)  # parent missing, no score
    s.evaluation("v6", "e_copy", score="4\n", at=370)  # through a copy-mode essay to d2
    # cohorts: current form with a missing member; an older form with extra columns
    s.cohort("A", [("draft", "d1"), ("essay", "e1"), ("evaluation", "v1"), ("essay", "nope"), ("draft", "v1")])
    s.cohort("B", "cohort_id,stage,gen_id,combo_id\nB,draft,d1,c1\nB,draft,d2,c2\n")


@pytest.fixture(scope="module")
def rich(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    s = HandStore(tmp_path_factory.mktemp("rich"))
    build_rich(s)
    con = s.connect()
    yield con
    con.close()


# ---------------------------------------------------------------------------------------------------
# every view file documents itself
# ---------------------------------------------------------------------------------------------------


def test_every_view_file_opens_with_a_comment_naming_its_rows():
    for name, sql in view_files():
        assert re.match(r"^\d\d_\w+\.sql$", name), name
        first = sql.lstrip().splitlines()[0]
        assert first.startswith("-- ") and ": " in first, (name, first)
        for m in re.finditer(r"CREATE OR REPLACE (?:VIEW|MACRO) (\w+)", sql):
            comments = [line for line in sql[: m.start()].splitlines() if line.startswith("--")]
            assert any(line.startswith(f"-- {m.group(1)}") or f" {m.group(1)}(" in line for line in comments), (
                f"{name}: {m.group(1)} has no comment before it"
            )


def test_views_listed_with_columns(rich):
    listed = describe_views(rich).to_pylist()
    names = {r["view"] for r in listed}
    assert PUBLIC_VIEWS <= names
    assert not any(n.startswith("_") for n in names)
    assert {"ancestors(start_gen_id)", "descendants(start_gen_id)"} <= names
    assert [r["column"] for r in listed if r["view"] == "documents"] == SEED_000_COLUMNS


# ---------------------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------------------


def test_documents_has_exactly_the_seed_columns(rich):
    assert [c[0] for c in rich.sql("SELECT * FROM documents").description] == SEED_000_COLUMNS


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_documents_rows(rich):
    got = dicts(
        rich,
        "SELECT * EXCLUDE (logical_key_id, meta_small) FROM documents WHERE doc_id IN ('d1', 'e_copy', 'v1') ORDER BY doc_id",
    )
    assert got == [
        {
            "doc_id": "d1",
            "stage": "draft",
            "task_id": None,
            "parent_doc_id": None,
            "template_id": "dt",
            "model_id": "m1",
            "run_id": None,
            "prompt_path": "gens/draft/d1/prompt.txt",
            "prompt_hash": sha("write a draft\n"),
            "parser": None,
            "status": "ok",
            "usage_prompt_tokens": None,
            "usage_completion_tokens": 100,
            "usage_max_tokens": 1000,
            "created_at": ts(10),
            "doc_dir": "gens/draft/d1",
            "raw_chars": len("draft d1\n"),
            "parsed_chars": len("draft d1\n"),
            "raw_sha256": sha("draft d1\n"),
            "parsed_sha256": sha("draft d1\n"),
            "lineage_prev_doc_id": None,
        },
        {
            "doc_id": "e_copy",
            "stage": "essay",
            "task_id": None,
            "parent_doc_id": "d2",
            "template_id": "copy-t",
            "model_id": None,
            "run_id": None,
            "prompt_path": None,
            "prompt_hash": None,
            "parser": None,
            "status": "ok",
            "usage_prompt_tokens": None,
            "usage_completion_tokens": None,
            "usage_max_tokens": None,
            "created_at": ts(60),
            "doc_dir": "gens/essay/e_copy",
            "raw_chars": None,
            "parsed_chars": 7,
            "raw_sha256": None,
            "parsed_sha256": sha("copied\n"),
            "lineage_prev_doc_id": None,
        },
        {
            "doc_id": "v1",
            "stage": "evaluation",
            "task_id": None,
            "parent_doc_id": "e1",
            "template_id": "vt",
            "model_id": "m3",
            "run_id": None,
            "prompt_path": "gens/evaluation/v1/prompt.txt",
            "prompt_hash": sha("evaluate\n"),
            "parser": None,
            "status": "ok",
            "usage_prompt_tokens": 50,
            "usage_completion_tokens": 5,
            "usage_max_tokens": None,
            "created_at": ts(300),
            "doc_dir": "gens/evaluation/v1",
            "raw_chars": len("evaluation v1\nSCORE: 7.0\n\n"),
            "parsed_chars": 4,
            "raw_sha256": sha("evaluation v1\nSCORE: 7.0\n\n"),
            "parsed_sha256": sha("7.0\n"),
            "lineage_prev_doc_id": None,
        },
    ]
    meta = json.loads(rows(rich, "SELECT meta_small FROM documents WHERE doc_id = 'v1'")[0][0])
    assert meta == {
        "mode": "llm",
        "replicate": 1,
        "combo_id": None,
        "origin_cohort_id": None,
        "function": None,
        "finish_reason": None,
        "truncated": False,
        "duration_s": None,
        "total_tokens": 55,
        "score": 7.0,
        "score_error": None,
    }


def test_documents_previous_attempt_and_logical_key(rich):
    got = rows(
        rich,
        """
        SELECT doc_id, lineage_prev_doc_id, logical_key_id = first_value(logical_key_id) OVER (ORDER BY doc_id)
        FROM documents WHERE doc_id IN ('e1r', 'e1', 'e1n') ORDER BY created_at""",
    )
    assert got == [("e1r", None, True), ("e1", "e1r", True), ("e1n", "e1", True)]
    assert rows(
        rich, "SELECT doc_id, lineage_prev_doc_id FROM documents WHERE doc_id IN ('v3r', 'v3') ORDER BY doc_id"
    ) == [("v3", "v3r"), ("v3r", None)]


def test_documents_chars_are_characters_and_hashes_are_of_the_bytes(tmp_path):
    s = HandStore(tmp_path)
    s.draft("d1", raw="héllo\n", parsed="ü\n")
    con = s.connect()
    assert rows(con, "SELECT raw_chars, parsed_chars FROM documents") == [(6, 2)]  # characters, as seed 000 means
    assert rows(con, "SELECT raw_sha256, parsed_sha256 FROM documents") == [(sha("héllo\n"), sha("ü\n"))]
    assert rows(con, "SELECT raw_bytes, raw_chars FROM gens") == [(7, 6)]


# ---------------------------------------------------------------------------------------------------
# membership
# ---------------------------------------------------------------------------------------------------


def test_membership_rows(rich):
    got = rows(
        rich,
        "SELECT cohort_id, stage, gen_id, exists_on_disk, status, line, extras::VARCHAR FROM membership ORDER BY cohort_id, line",
    )
    assert got == [
        ("A", "draft", "d1", True, "ok", 2, None),
        ("A", "essay", "e1", True, "ok", 3, None),
        ("A", "evaluation", "v1", True, "ok", 4, None),
        ("A", "essay", "nope", False, None, 5, None),
        ("A", "draft", "v1", False, None, 6, None),  # v1 exists, but not as a draft
        ("B", "draft", "d1", True, "ok", 2, '{"cohort_id":"B","combo_id":"c1"}'),
        ("B", "draft", "d2", True, "ok", 3, '{"cohort_id":"B","combo_id":"c2"}'),
    ]
    assert rows(rich, "SELECT extras->>'combo_id' FROM membership WHERE cohort_id = 'B' ORDER BY line") == [
        ("c1",),
        ("c2",),
    ]


# ---------------------------------------------------------------------------------------------------
# attempts and latest_attempt
# ---------------------------------------------------------------------------------------------------


def test_attempts_of_a_retried_product(rich):
    got = dicts(rich, "SELECT * EXCLUDE (logical_key) FROM attempts WHERE parent_gen_id = 'd1' AND template_id = 'et'")
    assert got == [
        {
            "stage": "essay",
            "template_id": "et",
            "model_id": "m2",
            "parent_gen_id": "d1",
            "combo_id": None,
            "replicate": 1,
            "attempts": 3,
            "ok_attempts": 1,
            "latest_gen_id": "e1n",
            "latest_status": "gen_error",
            "latest_ok_gen_id": "e1",
            "first_created_at": ts(50),
            "last_created_at": ts(200),
            "never_ok": False,
        }
    ]
    got = rows(
        rich,
        """
        SELECT model_id, replicate, attempts, ok_attempts, latest_gen_id, latest_status, latest_ok_gen_id, never_ok
        FROM attempts WHERE stage = 'evaluation' AND parent_gen_id = 'e1' ORDER BY model_id, replicate""",
    )
    assert got == [
        ("m3", 1, 1, 1, "v1", "ok", "v1", False),
        ("m3", 2, 1, 1, "v2", "ok", "v2", False),
        ("m4", 1, 2, 2, "v3", "ok", "v3", False),  # v3 (t=320) is newer than v3r (t=305)
        ("m5", 1, 1, 1, "v_mis", "ok", "v_mis", False),
        ("m9", 1, 1, 0, "v_inc", "parse_error", None, True),
    ]
    assert rows(rich, "SELECT count(*), sum(attempts)::BIGINT FROM attempts") == [
        (17, 20)
    ]  # 20 directories, 17 products


def test_latest_attempt_picks_the_newest_ok_attempt(rich):
    got = rows(rich, "SELECT gen_id FROM latest_attempt WHERE stage = 'essay' AND parent_gen_id = 'd1' ORDER BY gen_id")
    assert got == [("e1",), ("e_inc",)]  # e1n is newer but failed
    got = rows(rich, "SELECT gen_id FROM latest_attempt WHERE stage = 'evaluation' ORDER BY gen_id")
    assert got == [("v1",), ("v2",), ("v3",), ("v4",), ("v6",), ("v_mis",)]
    gens_cols = [c[0] for c in rich.sql("SELECT * FROM gens").description]
    assert [c[0] for c in rich.sql("SELECT * FROM latest_attempt").description] == gens_cols
    assert rows(rich, "SELECT meta->>'template_id' FROM latest_attempt WHERE gen_id = 'v3'") == [("vt",)]


def test_latest_attempt_tie_on_created_at_is_broken_by_gen_id(tmp_path):
    s = HandStore(tmp_path)
    for gid in ("d_b", "d_a", "d_c"):
        s.draft(gid, at=5)
    con = s.connect()
    assert rows(con, "SELECT gen_id FROM latest_attempt") == [("d_c",)]
    assert rows(con, "SELECT attempts, latest_gen_id, latest_ok_gen_id FROM attempts") == [(3, "d_c", "d_c")]


# ---------------------------------------------------------------------------------------------------
# lineage and the ancestors / descendants macros
# ---------------------------------------------------------------------------------------------------


def test_lineage_rows(rich):
    got = rows(
        rich,
        """
        SELECT gen_id, draft_gen_id, essay_gen_id, evaluation_gen_id, combo_id, depth,
               broken_link, broken_gen_id, broken_reason, dangling_parent_id
        FROM lineage ORDER BY stage, gen_id""",
    )
    assert got == [
        ("d1", "d1", None, None, "c1", 0, False, None, None, None),
        ("d2", "d2", None, None, "c2", 0, False, None, None, None),
        ("d_bad", "d_bad", None, None, None, 0, False, None, None, None),
        ("d_inc", "d_inc", None, None, "c3", 0, False, None, None, None),
        ("e1", "d1", "e1", None, "c1", 1, False, None, None, None),
        ("e1n", "d1", "e1n", None, "c1", 1, False, None, None, None),
        ("e1r", "d1", "e1r", None, "c1", 1, False, None, None, None),
        ("e_copy", "d2", "e_copy", None, "c2", 1, False, None, None, None),
        ("e_dang", None, "e_dang", None, None, 0, True, "e_dang", "parent_missing", "task__abc"),
        ("e_inc", "d1", "e_inc", None, "c1", 1, False, None, None, None),
        ("e_wrong", None, "e_wrong", None, None, 0, True, "e_wrong", "parent_wrong_stage", "e1"),
        ("v1", "d1", "e1", "v1", "c1", 2, False, None, None, None),
        ("v2", "d1", "e1", "v2", "c1", 2, False, None, None, None),
        ("v3", "d1", "e1", "v3", "c1", 2, False, None, None, None),
        ("v3r", "d1", "e1", "v3r", "c1", 2, False, None, None, None),
        ("v4", None, "e_dang", "v4", None, 1, True, "e_dang", "parent_missing", "task__abc"),
        ("v5", None, None, "v5", None, 0, True, "v5", "parent_missing", "gone"),
        ("v6", "d2", "e_copy", "v6", "c2", 2, False, None, None, None),
        ("v_inc", "d1", "e1", "v_inc", "c1", 2, False, None, None, None),
        ("v_mis", "d1", "e1", "v_mis", "c1", 2, False, None, None, None),
    ]


def test_lineage_inherited_fields(rich):
    got = dicts(
        rich,
        "SELECT * EXCLUDE (gen_id, stage, broken_link, broken_gen_id, broken_reason, dangling_parent_id) FROM lineage WHERE gen_id IN ('v3', 'v6', 'v4') ORDER BY gen_id",
    )
    assert got == [
        {
            "parent_gen_id": "e1",
            "draft_gen_id": "d1",
            "essay_gen_id": "e1",
            "evaluation_gen_id": "v3",
            "combo_id": "c1",
            "draft_template_id": "dt",
            "draft_model_id": "m1",
            "essay_template_id": "et",
            "essay_model_id": "m2",
            "evaluation_template_id": "vt",
            "evaluation_model_id": "m4",
            "depth": 2,
        },
        {
            "parent_gen_id": "e_dang",
            "draft_gen_id": None,
            "essay_gen_id": "e_dang",
            "evaluation_gen_id": "v4",
            "combo_id": None,
            "draft_template_id": None,
            "draft_model_id": None,
            "essay_template_id": "et3",
            "essay_model_id": "m2",
            "evaluation_template_id": "vt",
            "evaluation_model_id": "m3",
            "depth": 1,
        },
        {
            "parent_gen_id": "e_copy",
            "draft_gen_id": "d2",
            "essay_gen_id": "e_copy",
            "evaluation_gen_id": "v6",
            "combo_id": "c2",
            "draft_template_id": "dt2",
            "draft_model_id": "m1",
            "essay_template_id": "copy-t",
            "essay_model_id": None,
            "evaluation_template_id": "vt",
            "evaluation_model_id": "m3",
            "depth": 2,
        },
    ]


def test_ancestors_through_a_dangling_link(rich):
    assert rows(rich, "SELECT depth, gen_id, stage, parent_gen_id, link_status FROM ancestors('v4')") == [
        (0, "v4", "evaluation", "e_dang", "ok"),
        (1, "e_dang", "essay", "task__abc", "parent_missing"),
    ]
    assert rows(rich, "SELECT depth, gen_id, link_status, status, created_at FROM ancestors('v3')") == [
        (0, "v3", "ok", "ok", ts(320)),
        (1, "e1", "ok", "ok", ts(100)),
        (2, "d1", "root", "ok", ts(10)),
    ]
    # the walk follows a wrong-stage link (the lineage view does not) and says so
    assert rows(rich, "SELECT depth, gen_id, stage, link_status FROM ancestors('e_wrong')") == [
        (0, "e_wrong", "essay", "parent_wrong_stage"),
        (1, "e1", "essay", "ok"),
        (2, "d1", "draft", "root"),
    ]
    assert rows(rich, "SELECT * FROM ancestors('no-such-id')") == []


def test_descendants(rich):
    assert rows(rich, "SELECT depth, gen_id FROM descendants('e1')") == [
        (0, "e1"),
        (1, "e_wrong"),
        (1, "v1"),
        (1, "v2"),
        (1, "v3"),
        (1, "v3r"),
        (1, "v_inc"),
        (1, "v_mis"),
    ]
    assert rows(rich, "SELECT depth, count(*) FROM descendants('d1') GROUP BY depth ORDER BY depth") == [
        (0, 1),
        (1, 4),
        (2, 7),
    ]
    assert rows(rich, "SELECT depth, gen_id FROM descendants('d2')") == [(0, "d2"), (1, "e_copy"), (2, "v6")]


def test_walks_stop_on_a_cycle(tmp_path):
    s = HandStore(tmp_path)
    s.essay("e_a", "e_b")
    s.essay("e_b", "e_a")
    con = s.connect()
    assert rows(con, "SELECT count(*), max(depth) FROM ancestors('e_a')") == [(17, 16)]
    assert rows(con, "SELECT gen_id, broken_reason, dangling_parent_id FROM lineage ORDER BY gen_id") == [
        ("e_a", "parent_wrong_stage", "e_b"),
        ("e_b", "parent_wrong_stage", "e_a"),
    ]


# ---------------------------------------------------------------------------------------------------
# token_usage
# ---------------------------------------------------------------------------------------------------


def test_token_usage_rows(rich):
    got = rows(
        rich,
        """
        SELECT gen_id, prompt_tokens, completion_tokens, total_tokens, max_tokens, usage_recorded,
               prompt_bytes, prompt_tokens_estimate, duration_s, day
        FROM token_usage ORDER BY stage, gen_id""",
    )
    day = date(2023, 11, 14)
    p_d, p_e, p_v = len("write a draft\n"), len("write an essay\n"), len("evaluate\n")
    assert got == [
        ("d1", None, 100, None, 1000, True, p_d, round(p_d / 4), 2.0, day),
        ("d2", None, None, None, None, False, p_d, round(p_d / 4), None, day),
        ("d_bad", None, None, None, None, False, None, None, None, day),
        ("d_inc", None, None, None, None, False, p_d, round(p_d / 4), None, day),
        ("e1", None, 300, None, 2000, True, p_e, round(p_e / 4), None, day),
        ("e1n", None, None, None, None, False, None, None, None, day),
        ("e1r", None, None, None, None, False, p_e, round(p_e / 4), None, day),
        ("e_dang", None, None, None, None, False, p_e, round(p_e / 4), None, day),
        ("e_inc", None, 10, None, None, True, p_e, round(p_e / 4), None, day),
        ("e_wrong", None, None, None, None, False, p_e, round(p_e / 4), None, day),
        ("v1", 50, 5, 55, None, True, p_v, round(p_v / 4), None, day),
        ("v2", None, None, None, None, False, p_v, 2, None, day),
        ("v3", None, None, None, None, False, p_v, 2, None, day),
        ("v3r", None, None, None, None, False, p_v, 2, None, day),
        ("v4", None, None, None, None, False, p_v, 2, None, day),
        ("v5", None, None, None, None, False, p_v, 2, None, day),
        ("v6", None, None, None, None, False, p_v, 2, None, day),
        ("v_inc", None, None, None, None, False, p_v, 2, None, day),
        ("v_mis", None, None, None, None, False, p_v, 2, None, day),
    ]  # e_copy (copy mode) made no model call: not here


# ---------------------------------------------------------------------------------------------------
# scores
# ---------------------------------------------------------------------------------------------------


def test_scores_through_lineage(rich):
    got = rows(
        rich,
        """
        SELECT gen_id, score, score_error, evaluation_template_id, evaluation_model_id, replicate,
               essay_gen_id, essay_template_id, essay_model_id, draft_gen_id, draft_template_id, combo_id, broken_link
        FROM scores ORDER BY gen_id""",
    )
    assert got == [
        ("v1", 7.0, None, "vt", "m3", 1, "e1", "et", "m2", "d1", "dt", "c1", False),
        ("v2", 5.0, None, "vt", "m3", 2, "e1", "et", "m2", "d1", "dt", "c1", False),
        ("v3", 9.0, None, "vt", "m4", 1, "e1", "et", "m2", "d1", "dt", "c1", False),
        ("v3r", 3.0, None, "vt", "m4", 1, "e1", "et", "m2", "d1", "dt", "c1", False),
        ("v4", 6.0, None, "vt", "m3", 1, "e_dang", "et3", "m2", None, None, None, True),
        ("v5", None, "parsed.txt is missing", "vt", "m3", 1, None, None, None, None, None, None, True),
        ("v6", 4.0, None, "vt", "m3", 1, "e_copy", "copy-t", None, "d2", "dt2", "c2", False),
        ("v_inc", None, "parsed.txt is missing", "vt", "m9", 1, "e1", "et", "m2", "d1", "dt", "c1", False),
        ("v_mis", 8.0, None, "vt", "m5", 1, "e1", "et", "m2", "d1", "dt", "c1", False),
    ]


# ---------------------------------------------------------------------------------------------------
# problems and scan_errors
# ---------------------------------------------------------------------------------------------------


def test_problems_rows(rich):
    got = rows(rich, "SELECT kind, stage, gen_id, cohort_id, path FROM problems ORDER BY kind, stage, gen_id, path")
    assert got == [
        ("gen_id_mismatch", "evaluation", "v_mis", None, "gens/evaluation/v_mis"),
        ("member_missing", "draft", "v1", "A", "cohorts/A/membership.csv"),
        ("member_missing", "essay", "nope", "A", "cohorts/A/membership.csv"),
        ("parent_missing", "essay", "e_dang", None, "gens/essay/e_dang"),
        ("parent_missing", "evaluation", "v5", None, "gens/evaluation/v5"),
        ("parent_wrong_stage", "essay", "e_wrong", None, "gens/essay/e_wrong"),
        ("stage_mismatch", "evaluation", "v_mis", None, "gens/evaluation/v_mis"),
        ("status_inconsistent", "essay", "e_inc", None, "gens/essay/e_inc"),
        ("status_inconsistent", "evaluation", "v_inc", None, "gens/evaluation/v_inc"),
        ("unreadable_file", "draft", "d_bad", None, "gens/draft/d_bad/metadata.json"),
    ]


def test_problem_details(rich):
    detail = dict(rows(rich, "SELECT kind || ':' || gen_id, detail FROM problems"))
    assert detail["parent_missing:e_dang"] == "parent task__abc not found in any stage (expected under draft/)"
    assert detail["parent_wrong_stage:e_wrong"] == "parent e1 is under essay/, not draft/"
    assert detail["stage_mismatch:v_mis"] == "metadata says stage essay, the directory is under evaluation/"
    assert detail["gen_id_mismatch:v_mis"] == "metadata says gen_id v_old, the directory is v_mis"
    assert (
        detail["member_missing:nope"]
        == "cohort A lists essay nope (line 5) but that generation directory does not exist"
    )
    assert detail["member_missing:v1"] == (
        "cohort A lists draft v1 (line 6) but that generation directory does not exist (a directory of that name exists under evaluation/)"
    )
    assert "status_inconsistent:d_inc" not in detail  # a parser's fallback text: failure recorded, parsed.txt kept
    assert (
        detail["status_inconsistent:e_inc"]
        == "status ok: a model call is recorded and parsed.txt exists, but raw.txt is missing"
    )
    assert (
        detail["status_inconsistent:v_inc"]
        == "status parse_error: the parser recorded success but parsed.txt is missing"
    )
    assert detail["unreadable_file:d_bad"].startswith("invalid_json: ")


def test_problem_no_parent_recorded(tmp_path):
    s = HandStore(tmp_path)
    s.evaluation("v1", None)
    con = s.connect()
    assert rows(con, "SELECT kind, gen_id, detail FROM problems") == [
        ("parent_missing", "v1", "no parent_gen_id recorded: an evaluation needs a parent essay"),
    ]
    assert rows(con, "SELECT broken_reason, dangling_parent_id FROM lineage") == [("no_parent", None)]


def test_problems_keep_other_scan_error_kinds(tmp_path):
    s = HandStore(tmp_path)
    s.gen("draft", "d_nometa", None, raw="x\n", parsed="x\n")
    (s.data / "gens" / "notes.txt").write_text("stray")
    s.cohort("bad", "a,b\n1,2\n")
    con = s.connect()
    assert rows(con, "SELECT kind, gen_id, cohort_id, path FROM problems ORDER BY kind") == [
        ("bad_membership", None, "bad", "cohorts/bad/membership.csv"),
        ("missing_metadata", "d_nometa", None, "gens/draft/d_nometa/metadata.json"),
        ("unexpected_entry", None, None, "gens/notes.txt"),
    ]
    assert rows(con, "SELECT count(*) FROM scan_errors") == [(3,)]


# ---------------------------------------------------------------------------------------------------
# the sample store (gensql.synth): views agree with what the generator meant to write
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from gensql.synth import make_sample_store

    data = tmp_path_factory.mktemp("sample") / "data"
    truth = make_sample_store(data)
    gensql.refresh(data, jobs=1)
    con = gensql.connect(data)
    yield con, truth
    con.close()


def test_sample_every_view_answers(sample):
    con, truth = sample
    for view in PUBLIC_VIEWS:
        con.sql(f"SELECT * FROM {view}").to_arrow_table()
    assert rows(con, "SELECT count(*) FROM documents") == [(truth.n_gens,)]
    assert rows(con, "SELECT count(*) FROM lineage") == [(truth.n_gens,)]
    assert rows(con, "SELECT count(*) FROM scores") == [(truth.stage_counts["evaluation"],)]


def test_sample_membership_and_missing_members(sample):
    con, truth = sample
    assert sorted(rows(con, "SELECT cohort_id, stage, gen_id FROM membership")) == sorted(truth.membership)
    assert sorted(rows(con, "SELECT cohort_id, stage, gen_id FROM membership WHERE NOT exists_on_disk")) == sorted(
        truth.missing_members
    )
    assert sorted(rows(con, "SELECT cohort_id, stage, gen_id FROM problems WHERE kind = 'member_missing'")) == sorted(
        truth.missing_members
    )


def test_sample_parent_problems(sample):
    con, truth = sample
    non_drafts = lambda keys: sorted(k for k in keys if k[0] != "draft")  # noqa: E731  (a draft has no parent to check)
    got = rows(con, "SELECT stage, gen_id FROM problems WHERE kind = 'parent_wrong_stage' ORDER BY ALL")
    assert got == non_drafts(truth.wrong_stage_parents)
    got = rows(
        con,
        "SELECT stage, gen_id FROM problems WHERE kind = 'parent_missing' AND detail NOT LIKE 'no parent%' ORDER BY ALL",
    )
    assert got == non_drafts(truth.dangling_parents)
    no_parent = sorted(k for k, g in truth.gens.items() if k[0] != "draft" and g.values["parent_gen_id"] is None)
    assert (
        rows(
            con,
            "SELECT stage, gen_id FROM problems WHERE kind = 'parent_missing' AND detail LIKE 'no parent%' ORDER BY ALL",
        )
        == no_parent
    )
    broken = set(non_drafts(truth.wrong_stage_parents)) | set(non_drafts(truth.dangling_parents)) | set(no_parent)
    assert set(rows(con, "SELECT stage, gen_id FROM lineage WHERE broken_gen_id = gen_id")) == broken


def test_sample_identity_mismatches(sample):
    con, truth = sample
    got = rows(
        con,
        "SELECT DISTINCT stage, gen_id FROM problems WHERE kind IN ('stage_mismatch', 'gen_id_mismatch') ORDER BY ALL",
    )
    assert got == sorted(set(truth.stage_mismatches))


def test_sample_unreadable_files(sample):
    con, truth = sample
    kinds = {"invalid_json", "empty_file", "not_utf8", "not_an_object", "unreadable"}
    want = sorted(e.path for e in truth.scan_errors if e.kind in kinds)
    assert rows(con, "SELECT path FROM problems WHERE kind = 'unreadable_file' ORDER BY path") == [(p,) for p in want]


def test_sample_attempts_follow_logical_groups(sample):
    con, truth = sample
    groups: dict[tuple[str, str], set[str]] = {}
    for (stage, gen_id), g in truth.gens.items():
        groups.setdefault((stage, g.logical_group), set()).add(gen_id)
    got = {frozenset(ids) for (ids,) in rows(con, "SELECT list(gen_id) FROM gens GROUP BY stage, logical_key")}
    assert got == {frozenset(ids) for ids in groups.values()}
    assert rows(con, "SELECT count(*), sum(attempts)::BIGINT FROM attempts") == [(len(groups), truth.n_gens)]
    n_ok_products = len(
        {k for k, ids in groups.items() if any(truth.gens[(k[0], i)].values["status"] == "ok" for i in ids)}
    )
    assert rows(con, "SELECT count(*) FROM latest_attempt") == [(n_ok_products,)]


def test_sample_token_usage_excludes_copy_mode(sample):
    con, truth = sample
    want = sum(1 for g in truth.gens.values() if g.values["is_model_call"])
    assert rows(con, "SELECT count(*) FROM token_usage") == [(want,)]
    assert rows(con, "SELECT count(*) FROM token_usage t JOIN gens g USING (stage, gen_id) WHERE g.mode = 'copy'") == [
        (0,)
    ]
    want_tokens = sum(g.values["completion_tokens"] or 0 for g in truth.gens.values() if g.values["is_model_call"])
    assert rows(con, "SELECT coalesce(sum(completion_tokens), 0)::BIGINT FROM token_usage") == [(want_tokens,)]


def test_sample_scores_match_truth(sample):
    con, truth = sample
    want = sorted((g.gen_id, g.values["score"]) for g in truth.gens.values() if g.stage == "evaluation")
    assert rows(con, "SELECT gen_id, score FROM scores ORDER BY gen_id") == want


# ---------------------------------------------------------------------------------------------------
# named queries over the rich store
# ---------------------------------------------------------------------------------------------------


def test_score_pivot_counts_replicates_not_retries(rich):
    from gensql.query import run_named

    got = run_named(rich, "score_pivot").to_pylist()
    assert [
        (
            r["essay_gen_id"],
            r["evaluation_model_id"],
            r["mean_score"],
            r["min_score"],
            r["max_score"],
            r["n"],
            r["n_unscored"],
        )
        for r in got
    ] == [
        ("e1", "m3", 6.0, 5.0, 7.0, 2, 0),  # replicates 1 and 2
        ("e1", "m4", 9.0, 9.0, 9.0, 1, 0),  # v3 and its older attempt v3r are one product: the newest score counts
        ("e1", "m5", 8.0, 8.0, 8.0, 1, 0),
        ("e1", "m9", None, None, None, 0, 1),  # never scored
        ("e_copy", "m3", 4.0, 4.0, 4.0, 1, 0),
        ("e_dang", "m3", 6.0, 6.0, 6.0, 1, 0),  # the essay is known even though its draft link dangles
    ]
    assert {r["essay_gen_id"]: r["combo_id"] for r in got} == {"e1": "c1", "e_copy": "c2", "e_dang": None}


def test_cohort_coverage_and_latest_attempts_queries(rich):
    from gensql.query import run_named

    got = run_named(rich, "cohort_coverage").to_pylist()
    assert [tuple(r.values()) for r in got] == [
        ("A", "draft", 2, 1, 1, 1, 50.0),
        ("A", "essay", 2, 1, 1, 1, 50.0),
        ("A", "evaluation", 1, 1, 1, 0, 100.0),
        ("B", "draft", 2, 2, 2, 0, 100.0),
    ]
    got = run_named(rich, "latest_attempts", {"stage": "essay"}).to_pylist()
    assert [(r["latest_gen_id"], r["latest_status"], r["latest_ok_gen_id"], r["attempts"]) for r in got] == [
        ("e_copy", "ok", "e_copy", 1),  # template copy-t sorts first
        ("e1n", "gen_error", "e1", 3),
        ("e_wrong", "ok", "e_wrong", 1),
        ("e_dang", "ok", "e_dang", 1),
        ("e_inc", "ok", "e_inc", 1),
    ]


def test_walks_and_links_resolve_parents_by_one_rule(rich, sample):
    for con in (rich, sample[0]):
        assert rows(
            con,
            """
            SELECT count(*) FROM _links AS l
            WHERE _parent_stage(l.stage, l.parent_gen_id) IS DISTINCT FROM l.parent_stage""",
        ) == [(0,)]
        assert rows(con, "SELECT count(DISTINCT link_status) >= 3 FROM _links") == [(True,)]
