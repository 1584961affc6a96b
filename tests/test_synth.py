"""The synthetic store generator: deterministic, complete, and its truth agrees with what it wrote."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gensql import synth
from gensql.fields import GENS_COLUMN_ORDER
from gensql.ids import logical_key_id
from gensql.layout import (
    COHORTS_DIR,
    DOCS_DB_FILE,
    DOCS_DIR,
    GENS_DIR,
    JSON_FILES,
    KNOWN_FILES,
    MEMBERSHIP_FILE,
    METADATA_FILE,
    PARSED_FILE,
    PARSED_METADATA_FILE,
    PROMPT_FILE,
    RAW_FILE,
    RAW_METADATA_FILE,
    STAGES,
)
from gensql.synth.mtimes import MANIFEST

REPO_DATA = Path(__file__).resolve().parent.parent / "data"

REQUIRED_KEYS = {
    "model_id",
    "template_id",
    "parent_gen_id",
    "origin_cohort_id",
    "combo_id",
    "replicate",
    "mode",
    "run_id",
    "task_id",
    "function",
    "parser_name",
    "finish_reason",
    "truncated",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "max_tokens",
    "duration_s",
    "has_prompt",
    "has_raw",
    "has_parsed",
    "prompt_bytes",
    "raw_bytes",
    "parsed_bytes",
    "score",
    "score_error_is_null",
    "is_model_call",
    "created_at_source",
}


def tree(root: Path, with_mtimes: bool = False) -> dict[str, object]:
    """Every file under root but its index: relative path -> bytes (and mtime)."""
    out: dict[str, object] = {}
    for dirpath, dirs, files in os.walk(root):
        if Path(dirpath) == root and "index" in dirs:
            dirs.remove("index")
        for name in files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            out[rel] = (p.read_bytes(), p.stat().st_mtime_ns) if with_mtimes else p.read_bytes()
    return out


def leaf_dirs(root: Path) -> set[str]:
    """Directories under gens/ and docs/ that hold files: one per generation or document."""
    out = set()
    for sub in (GENS_DIR, DOCS_DIR):
        for dirpath, _, files in os.walk(root / sub):
            if files and Path(dirpath).parent.parent != root:  # not a stage directory's stray file
                out.add(Path(dirpath).relative_to(root).as_posix())
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synth.StoreTruth]:
    root = tmp_path_factory.mktemp("sample")
    return root, synth.make_sample_store(root)


# --- determinism ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_same_tree(tmp_path: Path) -> None:
    a = synth.make_store(tmp_path / "a", n=150, seed=7)
    b = synth.make_store(tmp_path / "b", n=150, seed=7)
    ta, tb = tree(tmp_path / "a", True), tree(tmp_path / "b", True)
    assert sorted(ta) == sorted(tb)
    assert ta == tb
    assert a.gens == b.gens and a.scan_errors == b.scan_errors and a.membership == b.membership
    c = synth.make_store(tmp_path / "c", n=150, seed=8)
    assert sorted(tree(tmp_path / "c")) != sorted(ta)
    assert set(c.gens) != set(a.gens)


def test_bench_is_deterministic(tmp_path: Path) -> None:
    synth.make_store(tmp_path / "a", n=40, seed=3, profile="bench")
    synth.make_store(tmp_path / "b", n=40, seed=3, profile="bench")
    assert tree(tmp_path / "a", True) == tree(tmp_path / "b", True)


@pytest.mark.slow
def test_committed_sample_is_current(sample: tuple[Path, synth.StoreTruth]) -> None:
    root, _ = sample
    assert (REPO_DATA / GENS_DIR).is_dir(), "run: python -m gensql.synth sample data"
    committed_names = sorted(p.name for p in REPO_DATA.iterdir() if p.name not in ("index", MANIFEST))
    assert committed_names == sorted(p.name for p in root.iterdir())
    committed, fresh = tree(REPO_DATA), tree(root)
    manifest = committed.pop(MANIFEST)
    # data/mtimes.tsv (git keeps no mtimes) gives every file of the sample the time the generator gave it
    recorded = dict(line.split("\t") for line in manifest.decode().splitlines()[1:])
    generated = {rel: str(mtime) for rel, (_, mtime) in tree(root, with_mtimes=True).items()}
    assert {rel: recorded.get(rel) for rel in generated} == generated, (
        "regenerate: python -m gensql.synth record-mtimes"
    )
    assert sorted(committed) == sorted(fresh), "data/ differs from make_sample_store: regenerate it"
    changed = [k for k in fresh if committed[k] != fresh[k]]
    assert not changed, f"data/ differs from make_sample_store in {changed[:5]}: regenerate it"


# --- the sample carries every required case -------------------------------------------------------


def test_sample_size_and_shape(sample: tuple[Path, synth.StoreTruth]) -> None:
    _, truth = sample
    # several hundred: small enough to commit, large enough for the planted judges to show (test_judges.py)
    assert 0.9 * synth.SAMPLE_N <= len(truth.gens) <= 1.2 * synth.SAMPLE_N <= 1000  # n is a target
    assert truth.n_gens == len(truth.gens)
    stages = Counter(g.stage for g in truth.gens.values())
    assert set(stages) == set(STAGES)
    assert stages["evaluation"] > stages["essay"] > 0 and stages["draft"] > 0
    assert truth.stage_counts == dict(stages)
    assert len({g.values["model_id"] for g in truth.gens.values()} - {None}) >= 4
    for stage in STAGES:
        templates = {g.values["template_id"] for g in truth.gens.values() if g.stage == stage} - {None}
        assert len(templates) >= 3, stage


def test_sample_eras_statuses_and_errors(sample: tuple[Path, synth.StoreTruth]) -> None:
    _, truth = sample
    assert {g.era for g in truth.gens.values()} == set(synth.ERAS)
    assert {g.values["status"] for g in truth.gens.values()} == {
        "ok",
        "truncated",
        "parse_error",
        "gen_error",
        "skipped",
    }
    kinds = Counter(e.kind for e in truth.scan_errors)
    assert set(kinds) == set(synth.ERROR_KINDS)
    json_errors = [
        e for e in truth.scan_errors if e.kind in ("invalid_json", "empty_file", "not_utf8", "not_an_object")
    ]
    in_metadata = [e for e in json_errors if e.file == METADATA_FILE]
    assert 1 <= len(in_metadata) <= 2 and len(json_errors) > len(in_metadata)
    (entry,) = truth.errors_of("unexpected_entry")
    assert entry.gen_id is None and entry.file is None and entry.path == f"{GENS_DIR}/essay/{synth.STRAY_FILE}"
    (bad,) = truth.errors_of("bad_membership")
    assert bad.stage is None and bad.gen_id is None and bad.file == MEMBERSHIP_FILE
    for e in truth.errors_of("missing_metadata"):
        assert e.file == METADATA_FILE
    assert {e.file for e in truth.errors_of("bad_value")} >= {METADATA_FILE, RAW_METADATA_FILE}


def test_sample_usage_copy_scores_and_lineage(sample: tuple[Path, synth.StoreTruth]) -> None:
    root, truth = sample
    gens = list(truth.gens.values())
    v = [g.values for g in gens]
    # usage shapes: cap recorded, prompt tokens known, total only, none
    assert any(x["completion_tokens"] is not None and x["max_tokens"] is not None for x in v)
    assert any(x["prompt_tokens"] is not None and x["total_tokens"] is not None for x in v)
    assert any(x["total_tokens"] is not None and x["completion_tokens"] is None for x in v)
    assert any(x["is_model_call"] and x["completion_tokens"] is None and x["total_tokens"] is None for x in v)
    # copy-mode essays, some without prompt.txt, never model calls
    copies = [g for g in gens if g.values["mode"] == "copy"]
    assert copies and all(not g.values["is_model_call"] and g.values["finish_reason"] in ("copy", None) for g in copies)
    assert any(g.values["finish_reason"] == "copy" for g in copies)  # older eras recorded no finish reason
    assert any(not g.values["has_prompt"] and not g.values["has_raw"] for g in copies)
    # truncation by each signal
    trunc = [x for x in v if x["status"] == "truncated"]
    assert any(x["finish_reason"] == "length" for x in trunc)
    assert any(x["finish_reason"] == "stop" and x["completion_tokens"] >= x["max_tokens"] for x in trunc)
    assert any(x["finish_reason"] not in ("stop", "length") for x in trunc)
    # scores: all three parsed.txt forms, unparseable and missing
    evals = [g for g in gens if g.stage == "evaluation"]
    forms = set()
    for g in evals:
        if g.values["has_parsed"]:
            text = (root / g.values["gen_dir"] / PARSED_FILE).read_text()
            forms.add(
                "float"
                if text.strip().replace(".", "", 1).isdigit() and "." in text
                else "int"
                if text.strip().isdigit()
                else "SCORE"
                if "SCORE:" in text
                else "junk"
            )
    assert forms == {"float", "int", "SCORE", "junk"}
    assert any(
        not g.values["has_parsed"] and g.values["score"] is None and not g.values["score_error_is_null"] for g in evals
    )
    assert all((g.values["score"] is None) != g.values["score_error_is_null"] for g in evals)
    # lineage anomalies
    assert {s for s, _ in truth.dangling_parents} == {"essay", "evaluation"}
    assert truth.wrong_stage_parents and truth.stage_mismatches
    # retries (same product, several directories) and replicates (different products)
    groups = Counter(g.logical_group for g in gens)
    assert any(n > 1 for n in groups.values())
    assert {g.values["replicate"] for g in gens} >= {1, 2, 3}
    # ids: prefixed, old-style, collision suffix
    ids = [g.gen_id for g in gens]
    assert any(i.startswith(("d_", "e_", "v_")) for i in ids)
    assert any(len(i) == 16 and "_" not in i for i in ids)
    assert any(i.endswith("-1") for i in ids)


def test_sample_cohorts(sample: tuple[Path, synth.StoreTruth]) -> None:
    root, truth = sample
    cohorts = {c for c, _, _ in truth.membership}
    assert len(cohorts) >= 2
    headers = {c: (root / COHORTS_DIR / c / MEMBERSHIP_FILE).read_text().splitlines()[0] for c in truth.cohorts}
    assert "stage,gen_id" in headers.values()
    assert any(h.startswith("cohort_id,stage,gen_id,parent_gen_id,") for h in headers.values())
    assert any("gen_id" not in h.split(",") for h in headers.values())
    per_gen = Counter((s, g) for _, s, g in truth.membership)
    assert any(n > 1 for n in per_gen.values()), "membership is many-to-many"
    assert truth.missing_members
    for c, s, g in truth.missing_members:
        assert (s, g) not in truth.gens and not (root / GENS_DIR / s / g).exists()


# --- the truth agrees with the files --------------------------------------------------------------


def test_values_keys(sample: tuple[Path, synth.StoreTruth]) -> None:
    _, truth = sample
    allowed = set(GENS_COLUMN_ORDER) | {"score_error_is_null"}
    for g in truth.gens.values():
        assert REQUIRED_KEYS <= set(g.values) <= allowed
        assert g.era in synth.ERAS


def test_truth_matches_disk(sample: tuple[Path, synth.StoreTruth]) -> None:
    root, truth = sample
    assert leaf_dirs(root) == {g.values["gen_dir"] for g in truth.gens.values()}
    for (stage, gid), g in truth.gens.items():
        d = root / g.values["gen_dir"]
        assert (d.name, g.values["store_root"]) == (gid, g.values["gen_dir"].split("/")[0])
        names = {p.name for p in d.iterdir()}
        assert names <= set(KNOWN_FILES)
        v = g.values
        for flag, name, size in (
            ("has_prompt", PROMPT_FILE, "prompt_bytes"),
            ("has_raw", RAW_FILE, "raw_bytes"),
            ("has_parsed", PARSED_FILE, "parsed_bytes"),
        ):
            assert v[flag] == (name in names)
            assert v[size] == ((d / name).stat().st_size if name in names else None)
        for flag, name in (
            ("has_metadata", METADATA_FILE),
            ("has_raw_metadata", RAW_METADATA_FILE),
            ("has_parsed_metadata", PARSED_METADATA_FILE),
        ):
            assert v[flag] == (name in names)
        if (
            v["created_at_source"] == "sqlite"
        ):  # the documents index's insert time (checked in test_importer_docs_and_fat_eras)
            continue
        source_file = {
            "raw": RAW_FILE,
            "parsed": PARSED_FILE,
            "raw_metadata": RAW_METADATA_FILE,
            "metadata": METADATA_FILE,
            "dir": None,
        }[v["created_at_source"]]
        path = d / source_file if source_file else d
        assert v["created_at"] == datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    for e in truth.scan_errors:
        if e.kind == "missing_metadata":
            assert not (root / e.path).exists() and (root / e.path).parent.is_dir()
        else:
            assert (root / e.path).exists(), e
        if e.kind == "empty_file":
            assert (root / e.path).stat().st_size == 0
        if e.kind == "not_utf8":
            with pytest.raises(UnicodeDecodeError):
                (root / e.path).read_bytes().decode("utf-8")
        if e.kind == "invalid_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads((root / e.path).read_text())
        if e.kind == "not_an_object":
            assert isinstance(json.loads((root / e.path).read_text()), list)


def test_logical_groups_match_logical_keys(sample: tuple[Path, synth.StoreTruth]) -> None:
    """Grouping by the intended product and by the key the scanner can see give the same partition."""
    _, truth = sample

    def key(g: synth.ExpectedGen) -> str:
        v = g.values
        parts = {
            "draft": ("combo_id", "template_id", "model_id", "replicate"),
            "essay": ("parent_gen_id", "template_id", "replicate"),
            "evaluation": ("parent_gen_id", "template_id", "model_id", "replicate"),
        }[g.stage]
        return logical_key_id(g.stage, *(v[p] for p in parts))

    by_group: dict[str, set] = {}
    by_key: dict[str, set] = {}
    for k, g in truth.gens.items():
        by_group.setdefault(g.logical_group, set()).add(k)
        by_key.setdefault(key(g), set()).add(k)
    assert {frozenset(s) for s in by_group.values()} == {frozenset(s) for s in by_key.values()}


def test_mtimes_spread_over_days(sample: tuple[Path, synth.StoreTruth]) -> None:
    _, truth = sample
    days = {g.values["created_at"].date() for g in truth.gens.values()}  # type: ignore[union-attr]
    assert len(days) >= 7 and all(d.year == 2025 for d in days)


def test_count(sample: tuple[Path, synth.StoreTruth]) -> None:
    _, truth = sample
    assert truth.count() == len(truth.gens)
    assert truth.count(stage="essay") == truth.stage_counts["essay"]
    ok = truth.count(stage="essay", status="ok")
    assert 0 < ok == sum(1 for g in truth.gens.values() if g.stage == "essay" and g.values["status"] == "ok")
    assert truth.count(era="imported") > 0 and truth.count(is_model_call=False) > 0


def test_small_and_empty_mixed_stores(tmp_path: Path) -> None:
    truth = synth.make_store(tmp_path / "zero", n=0, seed=1)
    assert {e.kind for e in truth.scan_errors} == set(synth.ERROR_KINDS)
    assert {g.era for g in truth.gens.values()} == set(synth.ERAS)


# --- bench profile --------------------------------------------------------------------------------


def test_bench_writes_six_files_per_generation(tmp_path: Path) -> None:
    truth = synth.make_store(tmp_path, n=57, seed=5, profile="bench")
    assert truth.gens == {} and truth.n_gens == 57
    assert truth.stage_counts == {"draft": 6, "essay": 12, "evaluation": 39}
    dirs = [p for p in (tmp_path / GENS_DIR).glob("*/*")]
    assert len(dirs) == 57
    ids = {p.name: p.parent.name for p in dirs}
    for d in dirs:
        assert sorted(p.name for p in d.iterdir()) == sorted(KNOWN_FILES)
        for name in JSON_FILES:
            text = (d / name).read_text()
            obj = json.loads(text)
            assert json.dumps(obj, indent=2) == text  # pretty-printed exactly like json.dumps
            assert obj["gen_id"] == d.name and obj["stage"] == d.parent.name
        meta = json.loads((d / METADATA_FILE).read_text())
        if d.parent.name != "draft":
            assert ids[meta["parent_gen_id"]] == {"essay": "draft", "evaluation": "essay"}[d.parent.name]
        else:
            assert meta["combo_id"].startswith("combo_")
        if d.parent.name == "evaluation":
            float((d / PARSED_FILE).read_text())
    rows = (tmp_path / COHORTS_DIR / truth.cohorts[0] / MEMBERSHIP_FILE).read_text().splitlines()
    assert rows[0] == "stage,gen_id" and len(rows) == 58


# --- command line ---------------------------------------------------------------------------------


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main(["store", str(tmp_path / "s"), "--n", "30", "--seed", "2", "--profile", "bench"]) == 0
    assert "30 generations" in capsys.readouterr().err
    assert synth.main(["store", str(tmp_path / "s"), "--n", "30"]) == 2  # refuses a non-empty root
    assert "already has content" in capsys.readouterr().err


# --- the real pipeline's other eras: legacy flat files, seed 000's docs store, 09-15, the 09-24 importer --


def test_sample_has_every_legacy_era_with_task_tables_and_id_lists(sample: tuple[Path, synth.StoreTruth]) -> None:
    import csv

    root, truth = sample
    assert {t.era for t in truth.legacy} == set(synth.LEGACY_ERAS)
    assert {(t.era, t.kind) for t in truth.legacy} >= {
        ("legacy_single", "generation"),
        ("legacy_single", "evaluation"),
        ("legacy_two_phase", "links"),
        ("legacy_two_phase", "essay"),
        ("legacy_two_phase", "evaluation"),
        ("legacy_versioned", "draft"),
        ("legacy_versioned", "essay"),
        ("legacy_versioned", "evaluation"),
    }
    models = {r["id"] for r in csv.DictReader((root / "1_raw" / "llm_models.csv").open())}
    assert {"deepseek_r1_p", "gemini_2.5_flash"} <= models
    tables = {}
    for path in (root / "2_tasks").glob("*_tasks.csv"):
        for r in csv.DictReader(path.open()):
            key = next(k for k in r if k.endswith("task_id"))
            tables[r[key]] = r
    for t in truth.legacy:
        # single underscores join the parts; only _vN is a version; -vN ends template ids
        assert t.task_id.startswith(t.combo_id + "_") and "_" + t.template_id in t.task_id
        assert t.in_task_table == (t.task_id in tables), t.task_id
        for v in t.versions:
            for kind, rel in v.files.items():
                name = rel.rsplit("/", 1)[1]
                assert (root / rel).is_file(), rel
                # parsed files count their own versions: a raw _v2 can pair with a parsed _v1
                assert re.fullmatch(re.escape(t.task_id) + (r"_v[1-9]\d*" if v.n else "") + r"\.txt", name), name
                assert kind != "raw" or name == (f"{t.task_id}_v{v.n}.txt" if v.n else f"{t.task_id}.txt")
            if t.stage == "evaluation" and v.score is not None:
                assert (root / v.files["parsed"]).read_text().rstrip().endswith(f"SCORE: {v.score:g}")
    assert any(t.versions[-1].n >= 2 for t in truth.legacy)  # a versioned retry
    assert any(t.copy for t in truth.legacy) and any(t.template_id.endswith("-v10") for t in truth.legacy)
    legacy_files = {rel for t in truth.legacy for v in t.versions for rel in v.files.values()}
    on_disk = {k for k in tree(root) if k.startswith(("3_generation/", "4_evaluation/"))}
    assert on_disk == legacy_files


def test_importer_docs_and_fat_eras(sample: tuple[Path, synth.StoreTruth]) -> None:
    import sqlite3

    root, truth = sample
    imported = [t for t in truth.legacy if t.imported_gen_id]
    assert imported and all(t.era == "legacy_two_phase" and t.stage in ("essay", "evaluation") for t in imported)
    for t in imported:
        g = truth.gens[(t.stage, t.imported_gen_id)]
        meta = json.loads((root / g.values["gen_dir"] / METADATA_FILE).read_text())
        assert meta["legacy_fields"]["origin_filename"] == t.versions[0].files["parsed"].rsplit("/", 1)[1]
        assert meta["source_file"] == t.versions[0].files["parsed"] and g.era == "importer_0924"
    docs = [g for g in truth.gens.values() if g.values["store_root"] == "docs"]
    assert {g.era for g in docs} == {"docs_nested", "docs_flat"}
    assert all(g.values["gen_dir"].count("/") == (3 if g.era == "docs_nested" else 2) for g in docs)
    with sqlite3.connect(f"file:{root / DOCS_DB_FILE}?mode=ro", uri=True) as con:
        in_db = {(s, d) for s, d in con.execute("SELECT stage, doc_id FROM documents")}
    assert in_db == {(r.stage, r.doc_id) for r in truth.documents}
    assert {(g.stage, g.gen_id) for g in docs if g.values["facts_from"] and "sqlite" in g.values["facts_from"]} == in_db
    assert len(docs) > len(in_db)  # one document the index never recorded: no borrowed facts
    assert any(g.values["facts_from"] == "sqlite,templates" and g.values["mode"] == "copy" for g in docs)
    assert any(g.values["facts_from"] == "templates" for g in docs)  # a copy essay the index never recorded
    buckets = Counter(g.values["gen_dir"].rsplit("/", 1)[0] for g in docs if g.era == "docs_nested")
    assert max(buckets.values()) == 2  # a re-run: two documents of one logical key in one bucket
    times = {r.doc_id: r.created_at for r in truth.documents}
    assert all(
        g.values["created_at"] == times[g.gen_id] and g.values["created_at_source"] == "sqlite"
        for g in docs
        if g.gen_id in times
    )
    fat = [g for g in truth.gens.values() if g.era == "fat_0915"]
    drafts = [g for g in fat if g.stage == "draft"]
    assert drafts and all(g.values["facts_from"] == "membership" and g.values["combo_id"] for g in drafts)
    for g in drafts:  # the combo is nowhere in the directory: only the wide membership line has it
        assert "combo_id" not in (root / g.values["gen_dir"] / METADATA_FILE).read_text()
    assert all(g.values["facts_from"] is None for g in truth.gens.values() if g.era in ("current", "transition"))


@pytest.mark.slow
def test_planted_judges_score_as_planted(tmp_path: Path) -> None:
    """The generator's own scores carry the judges it planted (gensql.synth.judges): the consistent
    pair's scores of one essay stay close, the near-random judge's do not follow the essay at all."""
    from gensql.synth.judges import essay_quality

    truth = synth.make_store(tmp_path, n=1200, seed=5)
    planted = truth.judges
    errors: dict[str, list[float]] = {}
    for (stage, _), g in truth.gens.items():
        v = g.values
        essay = truth.gens.get(("essay", v["parent_gen_id"]))
        if stage != "evaluation" or v["score"] is None or essay is None or g.era not in ("current", "transition"):
            continue
        quality = min(9.0, max(0.0, essay_quality(5, v["parent_gen_id"], essay.values["template_id"])))
        errors.setdefault(v["model_id"], []).append(v["score"] - quality)
    rms = {m: (sum(e * e for e in errs) / len(errs)) ** 0.5 for m, errs in errors.items() if len(errs) >= 30}
    for judge in planted.consistent_pair:
        assert rms[judge] < 0.6
    assert rms[planted.random_judge] > 2.0
    assert rms[planted.consistent_pair[0]] < rms["gemini-2.5-pro"] < rms[planted.random_judge]
