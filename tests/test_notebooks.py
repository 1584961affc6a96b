"""Every notebook in notebooks/ runs top to bottom on a fresh sample store and shows the right numbers.

The store is written by the generator (``make_sample_store``), whose ``StoreTruth`` says what every
generation is, so the numbers a notebook displays are checked against values computed here from that
truth (and, for the shipped prices, from the price CSV read with the csv module), not against gensql.
The tables are read from the HTML each notebook displays, the way a reader sees them.

The kernel: a kernelspec written by this module into a temporary ``JUPYTER_PATH`` (first in
jupyter_client's search order) runs this interpreter (``sys.executable``, so the venv's ipykernel), so
no ``ipykernel install`` and no user-level kernelspec is involved. The notebooks run side by side,
each on its own copy of the store, which ``GENSQL_DATA_ROOT`` points it at.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import csv
import json
import os
import re
import shutil
import struct
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a Jupyter kernel per notebook: ~10 s each
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

import gensql  # noqa: E402
from gensql.synth import make_sample_store  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "gensql-notebook-tests"
STAGES = ("draft", "essay", "evaluation")
VIEWS = {
    "attempts",
    "documents",
    "gens",
    "latest_attempt",
    "lineage",
    "membership",
    "problems",
    "scan_errors",
    "scores",
    "texts",
    "token_usage",
}


# --------------------------------------------------------------------------------------------------
# Running the notebooks
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    return root, make_sample_store(root)


@pytest.fixture(scope="module")
def executed(store, tmp_path_factory):
    """``executed(name)``: the notebook run on the sample store (all run at once, once per module)."""
    root, _ = store
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "gensql notebook tests",
                "language": "python",
            }
        )
    )
    env = pytest.MonkeyPatch()
    env.setenv("JUPYTER_PATH", str(home))
    env.setenv("JUPYTER_CONFIG_DIR", str(home / "config"))
    env.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
    env.setenv("JUPYTER_PLATFORM_DIRS", "1")
    env.setenv("IPYTHONDIR", str(home / "ipython"))
    for name in ("MPLBACKEND", "GENSQL_PRICES", "GENSQL_INDEX_DIR"):  # inline charts, shipped prices, index in root
        env.delenv(name, raising=False)
    done: dict[str, object] = {}

    async def execute(name: str):
        # Each notebook gets its own copy of the store (times kept): notebooks running side by side would
        # otherwise wait on each other's refresh lock.
        copy = copy_of(root, name)
        shutil.copytree(root, copy, copy_function=shutil.copy2)
        notebook, _, variant = name.partition("@")
        if variant == ONE_DAY:  # every file and directory on one time, as a fresh git checkout leaves them
            for folder, dirs, files in os.walk(copy):
                for entry in dirs + files:
                    os.utime(os.path.join(folder, entry), (1_760_000_000, 1_760_000_000), follow_symlinks=False)
        nb = nbformat.read(NOTEBOOK_DIR / f"{notebook}.ipynb", as_version=4)
        client = nbclient.NotebookClient(
            nb, kernel_name=KERNEL, timeout=120, resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
        )
        # raises CellExecutionError on a failing cell not tagged raises-exception
        await client.async_execute(env={**os.environ, "GENSQL_DATA_ROOT": str(copy)})
        return nb

    async def execute_all():
        return await asyncio.gather(*(execute(name) for name in RUNS), return_exceptions=True)

    def run(name: str):
        if not done:  # the notebooks run side by side, once, on first use
            done.update(zip(RUNS, asyncio.run(execute_all())))
        if isinstance(done[name], BaseException):
            raise done[name]
        return done[name]

    yield run
    env.undo()


#: Runs: every notebook on the sample store, and notebook 02 on a copy whose file times all fall on one day.
ONE_DAY = "one-day"
RUNS = [*NOTEBOOKS, f"02_tokens_and_cost@{ONE_DAY}"]


def copy_of(root: Path, name: str) -> Path:
    """The copy of the sample store notebook ``name`` runs on."""
    return root.parent / f"{root.name}-{name.replace('@', '-')}"


def test_the_four_notebooks_are_there():
    assert NOTEBOOKS == ["01_quickstart", "02_tokens_and_cost", "03_lineage_and_scores", "04_judges"]


# --------------------------------------------------------------------------------------------------
# Reading what a notebook shows
# --------------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[str, list[str]]]] = []
        self.section = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr":
            self.tables[-1].append((self.section, []))
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1][1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _value(text: str):
    if text == "null":
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def cell(nb, tag: str):
    found = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(found) == 1, f"one cell tagged {tag!r} expected, found {len(found)}"
    return found[0]


def table(nb, tag: str) -> list[dict]:
    """The one table (polars HTML) the tagged cell displays, as dicts of typed values."""
    html = [o.data["text/html"] for o in cell(nb, tag).outputs if "data" in o and "text/html" in o.data]
    assert len(html) == 1, f"cell {tag!r} should display one table"
    parser = _Tables()
    parser.feed(html[0])
    (rows,) = parser.tables
    header = rows[0][1]  # then the dtype row, then the body
    body = [cells for section, cells in rows if section == "tbody"]
    assert all(c != "…" for row in body for c in row), f"cell {tag!r} shows a truncated table"
    return [dict(zip(header, map(_value, row))) for row in body]


def result(nb, tag: str) -> str:
    out = [o.data["text/plain"] for o in cell(nb, tag).outputs if o.output_type == "execute_result"]
    assert len(out) == 1
    return out[0]


def stdout(nb, tag: str) -> str:
    return "".join(o.text for o in cell(nb, tag).outputs if o.output_type == "stream" and o.name == "stdout")


def png_size(nb, tag: str) -> tuple[int, int]:
    pngs = [
        base64.b64decode(o.data["image/png"]) for o in cell(nb, tag).outputs if "data" in o and "image/png" in o.data
    ]
    assert len(pngs) == 1, f"cell {tag!r} should draw one chart"
    png = pngs[0]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    return struct.unpack(">II", png[16:24])


def by(rows: list[dict], key: str | tuple[str, ...]) -> dict:
    if isinstance(key, str):
        return {r[key]: r for r in rows}
    return {tuple(r[k] for k in key): r for r in rows}


# --------------------------------------------------------------------------------------------------
# What the truth says
# --------------------------------------------------------------------------------------------------


def model_calls(truth):
    return [g.values for g in truth.gens.values() if g.values["is_model_call"]]


def prompt_est(v) -> int:
    """Per call: recorded prompt tokens, else prompt.txt bytes / 4 rounded half up (none without prompt.txt)."""
    if v["prompt_tokens"] is not None:
        return v["prompt_tokens"]
    return (v["prompt_bytes"] + 2) // 4 if v["prompt_bytes"] is not None else 0


def shipped_price(model: str) -> tuple[float, float]:
    path = REPO / "gensql" / "data" / "prices.csv"
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    rules = [r for r in csv.DictReader(lines) if r["model"] == model and r.get("match", "exact") == "exact"]
    assert len(rules) == 1, f"the test expects one exact rule for {model} in {path}"
    return float(rules[0]["input_per_mtok"]), float(rules[0]["output_per_mtok"])


def counted_evaluations(truth, reachable: bool = True) -> list[dict]:
    """The scores every score table counts, computed from the truth: per logical evaluation its newest
    attempt with a score (created_at, then gen_id), kept when its essay is reachable (its own parent
    link is not broken)."""
    best: dict[str, tuple] = {}
    for (stage, gen_id), g in truth.gens.items():
        if stage == "evaluation":
            created = g.values["created_at"]
            key = (g.values["score"] is not None, created is not None, created, gen_id)
            if g.logical_group not in best or key > best[g.logical_group][0]:
                best[g.logical_group] = (key, gen_id, g.values)
    broken = broken_links(truth)
    return [
        v
        for _, gen_id, v in best.values()
        if v["score"] is not None and (not reachable or ("evaluation", gen_id) not in broken)
    ]


def broken_links(truth) -> set[tuple[str, str]]:
    """(stage, gen_id) of every essay or evaluation whose own parent link is broken."""
    non_drafts = lambda keys: {k for k in keys if k[0] != "draft"}  # noqa: E731
    no_parent = {k for k, g in truth.gens.items() if k[0] != "draft" and g.values["parent_gen_id"] is None}
    return non_drafts(truth.wrong_stage_parents) | non_drafts(truth.dangling_parents) | no_parent


# --------------------------------------------------------------------------------------------------
# 01 quickstart
# --------------------------------------------------------------------------------------------------


def test_quickstart(executed, store):
    nb = executed("01_quickstart")
    _, truth = store
    assert f"indexed {truth.n_gens} generations" in stdout(nb, "refresh")
    assert ast.literal_eval(result(nb, "by-stage")) == truth.stage_counts

    first = by(table(nb, "first-query"), "stage")
    assert list(first) == list(STAGES)
    for stage in STAGES:
        rows = [g.values for k, g in truth.gens.items() if k[0] == stage]
        assert first[stage]["generations"] == truth.stage_counts[stage] == len(rows)
        assert first[stage]["ok"] == truth.count(stage=stage, status="ok")
        assert first[stage]["not_ok"] == len(rows) - first[stage]["ok"]
        assert first[stage]["completion_tokens"] == sum(v["completion_tokens"] or 0 for v in rows)
    # polars gives the same table as SQL
    assert table(nb, "first-query") == [dict(r) for r in _polars_table(nb, "polars-per-stage")]

    statuses = {r["status"]: r["n"] for r in table(nb, "statuses")}
    assert statuses == dict(Counter(g.values["status"] for k, g in truth.gens.items() if k[0] == "evaluation"))
    assert int(result(nb, "statuses-total")) == truth.stage_counts["evaluation"]
    assert ast.literal_eval(result(nb, "gens-shape"))[0] == truth.n_gens

    tokens = sorted(
        (
            v["completion_tokens"]
            for k, g in truth.gens.items()
            if k[0] == "essay"
            for v in [g.values]
            if v["model_id"] == "sonnet-4"
        ),
        key=lambda t: (t is None, -(t or 0)),
    )
    assert [r["completion_tokens"] for r in _polars_table(nb, "polars-params")] == tokens[:5]

    assert {r["view"] for r in table(nb, "views")} == VIEWS
    assert by(table(nb, "views"), "view")["problems"]["columns"] == 6
    assert [r["macro"] for r in table(nb, "macros")] == [
        "ancestors(start_gen_id)",
        "counted_scores(for_cohort, since_day, until_day)",
        "descendants(start_gen_id)",
    ]

    # the wrong query is shown, caught, as DuckDB's one-line message; the notebook does not end on an error
    assert stdout(nb, "error").startswith('Binder Error: Referenced column "modle_id" not found')
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert nb.cells[-1].cell_type == "markdown"


def _polars_table(nb, tag: str) -> list[dict]:
    """A DataFrame shown as a cell's result: the same HTML reader (execute_result instead of display)."""
    html = [o.data["text/html"] for o in cell(nb, tag).outputs if o.output_type == "execute_result"]
    parser = _Tables()
    parser.feed(html[0])
    (rows,) = parser.tables
    header = rows[0][1]
    return [dict(zip(header, map(_value, cells))) for section, cells in rows if section == "tbody"]


