"""The scanner reads every format era and every malformed-file kind into exact gens rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from storebuilder import BASE_TIME, write_gen, write_membership

from gensql import refresh
from gensql.partitions import read_table


def index_rows(root, table="gens"):
    rows = read_table(root / "index" / "current", table).to_pylist()
    return rows


def gens_by_id(root):
    return {r["gen_id"]: r for r in index_rows(root)}


def pick(row, *cols):
    return {c: row[c] for c in cols}


@pytest.fixture
def store(tmp_path):
    (tmp_path / "gens").mkdir()
    return tmp_path


def test_current_era_split_metadata(store):
    write_gen(
        store,
        "draft",
        "d_1",
        {
            "metadata.json": {
                "stage": "draft",
                "gen_id": "d_1",
                "origin_cohort_id": "c1",
                "mode": "llm",
                "template_id": "links-v4",
                "combo_id": "combo_7",
                "llm_model_id": "sonnet-4",
                "replicate": 2,
            },
            "raw_metadata.json": {
                "function": "draft_raw",
                "mode": "llm",
                "stage": "draft",
                "gen_id": "d_1",
                "run_id": "r9",
                "llm_model_id": "sonnet-4",
                "duration_s": 12.5,
                "finish_reason": "stop",
                "truncated": False,
                "usage": {"completion_tokens": 812, "max_tokens": 4096},
            },
            "parsed_metadata.json": {
                "stage": "draft",
                "gen_id": "d_1",
                "function": "draft_parsed",
                "parser_name": "identity",
                "success": True,
                "run_id": "r9",
            },
            "prompt.txt": "p" * 100,
            "raw.txt": "r" * 50,
            "parsed.txt": "q" * 40,
        },
        at=BASE_TIME,
    )
    refresh(store)
    row = gens_by_id(store)["d_1"]
    assert pick(
        row,
        "stage",
        "gen_dir",
        "model_id",
        "template_id",
        "combo_id",
        "origin_cohort_id",
        "replicate",
        "mode",
        "run_id",
        "function",
        "parser_name",
        "finish_reason",
    ) == {
        "stage": "draft",
        "gen_dir": "gens/draft/d_1",
        "model_id": "sonnet-4",
        "template_id": "links-v4",
        "combo_id": "combo_7",
        "origin_cohort_id": "c1",
        "replicate": 2,
        "mode": "llm",
        "run_id": "r9",
        "function": "draft_raw",
        "parser_name": "identity",
        "finish_reason": "stop",
    }
    assert pick(row, "prompt_tokens", "completion_tokens", "total_tokens", "max_tokens", "duration_s") == {
        "prompt_tokens": None,
        "completion_tokens": 812,
        "total_tokens": None,
        "max_tokens": 4096,
        "duration_s": 12.5,
    }
    assert pick(row, "prompt_bytes", "raw_bytes", "parsed_bytes", "has_prompt", "has_raw", "has_parsed") == {
        "prompt_bytes": 100,
        "raw_bytes": 50,
        "parsed_bytes": 40,
        "has_prompt": True,
        "has_raw": True,
        "has_parsed": True,
    }
    assert pick(
        row, "status", "truncated", "is_model_call", "created_at_source", "error_count", "score", "score_error"
    ) == {
        "status": "ok",
        "truncated": False,
        "is_model_call": True,
        "created_at_source": "raw",
        "error_count": 0,
        "score": None,
        "score_error": None,
    }
    assert row["created_at"] == datetime.fromtimestamp(BASE_TIME, UTC)
    meta = json.loads(row["meta"])
    assert meta["parser_name"] == "identity" and meta["usage"] == {"completion_tokens": 812, "max_tokens": 4096}


def test_transition_placeholders_lose_to_raw_metadata(store):
    write_gen(
        store,
        "essay",
        "e_1",
        {
            "metadata.json": {
                "stage": "essay",
                "gen_id": "e_1",
                "mode": "llm",
                "template_id": "t",
                "parent_gen_id": "d_1",
                "llm_model_id": "m",
                "usage": None,
                "truncated": False,
                "finish_reason": None,
            },
            "raw_metadata.json": {
                "usage": {"completion_tokens": 4096, "max_tokens": 4096},
                "truncated": True,
                "finish_reason": "length",
                "duration_s": 3,
            },
            "raw.txt": "cut off",
        },
    )
    refresh(store)
    row = gens_by_id(store)["e_1"]
    assert pick(
        row,
        "completion_tokens",
        "max_tokens",
        "finish_reason",
        "recorded_truncated",
        "truncated",
        "status",
        "duration_s",
    ) == {
        "completion_tokens": 4096,
        "max_tokens": 4096,
        "finish_reason": "length",
        "recorded_truncated": True,
        "truncated": True,
        "status": "truncated",
        "duration_s": 3.0,
    }


def test_single_file_era_with_aliases(store):
    write_gen(
        store,
        "evaluation",
        "0a1b2c3d4e5f6g7h",
        {
            "metadata.json": {
                "template_id": None,
                "evaluation_template": "novelty",
                "model_id": "gpt-4o",
                "parent_doc_id": "e_1",
                "parser_name": "score_line",
                "mode": "llm",
                "files": {"raw": "/home/someone/data/gens/evaluation/x/raw.txt"},
                "finish_reason": "stop",
                "truncated": False,
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                "duration_ms": 1500,
                "max_tokens": 64,
                "total_tokens": None,
                "function": "evaluation_response",
                "run_id": "old",
                "cohort_id": "legacy-cohort",
                "replicate": "3",
                "task_id": "t__x",
            },
            "raw.txt": "reasoning...\nSCORE: 6",
            "parsed.txt": "reasoning...\nSCORE: 6\n",
        },
    )
    refresh(store)
    row = gens_by_id(store)["0a1b2c3d4e5f6g7h"]
    assert pick(
        row,
        "model_id",
        "template_id",
        "parent_gen_id",
        "origin_cohort_id",
        "replicate",
        "task_id",
        "function",
        "duration_s",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "max_tokens",
        "score",
        "status",
    ) == {
        "model_id": "gpt-4o",
        "template_id": "novelty",
        "parent_gen_id": "e_1",
        "origin_cohort_id": "legacy-cohort",
        "replicate": 3,
        "task_id": "t__x",
        "function": "evaluation_response",
        "duration_s": 1.5,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "max_tokens": 64,
        "score": 6.0,
        "status": "ok",
    }


def test_imported_era_null_like_strings_and_digit_strings(store):
    write_gen(
        store,
        "essay",
        "e_imp",
        {
            "metadata.json": {
                "essay_template": "creative-v2",
                "llm_model_id": "nan",
                "parent_gen_id": "none",
                "combo_id": "",
                "replicate": "2",
                "mode": "null",
                "parent_task_id": "abc__x",
                "legacy_fields": {"a": 1},
            },
            "raw_metadata.json": {"usage": {"input_tokens": "300", "output_tokens": "45"}, "finish_reason": "NULL"},
            "raw.txt": "x",
            "parsed.txt": "y",
        },
    )
    refresh(store)
    row = gens_by_id(store)["e_imp"]
    assert pick(
        row,
        "template_id",
        "model_id",
        "parent_gen_id",
        "combo_id",
        "replicate",
        "mode",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    ) == {
        "template_id": "creative-v2",
        "model_id": None,
        "parent_gen_id": None,
        "combo_id": None,
        "replicate": 2,
        "mode": None,
        "finish_reason": None,
        "prompt_tokens": 300,
        "completion_tokens": 45,
        "total_tokens": 345,
    }
    assert json.loads(row["meta"])["legacy_fields"] == {"a": 1}  # unknown keys stay queryable


def test_total_tokens_alone_and_usage_null(store):
    write_gen(
        store,
        "draft",
        "d_tot",
        {"metadata.json": {"mode": "llm", "usage": {"total_tokens": "999"}}, "raw.txt": "a", "parsed.txt": "b"},
    )
    write_gen(
        store, "draft", "d_null", {"metadata.json": {"mode": "llm", "usage": None}, "raw.txt": "a", "parsed.txt": "b"}
    )
    refresh(store)
    rows = gens_by_id(store)
    assert pick(rows["d_tot"], "prompt_tokens", "completion_tokens", "total_tokens") == {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": 999,
    }
    assert pick(rows["d_null"], "prompt_tokens", "completion_tokens", "total_tokens", "replicate") == {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
        "replicate": 1,
    }


@pytest.mark.parametrize(
    "parsed, score, error",
    [
        ("7.0\n", 7.0, None),
        ("7\n", 7.0, None),
        ("The essay is novel.\nIt is also clear.\nSCORE: 8\n", 8.0, None),
        ("Draft score: SCORE: 3\nrevised\nSCORE: 5.5", 5.5, None),
        (
            "I cannot rate this.",
            None,
            "no score in parsed.txt: expected a number or a 'SCORE: n' line, found 'I cannot rate this.'",
        ),
        ("", None, "parsed.txt is empty"),
        (None, None, "parsed.txt is missing"),
    ],
)
def test_evaluation_scores_in_every_form(store, parsed, score, error):
    files = {"metadata.json": {"mode": "llm", "parent_gen_id": "e_1"}, "raw.txt": "r"}
    if parsed is not None:
        files["parsed.txt"] = parsed
    write_gen(store, "evaluation", "v_1", files)
    refresh(store)
    row = gens_by_id(store)["v_1"]
    assert (row["score"], row["score_error"]) == (score, error)
    assert row["status"] == ("ok" if score is not None else "parse_error")


def test_status_rules(store):
    write_gen(store, "draft", "skipped", {"metadata.json": {"mode": "llm"}})
    write_gen(
        store,
        "draft",
        "failed_call",
        {"metadata.json": {"mode": "llm"}, "raw_metadata.json": {"finish_reason": "error"}},
    )
    write_gen(store, "draft", "empty_raw", {"metadata.json": {"mode": "llm"}, "raw.txt": ""})
    write_gen(
        store,
        "draft",
        "capped",
        {
            "metadata.json": {"mode": "llm", "usage": {"completion_tokens": 100, "max_tokens": 100}},
            "raw.txt": "x",
            "parsed.txt": "y",
        },
    )
    write_gen(store, "draft", "unparsed", {"metadata.json": {"mode": "llm"}, "raw.txt": "x"})
    write_gen(
        store,
        "draft",
        "parser_said_no",
        {
            "metadata.json": {"mode": "llm"},
            "parsed_metadata.json": {"success": False, "error": "no links"},
            "raw.txt": "x",
            "parsed.txt": "",
        },
    )
    write_gen(
        store, "essay", "copied", {"metadata.json": {"mode": "copy", "parent_gen_id": "d"}, "parsed.txt": "copied text"}
    )
    write_gen(store, "draft", "fine", {"metadata.json": {"mode": "llm"}, "raw.txt": "x", "parsed.txt": "y"})
    refresh(store)
    rows = gens_by_id(store)
    assert {g: (r["status"], r["is_model_call"]) for g, r in rows.items()} == {
        "skipped": ("skipped", False),
        "failed_call": ("gen_error", True),
        "empty_raw": ("gen_error", True),
        "capped": ("truncated", True),
        "unparsed": ("parse_error", True),
        "parser_said_no": ("parse_error", True),
        "copied": ("ok", False),
        "fine": ("ok", True),
    }
    assert rows["parser_said_no"]["parse_error"] == "no links"
    assert rows["copied"]["created_at_source"] == "parsed"


def test_every_malformed_kind_is_recorded_and_keeps_the_row(store):
    write_gen(
        store,
        "draft",
        "trunc",
        {
            "metadata.json": {"mode": "llm", "llm_model_id": "m1"},
            "raw_metadata.json": b'{"usage": {"completion_tokens": 5',
            "raw.txt": "x",
            "parsed.txt": "y",
        },
    )
    write_gen(
        store, "draft", "empty", {"metadata.json": b"", "raw_metadata.json": {"llm_model_id": "m2"}, "raw.txt": "x"}
    )
    write_gen(
        store,
        "draft",
        "latin1",
        {"metadata.json": {"mode": "llm"}, "parsed_metadata.json": '{"parser_name": "caf\u00e9"}'.encode("latin-1")},
    )
    write_gen(store, "draft", "array", {"metadata.json": [1, 2], "raw.txt": "x"})
    write_gen(store, "draft", "nometa", {"raw.txt": "x", "parsed.txt": "y"})
    write_gen(
        store,
        "draft",
        "badvalue",
        {"metadata.json": {"mode": "llm", "replicate": "two", "llm_model_id": "m3"}, "raw.txt": "x", "parsed.txt": "y"},
    )
    (store / "gens" / "draft" / "notes.txt").write_text("stray")
    write_membership(store, "c_bad", "gen,stage_name\nx,y\n")
    refresh(store)
    rows = gens_by_id(store)
    assert sorted(rows) == ["array", "badvalue", "empty", "latin1", "nometa", "trunc"]  # never fewer rows
    errors = sorted(
        (e["path"], e["stage"], e["gen_id"], e["file"], e["kind"]) for e in index_rows(store, "scan_errors")
    )
    assert errors == [
        ("cohorts/c_bad/membership.csv", None, None, "membership.csv", "bad_membership"),
        ("gens/draft/array/metadata.json", "draft", "array", "metadata.json", "not_an_object"),
        ("gens/draft/badvalue/metadata.json", "draft", "badvalue", "metadata.json", "bad_value"),
        ("gens/draft/empty/metadata.json", "draft", "empty", "metadata.json", "empty_file"),
        ("gens/draft/latin1/parsed_metadata.json", "draft", "latin1", "parsed_metadata.json", "not_utf8"),
        ("gens/draft/nometa/metadata.json", "draft", "nometa", "metadata.json", "missing_metadata"),
        ("gens/draft/notes.txt", "draft", None, None, "unexpected_entry"),
        ("gens/draft/trunc/raw_metadata.json", "draft", "trunc", "raw_metadata.json", "invalid_json"),
    ]
    # What the other files said is kept.
    assert rows["trunc"]["model_id"] == "m1" and rows["trunc"]["status"] == "ok"
    assert rows["empty"]["model_id"] == "m2" and rows["empty"]["error_count"] == 1
    assert rows["badvalue"]["replicate"] == 1 and rows["badvalue"]["model_id"] == "m3"
    assert json.loads(rows["badvalue"]["meta"])["replicate"] == "two"
    messages = {e["gen_id"]: e["message"] for e in index_rows(store, "scan_errors")}
    assert messages["badvalue"] == "replicate='two' ignored for column replicate: expected an integer"
    assert messages["latin1"] == "not valid UTF-8 at byte 20"


def test_membership_current_and_wide_forms(store):
    write_gen(store, "draft", "d_1", {"metadata.json": {}})
    write_membership(store, "new", "stage,gen_id\ndraft,d_1\nessay,e_missing\n")
    write_membership(store, "old", "cohort_id,stage,gen_id,combo_id,llm_model_id\nold,draft,d_1,c7,m1\n")
    refresh(store)
    members = sorted((m["cohort_id"], m["stage"], m["gen_id"], m["extras"]) for m in index_rows(store, "membership"))
    assert members == [
        ("new", "draft", "d_1", None),
        ("new", "essay", "e_missing", None),
        ("old", "draft", "d_1", '{"cohort_id":"old","combo_id":"c7","llm_model_id":"m1"}'),
    ]


def test_membership_rows_that_are_not_members_are_reported_with_their_line(store):
    write_membership(store, "fast", "stage,gen_id\ndraft,d_1\nbogus,x\ndraft,\n")
    write_membership(store, "slow", "stage,gen_id\r\ndraft,d_1\r\n\r\nessay, \r\n")
    refresh(store)
    errors = sorted((e["path"], e["message"]) for e in index_rows(store, "scan_errors"))
    assert errors == [
        ("cohorts/fast/membership.csv", "line 3: stage 'bogus' / gen_id 'x' is not a valid member"),
        ("cohorts/fast/membership.csv", "line 4: stage 'draft' / gen_id '' is not a valid member"),
        ("cohorts/slow/membership.csv", "line 4: stage 'essay' / gen_id '' is not a valid member"),
    ]
    assert sorted((m["cohort_id"], m["gen_id"], m["line"]) for m in index_rows(store, "membership")) == [
        ("fast", "d_1", 2),
        ("slow", "d_1", 2),
    ]


def test_a_file_that_cannot_be_read_is_recorded_as_unreadable(store):
    """Root ignores file modes, so a directory where a JSON file should be stands in for EACCES/EIO."""
    gen_dir = write_gen(
        store,
        "draft",
        "d_odd",
        {"metadata.json": {"mode": "llm", "llm_model_id": "m1"}, "raw.txt": "x", "parsed.txt": "y"},
    )
    (gen_dir / "raw_metadata.json").mkdir()
    refresh(store)
    errors = [(e["path"], e["kind"], e["message"]) for e in index_rows(store, "scan_errors")]
    assert errors == [("gens/draft/d_odd/raw_metadata.json", "unreadable", "cannot read: Is a directory")]
    row = gens_by_id(store)["d_odd"]
    assert (row["model_id"], row["status"], row["has_raw_metadata"], row["error_count"]) == ("m1", "ok", False, 1)


def write_doc(root, rel, files):
    """A document of seed 000's docs store at ``docs/<rel>/`` (nested or flat)."""
    path = root / "docs" / rel
    path.mkdir(parents=True)
    for name, content in files.items():
        (path / name).write_text(json.dumps(content, indent=2) if name.endswith(".json") else content)
    return path


