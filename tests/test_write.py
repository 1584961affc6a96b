"""The write path: write_generation / update_generation / write_membership / resolve_latest / export sqlite.

A generation written by gensql must read back through `gensql refresh` as exactly what was written,
survive a writer killed at any moment, and never replace an existing generation.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from budget import examples
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pause import kill_at

import gensql
from gensql.cli import cli
from gensql.errors import GenerationExistsError, GenerationNotFoundError, WriteError
from gensql.write import (
    export_sqlite,
    list_cohorts,
    resolve_latest,
    update_generation,
    write_generation,
    write_membership,
)
from gensql.write.export_sqlite import DOCUMENTS_COLUMNS, DOCUMENTS_DDL, DOCUMENTS_INDEXES

FILES = ("metadata.json", "raw_metadata.json", "parsed_metadata.json", "prompt.txt", "raw.txt", "parsed.txt")


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def gens_rows(root: Path) -> dict[str, dict]:
    gensql.refresh(root, jobs=1)
    con = gensql.connect(root)
    cur = con.execute("SELECT * FROM gens")
    names = [d[0] for d in cur.description]
    return {row[names.index("gen_id")]: dict(zip(names, row)) for row in cur.fetchall()}


def a_draft(root: Path, **kw) -> gensql.GenerationRef:
    facts = dict(
        template_id="creative-synthesis-v10",
        model_id="deepseek_r1_p",
        combo_id="combo_v1_0001",
        prompt="Combine A and B.",
        raw="Idea: A meets B.\n",
        parsed="Idea: A meets B.\n",
        usage={"completion_tokens": 12, "max_tokens": 4096},
        finish_reason="stop",
        duration_s=3.25,
        parser_name="identity",
        parse_success=True,
        run_id="run-1",
    )
    facts.update(kw)
    return write_generation(root, "draft", **facts)


# --------------------------------------------------------------------------------------------------
# Round trip


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
ids = st.from_regex(r"[a-z][a-z0-9_.\-]{0,15}", fullmatch=True)
maybe_tokens = st.one_of(st.none(), st.integers(min_value=0, max_value=2**40))


@st.composite
def generation_facts(draw):
    mode = draw(st.sampled_from(["llm", "llm", "copy"]))
    facts = {
        "template_id": draw(ids),
        "model_id": draw(ids) if mode == "llm" else draw(st.one_of(st.none(), ids)),
        "replicate": draw(st.integers(min_value=1, max_value=2**62)),
        "mode": mode,
        "run_id": draw(st.one_of(st.none(), ids)),
        "task_id": draw(st.one_of(st.none(), ids)),
        "origin_cohort_id": draw(st.one_of(st.none(), ids)),
        "prompt": draw(st.one_of(st.none(), texts)),
        "raw": draw(st.one_of(st.none(), texts)),
        "parsed": draw(st.one_of(st.none(), texts)),
        "parser_name": draw(st.one_of(st.none(), ids)),
        "parse_success": draw(st.one_of(st.none(), st.booleans())),
    }
    if mode == "llm":
        usage = {k: draw(maybe_tokens) for k in ("prompt_tokens", "completion_tokens", "max_tokens")}
        facts["usage"] = {k: v for k, v in usage.items() if v is not None} or None
        facts["finish_reason"] = draw(st.one_of(st.none(), st.sampled_from(["stop", "length", "content_filter"])))
        facts["duration_s"] = draw(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)))
        facts["truncated"] = draw(st.one_of(st.none(), st.booleans()))
    return facts


@pytest.mark.slow
@settings(max_examples=examples(0.12))
@given(st.lists(generation_facts(), min_size=1, max_size=6))
def test_a_written_generation_reads_back_as_written(tmp_path_factory, drafts):
    root = tmp_path_factory.mktemp("store")
    (root / "gens").mkdir()
    written = {}
    for i, facts in enumerate(drafts):
        combo = f"combo-{i}"
        if facts["task_id"] is not None:  # a task id names its product when a key part is unknown: one per draft
            facts = {**facts, "task_id": f"{facts['task_id']}-{i}"}
        ref = write_generation(root, "draft", combo_id=combo, **facts)
        written[ref.gen_id] = (ref, combo, facts)
    rows = gens_rows(root)
    assert set(rows) == set(written)
    for gen_id, (ref, combo, f) in written.items():
        row = rows[gen_id]
        usage = f.get("usage") or {}
        assert row["stage"] == "draft" and row["combo_id"] == combo
        assert row["logical_key"] == ref.logical_key
        for col, value in (
            ("template_id", f["template_id"]),
            ("model_id", f["model_id"]),
            ("replicate", f["replicate"]),
            ("mode", f["mode"]),
            ("run_id", f["run_id"]),
            ("task_id", f["task_id"]),
            ("origin_cohort_id", f["origin_cohort_id"]),
            ("parser_name", f["parser_name"]),
            ("parse_success", f["parse_success"]),
            ("prompt_tokens", usage.get("prompt_tokens")),
            ("completion_tokens", usage.get("completion_tokens")),
            ("max_tokens", usage.get("max_tokens")),
            ("duration_s", f.get("duration_s")),
            ("recorded_truncated", f.get("truncated")),
        ):
            if col == "run_id" and value is None:
                continue  # metadata.json has none; nothing else may invent one
            assert row[col] == value, (col, row[col], value)
        expected_finish = "copy" if f["mode"] == "copy" else f.get("finish_reason")
        if f["mode"] == "copy" and f["raw"] is None:
            expected_finish = None  # no raw_metadata.json: a copy with no raw text records no call
        assert row["finish_reason"] == expected_finish
        for name, text in (("prompt", f["prompt"]), ("raw", f["raw"]), ("parsed", f["parsed"])):
            assert row[f"has_{name}"] == (text is not None)
            assert row[f"{name}_bytes"] == (None if text is None else len(text.encode()))
        assert row["is_model_call"] == (
            f["mode"] == "llm"
            and (
                f["raw"] is not None
                or bool(usage)
                or f.get("finish_reason") is not None
                or f.get("duration_s") is not None
                or f.get("truncated") is not None
            )
        )
        assert row["error_count"] == 0
        loaded = gensql.load_generation(root / "gens", "draft", gen_id)
        assert (loaded["prompt_text"], loaded["raw_text"], loaded["parsed_text"]) == (
            f["prompt"],
            f["raw"],
            f["parsed"],
        )


def test_lineage_of_written_generations(tmp_path):
    draft = a_draft(tmp_path)
    essay = write_generation(
        tmp_path,
        "essay",
        parent_gen_id=draft.gen_id,
        template_id="essay-v3",
        model_id="gemini_2.5_flash",
        raw="An essay.",
        parsed="An essay.",
        usage={"completion_tokens": 40},
    )
    copy = write_generation(
        tmp_path,
        "essay",
        parent_gen_id=draft.gen_id,
        template_id="parsed-from-links-v1",
        mode="copy",
        parsed="Idea: A meets B.\n",
    )
    evaluation = write_generation(
        tmp_path,
        "evaluation",
        parent_gen_id=essay.gen_id,
        template_id="novelty-v1",
        model_id="sonnet-4",
        raw="Good.\nSCORE: 7",
        parsed="7.0\n",
        parser_name="in_last_line",
    )
    rows = gens_rows(tmp_path)
    assert [draft.gen_id[:2], essay.gen_id[:2], evaluation.gen_id[:2]] == ["d_", "e_", "v_"]
    assert rows[evaluation.gen_id]["score"] == 7.0 and rows[evaluation.gen_id]["status"] == "ok"
    assert rows[copy.gen_id]["is_model_call"] is False and rows[copy.gen_id]["mode"] == "copy"
    con = gensql.connect(tmp_path)
    lineage = con.execute(
        "SELECT draft_gen_id, essay_gen_id, combo_id FROM lineage WHERE gen_id = ?", [evaluation.gen_id]
    ).fetchone()
    assert lineage == (draft.gen_id, essay.gen_id, "combo_v1_0001")
    assert con.execute("SELECT count(*) FROM problems").fetchone()[0] == 0


# --------------------------------------------------------------------------------------------------
# Ids, refusal to overwrite, invariants


def test_deterministic_id_is_never_overwritten(tmp_path):
    first = a_draft(tmp_path)
    before = (first.path / "raw.txt").read_bytes()
    with pytest.raises(GenerationExistsError, match=f"draft/{first.gen_id} already exists"):
        a_draft(tmp_path, raw="something else")
    assert (first.path / "raw.txt").read_bytes() == before
    again = a_draft(tmp_path, new_attempt=True)
    third = a_draft(tmp_path, new_attempt=True)
    assert len({first.gen_id, again.gen_id, third.gen_id}) == 3
    assert first.logical_key == again.logical_key == third.logical_key
    other_run = a_draft(tmp_path, run_id="run-2")
    assert other_run.gen_id not in (first.gen_id, again.gen_id)
    assert sorted(p.name for p in (tmp_path / "gens" / "draft").iterdir()) == sorted(
        [first.gen_id, again.gen_id, third.gen_id, other_run.gen_id]
    )


def test_caller_given_id(tmp_path):
    ref = a_draft(tmp_path, gen_id="d_mine")
    assert ref.path == tmp_path.absolute() / "gens" / "draft" / "d_mine"
    assert json.loads((ref.path / "metadata.json").read_text())["gen_id"] == "d_mine"
    with pytest.raises(GenerationExistsError, match="d_mine"):
        a_draft(tmp_path, gen_id="d_mine")
    with pytest.raises(WriteError, match="do not pass gen_id"):
        a_draft(tmp_path, gen_id="d_other", new_attempt=True)
    with pytest.raises(gensql.GensqlError, match="invalid gen_id"):
        a_draft(tmp_path, gen_id="../escape")
    assert not (tmp_path / "gens" / "escape").exists()


def test_parent_invariants(tmp_path):
    draft = a_draft(tmp_path)
    with pytest.raises(WriteError, match=r"parent draft/d_nowhere of this essay does not exist"):
        write_generation(tmp_path, "essay", parent_gen_id="d_nowhere", template_id="t", model_id="m")
    essay = write_generation(tmp_path, "essay", parent_gen_id=draft.gen_id, template_id="t", model_id="m")
    with pytest.raises(WriteError, match=rf"parent essay/{draft.gen_id} of this evaluation"):
        write_generation(tmp_path, "evaluation", parent_gen_id=draft.gen_id, template_id="t", model_id="m")
    with pytest.raises(WriteError, match="needs parent_gen_id"):
        write_generation(tmp_path, "evaluation", template_id="t", model_id="m")
    imported = write_generation(
        tmp_path, "evaluation", parent_gen_id="e_later", template_id="t", model_id="m", check_parent=False
    )
    assert imported.path.is_dir()
    ok = write_generation(tmp_path, "evaluation", parent_gen_id=essay.gen_id, template_id="t", model_id="m")
    assert ok.path.is_dir()


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(template_id=""), "template_id is required"),
        (dict(model_id=None), "model_id is required"),
        (dict(mode="replay"), "mode must be one of llm, copy"),
        (dict(replicate=0), "replicate must be a positive integer"),
        (dict(replicate=True), "replicate must be a positive integer"),
        (dict(usage={"completion_tokens": -1}), r"usage\['completion_tokens'\] must be a non-negative integer"),
        (dict(usage={"tokens": 3}), "unknown usage key 'tokens'"),
        (dict(duration_s=float("inf")), "duration_s must be a finite number"),
        (dict(extra={"llm_model_id": "x"}), "extra must not set llm_model_id"),
        (dict(raw=b"bytes"), "raw must be text"),
        (dict(mode="copy", model_id=None, usage={"completion_tokens": 3}), "copy-mode generation made no model call"),
    ],
)
def test_invalid_facts_are_refused_before_anything_is_written(tmp_path, bad, message):
    with pytest.raises(WriteError, match=message):
        a_draft(tmp_path, **bad)
    assert not (tmp_path / "gens" / "draft").exists() or not any((tmp_path / "gens" / "draft").iterdir())


def test_extra_keys_are_kept_in_meta(tmp_path):
    ref = a_draft(tmp_path, extra={"temperature": 0.7, "experiment": {"arm": "B"}})
    row = gens_rows(tmp_path)[ref.gen_id]
    meta = json.loads(row["meta"])
    assert meta["temperature"] == 0.7 and meta["experiment"] == {"arm": "B"}


# --------------------------------------------------------------------------------------------------
# Stepwise writing


def test_prompt_first_then_response(tmp_path):
    draft = a_draft(tmp_path)
    ref = write_generation(
        tmp_path,
        "essay",
        parent_gen_id=draft.gen_id,
        template_id="essay-v3",
        model_id="m1",
        prompt="Write the essay.",
        run_id="r",
    )
    assert gens_rows(tmp_path)[ref.gen_id]["status"] == "skipped"
    update_generation(
        tmp_path,
        "essay",
        ref.gen_id,
        raw="The essay text.",
        usage={"completion_tokens": 5, "max_tokens": 5},
        finish_reason="length",
        duration_s=2.0,
        run_id="r",
    )
    row = gens_rows(tmp_path)[ref.gen_id]
    assert (row["status"], row["completion_tokens"], row["truncated"], row["model_id"]) == ("truncated", 5, True, "m1")
    update_generation(
        tmp_path,
        "essay",
        ref.gen_id,
        raw="The essay text, complete.",
        usage={"completion_tokens": 9, "max_tokens": 100},
        finish_reason="stop",
    )
    update_generation(
        tmp_path, "essay", ref.gen_id, parsed="The essay text, complete.", parser_name="identity", parse_success=True
    )
    row = gens_rows(tmp_path)[ref.gen_id]
    assert (row["status"], row["completion_tokens"], row["parser_name"], row["logical_key"]) == (
        "ok",
        9,
        "identity",
        ref.logical_key,
    )
    assert sorted(os.listdir(ref.path)) == sorted(FILES)  # no temporary file left behind
    with pytest.raises(WriteError, match="pass raw="):
        update_generation(tmp_path, "essay", ref.gen_id, usage={"completion_tokens": 1})
    with pytest.raises(GenerationNotFoundError, match="essay/e_none"):
        update_generation(tmp_path, "essay", "e_none", raw="x")


# --------------------------------------------------------------------------------------------------
# Crash safety and concurrency

WRITER = textwrap.dedent("""
    import sys
    from gensql.write import write_generation
    root, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    big = "x" * 1000
    for i in range(start, start + count):
        write_generation(root, "draft", gen_id=f"d_{i:05d}", template_id="t", model_id="m", combo_id=f"c{i}",
                         prompt=big, raw=big + str(i), parsed=str(i), usage={"completion_tokens": i},
                         parser_name="p", parse_success=True)
