"""Writing the partitions of ``_gens_scan``, ``_manifest`` and ``texts`` into a new snapshot, and ``gens`` after them.

:func:`write_unit` writes one unit's partitions and runs wherever the unit was scanned: in the worker
process that scanned it (the rows never travel back to the driver), or on the driver when the worker
does not share its disk (a Dask cluster without a shared index directory). A partition nothing
touched (no row re-read, none deleted, same partitioning) is a hard link to the previous snapshot's
file (snapshots are immutable, so sharing the inode is safe); a touched one is rewritten from the
previous file's rows that remain plus the fresh rows, ordered by gen_id, so an incremental refresh
writes the same rows in the same order as a full one.

:class:`SnapshotFiles` is the driver's side: it records what the units wrote (``snapshot.json``'s
``files``, rows per stage) and makes each ``gens`` partition: a link to ``_gens_scan`` when there
are no borrowed facts, else filled by :func:`gensql.facts.apply` for the partitions that were
rewritten (all of them when the facts changed).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import faults, layout
from ..fields import GENS_SCHEMA
from ..fsutil import fsync_path, link_or_copy
from ..index import Snapshot, SnapshotBuilder
from ..partitions import buckets, read_partition, sort_by_gen_id, sources, splice, write_partition
from ..scan import MANIFEST_SCHEMA, TEXTS_SCHEMA, BatchResult

if TYPE_CHECKING:
    from ..facts import Facts

#: Threads writing partitions on the driver, for units whose rows came back: reading, merging and
#: writing Parquet release the GIL. More threads than cores only contend.
WRITE_THREADS = min(4, os.cpu_count() or 1)
TABLES = (("_gens_scan", GENS_SCHEMA), ("_manifest", MANIFEST_SCHEMA), ("texts", TEXTS_SCHEMA))
#: Name (in the new snapshot's temporary directory) of the empty ``texts`` file every texts partition
#: of a ``--no-texts`` refresh links to; removed before the commit.
EMPTY_TEXTS = ".empty-texts.parquet"


@dataclass(frozen=True)
class Output:
    """Where and how units write their partitions (picklable: it travels with every task)."""

    snapshot: str  # the new snapshot's temporary directory
    previous: str | None  # the previous snapshot's directory (files spliced or linked); None: a full refresh
    bits: dict[str, int]  # partition bits of each stage in the new snapshot
    prev_bits: dict[str, int]  # ... and in the previous one
    texts: bool

    def path(self, table: str, stage: str, b: int) -> str:
        return f"{self.snapshot}/{layout.partition_file(table, stage, self.bits[stage], b)}"


@dataclass
class Written:
    """One partition as a unit left it: linked to the previous snapshot's files, or rewritten.

    ``rows``: rows of each table's file (by path inside the snapshot); None for a linked file whose
    count the driver takes from the previous ``snapshot.json``.
    """

    stage: str
    b: int
    linked: bool
    rows: dict[str, int | None] = field(default_factory=dict)


def write_unit(
    out: Output, stage: str, parts: list[int], removed: dict[int, list[str]], result: BatchResult
) -> list[Written]:
    """Write (or link) every partition of a scanned unit; the fresh rows are ``result``'s."""
    bits = out.bits[stage]
    fresh_ids = result.gens.column("gen_id").to_pylist() if result.gens is not None else []
    moved = result.replaced + result.vanished
    of: dict[str, int] | None = None
    if len(parts) > 1:
        ids = fresh_ids + moved
        of = dict(zip(ids, buckets(ids, bits)))
    drops: dict[int, set[str]] = {b: set(removed.get(b, ())) for b in parts}
    for g in moved:
        drops[of[g] if of else parts[0]].add(g)
    gens = _split(result.gens, parts, of)
    manifest = _split(result.manifest, parts, of)
    texts = _split(result.texts if result.texts is not None and result.texts.num_rows else None, parts, of)
    out_rows = []
    for b in parts:
        if _untouched(out, stage, gens.get(b), texts.get(b), drops[b]):
            out_rows.append(_link_part(out, stage, b))
        else:
            out_rows.append(_rewrite_part(out, stage, b, gens.get(b), manifest.get(b), texts.get(b), drops[b]))
    return out_rows


