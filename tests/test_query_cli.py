"""`gensql sql`, `gensql query`, `gensql views`, `gensql summary` through the real entry point.

Most tests use click's CliRunner on ``gensql.cli.cli`` (same code path, no interpreter start-up); the
error-path tests run ``python -m gensql`` as a real process to check stderr, exit code and that no
traceback leaks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hand_store import HandStore, ts

from gensql.cli import cli

SHIPPED = {
    "cohort_coverage",
    "latest_attempts",
    "lineage",
    "overview",
    "problems_summary",
    "scan_errors_summary",
    "score_pivot",
    "tokens_by_model",
}

TYPES_SQL = """
SELECT 1 AS i, 'a,"b' AS s, NULL::VARCHAR AS n, '' AS e, 0.1::DOUBLE AS f, true AS b,
       TIMESTAMPTZ '2024-01-02 03:04:05+00' AS t, DATE '2024-01-02' AS d, [1, 2] AS l,
       h, 2.50::DECIMAL(5, 2) AS dec
FROM (SELECT sum(x) AS h FROM (VALUES (20000000000::BIGINT), (3::BIGINT)) AS v(x))
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    s = HandStore(tmp_path_factory.mktemp("cli"))
    s.draft("d1", at=10, raw_meta={"usage": {"completion_tokens": 100, "max_tokens": 1000}})
    s.essay("e1", "d1", at=20, raw_meta={"usage": {"completion_tokens": 300, "max_tokens": 2000}})
    s.evaluation("v1", "e1", score="7.0\n", at=30, raw_meta={"usage": {"completion_tokens": 5}})
    s.evaluation("v2", "e1", score="5\n", replicate=2, at=40)
    s.evaluation("v3", "missing", score="6\n", model="m4", at=50)
    s.cohort("A", [("draft", "d1"), ("essay", "e1"), ("essay", "nope")])
    s.refresh()
    return s.data


def run(*args: str, env: dict | None = None, input: str | None = None):
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def sql(store: Path, query: str, *args: str, **kw):
    return run("sql", query, "--data-root", str(store), *args, **kw)


# ---------------------------------------------------------------------------------------------------
# formats
# ---------------------------------------------------------------------------------------------------


def test_csv_is_exact(store):
    r = sql(store, TYPES_SQL, "--format", "csv")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == (
        "i,s,n,e,f,b,t,d,l,h,dec\n"
        '1,"a,""b",,"",0.1,true,2024-01-02T03:04:05.000000+0000,2024-01-02,"[1,2]",20000000003,2.50\n'
    )


def test_json_and_jsonl_are_exact(store):
    r = sql(store, TYPES_SQL, "--format", "json")
    assert r.exit_code == 0, r.stderr
    want = {
        "i": 1,
        "s": 'a,"b',
        "n": None,
        "e": "",
        "f": 0.1,
        "b": True,
        "t": "2024-01-02T03:04:05+00:00",
        "d": "2024-01-02",
        "l": [1, 2],
        "h": 20000000003,
        "dec": 2.5,
    }
    assert json.loads(r.stdout) == [want]
    r = sql(store, TYPES_SQL + " UNION ALL " + TYPES_SQL, "--format", "jsonl")
    assert [json.loads(line) for line in r.stdout.splitlines()] == [want, want]
    assert r.stdout.endswith("\n")
    assert sql(store, "SELECT 1 AS a WHERE false", "--format", "json").stdout == "[]\n"


def test_csv_of_a_view_round_trips(store):
    r = sql(store, "SELECT gen_id, created_at, score, completion_tokens FROM gens ORDER BY gen_id", "--format", "csv")
    assert r.stdout.splitlines() == [
        "gen_id,created_at,score,completion_tokens",
        "d1,2023-11-14T22:13:30.000000+0000,,100",
        "e1,2023-11-14T22:13:40.000000+0000,,300",
        "v1,2023-11-14T22:13:50.000000+0000,7.0,5",
        "v2,2023-11-14T22:14:00.000000+0000,5.0,",
        "v3,2023-11-14T22:14:10.000000+0000,6.0,",
    ]


def test_markdown(store):
    r = sql(store, "SELECT 'a|b' AS s, 1234 AS n, NULL AS z UNION ALL SELECT 'c', 5, ''", "--format", "markdown")
    assert r.stdout == "| s | n | z |\n| --- | ---: | --- |\n| a\\|b | 1,234 | NULL |\n| c | 5 |  |\n"


