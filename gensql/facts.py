"""Borrowed facts: the post-pass of refresh that fills ``gens`` columns from outside each directory.

A ``gens`` row is first scanned from its own directory alone (cacheable per directory). Some eras
recorded facts of a generation elsewhere: the wide ``membership.csv`` of 2025-09-15 (combo, template,
model, parent, replicate), seed 000's ``db/documents.sqlite`` (run id, insert time, ids of docs rows)
and ``1_raw/essay_templates.csv`` (which essay templates copy). This pass fills a column from them
ONLY where the row's own value is NULL, says so in ``facts_from``, and recomputes the derived
columns that depend on the filled values (``logical_key``, ``is_model_call``). It runs in DuckDB per
``gens`` partition: a filled row depends only on its own scanned row and the outside sources, so a
refresh recomputes only the partitions it rewrote, all of them when a source changed (the sources'
digest), and an incremental refresh equals a full one. The rules and
the resulting values per era are in docs/eras.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from . import layout
from .derive import logical_key
from .fields import FACT_SOURCES, GENS_COLUMN_ORDER, GENS_SCHEMA, MEMBERSHIP_FACTS, SQLITE_FACTS
from .partitions import write_partition
from .safeio import read_file, store_roots

_NULL_LIKE_SQL = "('', 'nan', 'none', 'null')"
_KEY_PARTS = ("combo_id", "template_id", "model_id", "parent_gen_id", "replicate")


@dataclass
class Facts:
    """The outside sources of one refresh (each None or empty when the store has none)."""

    membership: pa.Table | None  # membership rows that carry extras (wide files only)
    documents: pa.Table | None  # gensql.docs_index.DOCUMENTS_SCHEMA
    copy_templates: list[str]  # essay template ids whose generator is 'copy'

    @property
    def empty(self) -> bool:
        return self.membership is None and self.documents is None and not self.copy_templates

    def digest(self) -> str:
        """A fingerprint of everything the pass reads besides the scanned rows."""
        h = hashlib.sha256()
        for table in (self.membership, self.documents):
            if table is None:
                h.update(b"-")
                continue
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            h.update(sink.getvalue().to_pybytes())
        h.update("\x1f".join(self.copy_templates).encode())
        return h.hexdigest()


def gather(data_root: Path, membership: pa.Table, documents: pa.Table | None) -> tuple[Facts, list[tuple]]:
    """Collect the outside sources; returns them and ``scan_errors`` tuples for unusable ones."""
    wide = membership.filter(pc.is_valid(membership.column("extras")))
    copy_templates, errors = _copy_templates(data_root)
    errors += _bad_replicates(wide)
    return Facts(
        wide if wide.num_rows else None,
        documents if documents is not None and documents.num_rows else None,
        copy_templates,
    ), errors


def _bad_replicates(wide: pa.Table) -> list[tuple]:
    """``bad_value`` rows for wide-membership replicates that are not a positive 64-bit integer.

    Such a value is never borrowed (the row keeps its own replicate), and it is said, not swallowed.
    """
    if not wide.num_rows:
        return []
    raw = _clean("json_extract_string(extras, '$.replicate')")
    con = duckdb.connect()
    try:
        con.register("_wide", wide)
        rows = con.execute(f"""
            SELECT cohort_id, stage, gen_id, line, {raw} AS value FROM _wide
            WHERE {raw} IS NOT NULL
              AND coalesce(TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS BIGINT) >= 1 AND TRY_CAST({raw} AS DOUBLE) < 9.2e18, false) = false
            ORDER BY cohort_id, line
        """).fetchall()
    finally:
        con.close()
    return [
        (
            f"{layout.COHORTS_DIR}/{cohort}/{layout.MEMBERSHIP_FILE}",
            stage,
            gen_id,
            layout.MEMBERSHIP_FILE,
            "bad_value",
            f"line {line}: replicate={value!r} is not a positive integer; not used for {stage}/{gen_id}",
        )
        for cohort, stage, gen_id, line, value in rows
    ]


def _copy_templates(data_root: Path) -> tuple[list[str], list[tuple]]:
    path = data_root / layout.ESSAY_TEMPLATES_FILE
    if not os.path.lexists(path):
        return [], []
    try:
        text = read_file(path, store_roots(data_root))[0].decode("utf-8-sig")  # a FIFO or device: refused, recorded
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "template_id" not in reader.fieldnames or "generator" not in reader.fieldnames:
            return [], []  # an older list without a generator column says nothing about copy mode
        ids = sorted(
            {
                (r.get("template_id") or "").strip()
                for r in reader
                if (r.get("generator") or "").strip().lower() == "copy"
            }
            - {""}
        )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        kind = getattr(exc, "kind", "unreadable")
        return [], [(layout.ESSAY_TEMPLATES_FILE, None, None, path.name, kind, f"cannot read: {exc}")]
    return ids, []


def _clean(expr: str) -> str:
    return f"CASE WHEN lower(trim({expr})) IN {_NULL_LIKE_SQL} THEN NULL ELSE trim({expr}) END"


def _membership_sql(con: duckdb.DuckDBPyConnection, facts: Facts) -> str:
    """A relation ``m(stage, gen_id, <fact columns>)``: the first non-null value per member."""
    if facts.membership is None:
        cols = ", ".join(f"NULL::{'BIGINT' if c == 'replicate' else 'VARCHAR'} AS {c}" for c in MEMBERSHIP_FACTS)
        return f"SELECT NULL::VARCHAR AS stage, NULL::VARCHAR AS gen_id, {cols} WHERE false"
    con.register("_facts_membership", facts.membership)
    picks = []
    for column, keys in MEMBERSHIP_FACTS.items():
        value = "coalesce(" + ", ".join(_clean(f"json_extract_string(extras, '$.\"{k}\"')") for k in keys) + ")"
        if column == "replicate":
            value = f"(CASE WHEN TRY_CAST(TRY_CAST({value} AS DOUBLE) AS BIGINT) >= 1 THEN TRY_CAST(TRY_CAST({value} AS DOUBLE) AS BIGINT) END)"  # see _bad_replicates
        picks.append(f"first({value} ORDER BY cohort_id, line) FILTER (WHERE {value} IS NOT NULL) AS {column}")
    return f"SELECT stage, gen_id, {', '.join(picks)} FROM _facts_membership GROUP BY stage, gen_id"


def _documents_sql(con: duckdb.DuckDBPyConnection, facts: Facts) -> str:
    if facts.documents is None:
        cols = ", ".join(f"NULL::VARCHAR AS {c}" for c in dict.fromkeys(SQLITE_FACTS.values()))
        return f"SELECT NULL::VARCHAR AS stage, NULL::VARCHAR AS gen_id, {cols}, NULL::TIMESTAMPTZ AS created_at WHERE false"
    con.register("_facts_documents", facts.documents)
    return "SELECT * FROM _facts_documents"


#: The key parts of each stage's logical_key (gensql.derive.logical_key): only rows where one of these
#: changed need a new key.
_STAGE_KEY_PARTS: dict[str, tuple[str, ...]] = {
    "draft": ("combo_id", "template_id", "model_id", "replicate"),
    "essay": ("parent_gen_id", "template_id", "replicate"),
    "evaluation": ("parent_gen_id", "template_id", "model_id", "replicate"),
}


def _filled_sql(scan: str, m_sql: str, q_sql: str) -> tuple[str, dict[str, str], str, str, str]:
    """The joined relation, each borrowed column's new value, and the three used-source flags."""
    # own_rep: a JSON file recorded a replicate (the scan's default 1 is not a recorded value)
    own_rep = "(" + _clean("json_extract_string(s.meta, '$.replicate')") + " IS NOT NULL)"
    fills = {
        col: (
            f"s.{col} IS NULL AND m.{col} IS NOT NULL"
            if col != "replicate"
            else f"m.replicate IS NOT NULL AND m.replicate <> s.replicate AND NOT {own_rep}"
        )
        for col in MEMBERSHIP_FACTS
    }
    q_fills = {col: f"s.{col} IS NULL AND q.{src} IS NOT NULL" for col, src in SQLITE_FACTS.items()}
    value: dict[str, str] = {}
    for col in dict.fromkeys([*MEMBERSHIP_FACTS, *SQLITE_FACTS]):
        branches = [f"WHEN {fills[col]} THEN m.{col}"] if col in fills else []
        if col in q_fills:
            branches.append(f"WHEN {q_fills[col]} THEN q.{SQLITE_FACTS[col]}")
        value[col] = f"CASE {' '.join(branches)} ELSE s.{col} END"
    used_m = " OR ".join(f"({c})" for c in fills.values())
    used_q = (
        "q.gen_id IS NOT NULL AND (q.created_at IS NOT NULL OR " + " OR ".join(f"({c})" for c in q_fills.values()) + ")"
    )
    template = value["template_id"]
    used_t = f"(s.stage = 'essay' AND s.mode IS NULL AND ({template}) IN (SELECT template_id FROM _facts_copy))"
    joined = (
        f"{scan} AS s"
        f" LEFT JOIN ({m_sql}) AS m ON m.stage = s.stage AND m.gen_id = s.gen_id"
        f" LEFT JOIN ({q_sql}) AS q ON s.store_root = {_literal(layout.DOCS_DIR)} AND q.stage = s.stage AND q.gen_id = s.gen_id"
    )
    return joined, value, used_m, used_q, used_t


