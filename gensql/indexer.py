"""``gensql refresh`` (:func:`refresh`): bring the Parquet index up to date with the gens store.

A refresh lists the three stage directories, checks each generation directory against the previous
snapshot's manifest (see :mod:`gensql.scan`), re-reads only the new and changed ones (in worker
processes when there are many), carries the other rows over from the previous snapshot, and commits a
new snapshot atomically (see :mod:`gensql.index`). It never writes inside the data root except in the
index directory.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__, layout
from .errors import StrictModeError
from .fields import GENS_SCHEMA
from .catalog import write_catalog
from .docs_index import read_documents
from .facts import apply as apply_facts, gather as gather_facts
from .index import SnapshotBuilder, collect_garbage, current_snapshot, disk_errors_as_messages, store_umask, writer_lock
from .membership import read_memberships
from .safeio import check_inside, store_roots
from .workers import init_worker, stop_workers
from .scan import ERRORS_SCHEMA, MANIFEST_SCHEMA, TEXTS_SCHEMA, BatchResult, racy_window_ns, scan_batch
from .fulltext.engine import SEARCH_DIR, SearchIndexStats, update_search_index

#: Directories per worker task: large enough to amortise the round trip, small enough to balance.
BATCH_SIZE = 2000
#: Below this many directories to check, worker processes cost more than they save.
PARALLEL_THRESHOLD = 4000
#: Rows per Parquet row group of ``gens``: large groups keep the footer small and queries fast.
ROW_GROUP_ROWS = 65536

Progress = Callable[[int, int], None]


@dataclass
class RefreshResult:
    """What a refresh did: counts, errors and time. ``str()`` gives the one-line summary."""

    snapshot_id: str
    index_dir: Path
    generations: int
    by_stage: dict[str, int]
    new: int
    changed: int
    deleted: int
    unchanged: int
    scan_errors: int
    error_kinds: dict[str, int]
    members: int
    seconds: float
    full: bool
    jobs: int = field(default=1)
    texts: bool = True
    search: SearchIndexStats | None = None

    def __str__(self) -> str:
        stages = ", ".join(f"{n} {s}" for s, n in self.by_stage.items())
        errors = f"{self.scan_errors} scan error{'s' if self.scan_errors != 1 else ''}"
        if self.error_kinds:
            errors += " (" + ", ".join(f"{n} {k}" for k, n in sorted(self.error_kinds.items())) + ")"
        search = ""
        if self.search is not None:
            search = f"search: {self.search.documents} texts ({self.search.added} indexed); "
        return (
            f"indexed {self.generations} generations ({stages}): {self.new} new, {self.changed} changed, "
            f"{self.deleted} deleted, {self.unchanged} unchanged; {self.members} cohort members; {search}{errors}; "
            f"{self.seconds:.2f}s -> {self.index_dir}"
        )


def refresh(
    data_root: str | os.PathLike | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    full: bool = False,
    jobs: int | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    texts: bool = True,
) -> RefreshResult:
    """Refresh the index of the store at ``data_root`` and return what changed.

    ``full`` ignores the previous snapshot and re-reads every directory. ``jobs`` is the number of
    worker processes (default: CPU count). With ``strict``, a :class:`StrictModeError` is raised
    *after* the index was written when any file could not be read. ``texts`` (the default) also
    reads each new or changed text for the ``texts`` table and the snapshot's search index; without
    it, neither is built and the next refresh with texts re-reads every directory once.
    """
    started = time.perf_counter()
    racy_after_ns = time.time_ns() - racy_window_ns()
    where = layout.resolve(data_root, index_dir)
    if not (where.data_root / layout.DOCS_DIR).is_dir():
        where.require_gens()  # a store of seed 000's era may hold only docs/
    jobs = max(1, jobs or os.cpu_count() or 1)
    data_root_str = str(where.data_root)

    with disk_errors_as_messages(where.index_dir), store_umask(where.data_root), writer_lock(where.index_dir, where.data_root):
        collect_garbage(where.index_dir)
        previous = None if full else current_snapshot(where.index_dir)
        if previous is not None and not previous.table_path("_gens_scan").exists():
            previous = None  # an index written before borrowed facts existed: read everything again
        if previous is not None and texts and not (previous.info.get("texts") and (previous.path / SEARCH_DIR).is_dir()):
            previous = None  # the previous snapshot has no texts (--no-texts, or older): read every text once
        manifest = _read_manifest(previous.table_path("_manifest")) if previous else None

        listed, entry_errors = _list_generations(where) if where.gens_root.is_dir() else ({}, [])
        docs, docs_errors = _list_docs(where, listed)
        entry_errors = entry_errors + docs_errors
        for stage, found in docs.items():
            listed[stage] = sorted([*listed.get(stage, []), *found])
        # Every stage gets a plan, so a stage directory that vanished removes all of its rows.
        plan = {stage: _stage_plan(stage, listed.get(stage, []), manifest, docs.get(stage)) for stage in layout.STAGES}
        removed = {f"{stage}/{gen_id}" for stage, p in plan.items() for gen_id in p.removed}
        del manifest
        deleted = len(removed)
        total = sum(len(names) for names in listed.values())

        builder = SnapshotBuilder(where.index_dir)
        try:
            drop: set[str] = set()
            new = changed = unchanged = 0
            errors: list[tuple] = list(entry_errors)
            done = 0
            with _GensWriter(builder, texts) as out:
                for result in _run(_batches(plan), total, data_root_str, racy_after_ns, jobs, texts):
                    new += result.new
                    changed += len(result.replaced)
                    deleted += len(result.vanished)
                    drop.update(f"{result.stage}/{gen_id}" for gen_id in result.replaced + result.vanished)
                    unchanged += result.unchanged
                    errors.extend(result.errors)
                    out.write(result)
                    done += result.size
                    if progress:
                        progress(done, total)
                fresh_texts = out.text_rows
                if previous is not None:
                    out.carry_over(previous, drop | removed)
            search = None
            if texts:
                search = _update_search(where.data_root, builder, previous, drop | removed, fresh_texts)
            members, member_errors = read_memberships(where.data_root)
            errors.extend(member_errors)
            facts_digest = _write_gens(where.data_root, builder, previous, members, errors)
            carried = _carried_errors(previous, drop | removed) if previous is not None else []
            all_errors = pa.Table.from_batches(carried + [_errors_batch(errors)], schema=ERRORS_SCHEMA)
            pq.write_table(members, builder.path("membership"))
            pq.write_table(all_errors, builder.path("scan_errors"))
            kinds: dict[str, int] = {}
            for kind in all_errors.column("kind").to_pylist():
                kinds[kind] = kinds.get(kind, 0) + 1
            result = RefreshResult(
                snapshot_id=builder.id,
                index_dir=where.index_dir,
                generations=out.rows,
                by_stage=out.by_stage(),
                new=new,
                changed=changed,
                deleted=deleted,
                unchanged=unchanged,
                scan_errors=all_errors.num_rows,
                error_kinds=kinds,
                members=members.num_rows,
                seconds=0.0,
                full=previous is None,
                jobs=jobs,
                texts=texts,
                search=search,
            )
            builder.commit({
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "gensql_version": __version__,
                "data_root": data_root_str,
                "generations": result.generations,
                "by_stage": result.by_stage,
                "scan_errors": result.scan_errors,
                "members": result.members,
                "facts_digest": facts_digest,
                "texts": texts,
                "search_documents": search.documents if search else None,
            }, before_swap=write_catalog)
        except BaseException:
            builder.abort()
            raise
        collect_garbage(where.index_dir)
    result.seconds = time.perf_counter() - started
    if strict and result.scan_errors:
        raise StrictModeError(f"{result}\n--strict: {result.scan_errors} file problem(s); see `gensql sql \"SELECT * FROM scan_errors\"`")
    return result


def _abandoned_tmp(name: str) -> bool:
    """A writer's temporary entry (``.tmp-<name>[.<random>]-<pid>``) whose process is gone.

    Writers (backfill, the write path) build a generation under such a name and rename it into place;
    one left behind by a killed writer is reported, one of a running writer is not.
    """
    if not name.startswith(layout.WRITER_TMP_PREFIX):
        return False
    pid = name.rsplit("-", 1)[-1]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by another user
        return False
    return False


def _list_generations(where: layout.StoreLayout) -> tuple[dict[str, list[str]], list[tuple]]:
    """Generation directory names per stage (sorted), and errors for entries that are not one.

    Names starting with '.' are ignored: they are temporary directories of writers (backfill). Every
    other entry that cannot be a generation is a ``scan_errors`` row, never an abort: a name that is
    not UTF-8 (``bad_name``), a directory that cannot be listed or a symlink loop (``unreadable``), a
    symlink whose real path leaves the store (``outside_store``, not followed: docs/hardening.md).
    """
    listed: dict[str, list[str]] = {}
    errors: list[tuple] = []
    gens_root = where.gens_root
    roots = store_roots(where.data_root)

    def error(rel: str, stage: str | None, kind: str, message: str) -> None:
        errors.append((rel, stage, None, None, kind, message))

    try:
        with os.scandir(gens_root) as top:
            for entry in top:
                name = _printable(entry.name)
                if entry.name.startswith("."):
                    continue
                if name != entry.name:
                    error(f"{layout.GENS_DIR}/{name}", None, "bad_name", "entry name is not valid UTF-8")
                elif entry.name not in layout.STAGES or not entry.is_dir():
                    error(f"{layout.GENS_DIR}/{entry.name}", None, "unexpected_entry", f"not a stage directory (expected {', '.join(layout.STAGES)})")
    except OSError as exc:
        error(layout.GENS_DIR, None, "unreadable", f"cannot list: {exc.strerror or exc}")
    for stage in layout.STAGES:
        names: list[str] = []
        stage_rel = f"{layout.GENS_DIR}/{stage}"
        stage_dir = gens_root / stage
        try:
            if stage_dir.is_symlink():
                check_inside(stage_dir, roots)
            entries = os.scandir(stage_dir)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            error(stage_rel, stage, getattr(exc, "kind", "unreadable"), f"cannot list: {exc.strerror or exc}")
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith("."):
                    if _abandoned_tmp(entry.name):
                        error(f"{stage_rel}/{_printable(entry.name)}", stage, "leftover_tmp",
                              "temporary entry of a writer that is no longer running (a killed write or backfill); not read, safe to delete")
                    continue
                name = _printable(entry.name)
                rel = f"{stage_rel}/{name}"
                if name != entry.name:
                    error(rel, stage, "bad_name", "directory name is not valid UTF-8: it cannot be a generation id")
                    continue
                try:
                    if entry.is_symlink():
                        check_inside(entry.path, roots)
                    is_dir = entry.is_dir()
                except FileNotFoundError:
                    error(rel, stage, "unexpected_entry", "a symlink to nothing where a generation directory was expected")
                    continue
                except OSError as exc:
                    error(rel, stage, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
                    continue
                if is_dir:
                    names.append(entry.name)
                else:
                    error(rel, stage, "unexpected_entry", "a file where a generation directory was expected")
        names.sort()
        listed[stage] = names
    return listed, errors


def _printable(name: str) -> str:
    """``name`` itself when it is valid UTF-8, else with the undecodable bytes as ``\\xNN`` escapes."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass
