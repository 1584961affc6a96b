"""Every command's table output at terminal widths 60, 80 and 200: no line wider than the terminal, no
id cut, NULL visible, and every column either shown or named in the footer.

Each command runs twice through the real entry point (click's runner on ``gensql.cli.cli``) on the
sample store: ``--format json`` gives the exact rows, the default table gives what a reader sees; the
table is checked against the rows. A body line of the table is one row, in the same order.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from report_store import sample_store

from gensql.cli import cli
from gensql.render import TABLE_MAX_ROWS, is_id_column

WIDTHS = (60, 80, 200)


@pytest.fixture(scope="module")
def data():
    root, _truth = sample_store()
    return root


@pytest.fixture(scope="module")
def partial_prices(tmp_path_factory):
    """A price table that prices one model and has a rule for a model the store never called."""
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    path.write_text("model,input_per_mtok,output_per_mtok,currency\nsonnet-4,3,15,USD\nnot-a-model,1,1,USD\n")
    return path


@pytest.fixture(scope="module")
def commands(data, partial_prices):
    """name -> (arguments, the exact rows from --format json)."""
    return {
        name: (args, json.loads(run([*args, "--format", "json"])))
        for name, args in _commands(data, partial_prices).items()
    }


def _commands(data, prices) -> dict[str, list[str]]:
    import gensql

    con = gensql.connect(data)
    cohort = con.sql("SELECT cohort_id FROM membership GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    missing = con.sql("SELECT cohort_id FROM membership WHERE NOT exists_on_disk ORDER BY 1 LIMIT 1").fetchall()[0][0]
    word = "essay"
    con.close()
    root = ["--data-root", str(data)]
    return {
        "sql gens": [
            "sql",
            "SELECT gen_id, stage, parent_gen_id, model_id, template_id, score, status, created_at FROM gens ORDER BY stage, gen_id",
            *root,
        ],
        "sql wide": ["sql", "SELECT * FROM gens ORDER BY gen_id LIMIT 30", *root],
        "query lineage": ["query", "lineage", "-p", f"gen_id={_an_essay(data)}", *root],
        "query score_pivot": ["query", "score_pivot", *root],
        "query tokens_by_model": ["query", "tokens_by_model", *root],
        "query problems_summary": ["query", "problems_summary", *root],
        "query cohort_coverage": ["query", "cohort_coverage", *root],
        "query --list": ["query", "--list"],
        "views": ["views", *root],
        "schema": ["schema"],
        "report tokens": ["report", "tokens", "--by", "model,stage", *root],
        "report scores": ["report", "scores", "--cohort", cohort, *root],
        "report scores --long": ["report", "scores", "--long", *root],
        "report cohort": ["report", "cohort", cohort, *root],
        "report cohort --missing": ["report", "cohort", missing, "--missing", *root],
        "cohort list": ["cohort", "list", *root],
        "search": ["search", word, "--limit", "30", *root],
        "prices check": ["prices", "check", "--prices", str(prices), *root],
    }


def _an_essay(data) -> str:
    import gensql

    con = gensql.connect(data)
    try:
        return con.sql(
            "SELECT gen_id FROM lineage WHERE stage = 'essay' AND NOT broken_link ORDER BY gen_id LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


def run(args: list[str], width: int | None = None):
    env = {"COLUMNS": str(width)} if width else {}
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def _parse(table: str) -> tuple[list[str], list[str]]:
    """(body lines, columns named as not shown) of a boxed table."""
    lines = table.splitlines()
    bottom = max(i for i, line in enumerate(lines) if line.startswith("└"))
    first_rule = next(i for i, line in enumerate(lines) if line.startswith("├"))
    body = []
    for line in lines[first_rule + 1 : bottom]:
        if line.startswith("├"):
            break  # the TOTAL row of a report follows a second rule
        body.append(line)
    footer = " ".join(lines[bottom + 1 :])
    hidden = re.search(r"more columns? not shown: (.*?); (?:use|--all-columns)", footer)
    return body, hidden.group(1).split(", ") if hidden else []


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_every_commands_table_fits_and_keeps_ids_and_nulls(commands, width):
    checked_nulls = checked_ids = 0
    for name, (args, rows) in commands.items():
        assert rows, f"{name}: the sample store gives rows"
        table = run(args, width)
        assert all(len(line) <= width for line in table.splitlines()), (name, width, max(map(len, table.splitlines())))
        if table.startswith("-[ RECORD"):
            continue  # the default columns do not fit across: shown one per line (test_default_columns_*)
        body, hidden = _parse(table)
        assert len(body) == min(len(rows), TABLE_MAX_ROWS), name
        columns = list(rows[0])
        assert set(hidden) <= set(columns), (name, hidden)
        shown = [c for c in _headers(table) if c in columns]
        assert shown, name
        if hidden:
            assert "-x" in table, f"{name}: the footer says how to see every column"
        for row, line in zip(rows, body):
            cells = [c.strip() for c in line[2:-2].split(" │ ")]
            for column in shown:
                value = row[column]
                if value is None:
                    assert "NULL" in cells, (name, width, column, line)
                    checked_nulls += 1
                elif is_id_column(column) and isinstance(value, str):
                    assert value in line, f"{name} at {width}: id {column}={value!r} cut in {line!r}"
                    checked_ids += 1
            assert len(cells) == len(shown), (name, width, line)
    assert checked_nulls > 0 and checked_ids > 1000, (checked_nulls, checked_ids)


def test_vertical_shows_every_column_whole(data):
    args = ["sql", "SELECT * FROM gens ORDER BY gen_id LIMIT 5", "--data-root", str(data)]
    rows = json.loads(run([*args, "--format", "json"]))
    out = run([*args, "-x"], 60)
    blocks = out.split("-[ RECORD ")[1:]
    assert len(blocks) == len(rows)
    for row, block in zip(rows, blocks):
        fields = dict(
            line.split(" | ", 1) if " | " in line else (line.rstrip(" |"), "")
            for line in block.splitlines()[1:]
            if "|" in line
        )
        fields = {k.strip(): v for k, v in fields.items()}
        assert list(fields) == list(row)  # every column, in order
        for column, value in row.items():
            if value is None:
                assert fields[column] == "NULL"
            elif is_id_column(column) or column in ("stage", "status"):
                assert fields[column] == value


@pytest.mark.parametrize("width", WIDTHS)
def test_summary_fits(data, width):
    out = run(["summary", "--data-root", str(data)], width)
    assert "Generations by stage and model" in out and "Problems found" in out
    assert all(len(line) <= width for line in out.splitlines())
    assert out.count("┌") == 2  # both sections drawn


def _headers(table: str) -> list[str]:
    """Column names of a boxed table, with wrapped headers joined back."""
    lines = table.splitlines()
    first_rule = next(i for i, line in enumerate(lines) if line.startswith("├"))
    names: list[str] = []
    for line in lines[1:first_rule]:
        parts = [p.strip() for p in line[2:-2].split(" │ ")]
        names = parts if not names else [a + b for a, b in zip(names, parts)]
    return names


def _shown(out: str) -> list[str]:
    """The columns a table (or its one-per-line fallback) shows."""
    if out.startswith("-[ RECORD"):
        block = out.split("-[ RECORD ")[1]
        return [line.split(" | ")[0].strip() for line in block.splitlines()[1:] if " | " in line]
    return _headers(out)


#: command -> the columns its default table must lead with (what the command is for).
HEADLINES = {
    "report tokens": ["model_id", "stage", "completion_tokens", "calls_with_completion_tokens", "cost_total_est"],
    "report cohort": ["stage", "expected", "on_disk", "missing", "completion_tokens", "cost_total_est"],
    "report compare": ["mean_diff", "ci_low", "ci_high", "wins", "ties", "losses", "p_value"],
    "report agreement": ["evaluation_template_id", "judge_a", "judge_b", "spearman"],
    "report judges": ["evaluation_template_id", "judge", "offset", "loa_low", "loa_high"],
    "search": ["rank", "gen_id", "bm25", "snippet"],
    "cohort list": ["cohort_id", "members", "on_disk", "missing"],
}


@pytest.fixture(scope="module")
def headline_commands(data, commands):
    import gensql

    con = gensql.connect(data)
    a, b = (
        r[0]
        for r in con.sql(
            "SELECT template_id FROM gens WHERE stage = 'essay' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
        ).fetchall()
    )
    con.close()
    root = ["--data-root", str(data)]
    found = {name: args for name, (args, _) in commands.items() if name in HEADLINES}
    found["report compare"] = ["report", "compare", a, b, *root]
    found["report agreement"] = ["report", "agreement", *root]
    found["report judges"] = ["report", "judges", *root]
    return {name: (args, json.loads(run([*args, "--format", "json"]))) for name, args in found.items()}


@pytest.mark.parametrize("width", (60, 80, 120))
@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_default_columns_answer_the_question(headline_commands, name, width):
    """At 60, 80 and 120 columns the default table shows what the command is for, every id whole."""
    args, rows = headline_commands[name]
    assert rows, name
    out = run(args, width)
    assert all(len(line) <= width for line in out.splitlines()), (name, width)
    shown = _shown(out)
    assert [c for c in HEADLINES[name] if c in rows[0]] == [c for c in shown if c in HEADLINES[name]], (name, shown)
    if width >= 80 and name in ("report tokens", "report compare", "report judges", "search", "cohort list"):
        assert not out.startswith("-[ RECORD"), f"{name} fits across 80 columns"
    for row in rows[:TABLE_MAX_ROWS]:
        for column in shown:
            value = row.get(column)
            if isinstance(value, str) and (is_id_column(column) or column in ("judge_a", "judge_b", "judge")):
                assert value in out, f"{name} at {width}: id {column}={value!r} cut"


@pytest.mark.parametrize("args", [[], ["report"], ["cohort"]])
def test_help_gives_each_commands_whole_sentence(args):
    """`gensql --help` at 80 columns: every command's first sentence, wrapped, none cut at "..."."""
    result = CliRunner().invoke(cli, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
