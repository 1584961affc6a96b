"""Output that never lies, through the real entry point on a hand-written store: -o FILE picks the format
from its extension (issue 13, item 1), JSON columns stay JSON (item 5), exit codes and conflicting flags
(item 6), every format where the README lists it (item 7: xlsx for sql, jsonl for reports, -o for
lineage) and load_generation given the data root."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hand_store import HandStore

import gensql
from gensql.cli import cli


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    s = HandStore(tmp_path_factory.mktemp("out"))
    s.draft("d1", at=10, extra={"nested": {"k": [1, 2]}})
    s.essay("e1", "d1", at=20)
    s.evaluation("v1", "e1", score="7.0\n", at=30)
    s.cohort("A", "stage,gen_id,old_column\ndraft,d1,x\n")
    s.refresh()
    return s.data


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True)


# --- item 1: -o FILE and its extension ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "SELECT gen_id, stage FROM gens ORDER BY gen_id"],
        ["report", "tokens"],
    ],
)
def test_output_extension_picks_the_format(store, tmp_path, command):
    root = ["--data-root", str(store)]
    for name, check in (
        ("t.xlsx", lambda p: zipfile.is_zipfile(p) and "xl/workbook.xml" in zipfile.ZipFile(p).namelist()),
        ("one.csv", lambda p: p.read_text().splitlines()[0].startswith(("gen_id,stage", "model_id,"))),
        ("r.json", lambda p: isinstance(json.loads(p.read_text()), list)),
        ("r.jsonl", lambda p: all(isinstance(json.loads(line), dict) for line in p.read_text().splitlines())),
        ("r.parquet", lambda p: pq.read_table(p).num_rows > 0),
        ("r.md", lambda p: p.read_text().startswith("| ")),
        ("r.txt", lambda p: p.read_text().startswith("┌")),
    ):
        out = tmp_path / name
        r = run(*command, *root, "-o", str(out))
        assert r.exit_code == 0, (name, r.stderr)
        assert r.stdout == "" and check(out), name


def test_extension_contradicting_format_is_an_error(store, tmp_path):
    r = run("sql", "SELECT 1 AS a", "--data-root", str(store), "--format", "csv", "-o", str(tmp_path / "t.xlsx"))
    assert r.exit_code == 2 and "has the extension of xlsx but --format is csv" in r.stderr
    assert not (tmp_path / "t.xlsx").exists()
    r = run("sql", "SELECT 1 AS a", "--data-root", str(store), "--format", "json", "-x")
    assert r.exit_code == 2 and "contradict" in r.stderr
    # .txt goes with any reading format; an unknown extension keeps the table default
    assert (
        run(
            "sql", "SELECT 1 AS a", "--data-root", str(store), "--format", "markdown", "-o", str(tmp_path / "a.txt")
        ).exit_code
        == 0
    )
    assert (tmp_path / "a.txt").read_text() == "| a |\n| ---: |\n| 1 |\n"
    assert run("sql", "SELECT 1 AS a", "--data-root", str(store), "-o", str(tmp_path / "a.out")).exit_code == 0
    assert (tmp_path / "a.out").read_text().startswith("┌")


def test_lineage_writes_to_a_file_and_json_from_the_extension(store, tmp_path):
    r = run("lineage", "e1", "--data-root", str(store), "-o", str(tmp_path / "tree.json"))
    assert r.exit_code == 0 and r.stdout == ""
    tree = json.loads((tmp_path / "tree.json").read_text())
    assert "e1" in json.dumps(tree)
    r = run("lineage", "e1", "--data-root", str(store), "-o", str(tmp_path / "tree.txt"))
    assert r.exit_code == 0 and "e1" in (tmp_path / "tree.txt").read_text()
    r = run("lineage", "e1", "--data-root", str(store), "--format", "text", "-o", str(tmp_path / "t.json"))
    assert r.exit_code == 2


def test_report_jsonl_and_vertical(store):
    r = run("report", "tokens", "--by", "stage", "--format", "jsonl", "--data-root", str(store))
    assert r.exit_code == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {row["stage"] for row in rows} == {"draft", "essay", "evaluation"}
    r = run("report", "tokens", "--by", "stage", "-x", "--data-root", str(store))
    assert r.exit_code == 0 and "-[ RECORD 1 ]" in r.stdout and "-[ TOTAL ]" in r.stdout


# --- item 3: NULL and the empty string --------------------------------------------------------------------


def test_null_is_not_the_empty_string_in_every_reading_format(store):
    q = "SELECT 'x' AS id_like, NULL::VARCHAR AS n, '' AS e"
    table = run("sql", q, "--data-root", str(store), env={"COLUMNS": "80"}).stdout
    assert "│ x       │ NULL │   │" in table
    vertical = run("sql", q, "--data-root", str(store), "-x").stdout.splitlines()
    assert "n       | NULL" in vertical and "e       |" in vertical
    assert run("sql", q, "--data-root", str(store), "--format", "markdown").stdout.splitlines()[-1] == "| x | NULL |  |"


def test_show_prints_null_for_missing_fields(store):
    r = run("show", "d1", "--data-root", str(store))
    assert r.exit_code == 0
    fields = dict(
        line.split(None, 1)
        for line in r.stdout.splitlines()
        if line and not line.startswith((" ", "{", "}", "metadata"))
    )
    assert fields["score"] == "NULL" and fields["gen_id"] == "d1"


# --- item 5: JSON columns stay JSON -----------------------------------------------------------------------


def test_json_columns_are_nested_in_json_and_jsonl(store):
    r = run("sql", "SELECT gen_id, meta FROM gens WHERE gen_id = 'd1'", "--format", "json", "--data-root", str(store))
    (row,) = json.loads(r.stdout)
    assert row["meta"]["nested"] == {"k": [1, 2]} and row["meta"]["gen_id"] == "d1"
    r = run("sql", "SELECT cohort_id, extras FROM membership", "--format", "jsonl", "--data-root", str(store))
    assert json.loads(r.stdout.splitlines()[0])["extras"] == {"old_column": "x"}
    r = run("sql", "SELECT meta FROM gens WHERE gen_id = 'd1'", "--format", "csv", "--data-root", str(store))
    assert json.loads(r.stdout.splitlines()[1].strip('"').replace('""', '"'))["nested"] == {
        "k": [1, 2]
    }  # csv: JSON text


# --- item 6: exit codes and conflicting flags -------------------------------------------------------------


def test_exit_codes_for_bad_query_input(store):
    root = ("--data-root", str(store))
    p = process("query", "no_such_query", *root)  # a real process: the message, the code, no traceback
    assert p.returncode == 2 and "no named query 'no_such_query'" in p.stderr and "Traceback" not in p.stderr
    r = run("query", "lineage", *root)
    assert r.exit_code == 2 and "missing --param gen_id=..." in r.stderr
    for empty in ("", "   ", " -- only a comment\n", "/* a comment */ ;"):
        r = run("sql", empty, *root)
        assert r.exit_code == 2 and "the SQL is empty" in r.stderr, repr(empty)
    r = run("sql", "SELECT $x AS a", *root)
    assert r.exit_code == 2 and "--param x=VALUE" in r.stderr
    r = run("sql", "SELECT * FROM nowhere", *root)
    assert r.exit_code == 1  # a failed query, not bad input
    r = run("views", "scroes", *root)
    assert r.exit_code == 2 and "closest: scores" in r.stderr


def test_query_list_with_a_name_is_an_error(store):
    r = run("query", "--list", "lineage", "--data-root", str(store))
    assert r.exit_code == 2 and "--list lists every named query" in r.stderr


@pytest.mark.parametrize(
    "flags", [("--prompt", "--raw"), ("--json", "--raw"), ("--parsed", "--json"), ("--prompt", "--parsed")]
)
def test_show_refuses_conflicting_flags(store, flags):
    r = run("show", "v1", *flags, "--data-root", str(store))
    assert r.exit_code == 2 and "each print one thing" in r.stderr and r.stdout == ""
    assert all(flag in r.stderr for flag in flags)


def test_show_one_flag_each(store):
    assert run("show", "v1", "--parsed", "--data-root", str(store)).stdout == "7.0\n"
    assert json.loads(run("show", "v1", "--json", "--data-root", str(store)).stdout)["score"] == 7.0


# --- item 7: load_generation takes the data root too ------------------------------------------------------


def test_load_generation_accepts_the_data_root(store):
    via_gens = gensql.load_generation(store / "gens", "essay", "e1")
    via_root = gensql.load_generation(store, "essay", "e1")
    assert via_root == via_gens and via_root["parsed_text"] == "essay e1\n"
