"""Hash partitions of the per-generation tables: which file of a snapshot holds a generation's rows.

A generation's partition is the first ``bits`` bits of the MD5 of its UTF-8 ``gen_id`` (``bits`` chosen
per stage from its size, stored in ``snapshot.json``), so any engine can compute it
(``('0x' || md5(gen_id)[1:8])::UBIGINT >> (32 - bits)`` in DuckDB) and the partitions of ``bits + 1``
split those of ``bits`` exactly in two. The contract: docs/index-layout.md.

The files hold every column of a table but ``stage``: the ``stage=<stage>`` directory holds it (hive
partitioning), as pandas, pyarrow.dataset, polars, Dask and Spark expect; a column that is in the files
*and* in the path makes their defaults fail (one type from the file, another from the path).
:func:`write_partition` takes the column out and :func:`read_partition` puts it back, at its place.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import layout
from .fields import JSON_COLUMNS

#: The column the partition directories hold (``stage=<stage>``) and the files do not.
HIVE_COLUMN = "stage"
#: Schema metadata key of a partition file: ``{column: position}`` of the hive column in the table as
#: gensql declares it, so a reader of one file puts it back where it was.
HIVE_METADATA_KEY = b"gensql.hive_columns"

#: Rows per partition a new layout aims at: small enough that rewriting a touched partition is cheap,
#: large enough that a query does not open thousands of tiny files.
TARGET_ROWS = 2048
#: At most 2**MAX_BITS partitions per stage.
MAX_BITS = 12
#: Rows per Parquet row group: a partition file is one row group.
ROW_GROUP_ROWS = 65536
#: Columns nearly unique per row. A dictionary cannot shrink them, and trying one costs as much as the
#: rest of a partition's write, so only the other string columns are dictionary-encoded.
UNIQUE_COLUMNS = frozenset(
    {
        "gen_id",
        "gen_dir",
        "meta_gen_id",
        "parent_gen_id",
        "logical_key",
        "meta",
        "sha256",
        "sig",
        "run_id",
        "task_id",
        "combo_id",
    }
)


def bucket(gen_id: str, bits: int) -> int:
    """The partition of ``gen_id`` among ``2**bits``."""
    if bits == 0:
        return 0
    return int.from_bytes(hashlib.md5(gen_id.encode("utf-8", "surrogateescape")).digest()[:4], "big") >> (32 - bits)


def buckets(gen_ids: Iterable[str], bits: int) -> list[int]:
    if bits == 0:
        return [0] * len(gen_ids) if isinstance(gen_ids, (list, tuple)) else [0 for _ in gen_ids]
    md5 = hashlib.md5
    shift = 32 - bits
    return [int.from_bytes(md5(g.encode("utf-8", "surrogateescape")).digest()[:4], "big") >> shift for g in gen_ids]


def bucket_array(gen_ids: pa.Array, bits: int) -> pa.Array:
    """:func:`buckets` of a string array as an int32 array, without a Python int per row."""
    if bits == 0:
        return pa.array(array("i", bytes(4 * len(gen_ids))), pa.int32())
    out = array("i")
    for start in range(0, len(gen_ids), 65536):
        out.extend(buckets(gen_ids.slice(start, 65536).to_pylist(), bits))
    return pa.array(out, pa.int32())


def ideal_bits(rows: int) -> int:
    bits = 0
    while (rows >> bits) > TARGET_ROWS and bits < MAX_BITS:
        bits += 1
    return bits


def choose_bits(rows: int, previous: int | None) -> int:
    """Partition bits for a stage of ``rows`` rows; the previous value is kept unless it is far off
    (partitions 4x larger or 8x smaller than the target), so a growing store repartitions rarely."""
    want = ideal_bits(rows)
    if previous is None:
        return want
    per = rows / (1 << previous)
    if (per > 4 * TARGET_ROWS and previous < MAX_BITS) or (previous > 0 and per < TARGET_ROWS / 8):
        return want
    return previous


def sources(stage: str, bits: int, value: int, previous_bits: int) -> list[tuple[int, int]]:
    """The previous snapshot's partitions ``(bits, bucket)`` that can hold rows of partition ``value``."""
    if previous_bits == bits:
        return [(bits, value)]
    if previous_bits < bits:
        return [(previous_bits, value >> (bits - previous_bits))]
    span = previous_bits - bits
    return [(previous_bits, (value << span) + k) for k in range(1 << span)]


