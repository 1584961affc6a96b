"""A client of gensql's public API, type-checked with ``mypy --strict`` (tests/test_store_api.py):
every name ``import gensql`` exports is typed, so a strict client needs no ``Any`` and no ignore."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

import gensql


def use(root: Path) -> list[object]:
    result: gensql.RefreshResult = gensql.refresh(root, full=False)
    summary: dict[str, object] = result.to_dict()
    con: duckdb.DuckDBPyConnection = gensql.connect(root)
    default: duckdb.DuckDBPyConnection = gensql.connect()
    generation: dict[str, object] = gensql.load_generation(root, "essay", "e1")
    hits: pl.DataFrame = gensql.search(root, "needle", limit=5)
    tokens: pl.DataFrame = gensql.tokens_report(con, by=["model", "day"])
    scores: pl.DataFrame = gensql.scores_report(root, long=True)
    cohort: pl.DataFrame = gensql.cohort_report(con, "c1")
    ref: gensql.GenerationRef = gensql.write_generation(root, "draft", template_id="t", model_id="m", raw="x")
    updated: gensql.GenerationRef = gensql.update_generation(root, "draft", ref.gen_id, parsed="y")
    members: gensql.CohortRef = gensql.write_membership(root, "c2", [("draft", ref.gen_id)])
    latest: dict[str, object] | None = gensql.resolve_latest(root, "draft", template_id="t")
    export: gensql.SqliteExport = gensql.export_sqlite(root)
    version: str = gensql.__version__
    try:
        gensql.connect(root / "nowhere")
    except gensql.GensqlError as exc:
        message: str = str(exc)
        return [message]
    return [summary, default, generation, hits, tokens, scores, cohort, updated, members, latest, export, version]
