"""Answering a search: parse the query, filter, rank with BM25, join the hits to ``gens``, cut snippets."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import duckdb
import polars as pl

from .. import layout
from ..catalog import base_relation
from ..errors import IndexNotFoundError, SearchQueryError
from ..index import require_snapshot
from ..partitions import bucket
from ..safeio import store_roots
from ..texts import TEXT_KINDS, read_text_prefix
from .engine import SEARCH_DIR

FILES = ("prompt", "raw", "parsed")
#: Columns of a search result, in order.
SEARCH_COLUMNS = (
    "rank",
    "gen_id",
    "stage",
    "file",
    "model_id",
    "template_id",
    "status",
    "score",
    "bm25",
    "snippet",
)
_FILE_NAMES: dict[str, str] = dict(TEXT_KINDS)
#: Characters of text around the matches shown in a snippet.
SNIPPET_CHARS = 160


_PREFIX_TERM = re.compile(r"(?<![\w\"*/:])(\w+)\*")


def _with_prefix_terms(query: str) -> str:
    """``netw*`` outside quotes becomes the regex term ``text:/netw.*/`` (tantivy's parser has no bare
    prefix); terms are lower case, as the tokenizer indexes them."""
    parts = query.split('"')
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = _PREFIX_TERM.sub(lambda m: f"text:/{m.group(1).lower()}.*/", parts[i])
    return '"'.join(parts)


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _allowed_gen_ids(con, model, template, status, cohort) -> list[str] | None:
    """gen_ids passing the metadata filters (None: no metadata filter given)."""
    clauses, params = [], {}
    for column, values in (("model_id", model), ("template_id", template), ("status", status)):
        if values:
            clauses.append(f"{column} IN (SELECT unnest(${column}))")
            params[column] = list(values)
    if cohort:
        clauses.append("gen_id IN (SELECT gen_id FROM _membership WHERE cohort_id IN (SELECT unnest($cohort)))")
        params["cohort"] = list(cohort)
    if not clauses:
        return None
    sql = f"SELECT DISTINCT gen_id FROM _gens WHERE {' AND '.join(clauses)}"
    return [r[0] for r in con.execute(sql, params).fetchall()]


def search(
    data_root: str | os.PathLike | None,
    query: str,
    *,
    file: str | list[str] | None = None,
    stage: str | list[str] | None = None,
    model: str | list[str] | None = None,
    template: str | list[str] | None = None,
    status: str | list[str] | None = None,
    cohort: str | list[str] | None = None,
    limit: int = 20,
    snippets: bool = True,
    index_dir: str | os.PathLike | None = None,
) -> pl.DataFrame:
    """Ranked hits for ``query`` in the current snapshot's texts, best first, as a polars DataFrame.

    The query language is tantivy's: words (any of them, ranked by BM25), ``"a phrase"``, ``AND``,
    ``OR``, ``-excluded``, ``+required``, ``prefix*``. Filters narrow the hits to texts of those
    files, stages, models, templates, statuses or cohorts (each takes one value or a list). The
    result has one row per matching text (:data:`SEARCH_COLUMNS`); ``snippet`` marks the matched
    terms with ``**`` and is cut from the file as it is now (the index stores no text).
    Join it with any view: ``con.register("hits", gensql.search(...))``.
    """
    import tantivy

    if not query or not query.strip():
        raise SearchQueryError('empty search query: give words, a "phrase", or a prefix*')
    if limit < 1:
        raise SearchQueryError(f"limit must be at least 1, not {limit}")
    files, stages = _as_tuple(file), _as_tuple(stage)
    for value in files:
        if value not in FILES:
            raise SearchQueryError(f"unknown file {value!r}: expected one of {', '.join(FILES)}")
    for value in stages:
        layout.check_stage(value)
    where = layout.resolve(data_root, index_dir)
    snap = require_snapshot(where.index_dir)
    search_dir = snap.path / SEARCH_DIR
    if not (search_dir / "meta.json").is_file():
        raise IndexNotFoundError(
            f"the index snapshot {snap.path.name} has no search index (refreshed with --no-texts?): run `gensql refresh` without it"
        )
    index = _open_index(str(search_dir))
    try:
        text_query = index.parse_query(_with_prefix_terms(query), ["text"], allow_regexes=True)
    except ValueError as exc:
        raise SearchQueryError(f"cannot parse the search query {query!r}: {exc}") from None
    sch = index.schema
    must = [(tantivy.Occur.Must, text_query)]
    for field, values in (("file", files), ("stage", stages)):
        if values:
            must.append((tantivy.Occur.Must, tantivy.Query.term_set_query(sch, field, list(values))))
    con = _connection().cursor()  # a cursor of one process-wide database: opening DuckDB costs ~20 ms
    try:
        for table in ("gens", "membership"):  # the two tables a search needs, not every view
            con.execute(f"CREATE OR REPLACE TEMP VIEW _{table} AS SELECT * FROM {base_relation(snap.path, table)}")
        allowed = _allowed_gen_ids(con, _as_tuple(model), _as_tuple(template), _as_tuple(status), _as_tuple(cohort))
        if allowed is not None and not allowed:
            return _empty()
        if allowed is not None:
            must.append((tantivy.Occur.Must, tantivy.Query.term_set_query(sch, "gen_id", allowed)))
        searcher = index.searcher()
        result = searcher.search(tantivy.Query.boolean_query(must), limit)
        hits = []
        for rank, (bm25, address) in enumerate(result.hits, start=1):
            doc = searcher.doc(address)
            hits.append(
                {
                    "rank": rank,
                    "gen_id": doc["gen_id"][0],
                    "stage": doc["stage"][0],
                    "file": doc["file"][0],
                    "gen_dir": doc["gen_dir"][0],
                    "bm25": float(bm25),
                }
            )
        if not hits:
            return _empty()
        frame = pl.DataFrame(hits)
        facts = _facts_of(con, snap, frame)
    finally:
        con.close()
    frame = frame.join(facts, on=["stage", "gen_id"], how="left").sort("rank")
    if snippets:
        generator = tantivy.SnippetGenerator.create(searcher, text_query, sch, "text")
        generator.set_max_num_chars(SNIPPET_CHARS)
        roots = store_roots(where.data_root)
        cut = [
            _snippet(generator, where.data_root / d / _FILE_NAMES[f], roots)
            for d, f in zip(frame["gen_dir"], frame["file"])
        ]
    else:
        cut = [None] * frame.height
    return frame.with_columns(pl.Series("snippet", cut, dtype=pl.String)).select(SEARCH_COLUMNS)


_FACT_COLUMNS = "stage, gen_id, model_id, template_id, status, score"


def _facts_of(con, snap, frame: pl.DataFrame) -> pl.DataFrame:
    """The ``gens`` facts of the hits, reading only the partition files that hold them.

    A snapshot of the partitioned layout records each stage's partition bits, so a hit's file follows
    from its gen_id (docs/index-layout.md); a search then opens a handful of small files instead of
    every partition of the index (tens of ms at 100k generations).
    """
    bits = snap.info.get("partition_bits") if snap.info.get("layout", 1) >= 2 else None
    params = {"ids": frame["gen_id"].unique().to_list()}
    if not bits:
        return con.sql(f"SELECT {_FACT_COLUMNS} FROM _gens WHERE gen_id IN (SELECT unnest($ids))", params=params).pl()
    files = sorted(
        {
            str(snap.path / layout.partition_file("gens", stage, bits[stage], bucket(gen_id, bits[stage])))
            for stage, gen_id in zip(frame["stage"], frame["gen_id"])
            if stage in bits
        }
    )
    params["files"] = files
    return con.sql(
        f"SELECT {_FACT_COLUMNS} FROM read_parquet($files, hive_partitioning = true) WHERE gen_id IN (SELECT unnest($ids))",
        params=params,
    ).pl()


@functools.lru_cache(maxsize=1)
def _connection():
    """The process's in-memory DuckDB for searches; each search works on its own cursor (thread-safe)."""
    return duckdb.connect()


@functools.lru_cache(maxsize=4)
def _open_index(path: str):
    """An opened search index, kept for the next query: a snapshot's index never changes."""
    import tantivy

    return tantivy.Index.open(path)


def _snippet(generator, path: Path, roots: tuple[str, ...]) -> str | None:
    import tantivy

    text = read_text_prefix(path, roots)
    if text is None:
        return None
    snippet = generator.snippet_from_doc(tantivy.Document(text=text))
    fragment = snippet.fragment()
    if not fragment:  # no term to highlight (prefix and regex terms are not): the text's start
        return " ".join(text[:SNIPPET_CHARS].split())
    data = fragment.encode("utf-8")
    out, at = [], 0
    for span in snippet.highlighted():  # byte ranges within the fragment
        out += [data[at : span.start], b"**", data[span.start : span.end], b"**"]
        at = span.end
    out.append(data[at:])
    return " ".join(b"".join(out).decode("utf-8", errors="replace").split())


def _empty() -> pl.DataFrame:
    types = {"rank": pl.Int64, "bm25": pl.Float64, "score": pl.Float64}
    return pl.DataFrame(schema={c: types.get(c, pl.String) for c in SEARCH_COLUMNS})