class _StagePlan:
    """One stage's directories joined with the previous manifest, as compact Arrow arrays."""

    names: pa.Array  # sorted gen ids on disk
    masks: pa.Array  # previous presence mask, null for a directory not seen before
    sigs: pa.Array  # previous signature, null when unknown or racy
    removed: list[str]  # gen ids in the previous manifest, gone from disk
    dirs: pa.Array | None = None  # directory relative to the data root for docs/ documents, null for gens/


def _stage_plan(stage: str, names: list[str], manifest: pa.Table | None, docs: dict[str, str] | None = None) -> _StagePlan:
    """Join the listing with the previous manifest in Arrow: no Python object per generation.

    ``docs`` maps the names that are documents of the docs store to their directories.
    """
    on_disk = pa.array(names, pa.string())
    dirs = pa.array([docs.get(name) for name in names], pa.string()) if docs else None
    if manifest is None:
        nulls = pa.nulls(len(on_disk))
        return _StagePlan(on_disk, nulls.cast(pa.int32()), nulls.cast(pa.int64()), [], dirs)
    prev = manifest.filter(pc.equal(manifest.column("stage"), stage))
    prev_ids = prev.column("gen_id").combine_chunks()
    where = pc.index_in(on_disk, value_set=prev_ids)
    removed = prev_ids.filter(pc.invert(pc.is_in(prev_ids, value_set=on_disk))).to_pylist()
    return _StagePlan(on_disk, pc.take(prev.column("mask"), where).combine_chunks(), pc.take(prev.column("sig"), where).combine_chunks(), removed, dirs)