def test_parquet_to_a_file_keeps_types(store, tmp_path):
    out = tmp_path / "r.parquet"
    r = sql(store, TYPES_SQL, "--format", "parquet", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    table = pq.read_table(out)
    assert table.schema.field("t").type == pa.timestamp("us", tz="Etc/UTC")
    assert table.schema.field("l").type == pa.list_(pa.int32())
    assert table.column("h").to_pylist() == [20000000003]
    assert table.column("n").to_pylist() == [None] and table.column("e").to_pylist() == [""]
    r = run("query", "tokens_by_model", "--data-root", str(store), "--format", "parquet", "-o", str(out))
    assert pq.read_table(out).column("model_id").to_pylist() == ["m2", "m1", "m3", "m4"]


def test_output_file_for_text_formats(store, tmp_path):
    out = tmp_path / "r.csv"
    r = sql(store, "SELECT 1 AS a", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == ""
    assert out.read_text() == "a\n1\n"


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_table_fits_the_terminal(store, columns):
    r = sql(store, "SELECT * FROM gens ORDER BY gen_id", env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), max(len(line) for line in lines)
    assert lines[1].startswith("│ gen_id")
    footer = " ".join(lines[[i for i, line in enumerate(lines) if line.startswith("└")][-1] + 1 :])
    assert footer.startswith("5 rows") and "more columns not shown" in footer and "-x" in footer
    rule = next(i for i, line in enumerate(lines) if line.startswith("├"))
    assert sum(line.startswith("│ ") for line in lines[rule:]) == 5  # 5 rows under the header


def test_table_cuts_long_cells_and_right_aligns_numbers(store):
    r = sql(store, "SELECT repeat('x', 200) AS long, 1234567 AS n", env={"COLUMNS": "40"})
    lines = r.stdout.splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert "…" in lines[3] and lines[3].endswith(" 1,234,567 │")
    assert lines[-1] == "1 row"


def test_table_shows_at_most_1000_rows(store):
    r = sql(store, "SELECT range AS i FROM range(1500)", env={"COLUMNS": "80"})
    lines = r.stdout.splitlines()
    assert sum(line.startswith("│ ") for line in lines) == 1001
    assert lines[-1] == "1,500 rows; first 1,000 shown; use --format csv/json for everything"
    assert len(sql(store, "SELECT range AS i FROM range(1500)", "--format", "csv").stdout.splitlines()) == 1501


def test_statements_run_on_a_private_read_only_connection(store):
    r = sql(store, "CREATE TEMP TABLE t AS SELECT 1 AS a; SELECT a + 1 AS b FROM t", "--format", "csv")
    assert r.exit_code == 0 and r.stdout == "b\n2\n"
    r = sql(store, "CREATE TABLE t AS SELECT 1 AS a")
    assert r.exit_code == 1 and "read-only" in r.stderr and "CREATE TEMP TABLE" in r.stderr
    assert (
        sql(
            store, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 't'", "--format", "csv"
        ).stdout
        == "n\n0\n"
    )


def test_sql_reads_stdin_and_binds_params(store):
    r = sql(store, "-", "--format", "csv", input="SELECT gen_id FROM gens WHERE stage = $s ORDER BY 1")
    assert r.exit_code == 2 and "no value for parameter $s: bind it with --param s=VALUE" in r.stderr
    r = sql(
        store,
        "SELECT gen_id FROM gens WHERE stage = $s AND replicate = $r::INT ORDER BY 1",
        "-p",
        "s=evaluation",
        "-p",
        "r=2",
        "--format",
        "csv",
    )
    assert r.stdout == "gen_id\nv2\n"
    r = sql(store, "SELECT count(*) AS n FROM gens WHERE gen_id = $g", "-p", "g=x' OR '1'='1", "--format", "csv")
    assert r.stdout == "n\n0\n"  # bound, never formatted into the SQL


# ---------------------------------------------------------------------------------------------------
# errors: DuckDB's message on stderr, exit 1, no traceback (real process)
# ---------------------------------------------------------------------------------------------------


def gensql_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True, cwd=cwd)


def test_sql_error_is_duckdbs_message(store):
    p = gensql_process("sql", "SELECT * FROM no_such_view", "--data-root", str(store))
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("gensql: error: Catalog Error: Table with name no_such_view does not exist")
    assert "`gensql views` lists the views" in p.stderr
    assert "Traceback" not in p.stderr
    p = gensql_process("sql", "SELEC 1", "--data-root", str(store), "--format", "json")
    assert p.returncode == 1 and "Parser Error: syntax error" in p.stderr and "Traceback" not in p.stderr


def test_missing_index_says_to_refresh(tmp_path):
    (tmp_path / "data" / "gens").mkdir(parents=True)
    p = gensql_process("sql", "SELECT 1", "--data-root", str(tmp_path / "data"))
    assert p.returncode == 2 and "gensql refresh" in p.stderr and "Traceback" not in p.stderr


def test_runtime_error_in_a_named_query(store):
    r = run("query", "latest_attempts", "-p", "stage=drafts", "--data-root", str(store))
    assert r.exit_code == 1
    assert r.stderr == "gensql: error: Invalid Input Error: stage must be draft, essay or evaluation, not 'drafts'\n"


# ---------------------------------------------------------------------------------------------------
# named queries
# ---------------------------------------------------------------------------------------------------


def test_query_list_needs_no_store(tmp_path):
    r = CliRunner().invoke(
        cli, ["query", "--list", "--format", "csv"], env={"GENSQL_DATA_ROOT": str(tmp_path / "none")}
    )
    assert r.exit_code == 0, r.stderr
    header, *records = list(csv.reader(io.StringIO(r.stdout)))
    assert header == ["name", "params", "description"]
    listed = {name: (params, description) for name, params, description in records}
    assert SHIPPED <= set(listed)
    assert listed["lineage"][0] == "gen_id" and listed["lineage"][1].startswith("The lineage of one generation")
    assert listed["latest_attempts"][0] == "stage"
    assert all(len(description) > 20 for _, description in listed.values())  # every query has a description


def test_every_shipped_query_runs(store):
    params = {"latest_attempts": ["-p", "stage=evaluation"], "lineage": ["-p", "gen_id=e1"]}
    for name in sorted(SHIPPED):
        r = run("query", name, *params.get(name, []), "--data-root", str(store), "--format", "json")
        assert r.exit_code == 0, (name, r.stderr)
        json.loads(r.stdout)


def test_query_tokens_by_model(store):
    r = run("query", "tokens_by_model", "--data-root", str(store), "--format", "csv")
    assert r.stdout.splitlines() == [
        "model_id,calls,calls_with_usage,prompt_tokens,completion_tokens,total_tokens,prompt_bytes,prompt_tokens_estimate,truncated_calls,call_hours",
        "m2,1,1,,300,,15,4,0,",
        "m1,1,1,,100,,14,4,0,",
        "m3,2,1,,5,,18,4,0,",
        "m4,1,0,,,,9,2,0,",
    ]


def test_query_lineage_param(store):
    r = run("query", "lineage", "--param", "gen_id=e1", "--data-root", str(store), "--format", "csv")
    assert r.stdout.splitlines() == [
        "level,relation,stage,gen_id,parent_gen_id,link_status,template_id,model_id,status,created_at",
        "-1,ancestor,draft,d1,,root,dt,m1,ok,2023-11-14T22:13:30.000000+0000",
        "0,self,essay,e1,d1,ok,et,m2,ok,2023-11-14T22:13:40.000000+0000",
        "1,descendant,evaluation,v1,e1,ok,vt,m3,ok,2023-11-14T22:13:50.000000+0000",
        "1,descendant,evaluation,v2,e1,ok,vt,m3,ok,2023-11-14T22:14:00.000000+0000",
    ]
    r = run("query", "lineage", "-p", "gen_id=v3", "--data-root", str(store), "--format", "json")
    assert [(x["gen_id"], x["link_status"], x["parent_gen_id"]) for x in json.loads(r.stdout)] == [
        ("v3", "parent_missing", "missing")
    ]


def test_query_score_pivot_and_coverage(store):
    r = run("query", "score_pivot", "--data-root", str(store), "--format", "json")
    assert json.loads(r.stdout) == [
        {
            "essay_gen_id": "e1",
            "combo_id": "c1",
            "draft_template_id": "dt",
            "essay_template_id": "et",
            "essay_model_id": "m2",
            "evaluation_model_id": "m3",
            "evaluation_template_id": "vt",
            "mean_score": 6.0,
            "min_score": 5.0,
            "max_score": 7.0,
            "n": 2,
            "n_unscored": 0,
        }
    ]
    r = run("query", "cohort_coverage", "--data-root", str(store), "--format", "csv")
    assert r.stdout.splitlines() == [
        "cohort_id,stage,expected,present,ok,missing,pct_ok",
        "A,draft,1,1,1,0,100.0",
        "A,essay,2,1,1,1,50.0",
    ]


def test_query_latest_attempts(store):
    r = run("query", "latest_attempts", "-p", "stage=essay", "--data-root", str(store), "--format", "json")
    got = json.loads(r.stdout)
    assert [(x["latest_gen_id"], x["attempts"], x["never_ok"]) for x in got] == [("e1", 1, False)]
    assert got[0]["last_created_at"] == ts(20).isoformat()


def test_query_problems_summary(store):
    r = run("query", "problems_summary", "--data-root", str(store), "--format", "csv")
    assert r.stdout.splitlines() == [
        "kind,stage,n,example,example_detail",
        "member_missing,essay,1,nope,cohort A lists essay nope (line 4) but that generation directory does not exist",
        "parent_missing,evaluation,1,v3,parent missing not found in any stage (expected under essay/)",
    ]


def test_query_param_errors(store):
    r = run("query", "lineage", "--data-root", str(store))
    assert r.exit_code == 2 and "missing --param gen_id=..." in r.stderr
    r = run("query", "lineage", "-p", "gen_id=e1", "-p", "bogus=1", "--data-root", str(store))
    assert r.exit_code == 2 and "unknown bogus" in r.stderr
    r = run("query", "lineage", "-p", "gen_id", "--data-root", str(store))
    assert r.exit_code == 2 and "expected key=value" in r.stderr
    r = run("query", "no_such_query", "--data-root", str(store))
    assert r.exit_code == 2 and "no named query 'no_such_query'" in r.stderr and "tokens_by_model" in r.stderr
    r = run("query", "lineage", "-p", "gen_id=x' OR '1'='1", "--data-root", str(store), "--format", "csv")
    assert r.exit_code == 0 and r.stdout.count("\n") == 1  # header only: the value was bound


def test_user_query_dir(store, tmp_path):
    (tmp_path / "mine.sql").write_text(
        "-- Essays of one template.\nSELECT gen_id FROM gens WHERE template_id = $tpl -- not '$fake'\n"
    )
    r = run("query", "--list", "--queries-dir", str(tmp_path), "--format", "csv")
    assert "mine,tpl,Essays of one template." in r.stdout.splitlines()
    r = run(
        "query", "mine", "-p", "tpl=et", "--queries-dir", str(tmp_path), "--data-root", str(store), "--format", "csv"
    )
    assert r.stdout == "gen_id\ne1\n"


# ---------------------------------------------------------------------------------------------------
# views and summary
# ---------------------------------------------------------------------------------------------------


def test_views_lists_views_and_columns(store):
    r = run("views", "--data-root", str(store), "--format", "csv")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "view,column,type"
    views = {line.split(",")[0] for line in lines[1:]}
    assert {
        "gens",
        "documents",
        "membership",
        "attempts",
        "latest_attempt",
        "lineage",
        "token_usage",
        "scores",
        "problems",
        "scan_errors",
        "ancestors(start_gen_id)",
        "descendants(start_gen_id)",
    } <= views
    assert "documents,doc_id,VARCHAR" in lines and "token_usage,day,DATE" in lines
    assert not any(v.startswith("_") for v in views)
    r = run("views", "--data-root", str(store), env={"COLUMNS": "50"})
    assert all(len(line) <= 50 for line in r.stdout.splitlines())


def test_summary_has_a_problems_section(store):
    r = run("summary", "--data-root", str(store), "--format", "markdown")
    assert r.exit_code == 0, r.stderr
    assert "## Problems found" in r.stdout
    assert "| member_missing | essay | 1 | nope |" in r.stdout


def test_works_from_another_directory_with_env(store, tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "gensql", "sql", "SELECT count(*) AS n FROM documents", "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "GENSQL_DATA_ROOT": str(store)},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "n\n5\n"
