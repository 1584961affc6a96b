"""Backfill on stores the real pipeline's writer code produced (tests/realwriter/legacy_*), fact by fact.

Each store is built by running the copied writer code of one legacy era with a fake LLM behind the
real client; the tasks and calls fed to it are the truth. The index after ``gensql backfill`` and
``gensql refresh`` must hold exactly that: model, templates, combo, parent, replicate, mode, tokens
(unknown: the legacy files never stored them), status and score, one attempt per run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realwriter.importer_0924 import run_importer
from realwriter.legacy_5c21221 import build as build_5c21221
from realwriter.legacy_984d76b import build as build_984d76b
from realwriter.legacy_d4d2215 import build as build_d4d2215

import gensql
from gensql.backfill import backfill

pytestmark = pytest.mark.slow  # the real legacy writer code and a backfill per module

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True, cwd=REPO)


def rows(data_root: Path, sql: str = "SELECT * FROM gens") -> list[dict]:
    con = gensql.connect(data_root)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def score_of(text: str) -> float:
    return float(re.findall(r"SCORE:\s*(\d+)", text)[-1])


def check_against_truth(data_root: Path, truth, *, single_phase: bool = False) -> dict[str, list[dict]]:
    """Every task of the truth is in the index with the facts the real code was given."""
    assert rows(data_root, "SELECT * FROM scan_errors") == []
    gens = rows(data_root)
    by_id = {r["gen_id"]: r for r in gens}
    by_task: dict[tuple[str, str], list[dict]] = {}
    for r in gens:
        by_task.setdefault((r["stage"], r["task_id"]), []).append(r)
    for task in truth.tasks.values():
        attempts = sorted(by_task[(task.stage, task.task_id)], key=lambda r: r["created_at"])
        assert len(attempts) == len(task.outcomes), (task.task_id, len(attempts), task.outcomes)
        for r in attempts:
            assert r["template_id"] == task.template_id, task.task_id
            assert r["model_id"] == task.model_id, task.task_id
            assert r["replicate"] == 1
            assert r["mode"] == task.mode, task.task_id
            assert r["is_model_call"] is (task.mode == "llm")
            # the legacy files never recorded usage: unknown, not zero
            assert r["completion_tokens"] is None and r["total_tokens"] is None and r["prompt_tokens"] is None
            if task.stage == "draft":
                assert r["combo_id"] == task.combo_id
            else:
                parent = by_id[r["parent_gen_id"]]
                assert parent["task_id"] == task.parent_task_id
        # one logical product per task, attempts share it
        assert len({r["logical_key"] for r in attempts}) == 1, task.task_id
        for r, outcome, call in zip(attempts, task.outcomes, task.calls or [None] * len(attempts)):
            if outcome == "ok":
                assert r["status"] == "ok", (task.task_id, r["gen_dir"])
            else:  # cut off: the raw text alone survives, no parsed text
                assert r["status"] != "ok" and r["has_raw"] and not r["has_parsed"]
            if call is not None and r["has_raw"]:
                raw = (data_root / r["gen_dir"] / "raw.txt").read_text(encoding="utf-8")
                assert raw == call.text.strip(), task.task_id
            if task.stage == "evaluation":
                assert r["score"] == score_of(call.text)
    # different tasks never share a logical key
    keys = {}
    for task in truth.tasks.values():
        key = by_task[(task.stage, task.task_id)][0]["logical_key"]
        assert keys.setdefault((task.stage, key), task.task_id) == task.task_id
    return by_task


# --- 2025-09-05: versioned files and raw side-writes, through the real CLI -------------------------


def test_versioned_era_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    truth = build_5c21221(data)

    dry = cli("backfill", "--dry-run", "--data-root", str(data))
    assert dry.returncode == 0, dry.stderr
    assert not (data / "gens").exists()
    lines = [line.split("\t") for line in dry.stdout.splitlines()]
    planned = [r for r in lines if r[0] != "not-imported"]
    assert len(planned) == sum(len(t.outcomes) for t in truth.tasks.values())
    # every planned attempt says where each fact came from
    for r in planned:
        assert "[task table 2_tasks/" in r[7], r
    copy_lines = [r for r in planned if r[4] == "copy"]
    assert copy_lines and all(
        "generator of parsed-from-links-v1 in 1_raw/essay_templates.csv" in r[7] for r in copy_lines
    )

    real = cli("backfill", "--data-root", str(data))
    assert real.returncode == 0, real.stderr
    refreshed = cli("refresh", "--data-root", str(data))
    assert refreshed.returncode == 0, refreshed.stderr
    check_against_truth(data, truth)

    # evaluations of drafts keep their draft parent; problems reports the wrong stage
    draft_evals = [t for t in truth.of_stage("evaluation") if truth.tasks[t.parent_task_id].stage == "draft"]
    assert draft_evals
    problems = rows(data, "SELECT kind, gen_id FROM problems WHERE kind = 'parent_wrong_stage'")
    evals = {r["gen_id"]: r for r in rows(data, "SELECT gen_id, task_id FROM gens WHERE stage = 'evaluation'")}
    assert sorted(evals[p["gen_id"]]["task_id"] for p in problems) == sorted(t.task_id for t in draft_evals)

    again = cli("backfill", "--data-root", str(data))
    assert again.returncode == 0 and "created 0 generation(s)" in again.stderr, again.stderr


# --- 2025-08-18: single-phase files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def single_phase(tmp_path_factory) -> tuple[Path, object]:
    data = tmp_path_factory.mktemp("d4d2215") / "data"
    return data, build_d4d2215(data)


def test_single_phase_era(single_phase, tmp_path: Path) -> None:
    src, truth = single_phase
    data = tmp_path / "data"
    shutil.copytree(src, data)
    summary = backfill(data, run_id="r")
    assert summary.errors == [] and summary.unresolved_parents == []
    gensql.refresh(data)
    gens = rows(data)
    drafts = {r["task_id"]: r for r in gens if r["stage"] == "draft"}
    essays = {r["task_id"]: r for r in gens if r["stage"] == "essay"}
    evals = {r["task_id"]: r for r in gens if r["stage"] == "evaluation"}
    for task in truth.of_stage("draft"):
        d, e = drafts[task.task_id], essays[task.task_id]
        assert (d["combo_id"], d["template_id"], d["model_id"], d["mode"], d["status"]) == (
            task.combo_id,
            task.template_id,
            task.model_id,
            "llm",
            "ok",
        )
        assert (data / d["gen_dir"] / "raw.txt").read_text() == task.calls[0].text.strip()
        # the pipeline's own backfill: a copy essay with the parsed portion, parent the draft
        assert (e["mode"], e["template_id"], e["parent_gen_id"], e["is_model_call"]) == (
            "copy",
            "parsed-from-links-v1",
            d["gen_id"],
            False,
        )
        assert (data / e["gen_dir"] / "parsed.txt").read_text() == (
            data / "3_generation/parsed_generation_responses" / f"{task.task_id}.txt"
        ).read_text()
    for task in truth.of_stage("evaluation"):
        v = evals[task.task_id]
        assert (v["template_id"], v["model_id"], v["score"]) == (
            task.template_id,
            task.model_id,
            score_of(task.calls[0].text),
        )
        assert v["parent_gen_id"] == essays[task.parent_task_id]["gen_id"]
    assert rows(data, "SELECT * FROM problems WHERE kind LIKE 'parent%'") == []
    assert backfill(data, run_id="r2").created == 0


def test_without_task_tables_the_id_lists_split_task_ids(single_phase, tmp_path: Path) -> None:
    src, truth = single_phase
    data = tmp_path / "data"
    shutil.copytree(src, data)
    shutil.rmtree(data / "2_tasks")
    summary = backfill(data, dry_run=True)
    plan = {(p.stage, p.task_id): p for p in summary.planned}
    for task in truth.tasks.values():
        p = plan[(task.stage, task.task_id)]
        assert p.task_fields["template_id"] == task.template_id and p.task_fields["llm_model_id"] == task.model_id
        assert p.facts_from["llm_model_id"] == "id list 1_raw/llm_models.csv"
        if task.stage == "draft":
            assert p.task_fields["combo_id"] == task.combo_id
        else:
            assert p.parent_task_id == task.parent_task_id


def test_without_any_list_unknown_parts_never_merge_tasks(single_phase, tmp_path: Path) -> None:
    src, truth = single_phase
    data = tmp_path / "data"
    shutil.copytree(src, data)
    shutil.rmtree(data / "2_tasks")
    shutil.rmtree(data / "1_raw")
    backfill(data, run_id="r")
    gensql.refresh(data)
    drafts = rows(data, "SELECT task_id, template_id, logical_key FROM gens WHERE stage = 'draft'")
    assert all(r["template_id"] is None for r in drafts)  # nothing to split them with: NULL, not guessed
    assert len({r["logical_key"] for r in drafts}) == len(truth.of_stage("draft"))


def test_malformed_task_table_is_reported_and_filename_parsing_continues(single_phase, tmp_path: Path) -> None:
    src, truth = single_phase
    data = tmp_path / "data"
    shutil.copytree(src, data)
    table = data / "2_tasks" / "generation_tasks.csv"
    table.write_text(table.read_text() + "only,three,fields\n")
    result = cli("backfill", "--dry-run", "--data-root", str(data))
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"warning: 2_tasks/generation_tasks.csv: line \d+ has 3 fields, the header 5; table ignored", result.stderr
    )
    drafts = [line.split("\t") for line in result.stdout.splitlines() if line.startswith("draft\t")]
    assert len(drafts) == len(truth.of_stage("draft"))
    for r in drafts:
        assert "[id list 1_raw/llm_models.csv]" in r[7] and "task table" not in r[7]


# --- 2025-08-20: two-phase, unversioned; and the importer of 2025-09-24 ----------------------------


def test_two_phase_era(tmp_path: Path) -> None:
    data = tmp_path / "data"
    truth = build_984d76b(data)
    summary = backfill(data, run_id="r")
    assert summary.errors == [] and summary.unresolved_parents == []
    gensql.refresh(data)
    check_against_truth(data, truth)
    assert rows(data, "SELECT * FROM problems") == []
    assert backfill(data, run_id="r2").created == 0


def test_copy_mode_from_the_prompt_when_the_template_list_is_gone(tmp_path: Path) -> None:
    """The essay prompt the pipeline wrote in copy mode ("COPY_MODE: no prompt needed") is enough."""
    data = tmp_path / "data"
    truth = build_5c21221(data)
    (data / "1_raw" / "essay_templates.csv").unlink()
    summary = backfill(data, dry_run=True)
    essays = {p.task_id: p for p in summary.planned if p.stage == "essay"}
    for task in truth.of_stage("essay"):
        p = essays[task.task_id]
        assert p.mode == task.mode
        if task.mode == "copy":
            assert p.facts_from["mode"].startswith("prompt 3_generation/essay_prompts/") and "raw.txt" not in p.files


def test_texts_the_0924_importer_wrote_are_not_imported_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    truth = build_984d76b(data)
    stats = run_importer(data)
    imported = stats["essay"].converted + stats["evaluation"].converted
    assert imported == len(truth.of_stage("essay")) + len(truth.of_stage("evaluation"))
    importer_dirs = {s: {p.name for p in (data / "gens" / s).iterdir()} for s in ("essay", "evaluation")}

    summary = backfill(data, run_id="r")
    assert summary.skipped == imported and summary.created == len(truth.of_stage("draft"))
    assert all(
        "already imported by the 2025-09-24 importer" in p.note for p in summary.planned if p.status == "imported"
    )
    for s in ("essay", "evaluation"):  # nothing added next to the importer's generations
        assert {p.name for p in (data / "gens" / s).iterdir()} == importer_dirs[s]
    assert backfill(data, run_id="r2").created == 0
    gensql.refresh(data)
    gens = rows(data)
    assert len([r for r in gens if r["stage"] == "essay"]) == len(truth.of_stage("essay"))


def test_a_store_of_two_eras_with_stale_task_tables(tmp_path: Path) -> None:
    """Real stores accumulated: the 09-05 code ran on a data/ that still held the 08-20 files, and
    rewrote 2_tasks/ with its own tasks only. The older tasks then split by the 1_raw id lists."""
    data = tmp_path / "data"
    old = build_984d76b(data)
    new = build_5c21221(data)
    assert not set(old.tasks) & set(new.tasks)
    summary = backfill(data, run_id="r")
    assert summary.errors == [] and summary.unresolved_parents == []
    sources = {(p.stage, p.task_id): p.facts_from for p in summary.planned}
    for task in old.tasks.values():  # link_generation_tasks.csv survived; the essay and evaluation tables did not
        if task.stage != "draft":
            assert sources[(task.stage, task.task_id)]["template_id"].startswith(("id list 1_raw/", "filename")), (
                task.task_id
            )
    gensql.refresh(data)
    check_against_truth(data, old)
    check_against_truth(data, new)