def apply(pairs: list[tuple[Path, Path]], facts: Facts, group: int = 32) -> None:
    """Write each ``gens`` partition file ``out``: the scanned rows of ``scan`` with borrowed facts filled.

    A row's borrowed facts depend only on its own scanned row and the outside sources, so the pass
    runs per partition: a refresh recomputes only the partitions it rewrote (all of them when the
    sources changed). Partitions are processed ``group`` files per query. Per group, a narrow query
    finds the rows whose logical-key parts changed (their keys are recomputed with
    :func:`gensql.derive.logical_key`, the one definition), then one query fills every column.
    """
    if not pairs:
        return
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TEMP TABLE _m AS {_membership_sql(con, facts)}")  # parsed once, joined per group
        q_sql = _documents_sql(con, facts)
        con.register("_facts_copy", pa.table({"template_id": pa.array(facts.copy_templates, pa.string())}))
        for i in range(0, len(pairs), group):
            _apply_group(con, pairs[i : i + group], q_sql)
    finally:
        con.close()


def _apply_group(con: duckdb.DuckDBPyConnection, pairs: list[tuple[Path, Path]], q_sql: str) -> None:
    files = "[" + ", ".join(_literal(str(scan)) for scan, _ in pairs) + "]"
    joined, value, used_m, used_q, used_t = _filled_sql(
        f"read_parquet({files}, filename = true, hive_partitioning = true, hive_types = {{'stage': VARCHAR}})",
        "SELECT * FROM _m",
        q_sql,
    )
    changed = " OR ".join(
        f"(s.stage = '{stage}' AND ({' OR '.join(f'({value[c]}) IS DISTINCT FROM s.{c}' for c in parts)}))"
        for stage, parts in _STAGE_KEY_PARTS.items()
    )
    rows = con.execute(
        f"SELECT s.stage, s.gen_id, {', '.join(value[c] for c in _KEY_PARTS)} FROM {joined} WHERE {changed}"
    ).fetchall()
    con.register(
        "_facts_keys",
        pa.table(
            {
                "stage": pa.array([r[0] for r in rows], pa.string()),
                "gen_id": pa.array([r[1] for r in rows], pa.string()),
                "logical_key": pa.array([logical_key(r[0], dict(zip(_KEY_PARTS, r[2:]))) for r in rows], pa.string()),
            }
        ),
    )
    labels = ", ".join(
        f"CASE WHEN {flag} THEN '{label}' END" for flag, label in zip((used_m, used_q, used_t), FACT_SOURCES)
    )
    replaced = {col: f"{expr} AS {col}" for col, expr in value.items()}
    replaced.update(
        {
            "created_at": "CASE WHEN q.created_at IS NOT NULL THEN q.created_at ELSE s.created_at END AS created_at",
            "created_at_source": "CASE WHEN q.created_at IS NOT NULL THEN 'sqlite' ELSE s.created_at_source END AS created_at_source",
            "mode": f"CASE WHEN {used_t} THEN 'copy' ELSE s.mode END AS mode",
            "is_model_call": f"CASE WHEN {used_t} THEN false ELSE s.is_model_call END AS is_model_call",
            "status": f"CASE WHEN {used_t} AND s.status = 'gen_error' AND NOT s.has_raw AND NOT s.has_parsed THEN 'skipped' ELSE s.status END AS status",
            "logical_key": "coalesce(k.logical_key, s.logical_key) AS logical_key",
            "facts_from": f"nullif(concat_ws(',', {labels}), '') AS facts_from",
        }
    )
    select = ", ".join(replaced.get(c, f"s.{c}") for c in GENS_COLUMN_ORDER)
    table = con.sql(
        f"SELECT {select}, s.filename AS _file FROM {joined} LEFT JOIN _facts_keys AS k ON k.stage = s.stage AND k.gen_id = s.gen_id"
    ).to_arrow_table()
    con.unregister("_facts_keys")
    names = table.column("_file")
    for scan, out in pairs:
        part = table.filter(pc.equal(names, str(scan))).drop_columns(["_file"])
        part = part.take(pc.sort_indices(part, sort_keys=[("gen_id", "ascending")])) if part.num_rows > 1 else part
        write_partition(part.cast(GENS_SCHEMA), out)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