def test_docs_store_both_nestings_and_duplicate_ids(store):
    write_gen(
        store,
        "draft",
        "abcd000000000001",
        {"metadata.json": {"mode": "llm", "template_id": "t-gens"}, "raw.txt": "x", "parsed.txt": "x"},
    )
    doc = {
        "metadata.json": {
            "task_id": "c1_t1_m1",
            "combo_id": "c1",
            "draft_template": "t1",
            "model_id": "m1",
            "usage": None,
        },
        "raw.txt": "r\n",
        "parsed.txt": "p\n",
    }
    write_doc(store, "draft/lk00000000000001/abcd000000000001", doc)  # same id as the gens draft: gens wins
    write_doc(store, "draft/lk00000000000002/flat00000000001", doc)  # nested and flat with one doc_id: flat wins
    write_doc(store, "draft/flat00000000001", doc)
    write_doc(store, "draft/lk00000000000003/nest00000000001", doc)
    write_doc(
        store,
        "essay/ess0000000000001",
        {
            "metadata.json": {"essay_template": "e1", "model_id": "m1", "parent_doc_id": "nest00000000001"},
            "raw.txt": "e",
            "parsed.txt": "e",
        },
    )
    (store / "docs" / "notes.txt").write_text("stray")
    for _ in range(2):  # the second (incremental) refresh reports the same, once
        refresh(store)
        rows = {(r["stage"], r["gen_id"]): r for r in index_rows(store)}
        assert {k: (r["store_root"], r["gen_dir"]) for k, r in rows.items()} == {
            ("draft", "abcd000000000001"): ("gens", "gens/draft/abcd000000000001"),
            ("draft", "flat00000000001"): ("docs", "docs/draft/flat00000000001"),
            ("draft", "nest00000000001"): ("docs", "docs/draft/lk00000000000003/nest00000000001"),
            ("essay", "ess0000000000001"): ("docs", "docs/essay/ess0000000000001"),
        }
        nest = rows[("draft", "nest00000000001")]
        assert pick(
            nest,
            "template_id",
            "model_id",
            "combo_id",
            "task_id",
            "replicate",
            "mode",
            "status",
            "is_model_call",
            "facts_from",
        ) == {
            "template_id": "t1",
            "model_id": "m1",
            "combo_id": "c1",
            "task_id": "c1_t1_m1",
            "replicate": 1,
            "mode": None,
            "status": "ok",
            "is_model_call": True,
            "facts_from": None,
        }
        assert rows[("essay", "ess0000000000001")]["parent_gen_id"] == "nest00000000001"
        errors = sorted((e["path"], e["stage"], e["gen_id"], e["kind"]) for e in index_rows(store, "scan_errors"))
        assert errors == [
            ("docs/draft/lk00000000000001/abcd000000000001", "draft", "abcd000000000001", "duplicate_id"),
            ("docs/draft/lk00000000000002/flat00000000001", "draft", "flat00000000001", "duplicate_id"),
            ("docs/notes.txt", None, None, "unexpected_entry"),
        ]