def _untouched(out: Output, stage: str, gens: pa.Table | None, texts: pa.Table | None, drop: set[str]) -> bool:
    """No row of the partition re-read or deleted, and the stage not repartitioned: link the previous file."""
    return (
        out.previous is not None
        and out.prev_bits.get(stage) == out.bits[stage]
        and gens is None
        and texts is None
        and not drop
    )


def _split(batch: pa.RecordBatch | None, parts: list[int], of: dict[str, int] | None) -> dict[int, pa.Table]:
    """A unit's fresh rows per partition."""
    if batch is None or batch.num_rows == 0:
        return {}
    table = pa.Table.from_batches([batch])
    if of is None:
        return {parts[0]: table}
    where = pa.array([of[g] for g in table.column("gen_id").to_pylist()], pa.int32())
    out = {}
    for b in parts:
        chosen = table.filter(pc.equal(where, b))
        if chosen.num_rows:
            out[b] = chosen
    return out


def _link_part(out: Output, stage: str, b: int) -> Written:
    written = Written(stage, b, linked=True)
    bits = out.bits[stage]
    for table, _schema in TABLES:
        rel = layout.partition_file(table, stage, bits, b)
        if table == "texts" and not out.texts:
            link_into(f"{out.snapshot}/{EMPTY_TEXTS}", f"{out.snapshot}/{rel}")
            written.rows[rel] = 0
        else:
            link_into(f"{out.previous}/{rel}", f"{out.snapshot}/{rel}")
            written.rows[rel] = None
    return written


def _rewrite_part(
    out: Output,
    stage: str,
    b: int,
    gens: pa.Table | None,
    manifest: pa.Table | None,
    texts: pa.Table | None,
    drop: set[str],
) -> Written:
    written = Written(stage, b, linked=False)
    bits = out.bits[stage]
    prev_bits = out.prev_bits.get(stage) if out.previous is not None else None
    fresh = {"_gens_scan": gens, "_manifest": manifest, "texts": texts}
    for table, schema in TABLES:
        faults.point("snapshot.part")
        rel = layout.partition_file(table, stage, bits, b)
        path = f"{out.snapshot}/{rel}"
        if table == "texts" and not out.texts:
            link_into(f"{out.snapshot}/{EMPTY_TEXTS}", path)
            written.rows[rel] = 0
            continue
        rows = fresh[table]
        new_rows = rows.cast(schema) if rows is not None else None
        if prev_bits == bits:  # the common case: the previous file spliced, no copy, no sort
            old = read_partition(Path(f"{out.previous}/{rel}"))
            data = splice(old if old.schema.equals(schema) else old.cast(schema), drop, new_rows)
        else:
            pieces = []
            if prev_bits is not None:  # the stage was repartitioned: take this partition's rows of the old ones
                for pbits, pb in sources(stage, bits, b, prev_bits):
                    old = read_partition(Path(f"{out.previous}/{layout.partition_file(table, stage, pbits, pb)}"))
                    ids = old.column("gen_id")
                    keep = pc.equal(pa.array(buckets(ids.to_pylist(), bits), pa.int32()), b)
                    if drop:
                        keep = pc.and_(keep, pc.invert(pc.is_in(ids, value_set=pa.array(sorted(drop), pa.string()))))
                    pieces.append(old.filter(keep).cast(schema))
            if new_rows is not None:
                pieces.append(new_rows)
            data = sort_by_gen_id(pa.concat_tables(pieces)) if pieces else schema.empty_table()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(data, path)
        written.rows[rel] = data.num_rows
    return written