# --------------------------------------------------------------------------------------------------
# 02 tokens and cost
# --------------------------------------------------------------------------------------------------


def known_sum(values) -> int | None:
    """A report's token sum: NULL (unknown) when there are calls and none recorded it, never 0."""
    values = list(values)
    return None if values and all(x is None for x in values) else sum(x or 0 for x in values)


def test_tokens_and_cost(executed, store):
    nb = executed("02_tokens_and_cost")
    _, truth = store
    calls = model_calls(truth)
    per_model = defaultdict(list)
    for v in calls:
        per_model[v["model_id"]].append(v)

    prices = by(_polars_table(nb, "prices"), "model")
    assert (prices["sonnet-4"]["input_per_mtok"], prices["sonnet-4"]["output_per_mtok"]) == shipped_price("sonnet-4")

    shown = by(_polars_table(nb, "by-model"), "model_id")
    assert set(shown) == set(per_model)
    for model, rows in per_model.items():
        assert shown[model]["model_calls"] == len(rows)
        assert shown[model]["completion_tokens"] == known_sum(v["completion_tokens"] for v in rows)
        assert shown[model]["prompt_tokens_est"] == sum(prompt_est(v) for v in rows)
        assert shown[model]["unpriced_calls"] == 0
    for model in ("sonnet-4", "gpt-4o"):  # exact rules: priced at their only price
        price_in, price_out = shipped_price(model)
        rows = per_model[model]
        cost_out = sum((v["completion_tokens"] or 0) * price_out for v in rows) / 1e6
        cost_in = sum(prompt_est(v) * price_in for v in rows) / 1e6
        assert shown[model]["cost_output"] == pytest.approx(cost_out, abs=6e-5)
        assert shown[model]["cost_input_est"] == pytest.approx(cost_in, abs=6e-5)
        assert shown[model]["cost_total_est"] == pytest.approx(cost_in + cost_out, abs=6e-5)

    (totals,) = _polars_table(nb, "totals")
    assert totals["model_calls"] == len(calls)
    assert totals["calls_with_usage"] == sum(
        1 for v in calls if (v["prompt_tokens"], v["completion_tokens"], v["total_tokens"]) != (None, None, None)
    )
    assert totals["completion_tokens"] == sum(v["completion_tokens"] or 0 for v in calls)
    # the overall total covers every known part; a model whose output cost is unknown has no total of its own
    known_parts = sum((r["cost_input_est"] or 0) + (r["cost_output"] or 0) for r in shown.values())
    assert totals["cost_total_est"] == pytest.approx(known_parts, abs=5e-4)

    sql = by(table(nb, "sql-by-model"), "model_id")
    for model, rows in per_model.items():
        assert sql[model]["completion_tokens"] == shown[model]["completion_tokens"]
        assert sql[model]["prompt_tokens_est"] == shown[model]["prompt_tokens_est"]

    per_template = defaultdict(list)
    for v in calls:
        per_template[(v["stage"], v["template_id"])].append(v)
    templates = by(_polars_table(nb, "by-template"), ("stage", "template_id"))
    assert set(templates) == set(per_template)
    for key, rows in per_template.items():
        assert templates[key]["model_calls"] == len(rows)
        assert templates[key]["completion_tokens"] == known_sum(v["completion_tokens"] for v in rows)

    per_day = defaultdict(list)
    for v in calls:
        per_day[v["created_at"].date().isoformat()].append(v)
    days = by(_polars_table(nb, "by-day"), "day")
    assert "falls on one day" not in stdout(nb, "by-day")  # the sample store keeps its real spread of days
    # days with generations but no model call (the 2025-09-24 importer's copies) show model_calls 0
    assert len(per_day) > 5 and {d for d, r in days.items() if r["model_calls"]} == set(per_day)
    for day, rows in per_day.items():
        assert days[day]["model_calls"] == len(rows)
        assert days[day]["completion_tokens"] == known_sum(v["completion_tokens"] for v in rows)

    for tag in ("chart-model", "chart-day"):
        width, height = png_size(nb, tag)
        assert width >= 600 and height >= 250

    # A table that prices two models: the others land in the unpriced bucket, never at zero cost.
    unpriced = by(_polars_table(nb, "unpriced"), "model_id")
    for model, rows in per_model.items():
        if model in ("sonnet-4", "gpt-4o"):
            assert unpriced[model]["unpriced_calls"] == 0
            assert unpriced[model]["cost_total_est"] == pytest.approx(shown[model]["cost_total_est"], abs=1e-9)
        else:
            assert unpriced[model]["unpriced_calls"] == len(rows)
            assert unpriced[model]["cost_total_est"] is None
            assert unpriced[model]["unpriced_completion_tokens"] == known_sum(v["completion_tokens"] for v in rows)
    left_out = [v for v in calls if v["model_id"] not in ("sonnet-4", "gpt-4o")]
    completion = sum(v["completion_tokens"] or 0 for v in left_out)
    assert f"left out, unpriced: {len(left_out)} calls, {completion:,} completion tokens" in stdout(
        nb, "unpriced-totals"
    )