""")


def _complete(gen_dir: Path) -> bool:
    i = int(gen_dir.name[2:])
    return (
        sorted(os.listdir(gen_dir)) == sorted(FILES)
        and (gen_dir / "parsed.txt").read_text() == str(i)
        and (gen_dir / "raw.txt").read_text().endswith(str(i))
        and json.loads((gen_dir / "raw_metadata.json").read_text())["usage"] == {"completion_tokens": i}
    )


@pytest.mark.slow
def test_a_killed_writer_leaves_no_half_written_generation(tmp_path):
    """The writer is killed where gensql.faults stops it: after a random number of files, or with a
    generation's directory complete but not yet renamed into place; never at a guessed moment."""
    rng = random.Random(7)
    kills = (
        [("write.file", 1)]
        + [("write.file", rng.randint(2, 8 * len(FILES))) for _ in range(3)]
        + [
            ("write.rename", 1),
            ("write.rename", 5),
        ]
    )
    for trial, (point, nth) in enumerate(kills):
        root = tmp_path / f"t{trial}"
        assert kill_at(point, nth, ["-c", WRITER, str(root), "0", "10"]) == f"{point} {nth}"
        stage = root / "gens" / "draft"
        leftovers = sorted(f"gens/draft/{p.name}" for p in stage.iterdir() if p.name.startswith(".tmp-"))
        assert len(leftovers) == 1, (trial, leftovers)  # the kill landed inside a write
        visible = [p for p in stage.iterdir() if not p.name.startswith(".")]
        done_before = (nth - 1) // len(FILES) if point == "write.file" else nth - 1  # whole generations
        assert len(visible) == done_before
        assert all(_complete(p) for p in visible), trial
        rows = gens_rows(root)
        assert set(rows) == {p.name for p in visible}
        assert all(r["status"] == "ok" for r in rows.values())
        # what the killed writer left behind is reported, never read as a generation
        con = gensql.connect(root)
        reported = con.execute("SELECT path FROM scan_errors WHERE kind = 'leftover_tmp' ORDER BY path").fetchall()
        con.close()
        assert [r[0] for r in reported] == leftovers


