"""The index of generated stores equals what the generator meant to write, on every column.

The generator (gensql.synth) decides each generation's values first and then writes them in one of
the store's format eras, with anomalies and malformed files; it never reads its own output. So a
match on every row and column is an end-to-end check of the scanner against independent intent.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest

from gensql import refresh
from gensql.partitions import read_table
from gensql.synth import ERAS, make_sample_store, make_store

pytestmark = pytest.mark.slow  # sample and larger mixed stores generated and indexed

SKIP = {"era", "score_error_is_null"}


def check_against_truth(root, truth):
    result = refresh(root)
    rows = {(r["stage"], r["gen_id"]): r for r in read_table(root / "index" / "current", "gens").to_pylist()}
    assert set(rows) == set(truth.gens)  # one row per directory, never fewer
    mismatches = []
    for key, expected in truth.gens.items():
        row = rows[key]
        for column, value in expected.values.items():
            if column in SKIP:
                continue
            got = row[column]
            same = (
                math.isclose(got, value, rel_tol=1e-9) if isinstance(value, float) and got is not None else got == value
            )
            if not same:
                mismatches.append((key, column, value, got))
        assert (row["score_error"] is None) == expected.values["score_error_is_null"], key
    assert mismatches == []
    errors = sorted(
        (e["path"], e["stage"], e["gen_id"], e["file"], e["kind"])
        for e in pq.read_table(root / "index" / "current" / "scan_errors.parquet").to_pylist()
    )
    assert errors == sorted((e.path, e.stage, e.gen_id, e.file, e.kind) for e in truth.scan_errors)
    members = sorted(
        (m["cohort_id"], m["stage"], m["gen_id"])
        for m in pq.read_table(root / "index" / "current" / "membership.parquet").to_pylist()
    )
    assert members == sorted(truth.membership)
    # Attempts of one intended product share a logical key, and different products never do.
    groups = defaultdict(set)
    for key, expected in truth.gens.items():
        groups[expected.logical_group].add(rows[key]["logical_key"])
    assert all(len(keys) == 1 for keys in groups.values())
    assert len({next(iter(k)) for k in groups.values()}) == len(groups)
    return result


def test_sample_store_index_matches_the_generator(tmp_path):
    truth = make_sample_store(tmp_path)
    result = check_against_truth(tmp_path, truth)
    assert result.generations == truth.n_gens
    assert result.by_stage == truth.stage_counts
    assert result.error_kinds == dict(Counter(e.kind for e in truth.scan_errors))
    assert all(truth.count(era=era) > 0 for era in ERAS)  # every era has rows in the index


@pytest.mark.parametrize("seed", [1, 2])
def test_larger_mixed_stores_match_the_generator(tmp_path, seed):
    truth = make_store(tmp_path, n=1500, seed=seed, profile="mixed")
    check_against_truth(tmp_path, truth)


def test_committed_sample_store_indexes_with_the_expected_counts(tmp_path):
    """`make demo` indexes data/ itself; the counts there are the generator's (mtimes aside)."""
    import shutil
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    for entry in data.iterdir():
        if entry.name != "index":
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, tmp_path / entry.name)
    result = refresh(tmp_path)
    truth = make_sample_store(tmp_path / "fresh")
    assert (result.generations, result.scan_errors, result.members) == (
        truth.n_gens,
        len(truth.scan_errors),
        len(truth.membership),
    )


def test_backfill_of_the_sample_legacy_folders_follows_the_legacy_truth(tmp_path):
    """gensql backfill migrates every legacy task the generator wrote, with the facts its task id
    stands for, skips what the 2025-09-24 importer already copied, and a second run creates nothing."""
    from gensql.backfill import backfill

    truth = make_sample_store(tmp_path)
    first = backfill(tmp_path, run_id="r1")
    imported = [t for t in truth.legacy if t.imported_gen_id]
    assert first.skipped == len(imported)
    assert (first.errors, first.unresolved_parents, first.ignored) == ([], [], [])
    assert backfill(tmp_path, run_id="r2").created == 0
    refresh(tmp_path)
    rows = read_table(tmp_path / "index" / "current", "gens").to_pylist()
    new = [r for r in rows if (r["stage"], r["gen_id"]) not in truth.gens]
    assert len(new) == first.created
    by_task = defaultdict(list)
    for r in new:
        by_task[r["task_id"]].append(r)
    tasks = {t.task_id: t for t in truth.legacy}
    for t in truth.legacy:
        got = by_task.get(t.task_id, [])
        if t.imported_gen_id:
            assert got == [], t.task_id  # never imported twice
            continue
        assert got, f"legacy task {t.task_id} was not migrated"
        same_stage = [r for r in got if r["stage"] == t.stage]
        assert same_stage, t.task_id
        for r in same_stage:
            assert (r["template_id"], r["model_id"]) == (t.template_id, t.model_id), t.task_id
            if t.stage == "draft":
                assert r["combo_id"] == t.combo_id
            if t.copy:
                assert r["mode"] == "copy" and not r["is_model_call"]
        parent = tasks.get(t.parent_task_id) if t.parent_task_id else None
        if parent is not None and t.stage == "evaluation":
            ids = {r["gen_id"]: r for r in rows}
            for r in same_stage:  # evaluations keep their parent: a generation of the parent task
                assert r["parent_gen_id"] in ids, t.task_id
                assert (
                    ids[r["parent_gen_id"]]["task_id"] == parent.task_id or r["parent_gen_id"] == parent.imported_gen_id
                ), t.task_id
    assert set(by_task) <= set(tasks)