def _batches(plan: dict[str, _StagePlan]) -> Iterator[tuple[str, list[tuple]]]:
    """Work items ``(stage, [(gen_id, mask, sig[, rel_dir]), ...])``, materialised one batch at a time."""
    for stage in layout.STAGES:
        p = plan[stage]
        for i in range(0, len(p.names), BATCH_SIZE):
            sl = slice(i, i + BATCH_SIZE)
            columns = [p.names[sl].to_pylist(), p.masks[sl].to_pylist(), p.sigs[sl].to_pylist()]
            if p.dirs is not None:
                columns.append(p.dirs[sl].to_pylist())
            yield stage, list(zip(*columns))


def _list_docs(where: layout.StoreLayout, gens_listed: dict[str, list[str]]) -> tuple[dict[str, dict[str, str]], list[tuple]]:
    """Documents of seed 000's docs store per stage, ``{doc_id: directory relative to the data root}``.

    ``docs/<stage>/<doc_id>/`` (flat, from 2025-09-07) and ``docs/<stage>/<logical_key_id>/<doc_id>/``
    (nested, before): an entry holding only directories is a logical-key bucket (an empty one holds
    no document: the era's pruner left such leftovers), any other entry a document. A doc_id that is also a gens id of the stage, or a second directory with the same
    doc_id (the flat one wins), is not indexed: it is a ``duplicate_id`` error, never dropped silently.
    """
    root = where.data_root / layout.DOCS_DIR
    found: dict[str, dict[str, str]] = {}
    errors: list[tuple] = []
    if not root.is_dir():
        return found, errors
    with os.scandir(root) as entries:
        for entry in entries:
            if not entry.name.startswith(".") and (entry.name not in layout.STAGES or not entry.is_dir()):
                errors.append((f"{layout.DOCS_DIR}/{entry.name}", None, None, None, "unexpected_entry", f"not a stage directory (expected {', '.join(layout.STAGES)})"))
    for stage in layout.STAGES:
        flat: list[tuple[str, str]] = []
        nested: list[tuple[str, str]] = []
        try:
            entries = os.scandir(root / stage)
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                rel = f"{layout.DOCS_DIR}/{stage}/{entry.name}"
                if entry.name.startswith("."):
                    continue
                if not entry.is_dir():
                    errors.append((rel, stage, None, None, "unexpected_entry", "a file where a document directory was expected"))
                    continue
                try:
                    with os.scandir(entry.path) as inner:
                        children = [e for e in inner if not e.name.startswith(".")]
                    bucket = all(e.is_dir() for e in children)  # empty: a bucket whose documents were pruned
                except OSError:
                    children, bucket = [], False  # the scan records why the directory cannot be read
                if bucket:
                    nested.extend((e.name, f"{rel}/{e.name}") for e in children)
                else:
                    flat.append((entry.name, rel))
        gens_ids = set(gens_listed.get(stage, ()))
        docs: dict[str, str] = {}
        for doc_id, rel in sorted(flat) + sorted(nested):
            if doc_id in gens_ids:
                errors.append((rel, stage, doc_id, None, "duplicate_id", f"{layout.GENS_DIR}/{stage}/{doc_id} has the same id: the gens directory is indexed, this one is not"))
            elif doc_id in docs:
                errors.append((rel, stage, doc_id, None, "duplicate_id", f"{docs[doc_id]} has the same id: that directory is indexed, this one is not"))
            else:
                docs[doc_id] = rel
        found[stage] = docs
    return found, errors