def test_membership_facts_fill_only_what_the_metadata_lacks(store):
    write_gen(
        store,
        "draft",
        "d_own",
        {
            "metadata.json": {"template_id": "t-own", "llm_model_id": "m-own", "combo_id": "c-own", "replicate": 1},
            "raw.txt": "x",
            "parsed.txt": "x",
        },
    )
    write_gen(
        store,
        "draft",
        "d_bare",
        {"metadata.json": {"template_id": "t1", "llm_model_id": "m1"}, "raw.txt": "x", "parsed.txt": "x"},
    )
    write_gen(
        store,
        "essay",
        "e_bare",
        {
            "metadata.json": {"mode": "copy", "llm_model_id": None, "parent_gen_id": "d_bare", "template_id": "copy-t"},
            "parsed.txt": "x",
        },
    )
    write_membership(
        store,
        "a",
        "stage,gen_id,cohort_id,parent_gen_id,combo_id,template_id,llm_model_id,replicate\n"
        "draft,d_own,a,,c-mem,t-mem,m-mem,3\ndraft,d_bare,a,,c9,t-mem,m-mem,2\nessay,e_bare,a,d_bare,nan,copy-t,m1,\n",
    )
    write_membership(store, "b", "stage,gen_id,combo_id\ndraft,d_bare,c-later\nessay,e_bare,c-from-b\n")
    refresh(store)
    rows = gens_by_id(store)
    assert pick(rows["d_own"], "template_id", "model_id", "combo_id", "replicate", "facts_from") == {
        "template_id": "t-own",
        "model_id": "m-own",
        "combo_id": "c-own",
        "replicate": 1,
        "facts_from": None,
    }  # metadata wins, recorded 1 included
    assert pick(rows["d_bare"], "template_id", "model_id", "combo_id", "replicate", "facts_from") == {
        "template_id": "t1",
        "model_id": "m1",
        "combo_id": "c9",
        "replicate": 2,
        "facts_from": "membership",
    }  # cohort a before b
    from gensql.ids import logical_key_id

    assert rows["d_bare"]["logical_key"] == logical_key_id("draft", "c9", "t1", "m1", 2)
    assert pick(rows["e_bare"], "model_id", "combo_id", "replicate", "is_model_call", "facts_from") == {
        "model_id": "m1",
        "combo_id": "c-from-b",
        "replicate": 1,
        "is_model_call": False,
        "facts_from": "membership",
    }  # 'nan' is no value


