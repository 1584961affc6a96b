"""``scan_errors`` carried over: the previous snapshot's errors of directories this refresh did not read again."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import layout
from ..index import Snapshot
from ..scan import ERRORS_SCHEMA
from .planning import Plan


def _keys(table: pa.Table | pa.RecordBatch) -> pa.Array:
    return pc.binary_join_element_wise(table.column("stage"), table.column("gen_id"), "/")


def _without(batches: Iterable[pa.RecordBatch], drop: set[str]) -> Iterator[pa.RecordBatch]:
    value_set = pa.array(sorted(drop), pa.string())
    for batch in batches:
        if drop:
            keep = pc.invert(pc.is_in(_keys(batch), value_set=value_set))
            batch = batch.filter(keep)
        if batch.num_rows:
            yield batch


def carried_errors(previous: Snapshot, drop: set[str], plan: Plan) -> list[pa.RecordBatch]:
    """Errors of generation directories that were not re-read.

    A listing refresh makes every directory-less error again. An event-driven one lists nothing, so it
    keeps the listing's errors (``gens/...``) except for the entries events named, and the membership
    errors when it did not read the cohorts again.
    """
    try:
        table = pq.ParquetFile(previous.table_path("scan_errors")).read()
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return []
    has_gen = pc.and_(pc.is_valid(table.column("gen_id")), pc.not_equal(table.column("kind"), "duplicate_id"))
    keep = has_gen
    if plan.touched is not None:
        paths = table.column("path")
        listing = pc.and_(pc.invert(has_gen), pc.starts_with(paths, f"{layout.GENS_DIR}/"))
        listing = pc.and_(listing, pc.invert(pc.is_in(paths, value_set=pa.array(sorted(plan.touched), pa.string()))))
        keep = pc.or_(keep, listing)
        if not plan.cohorts:
            keep = pc.or_(keep, pc.and_(pc.invert(has_gen), pc.starts_with(paths, f"{layout.COHORTS_DIR}/")))
    table = table.filter(pc.fill_null(keep, False))
    return list(_without(table.to_batches(), drop))


def errors_batch(errors: list[tuple]) -> pa.RecordBatch:
    """``scan_errors`` rows ``(path, stage, gen_id, file, kind, message)`` as one batch."""
    columns: list[tuple] = list(zip(*errors)) if errors else [() for _ in ERRORS_SCHEMA]
    return pa.RecordBatch.from_arrays(
        [pa.array(list(col), f.type) for col, f in zip(columns, ERRORS_SCHEMA)], schema=ERRORS_SCHEMA
    )