def _write_gens(data_root: Path, builder: SnapshotBuilder, previous, members: pa.Table, errors: list[tuple]) -> str:
    """Write ``gens`` from the scanned rows plus borrowed facts (:mod:`gensql.facts`); return the facts' digest.

    Without outside facts ``gens`` is the scan table itself (a hard link). When neither the scanned
    rows (their file is the previous snapshot's, linked) nor the facts changed, the previous ``gens``
    is reused.
    """
    documents, db_errors = read_documents(data_root)
    facts, fact_errors = gather_facts(data_root, members, documents)
    errors.extend(db_errors + fact_errors)
    digest = facts.digest()
    scan, target = builder.path("_gens_scan"), builder.path("gens")
    if facts.empty:
        _link_or_copy(scan, target)
    elif previous is not None and previous.info.get("facts_digest") == digest and _same_file(scan, previous.table_path("_gens_scan")):
        _link_or_copy(previous.table_path("gens"), target)
    else:
        apply_facts(scan, target, facts, ROW_GROUP_ROWS)
    return digest


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _run(work: Iterator, total: int, data_root: str, racy_after_ns: int, jobs: int, texts: bool = True) -> Iterator[BatchResult]:
    """Results of ``scan_batch`` over ``work``, in order.

    In parallel, at most ``2 * jobs`` batches are in flight and each result is dropped once yielded,
    so memory stays flat however large the store is.
    """
    if jobs == 1 or total < PARALLEL_THRESHOLD:
        for stage, items in work:
            yield scan_batch(data_root, stage, items, racy_after_ns, texts)
        return
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gensql.scan", "gensql.workers"])
    pending: deque = deque()
    queue = work
    # Workers die with this process (gensql.workers); if the refresh stops early (SIGTERM, Ctrl-C, an
    # error, the consumer gone) they are killed at once instead of finishing their batches.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(os.getpid(),))
    try:
        for stage, items in itertools.islice(queue, 2 * jobs):
            pending.append(pool.submit(scan_batch, data_root, stage, items, racy_after_ns, texts))
        while pending:
            result = pending.popleft().result()
            for stage, items in itertools.islice(queue, 1):
                pending.append(pool.submit(scan_batch, data_root, stage, items, racy_after_ns, texts))
            yield result
    except BaseException:
        stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _read_manifest(path: Path) -> pa.Table | None:
    """The previous snapshot's manifest (stage, gen_id, mask, sig), or None if it is unusable."""
    try:
        return pq.read_table(path)
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return None  # every directory is re-read


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