def test_tokens_and_cost_says_when_the_days_collapse(executed, store):
    """A store whose file times were reset (a fresh git checkout) has one day: the notebook says so."""
    nb = executed(f"02_tokens_and_cost@{ONE_DAY}")
    days = _polars_table(nb, "by-day")
    # the file-dated generations collapse onto the day of the reset; seed 000's recorded times keep theirs
    reset = datetime.fromtimestamp(1_760_000_000, UTC).date().isoformat()
    assert reset in {d["day"] for d in days}
    said = stdout(nb, "by-day")
    assert said.startswith(
        f"Every generation dated by its files falls on one day, {reset}: the files' modification times were reset"
    )
    width, height = png_size(nb, "chart-day")  # the chart is still drawn
    assert width >= 600 and height >= 250


# --------------------------------------------------------------------------------------------------
# 03 lineage and scores
# --------------------------------------------------------------------------------------------------


def test_lineage_and_scores(executed, store):
    nb = executed("03_lineage_and_scores")
    root, truth = store
    latest = counted_evaluations(truth)

    means, counts = defaultdict(list), defaultdict(int)
    for v in latest:
        if v["template_id"] is not None:
            means[(v["model_id"], v["template_id"])].append(v["score"])
            counts[(v["model_id"], v["template_id"])] += 1
    pivot, pivot_n = by(table(nb, "pivot-mean"), "evaluation_model_id"), by(table(nb, "pivot-n"), "evaluation_model_id")
    templates = {t for _, t in means}
    assert set(pivot) == {v["model_id"] for v in latest}
    for model in pivot:
        assert set(pivot[model]) - {"evaluation_model_id"} == templates
        for template in templates:
            scores = means.get((model, template))
            if scores:
                assert pivot[model][template] == pytest.approx(sum(scores) / len(scores), abs=0.0051)
            else:
                assert pivot[model][template] is None
            assert pivot_n[model][template] == counts[(model, template)]
    assert 1 <= len(_polars_table(nb, "per-essay")) <= 8
    # one answer: the per-essay report counts exactly the scores the pivot counts, and says what it left out
    assert f"scores counted: {len(latest)}" in stdout(nb, "per-essay")
    left_out = len(counted_evaluations(truth, reachable=False)) - len(latest)
    assert left_out > 0  # the sample store has evaluations whose essay is missing
    assert f"note: {left_out} scored evaluations left out" in stdout(nb, "per-essay")

    eval_id = ast.literal_eval(result(nb, "eval-id"))
    evaluation = truth.gens[("evaluation", eval_id)].values
    essay_id = evaluation["parent_gen_id"]
    draft_id = truth.gens[("essay", essay_id)].values["parent_gen_id"]
    assert ("draft", draft_id) in truth.gens
    chain = table(nb, "ancestors")
    assert [(r["depth"], r["stage"], r["gen_id"]) for r in chain] == [
        (0, "evaluation", eval_id),
        (1, "essay", essay_id),
        (2, "draft", draft_id),
    ]
    assert chain[0]["score"] == evaluation["score"]
    text = stdout(nb, "texts")
    assert text.index(f"draft {draft_id}") < text.index(f"essay {essay_id}") < text.index(f"evaluation {eval_id}")

    below, frontier = {("draft", draft_id)}, {draft_id}
    while frontier:
        found = {k for k, g in truth.gens.items() if g.values["parent_gen_id"] in frontier and k not in below}
        below |= found
        frontier = {gen_id for _, gen_id in found}
    assert {(r["stage"], r["gen_id"]) for r in table(nb, "descendants")} == below

    kinds = {r["kind"]: r["n"] for r in table(nb, "problem-kinds")}
    errors = Counter(e.kind for e in truth.scan_errors)
    unreadable = sum(errors[k] for k in ("invalid_json", "empty_file", "not_utf8", "not_an_object", "unreadable"))
    broken = broken_links(truth)
    expected = {
        "unreadable_file": unreadable,
        "missing_metadata": errors["missing_metadata"],
        "bad_value": errors["bad_value"],
        "unexpected_entry": errors["unexpected_entry"],
        "bad_membership": errors["bad_membership"],
        "member_missing": len(truth.missing_members),
        "parent_wrong_stage": len({k for k in truth.wrong_stage_parents if k[0] != "draft"}),
        "parent_missing": len(broken) - len({k for k in truth.wrong_stage_parents if k[0] != "draft"}),
    }
    assert {k: kinds.get(k, 0) for k in expected} == expected
    # The kinds the truth does not spell out (identity mismatches, status contradictions) are whatever
    # the view says, and the notebook shows all of it.
    con = gensql.connect(copy_of(root, "03_lineage_and_scores"))  # the index the notebook made
    assert kinds == dict(con.sql("SELECT kind, count(*) FROM problems GROUP BY kind").fetchall())
    assert (
        int(result(nb, "problems-total"))
        == sum(kinds.values())
        == con.sql("SELECT count(*) FROM problems").fetchall()[0][0]
    )
    con.close()

    assert {(r["stage"], r["gen_id"]) for r in table(nb, "parent-problems")} == broken
    cut_off = set()
    for (stage, gen_id), g in truth.gens.items():
        if stage != "evaluation":
            continue
        if (stage, gen_id) in broken or ("essay", g.values["parent_gen_id"]) in broken:
            cut_off.add(gen_id)
    assert {r["gen_id"] for r in table(nb, "broken-evaluations")} == cut_off

    summary = by(_polars_table(nb, "score-summary"), "model")
    scored = defaultdict(list)
    for v in latest:
        scored[v["model_id"] if v["model_id"] is not None else "(no model id)"].append(v["score"])
    assert set(summary) == set(scored)
    for model, scores in scored.items():
        assert summary[model]["n"] == len(scores)
        assert summary[model]["mean"] == pytest.approx(sum(scores) / len(scores), abs=0.0051)
    width, height = png_size(nb, "chart-scores")
    assert width >= 600 and height >= 250


