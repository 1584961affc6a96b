"""The %%gsql cell magic (gensql.magic) in a real IPython InteractiveShell.

Each test gets a fresh shell (its own IPYTHONDIR, history in memory) with the extension loaded. What a
user sees is read the way IPython shows it: rich display outputs through ``capture_output`` (the
table a notebook renders), errors through what the shell prints.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

IPython = pytest.importorskip("IPython")

from hand_store import HandStore  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402
from traitlets.config import Config  # noqa: E402


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    sh.run_cell("%load_ext gensql.magic", store_history=False)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a', DATE '2025-03-01'), (2, 'b', DATE '2025-03-02'), "
        "(3, 'c', DATE '2025-03-03')) AS v(id, name, day)"
    )
    sh.user_ns["con"] = con
    yield sh
    con.close()
    InteractiveShell.clear_instance()


def run(sh, cell: str):
    """Run a cell; return (result, rich outputs displayed, text printed)."""
    with capture_output() as cap:
        result = sh.run_cell(cell, store_history=False)
    return result, cap.outputs, cap.stdout + cap.stderr


def use(sh, name: str = "con"):
    result, _, out = run(sh, f"%gsql -c {name}")
    assert result.success, out
    assert f"the notebook variable {name}" in out


def test_a_cell_without_a_connection_says_how_to_get_one(shell):
    result, _, out = run(shell, "%%gsql\nSELECT 1")
    assert not result.success
    assert "no connection yet" in out and "%gsql -c con" in out
    assert "Traceback" not in out


def test_result_is_displayed_as_a_table_and_stored_as_polars(shell):
    use(shell)
    result, outputs, out = run(shell, "%%gsql df\nSELECT id, name FROM t ORDER BY id")
    assert result.success, out
    df = shell.user_ns["df"]
    assert isinstance(df, pl.DataFrame)
    assert df.to_dicts() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    assert len(outputs) == 1
    html = outputs[0].data["text/html"]
    assert "<table" in html and "<th>id</th>" in html and "&quot;c&quot;" in html
    assert "text/plain" in outputs[0].data


def test_dash_o_stores_too_and_the_names_must_agree(shell):
    use(shell)
    result, _, _ = run(shell, "%%gsql -o out\nSELECT count(*) AS n FROM t")
    assert result.success and shell.user_ns["out"]["n"].to_list() == [3]
    result, _, _ = run(shell, "%%gsql same -o same\nSELECT 1 AS one")
    assert result.success and shell.user_ns["same"]["one"].to_list() == [1]
    result, _, out = run(shell, "%%gsql a -o b\nSELECT 1")
    assert not result.success and "one name" in out
    result, _, out = run(shell, "%%gsql class\nSELECT 1")
    assert not result.success and "not a Python variable name" in out
    result, _, out = run(shell, "%%gsql --bogus\nSELECT 1")
    assert not result.success and "UsageError" in out and "--bogus" in out


def test_without_a_name_nothing_is_stored(shell):
    use(shell)
    before = set(shell.user_ns)
    result, outputs, _ = run(shell, "%%gsql\nSELECT 42 AS answer")
    assert result.success and len(outputs) == 1
    added = set(shell.user_ns) - before  # only IPython's output history: _, __, ___, _<n>
    assert all(name.strip("_") == "" or name[1:].isdigit() for name in added), added
    assert shell.user_ns["_"]["answer"].to_list() == [42]  # the cell's value, as after any expression


def test_parameters_are_bound_from_the_notebook_not_formatted_in(shell):
    use(shell)
    shell.user_ns.update(
        wanted="b",
        hostile="x' OR '1'='1",
        ids=[1, 3],
        since=date(2025, 3, 2),
        five="5",
    )
    run(shell, "%%gsql r\nSELECT id FROM t WHERE name = $wanted")
    assert shell.user_ns["r"]["id"].to_list() == [2]
    # A value is a value: quotes in it cannot change the query.
    run(shell, "%%gsql r\nSELECT count(*) AS n FROM t WHERE name = $hostile")
    assert shell.user_ns["r"]["n"].to_list() == [0]
    run(shell, "%%gsql r\nSELECT id FROM t WHERE list_contains($ids, id) AND day >= $since ORDER BY id")
    assert shell.user_ns["r"]["id"].to_list() == [3]
    # Formatted in, $five would be the integer 5; bound, it stays the string '5'.
    run(shell, "%%gsql r\nSELECT $five AS v, typeof($five) AS t")
    assert shell.user_ns["r"].row(0) == ("5", "VARCHAR")
    # '$name' inside a string literal or a comment is no parameter.
    result, _, out = run(shell, "%%gsql r\nSELECT '$nothing' AS s -- $neither\n")
    assert result.success, out
    assert shell.user_ns["r"]["s"].to_list() == ["$nothing"]


def test_a_path_parameter_is_passed_as_text(shell, tmp_path):
    use(shell)
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    shell.user_ns["path"] = path
    result, _, out = run(shell, "%%gsql r\nSELECT * FROM read_csv($path)")
    assert result.success, out
    assert shell.user_ns["r"].to_dicts() == [{"a": 1, "b": 2}]


def test_an_undefined_parameter_is_a_one_line_error(shell):
    use(shell)
    result, outputs, out = run(shell, "%%gsql r\nSELECT $missing")
    assert not result.success and outputs == []
    assert out.strip() == "gsql: $missing: no variable 'missing' in the notebook"
    assert "r" not in shell.user_ns


def test_positional_parameters_are_refused(shell):
    use(shell)
    for sql in ("SELECT ?", "SELECT $1"):
        result, _, out = run(shell, f"%%gsql\n{sql}")
        assert not result.success
        assert out.strip().startswith("gsql: positional parameter $1")


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELEC 1", 'gsql: Parser Error: syntax error at or near "SELEC"'),
        ("SELECT * FROM nope", "gsql: Catalog Error: Table with name nope does not exist!"),
        ("SELECT nope FROM t", 'gsql: Binder Error: Referenced column "nope" not found in FROM clause!'),
        ("SELECT 1 / 'x'", "gsql: Conversion Error: Could not convert string 'x' to"),
    ],
)
def test_duckdb_errors_show_as_one_line_not_a_traceback(shell, sql, message):
    use(shell)
    shell.user_ns["keep"] = "old value"
    result, outputs, out = run(shell, f"%%gsql keep\n{sql}")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "GsqlError"
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith(message), lines[0]
    assert "Traceback" not in out and "LINE 1" not in out and "^" not in out
    assert outputs == []
    assert shell.user_ns["keep"] == "old value"  # a failed query stores nothing


def test_several_statements_run_in_order_and_the_last_result_counts(shell):
    use(shell)
    shell.user_ns["low"] = 1
    result, outputs, out = run(
        shell, "%%gsql r\nCREATE TEMP TABLE big AS SELECT * FROM t WHERE id > $low;\nSELECT count(*) AS n FROM big;"
    )
    assert result.success, out
    assert shell.user_ns["r"]["n"].to_list() == [2]
    assert len(outputs) == 1
    result, _, out = run(shell, "%%gsql\nSELECT 1;\nSELECT nope FROM t")
    assert not result.success
    assert out.strip().startswith("gsql: statement 2 of 2: Binder Error")


def test_a_statement_without_a_table_displays_nothing_and_cannot_be_stored(shell):
    use(shell)
    result, outputs, out = run(shell, "%%gsql\nCREATE TEMP VIEW v AS SELECT 1 AS x")
    assert result.success and outputs == [] and out == ""
    result, _, out = run(shell, "%%gsql r\nCREATE TEMP VIEW w AS SELECT 1 AS x")
    assert not result.success
    assert out.strip() == "gsql: the last statement returns no table to store in r"


def test_an_empty_cell_is_an_error(shell):
    use(shell)
    result, _, out = run(shell, "%%gsql\n-- nothing but a comment\n")
    assert not result.success and out.strip() == "gsql: the cell has no SQL statement"


def test_rows_shown_and_quiet(shell):
    use(shell)
    result, outputs, _ = run(shell, "%%gsql -n 3\nSELECT range AS i FROM range(100)")
    html = outputs[0].data["text/html"]
    assert result.success and "shape: (100, 1)" in html and "&hellip;" in html
    assert html.count("<tr>") < 10
    result, outputs, _ = run(shell, "%%gsql -n -1\nSELECT range AS i FROM range(100)")
    assert "&hellip;" not in outputs[0].data["text/html"]
    assert outputs[0].data["text/html"].count("<td>") >= 100
    result, outputs, out = run(shell, "%%gsql r -q\nSELECT 7 AS x")
    assert result.success and outputs == [] and out == ""
    assert shell.user_ns["r"]["x"].to_list() == [7]


def test_dash_c_runs_one_cell_on_another_connection(shell):
    use(shell)
    other = duckdb.connect()
    other.execute("CREATE TABLE t AS SELECT 'other' AS name")
    shell.user_ns["other"] = other
    run(shell, "%%gsql r -c other\nSELECT name FROM t")
    assert shell.user_ns["r"]["name"].to_list() == ["other"]
    run(shell, "%%gsql r\nSELECT count(*) AS n FROM t")  # the current connection is unchanged
    assert shell.user_ns["r"]["n"].to_list() == [3]
    result, _, out = run(shell, "%%gsql -c nothing_here\nSELECT 1")
    assert not result.success and "no variable 'nothing_here'" in out
    shell.user_ns["text"] = "not a connection"
    result, _, out = run(shell, "%gsql -c text")
    assert not result.success and "not a DuckDB connection" in out
    other.close()


def test_gsql_opens_a_gensql_connection_on_a_data_root(shell, tmp_path):
    s = HandStore(tmp_path / "store")
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.evaluation("v1", "e1", at=30)
    s.refresh()
    shell.user_ns["root"] = str(s.data)
    result, _, out = run(shell, "%gsql {root}")
    assert result.success, out
    assert "gensql.connect(" in out
    run(shell, "%%gsql r\nSELECT stage, gen_id FROM lineage WHERE stage = 'evaluation'")
    assert shell.user_ns["r"].to_dicts() == [{"stage": "evaluation", "gen_id": "v1"}]
    result, _, out = run(shell, f"%gsql {tmp_path / 'no-store'}")
    assert not result.success
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gsql: no index at ")
    result, _, out = run(shell, "%gsql somewhere -c con")
    assert not result.success and "not both" in out


def test_the_connection_variable_is_looked_up_at_each_cell(shell):
    """Re-running `con = gensql.connect(root)` after a refresh must not leave %%gsql on the old snapshot."""
    use(shell)
    newer = duckdb.connect()
    newer.execute("CREATE TABLE t AS SELECT 99 AS id")
    old = shell.user_ns["con"]
    shell.user_ns["con"] = newer
    run(shell, "%%gsql r\nSELECT id FROM t")
    assert shell.user_ns["r"]["id"].to_list() == [99]
    del shell.user_ns["con"]
    result, _, out = run(shell, "%%gsql\nSELECT 1")
    assert not result.success and "no variable 'con'" in out
    newer.close()
    old.close()


def test_bare_gsql_says_what_cells_run_on(shell):
    result, _, out = run(shell, "%gsql")
    assert result.success and out.strip().startswith("gsql: no connection yet")
    use(shell)
    result, _, out = run(shell, "%gsql")
    assert out.strip() == "gsql: %%gsql cells run on the notebook variable con"


# --- one line, the cell's value, $GENSQL_DATA_ROOT (issue 23.6) -------------------------------------


def test_one_line_sql_returns_its_result(shell):
    use(shell)
    result, _, out = run(shell, "x = %gsql SELECT 42 AS answer")
    assert result.success, out
    assert shell.user_ns["x"].to_dicts() == [{"answer": 42}]
    shell.user_ns["wanted"] = "b"
    result, _, out = run(shell, "%gsql SELECT id FROM t WHERE name = $wanted")
    assert result.success, out
    assert result.result.to_dicts() == [{"id": 2}]  # a bare line displays it as its value
    result, _, out = run(shell, "y = %gsql FROM t SELECT count(*) AS n")
    assert shell.user_ns["y"]["n"].to_list() == [3]
    result, _, out = run(shell, "z = %gsql SELEC 1 AS a")  # a typo is SQL's error, not a data root
    assert not result.success and out.strip().startswith('gsql: Parser Error: syntax error at or near "SELEC"')


def test_a_cell_result_is_the_cells_value(shell):
    use(shell)
    result, outputs, out = run(shell, "%%gsql\nSELECT 5 AS five")
    assert result.success and len(outputs) == 1, out  # shown once
    result, _, _ = run(shell, "seen = _")
    assert shell.user_ns["seen"]["five"].to_list() == [5]


def _store(root):
    s = HandStore(root)
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.refresh()
    return s


def test_cells_use_the_data_root_of_the_environment_as_the_cli_does(shell, tmp_path, monkeypatch):
    s = _store(tmp_path / "store")
    monkeypatch.setenv("GENSQL_DATA_ROOT", str(s.data))
    result, _, out = run(shell, "n = %gsql SELECT count(*) AS n FROM gens")  # no %gsql DATA_ROOT first
    assert result.success, out
    assert shell.user_ns["n"]["n"].to_list() == [2]
    result, _, out = run(shell, "%gsql")
    assert out.strip() == "gsql: %%gsql cells run on gensql.connect() ($GENSQL_DATA_ROOT)"
    use(shell)  # an explicit choice wins over the environment
    result, _, _ = run(shell, "%%gsql r\nSELECT count(*) AS n FROM t")
    assert shell.user_ns["r"]["n"].to_list() == [3]


@pytest.mark.slow  # a Jupyter kernel starts: several seconds
def test_the_new_forms_in_a_real_kernel(tmp_path, monkeypatch):
    """One-line SQL, the cell's value as the execute_result with `_`, and $GENSQL_DATA_ROOT, in ipykernel."""
    import json
    import os
    import sys

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    s = _store(tmp_path / "store")
    home = tmp_path / "jupyter"
    spec = home / "kernels" / "gensql-magic-tests"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "gensql", "language": "python"}))
    for name, value in (
        ("JUPYTER_PATH", home),
        ("JUPYTER_CONFIG_DIR", home / "config"),
        ("JUPYTER_RUNTIME_DIR", home / "runtime"),
        ("JUPYTER_PLATFORM_DIRS", "1"),
        ("IPYTHONDIR", home / "ipython"),
    ):
        monkeypatch.setenv(name, str(value))
    cells = [
        "%load_ext gensql.magic",
        "n = %gsql SELECT count(*) AS n FROM gens\nn['n'][0]",
        "%gsql SELECT gen_id FROM gens WHERE stage = 'essay'",
        "%%gsql\nSELECT stage, count(*) AS n FROM gens GROUP BY ALL ORDER BY stage",
        "_['n'].to_list()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(nb, kernel_name="gensql-magic-tests", timeout=120)
    client.execute(env={**os.environ, "GENSQL_DATA_ROOT": str(s.data)})
    results = [[o for o in cell.outputs if o.output_type == "execute_result"] for cell in nb.cells]
    assert results[1][0].data["text/plain"] == "2"
    assert "e1" in results[2][0].data["text/plain"]  # a bare one-line query is the cell's value
    shown = [o for o in nb.cells[3].outputs if o.output_type in ("display_data", "execute_result")]
    assert len(shown) == 1 and "<table" in shown[0].data["text/html"]
    assert results[4][0].data["text/plain"] == "[1, 1]"  # `_` is the %%gsql cell's result
