"""load_generation, `gensql show` and `gensql lineage` on hand-built stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from storebuilder import write_gen

from gensql import connect, load_generation, refresh
from gensql.errors import GenerationNotFoundError, InvalidIdError
from gensql.lineage import lineage_tree


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True)


@pytest.fixture
def store(tmp_path):
    write_gen(
        tmp_path,
        "draft",
        "d_1",
        {
            "metadata.json": {
                "stage": "draft",
                "gen_id": "d_1",
                "mode": "llm",
                "template_id": "links-v4",
                "llm_model_id": "m1",
                "usage": None,
            },
            "raw_metadata.json": {"usage": {"completion_tokens": 40, "max_tokens": 100}, "finish_reason": "stop"},
            "prompt.txt": "Write a draft.",
            "raw.txt": "raw draft",
            "parsed.txt": "parsed draft",
        },
    )
    write_gen(
        tmp_path,
        "essay",
        "e_1",
        {
            "metadata.json": {"mode": "copy", "template_id": "copy-v1", "parent_gen_id": "d_1"},
            "parsed.txt": "essay text",
        },
    )
    write_gen(
        tmp_path,
        "evaluation",
        "v_1",
        {
            "metadata.json": {"mode": "llm", "template_id": "novelty", "llm_model_id": "m2", "parent_gen_id": "e_1"},
            "raw.txt": "SCORE: 7",
            "parsed.txt": "7.0\n",
        },
    )
    write_gen(
        tmp_path,
        "evaluation",
        "v_2",
        {
            "metadata.json": {"mode": "llm", "template_id": "rigor", "llm_model_id": "m2", "parent_gen_id": "e_1"},
            "raw.txt": "hmm",
        },
    )
    write_gen(
        tmp_path,
        "evaluation",
        "v_lost",
        {
            "metadata.json": {"mode": "llm", "template_id": "rigor", "llm_model_id": "m3", "parent_gen_id": "e_gone"},
            "raw.txt": "x",
            "parsed.txt": "3",
        },
    )
    write_gen(
        tmp_path, "evaluation", "v_bad", {"metadata.json": {"llm_model_id": "m3"}, "raw_metadata.json": "{broken"}
    )
    refresh(tmp_path)
    return tmp_path


def test_load_generation_returns_texts_and_merged_metadata(store):
    gen = load_generation(store / "gens", "draft", "d_1")
    assert (gen["prompt_text"], gen["raw_text"], gen["parsed_text"]) == ("Write a draft.", "raw draft", "parsed draft")
    assert gen["metadata"]["usage"] == {
        "completion_tokens": 40,
        "max_tokens": 100,
    }  # raw metadata beats the placeholder
    assert gen["metadata"]["llm_model_id"] == "m1"
    copy = load_generation(store / "gens", "essay", "e_1")
    assert (copy["prompt_text"], copy["raw_text"], copy["parsed_text"]) == (None, None, "essay text")
    bad = load_generation(store / "gens", "evaluation", "v_bad")
    assert bad["metadata"] == {"llm_model_id": "m3"}
    assert len(bad["problems"]) == 1 and bad["problems"][0].startswith("raw_metadata.json: invalid_json: invalid JSON:")


@pytest.mark.parametrize(
    "stage, gen_id",
    [
        ("draft", "../essay/e_1"),
        ("draft", ".."),
        ("draft", "/etc/passwd"),
        ("draft", "a/b"),
        ("../gens", "d_1"),
        ("drafts", "d_1"),
        ("draft", ""),
    ],
)
def test_load_generation_refuses_to_leave_the_store(store, stage, gen_id):
    with pytest.raises(InvalidIdError):
        load_generation(store / "gens", stage, gen_id)


def test_load_generation_refuses_a_symlink_out_of_the_store(store, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "parsed.txt").write_text("secret")
    os.symlink(outside, store / "gens" / "draft" / "d_link")
    with pytest.raises(InvalidIdError, match="resolves outside the store"):
        load_generation(store / "gens", "draft", "d_link")


def test_load_generation_missing_directory(store):
    with pytest.raises(GenerationNotFoundError, match="no generation essay/e_404"):
        load_generation(store / "gens", "essay", "e_404")


@pytest.mark.slow
def test_show_prints_fields_and_texts(store):
    proc = run_cli("show", "v_1", "--data-root", str(store))
    assert proc.returncode == 0, proc.stderr
    lines = dict(
        line.split(None, 1)
        for line in proc.stdout.splitlines()
        if line and not line.startswith((" ", "{", "}", "metadata:")) and len(line.split(None, 1)) == 2
    )
    assert (
        lines["stage"] == "evaluation"
        and lines["status"] == "ok"
        and lines["score"] == "7"
        and lines["model_id"] == "m2"
    )
    assert lines["parsed_bytes"] == "4" and lines["raw_bytes"] == "8"
    assert run_cli("show", "v_1", "--parsed", "--data-root", str(store)).stdout == "7.0\n"
    assert run_cli("show", "d_1", "--prompt", "--data-root", str(store)).stdout == "Write a draft.\n"
    doc = json.loads(run_cli("show", "d_1", "--json", "--data-root", str(store)).stdout)
    assert (doc["completion_tokens"], doc["max_tokens"], doc["status"], doc["metadata"]["template_id"]) == (
        40,
        100,
        "ok",
        "links-v4",
    )


@pytest.mark.slow
def test_show_errors_are_clear(store):
    missing_raw = run_cli("show", "e_1", "--raw", "--data-root", str(store))
    assert (missing_raw.returncode, missing_raw.stderr) == (1, "gensql: error: gens/essay/e_1 has no raw.txt\n")
    traversal = run_cli("show", "../draft/d_1", "--data-root", str(store))
    assert traversal.returncode == 2 and "invalid gen_id '../draft/d_1'" in traversal.stderr
    unknown = run_cli("show", "zzz", "--data-root", str(store))
    assert unknown.returncode == 2 and "no generation 'zzz'" in unknown.stderr
    warn = run_cli("show", "v_bad", "--data-root", str(store))
    assert warn.returncode == 0 and "gens/evaluation/v_bad/raw_metadata.json: invalid_json" in warn.stderr


def test_lineage_tree_from_the_middle(store):
    tree = lineage_tree(connect(store), "e_1")
    flat = [
        (
            tree["gen_id"],
            [(c["gen_id"], c.get("focus", False), [g["gen_id"] for g in c["children"]]) for c in tree["children"]],
        )
    ]
    assert flat == [("d_1", [("e_1", True, ["v_1", "v_2"])])]
    scores = {c["gen_id"]: c["score"] for c in tree["children"][0]["children"]}
    assert scores == {"v_1": 7.0, "v_2": None}


@pytest.mark.slow
def test_lineage_cli_shows_dangling_links(store):
    proc = run_cli("lineage", "v_lost", "--data-root", str(store))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("(dangling: parent e_gone not found)\n└── evaluation  v_lost  rigor  m3  ok  score 3  <\n")
    text = run_cli("lineage", "v_1", "--data-root", str(store)).stdout
    assert text == (
        "draft       d_1  links-v4  m1  ok\n"
        "└── essay       e_1  copy-v1  -  ok\n"
        "    └── evaluation  v_1  novelty  m2  ok  score 7  <\n"
    )
    data = json.loads(run_cli("lineage", "v_lost", "--format", "json", "--data-root", str(store)).stdout)
    assert data["missing"] is True and data["gen_id"] == "e_gone" and data["children"][0]["gen_id"] == "v_lost"


@pytest.mark.slow
def test_show_reads_seed_000_docs_store_documents(tmp_path):
    """`gensql show` finds a document of seed 000's docs store in either nesting, as refresh indexes it."""
    (tmp_path / "gens").mkdir()
    flat = tmp_path / "docs" / "essay" / "docflat0000000001"
    nested = tmp_path / "docs" / "draft" / "lk00000000000001" / "docnest000000001"
    for gen_dir, meta in (
        (flat, {"essay_template": "e1", "model_id": "m1", "parent_doc_id": "docnest000000001"}),
        (nested, {"draft_template": "d1", "model_id": "m2"}),
    ):
        gen_dir.mkdir(parents=True)
        (gen_dir / "metadata.json").write_text(json.dumps(meta))
        (gen_dir / "raw.txt").write_text(f"text of {gen_dir.name}\n")
        (gen_dir / "parsed.txt").write_text(f"text of {gen_dir.name}\n")
    for gen_id, rel, template in (
        ("docflat0000000001", "docs/essay/docflat0000000001", "e1"),
        ("docnest000000001", "docs/draft/lk00000000000001/docnest000000001", "d1"),
    ):
        proc = run_cli("show", gen_id, "--json", "--data-root", str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        shown = json.loads(proc.stdout)
        assert (shown["gen_dir"], shown["template_id"], shown["store_root"]) == (rel, template, "docs")
        raw = run_cli("show", gen_id, "--raw", "--data-root", str(tmp_path))
        assert raw.stdout == f"text of {gen_id}\n"


# --- one convention for the Python API, typed (issue 23.5) -----------------------------------------


def test_load_generation_takes_the_data_root_and_says_where_the_index_does(store, monkeypatch):
    refresh(store)
    gen = load_generation(store, "draft", "d_1")  # the data root, as every other function takes
    assert gen == load_generation(store / "gens", "draft", "d_1")  # the gens folder still works
    row = connect(store).sql("SELECT gen_id, gen_dir FROM gens WHERE gen_id = 'd_1'").fetchall()
    assert gen["gen_dir"] == row[0][1] == "gens/draft/d_1"  # relative to the data root, like the index
    assert gen["path"] == str((store / "gens" / "draft" / "d_1").resolve())
    monkeypatch.setenv("GENSQL_DATA_ROOT", str(store))
    assert load_generation(None, "draft", "d_1") == gen  # None: what the CLI would read


def test_import_gensql_stays_cheap_and_still_lists_its_names():
    code = (
        "import sys, gensql; heavy = [m for m in ('duckdb', 'pyarrow', 'polars') if m in sys.modules]; "
        "print(heavy, sorted(set(gensql.__all__) - set(dir(gensql))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[0] == "[] []"  # nothing heavy imported; dir() (help(), completion) lists every name
    import gensql

    assert gensql.SqliteExport.__name__ == "SqliteExport" and gensql.CohortRef.__name__ == "CohortRef"
    assert callable(gensql.export_sqlite) and gensql.export_sqlite.__module__ == "gensql.write.export_sqlite"
    assert all(getattr(gensql, name) is not None for name in gensql.__all__)
    assert (Path(gensql.__file__).parent / "py.typed").is_file()


def test_with_notes_is_deprecated_and_the_build_twin_returns_the_notes(store):
    from gensql import reports

    refresh(store)
    rep = reports.build_scores(store, long=True)
    assert list(rep.df.columns)[:1] == ["essay_gen_id"] and isinstance(rep.notes, list)
    with pytest.warns(DeprecationWarning, match=r"build_scores"):
        df, notes = reports.scores_report(store, long=True, with_notes=True)
    assert df.equals(rep.df) and notes == rep.notes


@pytest.mark.slow  # mypy: ~30 s on two cores
def test_the_public_api_passes_mypy_strict():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "gensql/__init__.py", "gensql/_lazy.py"]
        + ["tests/typing/public_api.py"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