# --------------------------------------------------------------------------------------------------
# 04 judges
# --------------------------------------------------------------------------------------------------


def counted_scores_truth(truth) -> list[dict]:
    """Per logical evaluation its newest attempt with a score (created_at, then gen_id), when its essay
    exists: essay, essay template, draft (None past a broken link), judge, criterion, score."""
    best: dict[str, tuple] = {}
    for (stage, gen_id), g in truth.gens.items():
        v = g.values
        if stage == "evaluation" and v["score"] is not None:
            key = (v["created_at"] is not None, v["created_at"], gen_id)
            if g.logical_group not in best or key > best[g.logical_group][0]:
                best[g.logical_group] = (key, gen_id, v)
    rows = []
    for _, gen_id, v in best.values():
        essay = truth.gens.get(("essay", v["parent_gen_id"]))
        if essay is None:
            continue
        draft = truth.gens.get(("draft", essay.values["parent_gen_id"]))
        rows.append(
            {
                "gen_id": gen_id,
                "essay": v["parent_gen_id"],
                "essay_template": essay.values["template_id"],
                "draft": draft.gen_id if draft else None,
                "judge": v["model_id"] or "(none)",
                "criterion": v["template_id"],
                "score": v["score"],
            }
        )
    return rows


def test_judges(executed, store):
    st = pytest.importorskip("scipy.stats")
    krippendorff = pytest.importorskip("krippendorff")
    import numpy as np

    nb = executed("04_judges")
    _, truth = store
    rows = counted_scores_truth(truth)
    means = defaultdict(list)
    for r in rows:
        means[(r["criterion"], r["essay"], r["judge"])].append(r["score"])
    means = {k: sum(v) / len(v) for k, v in means.items()}

    # judge pairs: every pair with five or more common essays, its correlations from the truth
    expected = {}
    for template in {k[0] for k in means}:
        judges = sorted({j for t, _, j in means if t == template})
        essays = sorted({e for t, e, _ in means if t == template})
        for i, a in enumerate(judges):
            for b in judges[i + 1 :]:
                common = [e for e in essays if (template, e, a) in means and (template, e, b) in means]
                x = [means[(template, e, a)] for e in common]
                y = [means[(template, e, b)] for e in common]
                if len(common) >= 5 and np.ptp(x) > 0 and np.ptp(y) > 0:
                    expected[(template, a, b)] = (
                        len(common),
                        st.spearmanr(x, y).statistic,
                        st.pearsonr(x, y).statistic,
                        float(np.mean(np.abs(np.subtract(x, y)))),
                    )
    shown = by(_polars_table(nb, "pairs"), ("evaluation_template_id", "judge_a", "judge_b"))
    assert set(shown) == set(expected) and len(shown) >= 12
    for key, (n, rho, r, mad) in expected.items():
        assert shown[key]["essays"] == n
        assert shown[key]["spearman"] == pytest.approx(rho, abs=1e-4)
        assert shown[key]["pearson"] == pytest.approx(r, abs=1e-4)
        assert shown[key]["mean_abs_diff"] == pytest.approx(mad, abs=1e-4)

    # alpha across all judges, from the judge x essay matrix of the truth
    alphas = {r["evaluation_template_id"]: r for r in _polars_table(nb, "alpha") if r["comparison"] == "all judges"}
    for template, row in alphas.items():
        if row["alpha"] is None:
            continue
        judges = sorted({j for t, _, j in means if t == template})
        essays = sorted({e for t, e, _ in means if t == template})
        matrix = np.array([[means.get((template, e, j), np.nan) for e in essays] for j in judges])
        matrix = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
        assert row["essays"] == matrix.shape[1]
        assert row["alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval"), abs=1e-4
        )

    # the planted judges show: the consistent pair agrees most, the near-random judge is in the least agreeing pair
    text = stdout(nb, "ranked")
    best = re.search(r"most agreeing pair:\s+(\S+) & (\S+)", text).groups()
    worst = re.search(r"least agreeing pair:\s+(\S+) & (\S+)", text).groups()
    assert set(best) == set(truth.judges.consistent_pair)
    assert truth.judges.random_judge in worst
    assert png_size(nb, "chart-scatter")[0] >= 600

    # intervals per essay template: counts and means from the truth, each mean inside its interval
    groups = defaultdict(list)
    for r in rows:
        groups[r["essay_template"]].append(r)
    intervals = by(_polars_table(nb, "intervals"), "essay_template_id")
    assert set(intervals) == set(groups)
    for template, members in groups.items():
        row = intervals[template]
        assert row["n"] == len(members)
        assert row["essays"] == len({m["essay"] for m in members})
        assert row["drafts"] == len({m["draft"] or "essay:" + m["essay"] for m in members})
        assert row["mean"] == pytest.approx(sum(m["score"] for m in members) / len(members), abs=1e-4)
        if row["drafts"] >= 2:
            assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    width, height = png_size(nb, "chart-intervals")
    assert width >= 600 and height >= 250

    # the paired comparison of the best and the worst template, recomputed from the truth
    for tag, judges in (("compare", None), ("compare-trusted", set(truth.judges.consistent_pair))):
        (shown,) = _polars_table(nb, tag)
        a, b = shown["a"], shown["b"]
        cells = defaultdict(list)
        for r in rows:
            if r["draft"] is not None and r["essay_template"] in (a, b) and (judges is None or r["judge"] in judges):
                cells[(r["draft"], r["judge"], r["criterion"], r["essay_template"])].append(r["score"])
        per_draft = defaultdict(list)
        for (draft, judge, criterion, side), scores in cells.items():
            if side == a and (draft, judge, criterion, b) in cells:
                per_draft[draft].append(np.mean(scores) - np.mean(cells[(draft, judge, criterion, b)]))
        diffs = np.array([np.mean(v) for v in per_draft.values()])
        assert shown["pairs"] == len(diffs) >= 3
        assert shown["mean_diff"] == pytest.approx(diffs.mean(), abs=1e-4)
        assert (shown["wins"], shown["ties"], shown["losses"]) == (
            (diffs > 0).sum(),
            (diffs == 0).sum(),
            (diffs < 0).sum(),
        )
        assert shown["p_value"] == pytest.approx(st.wilcoxon(diffs).pvalue, abs=1e-4)
        assert shown["ci_low"] <= shown["mean_diff"] <= shown["ci_high"]
    assert intervals[a]["mean"] > intervals[b]["mean"]  # best against worst

    # per judge, the same comparison: the pooled row first, then one row per judge (issue 26)
    judged = _polars_table(nb, "compare-judges")
    assert judged[0]["judge"] == "all judges" and len(judged) >= 3
    # each judge against sonnet-4: the offset is the mean difference on the essays both scored (truth)
    for row in _polars_table(nb, "judges-bias"):
        template, judge = row["evaluation_template_id"], row["judge"]
        common = [e for (t, e, j) in means if t == template and j == judge and (t, e, "sonnet-4") in means]
        if judge == "sonnet-4" or not common:
            continue
        diffs = [means[(template, e, judge)] - means[(template, e, "sonnet-4")] for e in common]
        assert row["essays"] == len(common)
        assert row["offset"] == pytest.approx(float(np.mean(diffs)), abs=1e-4)
    assert png_size(nb, "chart-bland-altman")[0] >= 600
    assert {r["essay_template_id"] for r in _polars_table(nb, "fair-means")} == set(groups)


# --------------------------------------------------------------------------------------------------
# How the notebooks are stored
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name):
    """Committed notebooks carry no outputs or counters, so a diff shows only what was written.

    To strip a notebook before committing: ``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``
    (or "Edit > Clear Outputs of All Cells" in JupyterLab, then save).
    """
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    dirty = [c.get("id") for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert dirty == [], f"{name}.ipynb has outputs in cells {dirty}: clear them before committing"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_uses_the_public_api_and_the_data_root_variable(name):
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'os.environ.get("GENSQL_DATA_ROOT", "../data")' in code
    modules = set(re.findall(r"^\s*(?:from|import)\s+(gensql[\w.]*)", code, re.M))
    assert modules <= {"gensql", "gensql.prices"}, modules  # gensql.prices: the price table to show and to vary
    assert set(re.findall(r"\bgensql\.(\w+)\(", code)) <= set(gensql.__all__)
    assert not re.search(r"from gensql[\w.]* import [^\n]*\b_\w", code)
    assert set(re.findall(r"%load_ext (\S+)", code)) <= {"gensql.magic"}