def read_partition(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One partition file, with its ``stage`` column back from the ``stage=`` directory, and JSON columns as
    plain strings (the table gensql wrote). Single-threaded: for a file of a few thousand rows pyarrow's
    column threads cost more than they save (3.8 ms against 9 ms for a ``gens`` partition)."""
    parquet = pq.ParquetFile(path)
    stored = parquet.schema_arrow
    hive = HIVE_COLUMN not in stored.names  # a file of this layout: the directory holds the stage
    wanted = columns if columns is None or not hive else [c for c in columns if c != HIVE_COLUMN]
    table = _plain_strings(parquet.read(columns=wanted, use_threads=False))
    if not hive or (columns is not None and HIVE_COLUMN not in columns):
        return table
    if columns is not None:
        position = columns.index(HIVE_COLUMN)
    else:
        position = json.loads((stored.metadata or {}).get(HIVE_METADATA_KEY, b"{}")).get(HIVE_COLUMN, 0)
    return table.add_column(position, HIVE_COLUMN, pa.repeat(hive_value(path), table.num_rows))


def declared_schema(path: Path) -> pa.Schema:
    """The schema of a partition file's table as gensql declares it: the stored columns (their types as
    stored, JSON included) with ``stage`` back at its recorded place. For a reader that scans the
    files with hive partitioning (a pyarrow dataset) and wants gensql's column order."""
    stored = pq.read_schema(path)
    if HIVE_COLUMN in stored.names:
        return stored
    position = json.loads((stored.metadata or {}).get(HIVE_METADATA_KEY, b"{}")).get(HIVE_COLUMN, 0)
    return stored.insert(position, pa.field(HIVE_COLUMN, pa.string()))


def iter_partition_batches(path: Path, columns: list[str], batch_size: int = 8192) -> Iterator[pa.RecordBatch]:
    """The rows of one partition file in batches (memory stays flat), ``columns`` in that order
    (``stage`` included, from the directory: :func:`read_partition`)."""
    parquet = pq.ParquetFile(path)
    hive = HIVE_COLUMN in columns and HIVE_COLUMN not in parquet.schema_arrow.names
    stored = [c for c in columns if not (hive and c == HIVE_COLUMN)]
    value = hive_value(path) if hive else None
    for batch in parquet.iter_batches(batch_size=batch_size, columns=stored, use_threads=False):
        arrays = [_plain(a) for a in batch.columns]
        if hive:
            arrays.insert(columns.index(HIVE_COLUMN), pa.repeat(value, batch.num_rows))
        yield pa.RecordBatch.from_arrays(arrays, names=columns)


def hive_value(path: Path) -> str:
    """The stage of a partition file, from its ``stage=<stage>`` directory."""
    key, sep, value = Path(path).parent.name.partition("=")
    if key != HIVE_COLUMN or not sep:
        raise ValueError(f"{path}: not inside a {HIVE_COLUMN}=<value> directory")
    return value


def _plain(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """An extension-typed array (JSON) as its storage (a string array); any other array as it is."""
    if not isinstance(array.type, pa.BaseExtensionType):
        return array
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([c.storage for c in array.chunks], array.type.storage_type)
    return array.storage


def _plain_strings(table: pa.Table) -> pa.Table:
    for i, f in enumerate(table.schema):
        if isinstance(f.type, pa.BaseExtensionType):
            table = table.set_column(i, f.name, _plain(table.column(i)))
    return table


#: The canonical ``arrow.json`` extension type (pyarrow 19+): written as the Parquet JSON logical type.
_JSON_TYPE: pa.DataType | None = pa.json_() if hasattr(pa, "json_") else None


def file_table(table: pa.Table) -> pa.Table:
    """``table`` as a partition file stores it: without ``stage`` (its position kept in the schema
    metadata) and with the JSON columns (:data:`gensql.fields.JSON_COLUMNS`) typed as JSON."""
    names = table.schema.names
    if HIVE_COLUMN in names:
        position = names.index(HIVE_COLUMN)
        table = table.remove_column(position)
        metadata = dict(table.schema.metadata or {})
        metadata[HIVE_METADATA_KEY] = json.dumps({HIVE_COLUMN: position}).encode()
        table = table.replace_schema_metadata(metadata)
    if _JSON_TYPE is not None:
        for i, f in enumerate(table.schema):
            if f.name in JSON_COLUMNS and pa.types.is_string(f.type):
                column = table.column(i)
                chunks = [pa.ExtensionArray.from_storage(_JSON_TYPE, c) for c in column.chunks]
                table = table.set_column(i, pa.field(f.name, _JSON_TYPE), pa.chunked_array(chunks, _JSON_TYPE))
    return table


def write_partition(table: pa.Table, path: Path) -> None:
    """Write one partition file (one row group, Snappy, dictionaries only where they pay off): the
    rows of ``table`` as :func:`file_table` stores them."""
    table = file_table(table)
    dictionary = [f.name for f in table.schema if pa.types.is_string(f.type) and f.name not in UNIQUE_COLUMNS]
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS, use_dictionary=dictionary)