def test_an_unreadable_documents_sqlite_is_reported_and_the_docs_rows_stay(store):
    write_doc(
        store,
        "draft/doc0000000000001",
        {"metadata.json": {"draft_template": "t1", "model_id": "m1"}, "raw.txt": "r", "parsed.txt": "p"},
    )
    (store / "db").mkdir()
    (store / "db" / "documents.sqlite").write_bytes(b"not a database at all" * 10)
    refresh(store)
    errors = [(e["path"], e["kind"]) for e in index_rows(store, "scan_errors")]
    assert errors == [("db/documents.sqlite", "bad_sqlite")]
    row = gens_by_id(store)["doc0000000000001"]
    assert pick(row, "template_id", "run_id", "created_at_source", "facts_from") == {
        "template_id": "t1",
        "run_id": None,
        "created_at_source": "raw",
        "facts_from": None,
    }


def test_a_data_root_with_only_a_docs_store_is_indexed(tmp_path):
    write_doc(
        tmp_path,
        "evaluation/lk00000000000009/doc0000000000002",
        {
            "metadata.json": {"evaluation_template": "v1", "model_id": "m1", "parent_doc_id": "gone"},
            "raw.txt": "Fine.\nSCORE: 6",
            "parsed.txt": "Fine.\nSCORE: 6",
        },
    )
    refresh(tmp_path)
    row = gens_by_id(tmp_path)["doc0000000000002"]
    assert pick(row, "stage", "store_root", "score", "status") == {
        "stage": "evaluation",
        "store_root": "docs",
        "score": 6.0,
        "status": "ok",
    }
    import gensql

    problems = gensql.connect(tmp_path).execute("SELECT kind, gen_id, path FROM problems").fetchall()
    assert problems == [("parent_missing", "doc0000000000002", "docs/evaluation/lk00000000000009/doc0000000000002")]