@pytest.mark.slow
def test_two_writers_at_once(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(s), "40"]) for s in (0, 1000)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    dirs = sorted((tmp_path / "gens" / "draft").iterdir())
    assert len(dirs) == 80 and all(_complete(p) for p in dirs)


@pytest.mark.slow
def test_racing_writers_of_one_id_one_wins(tmp_path):
    code = textwrap.dedent("""
        import sys
        from gensql.errors import GenerationExistsError
        from gensql.write import write_generation
        won = 0
        for i in range(60):
            try:
                write_generation(sys.argv[1], "draft", gen_id=f"d_{i}", template_id="t", model_id="m", raw=sys.argv[2] * 5000)
                won += 1
            except GenerationExistsError:
                pass
        print(won)
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), tag], stdout=subprocess.PIPE, text=True)
        for tag in "ab"
    ]
    wins = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(wins) == 60
    for d in (tmp_path / "gens" / "draft").iterdir():
        assert not d.name.startswith(".")
        text = (d / "raw.txt").read_text()
        assert text in ("a" * 5000, "b" * 5000)


# --------------------------------------------------------------------------------------------------
# Cohorts


def test_write_membership_validates_and_is_read_by_refresh(tmp_path):
    draft = a_draft(tmp_path)
    with pytest.raises(WriteError, match="member 2: draft/d_x is listed twice"):
        write_membership(tmp_path, "c1", [("draft", "d_x"), {"stage": "draft", "gen_id": "d_x"}])
    with pytest.raises(WriteError, match="member 1: unknown stage 'drafts'"):
        write_membership(tmp_path, "c1", [("drafts", "d_x")])
    with pytest.raises(WriteError, match="member 1: invalid gen_id"):
        write_membership(tmp_path, "c1", [("draft", "a/b")])
    with pytest.raises(gensql.GensqlError, match="invalid cohort_id"):
        write_membership(tmp_path, "../c1", [])
    assert not (tmp_path / "cohorts").exists()
    ref = write_membership(tmp_path, "c1", [("draft", draft.gen_id), ("essay", "e_never")])
    assert ref.path.read_text() == f"stage,gen_id\ndraft,{draft.gen_id}\nessay,e_never\n"
    with pytest.raises(WriteError, match="already has"):
        write_membership(tmp_path, "c1", [])
    gensql.refresh(tmp_path, jobs=1)
    con = gensql.connect(tmp_path)
    assert con.execute("SELECT gen_id, exists_on_disk FROM membership ORDER BY gen_id").fetchall() == [
        (draft.gen_id, True),
        ("e_never", False),
    ]
    assert [(c.cohort_id, c.members, c.on_disk, c.missing) for c in list_cohorts(tmp_path)] == [("c1", 2, 1, 1)]


def test_cohort_create_from_sql_and_list_cli(tmp_path):
    refs = [a_draft(tmp_path, combo_id=f"c{i}", template_id=t) for i, t in enumerate(["t1", "t1", "t2"])]
    gensql.refresh(tmp_path, jobs=1)
    result = run(
        "cohort",
        "create",
        "only-t1",
        "--from-sql",
        "SELECT stage, gen_id FROM latest_attempt WHERE template_id = $t",
        "-p",
        "t=t1",
        "--data-root",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "cohort only-t1: 2 member(s) written" in result.stderr
    members = list(csv.reader(io.StringIO((tmp_path / "cohorts" / "only-t1" / "membership.csv").read_text())))
    assert members == [
        ["stage", "gen_id"],
        *sorted([["draft", refs[0].gen_id], ["draft", refs[1].gen_id]], key=lambda r: r),
    ] or sorted(members[1:]) == sorted([["draft", refs[0].gen_id], ["draft", refs[1].gen_id]])
    result = run("cohort", "create", "bad", "--from-sql", "SELECT gen_id FROM gens", "--data-root", str(tmp_path))
    assert result.exit_code == 2 and "must return the columns stage and gen_id (it lacks stage" in result.stderr
    result = run("cohort", "list", "--format", "csv", "--data-root", str(tmp_path))
    assert result.stdout == "cohort_id,members,on_disk,missing\nonly-t1,2,2,0\n"


# --------------------------------------------------------------------------------------------------
# Resolve the latest attempt


def _age(ref, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    for f in ref.path.iterdir():
        os.utime(f, (t, t))


def test_resolve_latest(tmp_path):
    old = a_draft(tmp_path)
    new = a_draft(tmp_path, new_attempt=True)
    newest_failed = a_draft(tmp_path, new_attempt=True, parsed=None, parse_success=None, parser_name=None)
    _age(old, 300), _age(new, 200), _age(newest_failed, 100)
    gensql.refresh(tmp_path, jobs=1)
    key = dict(combo_id="combo_v1_0001", template_id="creative-synthesis-v10", model_id="deepseek_r1_p")
    assert resolve_latest(tmp_path, "draft", **key)["gen_id"] == new.gen_id
    assert resolve_latest(tmp_path, "draft", **key, ok_only=False)["gen_id"] == newest_failed.gen_id
    assert resolve_latest(tmp_path, "draft", **key, replicate=2) is None
    assert resolve_latest(tmp_path, "draft", combo_id="c' OR 1=1 --") is None  # bound, never formatted in
    result = run(
        "latest",
        "--stage",
        "draft",
        "--combo",
        "combo_v1_0001",
        "--template",
        "creative-synthesis-v10",
        "--data-root",
        str(tmp_path),
    )
    assert (result.exit_code, result.stdout) == (0, new.gen_id + "\n")
    result = run("latest", "--stage", "draft", "--combo", "nope", "--data-root", str(tmp_path))
    assert result.exit_code == 1 and "no successful draft matches" in result.stderr and result.stdout == ""
    result = run("latest", "--stage", "draft", "--any-status", "--format", "json", "--data-root", str(tmp_path))
    assert json.loads(result.stdout)["gen_id"] == newest_failed.gen_id


# --------------------------------------------------------------------------------------------------
# SQLite export


def test_sqlite_export_has_seed_000_schema_and_equals_documents(tmp_path):
    draft = a_draft(tmp_path)
    write_generation(tmp_path, "essay", parent_gen_id=draft.gen_id, template_id="e", model_id="m", raw="r", parsed="p")
    a_draft(tmp_path, new_attempt=True)
    gensql.refresh(tmp_path, jobs=1)
    result = run("export", "sqlite", "--data-root", str(tmp_path))
    assert result.exit_code == 0, result.output
    db = tmp_path / "index" / "exports" / "documents.sqlite"  # never the pipeline's db/documents.sqlite
    assert "exported 3 documents" in result.stderr and str(db) in result.stderr
    out = sqlite3.connect(db)
    schema = dict(out.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'documents'").fetchall())
    assert schema["documents"] + ";" == DOCUMENTS_DDL
    assert {schema["idx_documents_logical"] + ";", schema["idx_documents_stage"] + ";"} == set(DOCUMENTS_INDEXES)
    assert out.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # no -wal/-shm beside it, ever
    exported = out.execute(f"SELECT {', '.join(DOCUMENTS_COLUMNS)} FROM documents ORDER BY doc_id").fetchall()
    con = gensql.connect(tmp_path)
    view = con.execute(f"SELECT {', '.join(DOCUMENTS_COLUMNS)} FROM documents ORDER BY doc_id").fetchall()
    at = DOCUMENTS_COLUMNS.index("created_at")
    assert [r[:at] + r[at + 1 :] for r in exported] == [r[:at] + r[at + 1 :] for r in view]
    assert [r[at] for r in exported] == [r[at].isoformat(timespec="microseconds") for r in view]
    snapshot = os.path.basename(os.readlink(tmp_path / "index" / "current"))
    assert out.execute("SELECT snapshot_id, documents FROM gensql_export").fetchall() == [(snapshot, 3)]
    out.close()


def test_sqlite_export_replaces_the_previous_one_atomically(tmp_path):
    a_draft(tmp_path)
    gensql.refresh(tmp_path, jobs=1)
    db = tmp_path / "exports" / "docs.sqlite"
    first = export_sqlite(tmp_path, db)
    reader = sqlite3.connect(db)  # a reader holding the old export open keeps reading a whole database
    assert reader.execute("SELECT count(*) FROM documents").fetchone() == (1,)
    a_draft(tmp_path, new_attempt=True)
    gensql.refresh(tmp_path, jobs=1)
    second = export_sqlite(tmp_path, db)
    assert (first.documents, second.documents) == (1, 2) and first.snapshot_id != second.snapshot_id
    assert sqlite3.connect(db).execute("SELECT count(*) FROM documents").fetchone() == (2,)
    assert reader.execute("SELECT count(*) FROM documents").fetchone() == (1,)
    reader.close()
    assert sorted(p.name for p in db.parent.iterdir()) == ["docs.sqlite"]


def test_the_export_is_not_read_back_as_facts_of_docs_rows(tmp_path):
    doc = tmp_path / "docs" / "draft" / "doc0000000000001"
    doc.mkdir(parents=True)
    (doc / "metadata.json").write_text(json.dumps({"task_id": "c1_t1_m1", "draft_template": "t1", "model_id": "m1"}))
    (doc / "raw.txt").write_text("draft text")
    (doc / "parsed.txt").write_text("draft text")
    (tmp_path / "gens").mkdir()
    before = gens_rows(tmp_path)["doc0000000000001"]
    assert (before["store_root"], before["created_at_source"], before["facts_from"]) == ("docs", "raw", None)
    export_sqlite(tmp_path, tmp_path / "db" / "documents.sqlite")  # where seed 000's own index lived
    after = gens_rows(tmp_path)["doc0000000000001"]
    assert (after["created_at_source"], after["facts_from"], after["created_at"]) == ("raw", None, before["created_at"])
    assert gensql.connect(tmp_path).execute("SELECT count(*) FROM scan_errors").fetchone() == (0,)


def test_backfill_db_writes_the_sqlite_export(tmp_path):
    """Seed 000's `backfill --db PATH`: migrate, refresh, export; the export holds the migrated documents."""
    legacy = tmp_path / "3_generation" / "links_responses"
    legacy.mkdir(parents=True)
    (legacy / "combo_1_tpl-v1_model_a.txt").write_text("a links draft\n")
    (legacy / "combo_2_tpl-v1_model_a.txt").write_text("another links draft\n")
    db = tmp_path / "out" / "documents.sqlite"
    result = run("backfill", "--data-root", str(tmp_path), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "exported 2 documents" in result.stderr
    rows = sqlite3.connect(db).execute("SELECT stage, status FROM documents ORDER BY doc_id").fetchall()
    assert rows == [("draft", "ok"), ("draft", "ok")]
    dry = run("backfill", "--data-root", str(tmp_path), "--db", str(tmp_path / "other.sqlite"), "--dry-run")
    assert "writes nothing: no SQLite export" in dry.stderr and not (tmp_path / "other.sqlite").exists()