def read_files(paths: Iterable[Path], schema: pa.Schema | None = None, columns: list[str] | None = None) -> pa.Table:
    """The rows of Parquet files, concatenated (each file read alone: no hive columns added)."""
    tables = [read_partition(p, columns) for p in paths]  # no pyarrow.dataset: it costs 0.3 s to import
    if schema is not None:
        target = schema if columns is None else pa.schema([schema.field(c) for c in columns])
        tables = [t.cast(target) for t in tables]
        if not tables:
            return target.empty_table()
    return pa.concat_tables(tables) if tables else pa.table({})


def table_files(snapshot_path: Path, table: str, stage: str | None = None) -> list[Path]:
    """Every data file of ``table`` in a snapshot (of one ``stage``), sorted (one file for an unpartitioned table)."""
    base = snapshot_path / layout.TABLE_FILES[table]
    if table not in layout.PARTITIONED_TABLES:
        return [base]
    return sorted(base.glob(f"stage={stage or '*'}/*.parquet"))


def read_table(snapshot_path: Path, table: str, columns: list[str] | None = None) -> pa.Table:
    """A whole table of a snapshot as one Arrow table (for tests, tools and small tables)."""
    return read_files(table_files(snapshot_path, table), columns=columns)


def sort_by_gen_id(table: pa.Table) -> pa.Table:
    """Rows ordered by ``gen_id``; rows of one generation keep their order (the sort is stable).

    Rows already in order (what a scan of one partition yields) are returned as they are: sorting
    copies every column, a third of the cost of writing a partition.
    """
    if table.num_rows < 2:
        return table
    ids = table.column("gen_id")
    if pc.all(pc.less_equal(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
        return table
    return table.take(pc.sort_indices(table, sort_keys=[("gen_id", "ascending")]))


def splice(old: pa.Table, drop: set[str], fresh: pa.Table | None) -> pa.Table:
    """``old`` (ordered by ``gen_id``) without the rows of generations in ``drop``, with ``fresh``
    merged in by ``gen_id``: the rows a full sort of both would give, built from slices of ``old``.

    An update changes a few generations of a partition of thousands of rows; a filter and a sort would
    copy every column twice, slices copy nothing until the Parquet writer reads them. The rows of one
    generation keep their order (``fresh`` is sorted stably first; it is small).
    """
    ids = old.column("gen_id").to_pylist()
    events: list[tuple[int, int, int, int]] = []  # (position in old, 0 insert / 1 drop, fresh start, fresh end)
    if drop:
        events += [(i, 1, 0, 0) for i, g in enumerate(ids) if g in drop]
    if fresh is not None and fresh.num_rows:
        fresh = sort_by_gen_id(fresh)
        fresh_ids = fresh.column("gen_id").to_pylist()
        j = 0
        while j < len(fresh_ids):
            k = j + 1
            while k < len(fresh_ids) and fresh_ids[k] == fresh_ids[j]:
                k += 1
            events.append((bisect_left(ids, fresh_ids[j]), 0, j, k))
            j = k
    if not events:
        return old
    events.sort()
    pieces, start = [], 0
    for pos, kind, first, end in events:
        if pos > start:
            pieces.append(old.slice(start, pos - start))
        if kind == 0:
            assert fresh is not None  # insertions come from fresh rows
            pieces.append(fresh.slice(first, end - first))
            start = max(start, pos)
        else:
            start = pos + 1
    pieces.append(old.slice(start))
    return pa.concat_tables(pieces)