def test_a_wide_membership_replicate_that_is_no_integer_is_a_bad_value(tmp_path):
    """The 2025-09-15 era's wide membership lends a replicate only when it is a positive integer; any
    other value (out of int64, a word, zero) is recorded, and the row keeps its own replicate."""
    from gensql import connect

    for gen_id in ("d_a", "d_b", "d_c", "d_d"):
        write_gen(
            tmp_path,
            "draft",
            gen_id,
            {"metadata.json": {"template_id": "t", "llm_model_id": "m"}, "raw.txt": "x", "parsed.txt": "x"},
        )
    cohort = tmp_path / "cohorts" / "wide"
    cohort.mkdir(parents=True)
    (cohort / "membership.csv").write_text(
        "stage,gen_id,replicate\ndraft,d_a,99999999999999999999999\ndraft,d_b,two\ndraft,d_c,0\ndraft,d_d,3\n"
    )
    refresh(tmp_path, jobs=1)
    con = connect(tmp_path)
    assert con.execute("SELECT gen_id, replicate FROM gens ORDER BY gen_id").fetchall() == [
        ("d_a", 1),
        ("d_b", 1),
        ("d_c", 1),
        ("d_d", 3),
    ]
    assert con.execute("SELECT gen_id, kind, message FROM scan_errors ORDER BY gen_id").fetchall() == [
        (
            "d_a",
            "bad_value",
            "line 2: replicate='99999999999999999999999' is not a positive integer; not used for draft/d_a",
        ),
        ("d_b", "bad_value", "line 3: replicate='two' is not a positive integer; not used for draft/d_b"),
        ("d_c", "bad_value", "line 4: replicate='0' is not a positive integer; not used for draft/d_c"),
    ]