def _carried_errors(previous, drop: set[str]) -> list[pa.RecordBatch]:
    """Errors of generation directories that were not re-read (directory-less errors are redone)."""
    try:
        table = pq.read_table(previous.table_path("scan_errors"))
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return []
    # Errors of the listing (no gen_id, or duplicate_id) are made again by every refresh.
    table = table.filter(pc.and_(pc.is_valid(table.column("gen_id")), pc.not_equal(table.column("kind"), "duplicate_id")))
    return list(_without(table.to_batches(), drop))


def _errors_batch(errors: list[tuple]) -> pa.RecordBatch:
    columns = list(zip(*errors)) if errors else [[] for _ in ERRORS_SCHEMA]
    return pa.RecordBatch.from_arrays([pa.array(list(col), f.type) for col, f in zip(columns, ERRORS_SCHEMA)], schema=ERRORS_SCHEMA)


class _GensWriter:
    """Streams ``gens`` and manifest batches into the snapshot being built.

    Batches are buffered into row groups of ``ROW_GROUP_ROWS`` rows: a few large row groups keep the
    Parquet footer small, which is what makes every later query start fast. When nothing was re-read
    and nothing dropped, the previous snapshot's files are hard-linked (snapshots are immutable, so
    sharing the inode is safe) instead of rewritten.
    """

    def __init__(self, builder: SnapshotBuilder, texts: bool = True):
        self.builder = builder
        self.rows = 0
        self.text_rows = 0  # texts rows written so far: the re-scanned ones come first in the file
        self._stage_counts: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._buffers: dict[str, list[pa.RecordBatch]] = {"gens": [], "_manifest": [], "texts": []}
        self._buffered: dict[str, int] = {"gens": 0, "_manifest": 0, "texts": 0}
        self._texts = texts

    def __enter__(self) -> "_GensWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            if not self._writers and not self.builder.path("_gens_scan").exists():
                self._open()  # an empty store still gets (empty) tables
            for table in self._buffers:
                self._flush(table)
        for writer in self._writers.values():
            writer.close()

    def _open(self) -> None:
        self._writers = {
            "gens": pq.ParquetWriter(self.builder.path("_gens_scan"), GENS_SCHEMA),
            "_manifest": pq.ParquetWriter(self.builder.path("_manifest"), MANIFEST_SCHEMA),
            "texts": pq.ParquetWriter(self.builder.path("texts"), TEXTS_SCHEMA),
        }

    def _add(self, table: str, batch: pa.RecordBatch) -> None:
        if not self._writers:
            self._open()
        self._buffers[table].append(batch)
        self._buffered[table] += batch.num_rows
        if self._buffered[table] >= ROW_GROUP_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        if self._buffers[table]:
            data = pa.Table.from_batches(self._buffers[table])
            self._writers[table].write_table(data, row_group_size=ROW_GROUP_ROWS)
            self._buffers[table], self._buffered[table] = [], 0

    def _count(self, stages: pa.Array | pa.ChunkedArray, rows: int) -> None:
        self.rows += rows
        for value in pc.value_counts(stages).to_pylist():
            self._stage_counts[value["values"]] = self._stage_counts.get(value["values"], 0) + value["counts"]

    def write(self, result: BatchResult) -> None:
        if result.gens is not None:
            self._add("gens", result.gens)
            self._add("_manifest", result.manifest)
            self._count(result.gens.column("stage"), result.gens.num_rows)
        if result.texts is not None and result.texts.num_rows:
            self._add("texts", result.texts)
            self.text_rows += result.texts.num_rows

    def carry_over(self, previous, drop: set[str]) -> None:
        """Copy the previous snapshot's rows that were neither re-read nor deleted."""
        if not self._writers and not drop:
            for table in ("_gens_scan", "_manifest") + (("texts",) if self._texts else ()):
                _link_or_copy(previous.table_path(table), self.builder.path(table))
            if not self._texts:
                pq.write_table(TEXTS_SCHEMA.empty_table(), self.builder.path("texts"))
            stages = pq.read_table(self.builder.path("_gens_scan"), columns=["stage"]).column("stage")
            self._count(stages, len(stages))
            return
        for batch in _without(pq.ParquetFile(previous.table_path("_gens_scan")).iter_batches(batch_size=65536), drop):
            self._add("gens", batch)
            self._count(batch.column("stage"), batch.num_rows)
        for batch in _without(pq.ParquetFile(previous.table_path("_manifest")).iter_batches(batch_size=262144), drop):
            self._add("_manifest", batch)
        if self._texts:
            for batch in _without(pq.ParquetFile(previous.table_path("texts")).iter_batches(batch_size=65536), drop):
                self._add("texts", batch)

    def by_stage(self) -> dict[str, int]:
        return {stage: self._stage_counts.get(stage, 0) for stage in layout.STAGES}


def _update_search(data_root: Path, builder: SnapshotBuilder, previous, changed: set[str], fresh_rows: int) -> SearchIndexStats:
    """The new snapshot's search index: the previous one's, minus changed and deleted generations,
    plus the texts re-read by this refresh (the first ``fresh_rows`` rows of the new ``texts`` file)."""
    target = builder.path("texts").parent / SEARCH_DIR
    previous_dir = previous.path / SEARCH_DIR if previous is not None else None

    def fresh() -> Iterator[dict]:
        left = fresh_rows
        for batch in pq.ParquetFile(builder.path("texts")).iter_batches(batch_size=8192, columns=["gen_id", "stage", "gen_dir", "file", "sha256"]):
            if left <= 0:
                return
            batch = batch.slice(0, left)
            left -= batch.num_rows
            for row in batch.to_pylist():
                if row["sha256"] is not None:  # an unreadable text has no facts and is not indexed
                    yield row

    return update_search_index(data_root, target, previous_dir, sorted(changed) if previous_dir else (), fresh())


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
