"""Reports on the sample store: golden outputs in every format, numbers against the generator's truth,
filters and grouping, provenance, reproducibility, and the CLI through the real entry point.

Golden files live in ``tests/golden/reports/``. When a report changes on purpose, regenerate them and
review the diff before committing::

    GENSQL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_reports.py

The sample store is built with ``make_sample_store`` into a temporary directory (deterministic mtimes,
so ``created_at`` and days are stable); the snapshot id and the report time, which change on every
run, are replaced by placeholders in the golden files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from report_store import sample_store

from gensql.cli import cli
from gensql.index import current_snapshot
from gensql.prices import load_prices
from gensql.reports import (
    PROVENANCE_KEY,
    ReportError,
    build_cohort,
    build_scores,
    build_tokens,
    cohort_report,
    export,
    render_report,
    scores_report,
    tokens_report,
)

GOLDEN = Path(__file__).parent / "golden" / "reports"
UPDATE = os.environ.get("GENSQL_UPDATE_GOLDEN") == "1"
FORMATS = ("table", "vertical", "markdown", "csv", "json", "jsonl", "parquet", "xlsx")
#: The terminal width the golden tables are drawn at.
WIDTH = "200"


@pytest.fixture(autouse=True)
def _terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", WIDTH)


SNAPSHOT = "<snapshot-id>"


@pytest.fixture(scope="module")
def store():
    data, truth = sample_store()
    return data, truth, current_snapshot(data / "index").id


@pytest.fixture(scope="module")
def con(store):
    import gensql

    return gensql.connect(store[0])


def _missing_cohort(truth) -> str:
    return sorted({c for c, _, _ in truth.missing_members})[0]


def _small_cohort(con) -> str:
    """The cohort with the fewest evaluations (keeps the wide score golden file small)."""
    return con.sql(
        "SELECT cohort_id FROM membership WHERE stage = 'evaluation' GROUP BY 1 ORDER BY count(*), 1 LIMIT 1"
    ).fetchall()[0][0]


CASES = {
    # name: (CLI arguments after `gensql report`, the same report through the library)
    "tokens_by_model": (["tokens"], lambda con, c: build_tokens(con)),
    "tokens_by_cohort_stage_month": (
        ["tokens", "--by", "cohort,stage", "--by", "month"],
        lambda con, c: build_tokens(con, by=["cohort,stage", "month"]),
    ),
    "tokens_filtered_by_template_day": (
        [
            "tokens",
            "--by",
            "template",
            "--by",
            "day",
            "--stage",
            "evaluation",
            "--since",
            "2025-03-03",
            "--until",
            "2025-03-05",
            "--price-at",
            "2025-03-01",
        ],
        lambda con, c: build_tokens(
            con,
            by=("template", "day"),
            stage="evaluation",
            since="2025-03-03",
            until="2025-03-05",
            price_at="2025-03-01",
        ),
    ),
    "scores_wide_one_cohort": (
        ["scores", "--cohort", "{small}"],
        lambda con, c: build_scores(con, cohort=_small_cohort(con)),
    ),
    "scores_long": (
        ["scores", "--long", "--model", "gpt-4o", "--model", "sonnet-4"],
        lambda con, c: build_scores(con, long=True, model=["gpt-4o", "sonnet-4"]),
    ),
    "cohort": (["cohort", "{cohort}"], lambda con, c: build_cohort(con, c)),
    "cohort_missing": (["cohort", "{cohort}", "--missing"], lambda con, c: build_cohort(con, c, missing=True)),
}


def _invoke(data: Path, args: list[str]):
    return CliRunner().invoke(cli, ["report", *args, "--data-root", str(data)], catch_exceptions=False)


def _normalise(text: str, snapshot: str) -> str:
    text = text.replace(snapshot, SNAPSHOT)
    return re.sub(r'"generated_at": "[^"]+"', '"generated_at": "<time>"', text)


def _dump_parquet(data: bytes, snapshot: str) -> str:
    f = pq.ParquetFile(io.BytesIO(data))
    lines = ["schema:"] + [f"  {field.name}: {field.type}" for field in f.schema_arrow]
    lines.append(f"metadata {PROVENANCE_KEY}:")
    lines.append(_normalise(f.metadata.metadata[PROVENANCE_KEY.encode()].decode(), snapshot).rstrip())
    lines.append("rows (as csv):")
    lines.append(pl.read_parquet(io.BytesIO(data)).write_csv().rstrip())
    return "\n".join(lines) + "\n"


def _dump_xlsx(data: bytes, snapshot: str) -> str:
    lines = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        lines.append("members: " + ", ".join(sorted(names)))
        for name in ("xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/sharedStrings.xml"):
            xml = z.read(name).decode() if name in names else "(absent)"
            lines.append(f"== {name}")
            lines.append(_normalise(xml.replace("><", ">\n<"), snapshot))
    return "\n".join(lines) + "\n"


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run GENSQL_UPDATE_GOLDEN=1 pytest tests/test_reports.py"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from its golden file (regenerate with GENSQL_UPDATE_GOLDEN=1 and review the diff)"
    )


def _golden_name(case: str, fmt: str) -> str:
    return f"{case}.{ {'table': 'txt', 'vertical': 'vertical.txt', 'markdown': 'md', 'parquet': 'parquet.txt', 'xlsx': 'xlsx.txt'}.get(fmt, fmt) }"


@pytest.mark.parametrize("case", list(CASES))
def test_golden_outputs_in_every_format(store, con, tmp_path, case):
    data, truth, snapshot = store
    report = CASES[case][1](con, _missing_cohort(truth))
    for fmt in FORMATS:
        out = render_report(report, fmt)
        if fmt == "parquet":
            text = _dump_parquet(out, snapshot)
        elif fmt == "xlsx":
            text = _dump_xlsx(out, snapshot)
        else:
            text = out.decode()
        _check_golden(_golden_name(case, fmt), text)
    _check_golden(f"{case}.notes.txt", "".join(f"{n}\n" for n in report.notes))
    sidecar = export(report, "csv", tmp_path / f"{case}.csv")
    _check_golden(f"{case}.csv.meta.json", _normalise(sidecar.read_text(), snapshot))


@pytest.mark.parametrize("case", list(CASES))
def test_cli_gives_the_golden_table(store, con, case):
    """The CLI parses its options into the same report: its table output is the golden one, notes on stderr."""
    if UPDATE:
        pytest.skip("updating golden files")
    data, truth, _ = store
    args = [a.format(cohort=_missing_cohort(truth), small=_small_cohort(con)) for a in CASES[case][0]]
    result = _invoke(data, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.decode() == (GOLDEN / _golden_name(case, "table")).read_text(encoding="utf-8")
    notes = (GOLDEN / f"{case}.notes.txt").read_text(encoding="utf-8")
    assert result.stderr == "".join(f"gensql: note: {n}\n" for n in notes.splitlines())


# --------------------------------------------------------------------------------------------------
# Numbers against the generator's truth (an oracle independent of gensql's SQL)
# --------------------------------------------------------------------------------------------------


def _est(v: dict) -> int | None:
    if v.get("prompt_tokens") is not None:
        return v["prompt_tokens"]
    if v.get("prompt_bytes") is None:
        return None
    return (v["prompt_bytes"] * 2 + 4) // 8  # round(bytes / 4), halves up


def test_tokens_by_model_match_the_truth(store, con):
    data, truth, _ = store
    prices = load_prices()
    want: dict = defaultdict(lambda: defaultdict(int))
    known: dict = defaultdict(lambda: defaultdict(int))  # calls that recorded each summed column
    cost: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for g in truth.gens.values():
        v = g.values
        w = want[v.get("model_id")]
        w["generations"] += 1
        if not v.get("is_model_call"):
            continue
        w["model_calls"] += 1
        for column, value in (
            ("completion_tokens", v.get("completion_tokens")),
            ("prompt_tokens", v.get("prompt_tokens")),
            ("total_tokens", v.get("total_tokens")),
            ("prompt_bytes", v.get("prompt_bytes")),
            ("prompt_tokens_est", _est(v)),
        ):
            w[column] += value or 0
            known[v.get("model_id")][column] += value is not None
        w["truncated"] += bool(v.get("truncated"))
        rule = prices.lookup(v.get("model_id"), v["created_at"].astimezone(UTC).date())
        if rule is None:  # the sample's real-pipeline model ids are not in the shipped price table
            w["unpriced_calls"] += 1
            w["unpriced_prompt_tokens_est"] += _est(v) or 0
            w["unpriced_completion_tokens"] += v.get("completion_tokens") or 0
            known[v.get("model_id")]["unpriced_completion_tokens"] += v.get("completion_tokens") is not None
            continue
        w["priced"] += 1
        known[v.get("model_id")]["priced_est"] += _est(v) is not None
        known[v.get("model_id")]["priced_completion"] += v.get("completion_tokens") is not None
        cost[v.get("model_id")][0] += Decimal(_est(v) or 0) * rule.input_per_mtok / 1_000_000
        cost[v.get("model_id")][1] += Decimal(v.get("completion_tokens") or 0) * rule.output_per_mtok / 1_000_000
    df = tokens_report(con)
    assert df["model_id"].to_list()[:-1] == sorted(m for m in want if m is not None)
    for row in df.iter_rows(named=True):
        w, k = want[row["model_id"]], known[row["model_id"]]
        for column in ("generations", "model_calls", "truncated"):
            assert row[column] == w[column], (row["model_id"], column)
        for column in ("completion_tokens", "prompt_tokens", "total_tokens", "prompt_bytes", "prompt_tokens_est"):
            # the sum of what was recorded; unknown (NULL) when calls exist and none recorded it
            assert row[column] == (None if w["model_calls"] and not k[column] else w[column]), (row["model_id"], column)
        for column in ("prompt_tokens", "completion_tokens", "total_tokens"):
            assert row[f"calls_with_{column}"] == k[column], (row["model_id"], column)
        assert row["unpriced_calls"] == w["unpriced_calls"], row["model_id"]
        assert row["unpriced_prompt_tokens_est"] == w["unpriced_prompt_tokens_est"], row["model_id"]
        unknown_completion = w["unpriced_calls"] and not k["unpriced_completion_tokens"]
        assert row["unpriced_completion_tokens"] == (None if unknown_completion else w["unpriced_completion_tokens"])
        if w["priced"]:
            cin, cout = cost[row["model_id"]]
            want_in = float(cin) if k["priced_est"] else None
            want_out = float(cout) if k["priced_completion"] else None
            want_total = float(cin + cout) if want_in is not None and want_out is not None else None
            assert (row["cost_input_est"], row["cost_output"], row["cost_total_est"]) == (want_in, want_out, want_total)
        else:  # copy-mode generations only, or no price rule: no cost (NULL, not 0)
            assert row["cost_input_est"] is None and row["cost_output"] is None and row["cost_total_est"] is None


def test_totals_are_computed_not_summed_across_many_to_many_cohorts(store, con):
    data, truth, _ = store
    report = build_tokens(con, by="cohort")
    total = report.totals.row(0, named=True)
    assert total["generations"] == truth.n_gens
    members = {(s, g) for _, s, g in truth.membership if (s, g) in truth.gens}
    assert sum(report.df["generations"]) >= len(members)  # a generation in two cohorts counts in both
    by_cohort = {r["cohort_id"]: r["generations"] for r in report.df.iter_rows(named=True)}
    for cohort in {c for c, _, _ in truth.membership}:
        present = {(s, g) for c, s, g in truth.membership if c == cohort and (s, g) in truth.gens}
        assert by_cohort.get(cohort, 0) == len(present)
    not_members = sum(1 for key in truth.gens if key not in members)
    assert by_cohort.get(None, 0) == not_members


def test_filters(store, con):
    data, truth, _ = store
    days = tokens_report(con, by="day", since="2025-03-03", until="2025-03-04")
    assert [d.isoformat() for d in days["day"]] == ["2025-03-03", "2025-03-04"]  # both bounds inclusive
    evals = tokens_report(con, by=(), stage="evaluation")
    assert evals["generations"][0] == truth.count(stage="evaluation")
    two = tokens_report(con, by="model", model=["gpt-4o", "sonnet-4"])
    assert two["model_id"].to_list() == ["gpt-4o", "sonnet-4"]
    cohort = _missing_cohort(truth)
    members = {(s, g) for c, s, g in truth.membership if c == cohort and (s, g) in truth.gens}
    assert tokens_report(con, by=(), cohort=cohort)["generations"][0] == len(members)
    only = tokens_report(con, by="cohort", cohort=cohort)
    assert only["cohort_id"].to_list() == [cohort]
    with pytest.raises(ReportError, match="no cohort 'nope'"):
        tokens_report(con, cohort="nope")
    with pytest.raises(ReportError, match="cannot group by 'colour'"):
        tokens_report(con, by="colour")
    with pytest.raises(ReportError, match="since 2025-03-05 is after until"):
        tokens_report(con, since="2025-03-05", until="2025-03-01")


def test_month_and_run_grouping(store, con):
    data, truth, _ = store
    months = tokens_report(con, by=["month", "run"])
    assert set(months["month"]) == {g.values["created_at"].strftime("%Y-%m") for g in truth.gens.values()}
    assert set(months["month"]) == {"2025-02", "2025-03"}  # the real pipeline's older eras came first
    assert months["generations"].sum() == truth.n_gens


def test_scores_count_one_score_per_replicate_and_long_matches_wide(store, con):
    data, truth, _ = store
    long = scores_report(con, long=True)
    wide = scores_report(con)
    # newest scored attempt per logical evaluation: no logical product counted twice
    scored_products = {
        g.logical_group for g in truth.gens.values() if g.stage == "evaluation" and g.values.get("score") is not None
    }
    assert long["n"].sum() <= len(scored_products)
    assert wide.height == long["essay_gen_id"].n_unique()
    for row in long.iter_rows(named=True):
        label = f"{row['evaluation_model_id'] or '(none)'}/{row['evaluation_template_id'] or '(none)'}"
        (w,) = wide.filter(pl.col("essay_gen_id") == row["essay_gen_id"]).iter_rows(named=True)
        assert (w[f"{label}/mean"], w[f"{label}/min"], w[f"{label}/max"], w[f"{label}/n"]) == (
            row["mean"],
            row["min"],
            row["max"],
            row["n"],
        )
        assert row["min"] <= row["mean"] <= row["max"]


def test_cohort_report_matches_membership_truth(store, con):
    data, truth, _ = store
    for cohort in sorted({c for c, _, _ in truth.membership}):
        members = {(s, g) for c, s, g in truth.membership if c == cohort}
        df = cohort_report(con, cohort)
        assert df["expected"].sum() == len(members)
        missing = {(s, g) for c, s, g in truth.missing_members if c == cohort}
        assert df["missing"].sum() == len(missing)
        ok = sum(1 for key in members if key in truth.gens and truth.gens[key].values.get("status") == "ok")
        assert df["ok"].sum() == ok
        listed = cohort_report(con, cohort, missing=True)
        assert {(r["stage"], r["gen_id"]) for r in listed.iter_rows(named=True)} == missing


# --------------------------------------------------------------------------------------------------
# Provenance and reproducibility
# --------------------------------------------------------------------------------------------------


def test_sidecar_provenance(store, tmp_path):
    data, _, snapshot = store
    out = tmp_path / "r.json"
    before = datetime.now(UTC).replace(microsecond=0)
    result = _invoke(data, ["tokens", "--by", "model,day", "--stage", "essay", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0 and result.stdout_bytes == b""
    meta = json.loads((tmp_path / "r.json.meta.json").read_text())
    shipped = Path(__file__).parents[1] / "gensql" / "data" / "prices.csv"
    assert meta["gensql_version"] and meta["report"] == "tokens" and meta["format"] == "json"
    assert meta["snapshot_id"] == snapshot
    assert meta["prices"]["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert meta["by"] == ["model", "day"] and meta["filters"]["stage"] == ["essay"]
    assert meta["file"] == "r.json" and meta["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert meta["rows"] == len(json.loads(out.read_text()))
    assert before <= datetime.fromisoformat(meta["generated_at"].replace("Z", "+00:00")) <= datetime.now(UTC)


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_report_same_snapshot_same_bytes(store, con, tmp_path, fmt):
    data, _, _ = store
    outs = []
    for i, connection in enumerate((con, data)):  # two separate computations, one through a new connection
        out = tmp_path / f"{i}.{fmt}"
        export(build_tokens(connection, by=("stage", "model")), fmt, out)
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    metas = [json.loads(Path(f"{o}.meta.json").read_text()) for o in outs]
    for m in metas:
        m.pop("generated_at"), m.pop("file")
    assert metas[0] == metas[1]


# --------------------------------------------------------------------------------------------------
# CLI through the real entry point
# --------------------------------------------------------------------------------------------------


def _gensql(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True)


@pytest.mark.slow
def test_cli_entry_point_writes_files_and_talks_on_stderr(store, tmp_path):
    data, _, _ = store
    out = tmp_path / "tokens.xlsx"
    proc = _gensql("report", "tokens", "--by", "model", "--format", "xlsx", "-o", str(out), "--data-root", str(data))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert f"gensql: wrote {out}".encode() in proc.stderr
    with zipfile.ZipFile(out) as z:
        assert "xl/worksheets/sheet2.xml" in z.namelist()
    assert json.loads(Path(f"{out}.meta.json").read_text())["format"] == "xlsx"

    proc = _gensql("report", "tokens", "--format", "parquet", "--data-root", str(data))  # piped: allowed
    assert proc.returncode == 0 and proc.stdout.startswith(b"PAR1")
    assert PROVENANCE_KEY.encode() in pq.ParquetFile(io.BytesIO(proc.stdout)).metadata.metadata

    proc = _gensql("report", "cohort", "no-such-cohort", "--data-root", str(data))
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().startswith("gensql: error: no cohort 'no-such-cohort' in the index")

    proc = _gensql("report", "tokens", "--by", "colour", "--data-root", str(data))
    assert proc.returncode == 2 and b"'colour': expected one or more of model, template" in proc.stderr

    proc = _gensql("report", "tokens", "--data-root", str(tmp_path / "empty"))
    assert proc.returncode == 2 and b"run `gensql refresh` first" in proc.stderr


def test_export_to_a_missing_directory_is_a_clear_error(con, tmp_path):
    with pytest.raises(ReportError, match="cannot write .*x.csv: No such file or directory"):
        export(build_tokens(con), "csv", tmp_path / "no" / "x.csv")
    assert not (tmp_path / "no").exists()


# --------------------------------------------------------------------------------------------------
# Unknown is not zero: token sums over calls that never recorded a count are NULL
# --------------------------------------------------------------------------------------------------

UNKNOWN_PRICES = (
    "model,match,input_per_mtok,output_per_mtok,currency,effective_from\n"
    "cm-only,exact,1,2,USD,\npartial,exact,1,2,USD,\nsilent,exact,1,2,USD,\n"
)


@pytest.fixture(scope="module")
def unknown_store(tmp_path_factory):
    """Calls as the pipeline's own client recorded them (completion tokens and the cap only), next to
    calls with OpenAI-style usage, calls with no usage at all, an unpriced model and a copy-mode essay."""
    from hand_store import HandStore

    root = tmp_path_factory.mktemp("unknown")
    s = HandStore(root)

    def call(gen_id, model, usage, template="dt", prompt="p" * 400):
        raw_meta = {
            "stage": "draft",
            "gen_id": gen_id,
            "mode": "llm",
            "llm_model_id": model,
            "usage": usage,
            "finish_reason": "stop",
            "duration_s": 2.0,
        }
        s.draft(gen_id, model=model, template=template, combo=gen_id, raw_meta=raw_meta, prompt=prompt, at=100)

    real_client = {"completion_tokens": 300, "max_tokens": 4096}
    call("d1", "cm-only", real_client)
    call("d2", "cm-only", {"completion_tokens": 200, "max_tokens": 4096})
    call("d3", "partial", {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150})
    call("d4", "partial", {"completion_tokens": 70, "max_tokens": 4096})
    call("d5", "silent", None)
    call("d6", "mystery", None)
    s.essay("e1", "d1", model="cm-only", template="copy-t", raw=None, prompt=None, extra={"mode": "copy"}, at=100)
    s.cohort("quiet", [("draft", "d5"), ("draft", "d6"), ("essay", "e-missing")])
    s.refresh()
    prices = root / "prices.csv"
    prices.write_text(UNKNOWN_PRICES)
    return s.data, prices


def test_token_sums_never_recorded_are_null_not_zero(unknown_store):
    data, prices = unknown_store
    report = build_tokens(data, by="model", prices=prices)
    rows = {r["model_id"]: r for r in report.df.iter_rows(named=True)}
    cm = rows["cm-only"]  # the real client: completion tokens and max_tokens only
    assert (cm["model_calls"], cm["completion_tokens"], cm["calls_with_completion_tokens"]) == (2, 500, 2)
    assert cm["prompt_tokens"] is None and cm["total_tokens"] is None
    assert cm["calls_with_prompt_tokens"] == 0 and cm["calls_with_total_tokens"] == 0
    assert cm["prompt_tokens_est"] == 200 and cm["cost_output"] is not None  # the estimate and cost stay known
    partial = rows["partial"]  # some calls recorded prompt/total tokens: the sum of those, with the coverage
    assert (partial["prompt_tokens"], partial["calls_with_prompt_tokens"], partial["model_calls"]) == (100, 1, 2)
    assert (partial["total_tokens"], partial["calls_with_total_tokens"]) == (150, 1)
    assert partial["completion_tokens"] == 120
    silent = rows["silent"]  # a call without any usage: no completion count, so no output cost
    assert silent["completion_tokens"] is None and silent["calls_with_usage"] == 0
    assert silent["cost_output"] is None and silent["cost_total_est"] is None
    assert silent["cost_input_est"] == pytest.approx(100 / 1e6)  # the prompt estimate is known
    mystery = rows["mystery"]  # unpriced and silent
    assert (mystery["unpriced_calls"], mystery["unpriced_prompt_tokens_est"]) == (1, 100)
    assert mystery["unpriced_completion_tokens"] is None
    assert rows["cm-only"]["unpriced_completion_tokens"] == 0  # no unpriced call: a known zero
    assert any("mystery (1 call, completion tokens not recorded)" in n for n in report.notes)
    total = report.totals.row(0, named=True)
    assert (total["prompt_tokens"], total["calls_with_prompt_tokens"], total["model_calls"]) == (100, 1, 6)
    assert total["completion_tokens"] == 620 and total["calls_with_completion_tokens"] == 4
    by_template = {r["template_id"]: r for r in tokens_report(data, by="template", prices=prices).iter_rows(named=True)}
    copy = by_template["copy-t"]  # no model call at all: nothing to count, a known zero
    assert (copy["generations"], copy["model_calls"], copy["prompt_tokens"], copy["completion_tokens"]) == (1, 0, 0, 0)


def test_cohort_report_keeps_unknown_tokens_null(unknown_store):
    data, prices = unknown_store
    rows = {r["stage"]: r for r in cohort_report(data, "quiet", prices=prices).iter_rows(named=True)}
    draft = rows["draft"]
    assert (draft["model_calls"], draft["calls_with_completion_tokens"], draft["completion_tokens"]) == (2, 0, None)
    assert draft["prompt_tokens_est"] == 200 and draft["cost_output"] is None
    essay = rows["essay"]  # listed, never generated: nothing to count
    assert (essay["missing"], essay["model_calls"], essay["completion_tokens"]) == (1, 0, 0)


@pytest.mark.slow
def test_views_and_cli_show_unknown_sums_as_null(unknown_store):
    import gensql

    data, prices = unknown_store
    con = gensql.connect(data)
    sums = dict(con.sql("SELECT model_id, sum(prompt_tokens) FROM token_usage GROUP BY 1").fetchall())
    assert sums["cm-only"] is None and sums["partial"] == 100
    proc = _gensql("report", "tokens", "--format", "csv", "--prices", str(prices), "--data-root", str(data))
    assert proc.returncode == 0, proc.stderr
    got = {r["model_id"]: r for r in pl.read_csv(io.BytesIO(proc.stdout)).iter_rows(named=True)}
    assert got["cm-only"]["prompt_tokens"] is None and got["cm-only"]["total_tokens"] is None
    assert got["cm-only"]["completion_tokens"] == 500