class SnapshotFiles:
    """The driver's record of a new snapshot's partition files, and the ``gens`` partitions made from them.

    Units whose rows came back to the driver (:meth:`write`) are written here, in up to
    :data:`WRITE_THREADS` threads with at most twice as many units waiting, so memory stays bounded.
    """

    def __init__(
        self, builder: SnapshotBuilder, previous: Snapshot | None, out: Output, facts: Facts, digest: str
    ) -> None:
        self.builder = builder
        self.previous = previous
        self.out = out
        self.facts = facts
        self.prev_files: dict[str, int] = previous.info.get("files", {}) if previous is not None else {}
        self.facts_same = previous is not None and previous.info.get("facts_digest") == digest
        self.files: dict[str, int] = {}  # path inside the snapshot -> rows
        self.by_stage = {stage: 0 for stage in layout.STAGES}
        self._facts: dict[tuple[int, int], tuple[Path, Path]] = {}  # gens partitions to fill with borrowed facts
        self.written = self.linked = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()
        if not out.texts:
            write_partition(TEXTS_SCHEMA.empty_table(), builder.tmp_path / EMPTY_TEXTS)
            fsync_path(builder.tmp_path / EMPTY_TEXTS)  # every texts partition links to it

    def __enter__(self) -> SnapshotFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # no thread writes into an aborted snapshot

    def write(self, stage: str, parts: list[int], removed: dict[int, list[str]], result: BatchResult) -> None:
        """Write a unit whose rows came back (in a writer thread); errors are raised here or by :meth:`finish`."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="gensql-part")
        while len(self._pending) >= 2 * WRITE_THREADS:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write_and_record, stage, parts, removed, result))

    def _write_and_record(
        self, stage: str, parts: list[int], removed: dict[int, list[str]], result: BatchResult
    ) -> None:
        self.record(write_unit(self.out, stage, parts, removed, result))

    def record(self, written: list[Written]) -> None:
        """Take note of partitions a unit wrote, and make their ``gens`` partitions."""
        for part in written:
            for rel, rows in part.rows.items():
                self.builder.durable.add(rel)  # linked from the previous snapshot, or written and fsynced
                if rows is None:  # linked: the count is the previous snapshot's
                    rows = self.prev_files.get(rel)
                    if rows is None:
                        rows = pq.ParquetFile(f"{self.builder.tmp_path}/{rel}").metadata.num_rows
                with self._lock:
                    self.files[rel] = rows
                    if rel.startswith(layout.TABLE_FILES["_gens_scan"] + "/"):
                        self.by_stage[part.stage] += rows
            self._gens(part.stage, part.b, touched=not part.linked)
            with self._lock:
                if part.linked:
                    self.linked += 1
                else:
                    self.written += 1

    def _gens(self, stage: str, b: int, touched: bool) -> None:
        bits = self.out.bits[stage]
        rel = layout.partition_file("gens", stage, bits, b)
        scan_rel = layout.partition_file("_gens_scan", stage, bits, b)
        target = f"{self.builder.tmp_path}/{rel}"
        scan = f"{self.builder.tmp_path}/{scan_rel}"
        if self.facts.empty:
            link_into(scan, target)
            if scan_rel in self.builder.durable:
                self.builder.durable.add(rel)
        elif not touched and self.facts_same:
            assert self.previous is not None
            link_into(f"{self.previous.path}/{rel}", target)
            self.builder.durable.add(rel)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with self._lock:
                self._facts[(layout.STAGES.index(stage), b)] = (Path(scan), Path(target))
        with self._lock:
            self.files[rel] = self.files[scan_rel]

    def finish(self) -> None:
        """Wait for every partition, then fill borrowed facts into the ``gens`` partitions that need them."""
        from ..facts import apply as apply_facts  # DuckDB: only the driver loads it

        while self._pending:
            self._pending.popleft().result()
        apply_facts([self._facts[k] for k in sorted(self._facts)], self.facts)
        self._facts = {}
        (self.builder.tmp_path / EMPTY_TEXTS).unlink(missing_ok=True)


def link_into(source: str, target: str) -> None:
    """:func:`link_or_copy` under a temporary name renamed over ``target``, creating the target's
    directory on first use (strings: an update links thousands of files, and pathlib costs more than
    the link). A unit run twice (a retried task) replaces what the first run left, never writes into it."""
    tmp = _tmp_name(target)
    try:
        link_or_copy(source, tmp)
    except FileNotFoundError:
        if os.path.exists(source):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            link_or_copy(source, tmp)
        else:
            raise
    os.replace(tmp, target)


def _write(data: pa.Table, path: str) -> None:
    """:func:`gensql.partitions.write_partition` under a temporary name renamed over ``path``: the
    name may already be a hard link to a file of the previous snapshot (a retried unit linked it),
    whose bytes must never change. The file is fsynced here, where it was written (in parallel, on
    every worker), so the commit only has directories left to sync."""
    tmp = _tmp_name(path)
    write_partition(data, Path(tmp))
    fsync_path(tmp)
    os.replace(tmp, path)


def _tmp_name(path: str) -> str:
    return f"{path}.{os.getpid()}-{threading.get_ident()}.tmp"
