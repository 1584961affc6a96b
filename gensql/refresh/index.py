"""The driver of a refresh: plan, hand out the units, record what they wrote, assemble search, commit.

The driver never touches a generation's row when its executor's workers share its disk: they scan,
write the partitions and build the search parts (:mod:`.task`); it lists, plans, keeps counts, links
the ``gens`` partitions, and commits the snapshot (:class:`gensql.index.SnapshotBuilder`) in one
atomic step, so a refresh killed at any moment leaves the previous snapshot current and whole.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__, layout
from ..catalog import views_digest, write_catalog
from ..docs_index import read_documents
from ..errors import StrictModeError
from ..facts import gather as gather_facts
from ..fsutil import link_or_copy
from ..fulltext.engine import SearchIndexStats, SearchPart
from ..index import (
    Snapshot,
    SnapshotBuilder,
    collect_garbage,
    current_snapshot,
    disk_errors_as_messages,
    store_umask,
    writer_lock,
)
from ..membership import MEMBERSHIP_SCHEMA, read_memberships
from ..scan import ERRORS_SCHEMA, racy_window_ns
from .carry import carried_errors, errors_batch
from .executor import Executor, Task, Unit
from .partitions import Output, SnapshotFiles
from .planning import Changes, Plan, plan_changes, plan_listing, units, usable
from .search import parts_dir, update_search
from .workers import LocalPool

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

    partitions_written: int = 0  # partitions rewritten (the rest were hard links to the previous snapshot's)
    partitions_linked: int = 0
    listed: bool = True  # False: an event-driven update that listed nothing
    damaged: int = 0  # files of the previous snapshot that were not as committed (then every partition is rewritten)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (``gensql refresh --json``): one object a scheduler can read."""
        return {
            "snapshot_id": self.snapshot_id,
            "index_dir": str(self.index_dir),
            "generations": self.generations,
            "by_stage": dict(self.by_stage),
            "new": self.new,
            "changed": self.changed,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "scan_errors": self.scan_errors,
            "error_kinds": dict(sorted(self.error_kinds.items())),
            "members": self.members,
            "full": self.full,
            "texts": self.texts,
            "search_documents": self.search.documents if self.search is not None else None,
            "partitions_written": self.partitions_written,
            "partitions_linked": self.partitions_linked,
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        stages = ", ".join(f"{n} {s}" for s, n in self.by_stage.items())
        errors = f"{self.scan_errors} scan error{'s' if self.scan_errors != 1 else ''}"
        if self.error_kinds:
            errors += " (" + ", ".join(f"{n} {k}" for k, n in sorted(self.error_kinds.items())) + ")"
        search = ""
        if self.search is not None:
            search = f"search: {self.search.documents} texts ({self.search.added} indexed); "
        if self.damaged:
            errors += f"; {self.damaged} damaged index file(s) of the previous snapshot: rebuilt in full"
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
    changes: Changes | None = None,
    executor: Executor | None = None,
) -> RefreshResult:
    """Refresh the index of the store at ``data_root`` and return what changed.

    ``full`` ignores the previous snapshot and re-reads every directory. ``jobs`` is the number of
    worker processes (default: CPU count). With ``strict``, a :class:`StrictModeError` is raised
    *after* the index was written when any file could not be read. ``texts`` (the default) also
    reads each new or changed text for the ``texts`` table and the snapshot's search index; without
    it, neither is built and the next refresh with texts re-reads every directory once. ``changes``
    (:class:`Changes`, from the watcher) limits the work to the directories named there.
    ``executor`` runs the units elsewhere (:class:`gensql.refresh.executor.Executor`; see
    :mod:`gensql.distributed`: a Dask cluster); None is the local process pool. A ``data_root`` that
    is a URL (``s3://bucket/data``) is a store on object storage (:mod:`gensql.distributed.objstore`).
    """
    url = data_root if data_root is not None else os.environ.get(layout.DATA_ROOT_ENV)
    if isinstance(url, str) and "://" in url:
        return refresh_url(
            url, index_dir, full=full, jobs=jobs, strict=strict, progress=progress, texts=texts, runner=executor
        )
    where = layout.resolve(data_root, index_dir)
    if not (where.data_root / layout.DOCS_DIR).is_dir():
        where.require_gens()  # a store of seed 000's era may hold only docs/
    with (
        disk_errors_as_messages(where.index_dir),
        store_umask(where.data_root),
        writer_lock(where.index_dir, where.data_root),
    ):
        result = refresh_locked(
            where, full=full, jobs=jobs, progress=progress, texts=texts, changes=changes, executor=executor
        )
    if strict and result.scan_errors:
        error = StrictModeError(
            f'{result}\n--strict: {result.scan_errors} file problem(s); see `gensql sql "SELECT * FROM scan_errors"`'
        )
        error.result = result  # the index was written: what it holds (refresh --json prints it)
        raise error
    return result


def refresh_url(
    url: str,
    index_dir: str | os.PathLike | None = None,
    *,
    full: bool = False,
    jobs: int | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    texts: bool = True,
    runner: Executor | None = None,
    storage_options: dict | None = None,
) -> RefreshResult:
    """:func:`refresh` of a store at an fsspec URL.

    ``index_dir``: a local directory, or None for ``<url>/index`` on the object store itself (built in
    a local cache, then published: :func:`gensql.distributed.remote_index.publish_snapshot`). ``runner``:
    a :class:`~gensql.distributed.executors.DaskExecutor` to scan on a cluster, else ``jobs`` threads here.
    """
    from ..distributed.remote_refresh import remote_store

    started = time.perf_counter()
    with remote_store(url, index_dir, jobs=jobs, runner=runner, storage_options=storage_options) as (
        staging,
        local_index,
        store,
    ):
        result = refresh(
            str(staging), str(local_index), full=full, jobs=jobs, progress=progress, texts=texts, executor=store
        )
    result.seconds = time.perf_counter() - started
    if strict and result.scan_errors:
        raise StrictModeError(f"{result}\n--strict: {result.scan_errors} file problem(s)")
    return result


def refresh_locked(
    where: layout.StoreLayout,
    *,
    full: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    texts: bool = True,
    changes: Changes | None = None,
    executor: Executor | None = None,
    collect: bool = True,
) -> RefreshResult:
    """:func:`refresh` for a caller that already holds the index's writer lock (the watcher).

    With ``collect=False`` the superseded snapshots are left for the caller to delete
    (:func:`gensql.index.collect_garbage`) once it has reported the update: at 1,000,000 generations a
    snapshot is about 2,900 files, and deleting them is no part of making the update visible.
    """
    started = time.perf_counter()
    racy_after_ns = time.time_ns() - racy_window_ns()
    jobs = max(1, jobs or os.cpu_count() or 1)
    with disk_errors_as_messages(where.index_dir), store_umask(where.data_root):
        collect_garbage(where.index_dir)
        previous = None if full else usable(current_snapshot(where.index_dir), texts)
        damaged = damaged_files(previous) if previous is not None else []
        if damaged:
            previous = None  # never carry a damaged file forward: read the store again
        plan = plan_changes(where, previous, changes) if changes is not None and previous is not None else None
        if plan is None:
            plan = plan_listing(where, previous, executor.list_store if executor is not None else None)
        total = sum(len(p.names) for p in plan.stages.values())
        runner: Executor = executor if executor is not None else LocalPool(jobs, total)
        builder = SnapshotBuilder(where.index_dir)
        try:
            result = build(where, builder, previous, plan, runner, racy_after_ns, texts, progress)
        except BaseException:
            builder.abort()
            raise
        if collect:
            collect_garbage(where.index_dir)
    result.jobs = jobs
    result.damaged = len(damaged)
    result.seconds = time.perf_counter() - started
    return result


def build(
    where: layout.StoreLayout,
    builder: SnapshotBuilder,
    previous: Snapshot | None,
    plan: Plan,
    executor: Executor,
    racy_after_ns: int,
    texts: bool,
    progress: Progress | None,
) -> RefreshResult:
    """Hand the plan's units to ``executor``, record what they wrote, build search, and commit."""
    data_root_str = str(where.data_root)
    if plan.cohorts or previous is None:
        members, member_errors = read_memberships(where.data_root)
        pq.write_table(members, builder.path("membership"))
        member_count = members.num_rows
    else:  # no event under cohorts/: the previous snapshot's membership is still the truth
        link_or_copy(previous.table_path("membership"), builder.path("membership"))
        builder.durable.add(layout.TABLE_FILES["membership"])
        members, member_count = _members_with_facts(builder.path("membership"))
        member_errors = []
    documents, db_errors = read_documents(where.data_root)
    facts, fact_errors = gather_facts(where.data_root, members, documents)
    digest = facts.digest()
    errors: list[tuple] = list(plan.entry_errors) + member_errors + db_errors + fact_errors

    bits = {s: p.bits for s, p in plan.stages.items()}
    prev_bits: dict[str, int] = previous.info.get("partition_bits", {}) if previous is not None else {}
    output = Output(str(builder.tmp_path), str(previous.path) if previous is not None else None, bits, prev_bits, texts)
    shares = executor.shares_disk
    task = Task(
        data_root_str,
        racy_after_ns,
        texts,
        search=(parts_dir(builder) if shares else SearchPart.INLINE) if texts else None,
        output=output if shares else None,
    )
    search_parts: list[SearchPart] = []
    with SnapshotFiles(builder, previous, output, facts, digest) as files:
        total = sum(len(p.names) for p in plan.stages.values())
        removed = {f"{s}/{g}" for s, p in plan.stages.items() for ids in p.removed.values() for g in ids}
        drop_keys = set(removed)
        new = changed = unchanged = 0
        deleted = len(removed)
        done = 0
        handed: deque[Unit] = deque()

        def work() -> Iterator[Unit]:
            for unit in units(plan, executor.batch_size):
                handed.append(unit)
                yield unit

        results = executor.scan(work(), task)
        try:
            for scanned in results:
                unit = handed.popleft()
                new += scanned.new
                changed += len(scanned.replaced)
                deleted += len(scanned.vanished)
                unchanged += scanned.unchanged
                errors.extend(scanned.errors)
                drop_keys.update(f"{unit.stage}/{g}" for g in scanned.replaced + scanned.vanished)
                if scanned.search is not None:
                    search_parts.append(scanned.search)
                if scanned.partitions is not None:
                    files.record(scanned.partitions)
                else:  # the rows came back: write them here
                    files.write(unit.stage, unit.parts, unit.removed, scanned)
                done += scanned.size
                if progress:
                    progress(done, total)
        finally:
            # Closed on the way out, whatever stops the loop: an interrupt that lands outside the
            # generator (waiting for a writer thread) must still stop the worker processes at once.
            close = getattr(results, "close", None)
            if close is not None:
                close()
        files.finish()
    for sp in plan.stages.values():  # the listing's arrays (~35 MB at 1M) are not needed past the scan
        sp.names = sp.masks = sp.sigs = sp.dirs = None
    search = update_search(builder, previous, drop_keys, search_parts) if texts else None
    carried = carried_errors(previous, drop_keys, plan) if previous is not None else []
    all_errors = pa.Table.from_batches(carried + [errors_batch(errors)], schema=ERRORS_SCHEMA)
    pq.write_table(all_errors, builder.path("scan_errors"))
    kinds: dict[str, int] = {}
    for kind in all_errors.column("kind").to_pylist():
        kinds[kind] = kinds.get(kind, 0) + 1
    generations = sum(files.by_stage.values())
    if plan.touched is not None:  # rows carried over unread count as unchanged
        unchanged = generations - new - changed
    views = views_digest()
    same_views = None
    if previous is not None and previous.info.get("views_digest") == views:
        same_views = previous.path / layout.INDEX_CATALOG_FILE
    result = RefreshResult(
        snapshot_id=builder.id,
        index_dir=where.index_dir,
        generations=generations,
        by_stage=dict(files.by_stage),
        new=new,
        changed=changed,
        deleted=deleted,
        unchanged=unchanged,
        scan_errors=all_errors.num_rows,
        error_kinds=kinds,
        members=member_count,
        seconds=0.0,
        full=previous is None,
        texts=texts,
        search=search,
        partitions_written=files.written,
        partitions_linked=files.linked,
        listed=plan.touched is None,
    )
    builder.commit(
        {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "gensql_version": __version__,
            "layout": layout.INDEX_LAYOUT_VERSION,
            "data_root": executor.data_root or data_root_str,
            "generations": result.generations,
            "by_stage": result.by_stage,
            "scan_errors": result.scan_errors,
            "members": result.members,
            "facts_digest": digest,
            "texts": texts,
            "search_documents": search.documents if search else None,
            "partition_bits": bits,
            "views_digest": views,
            "files": dict(sorted(files.files.items())),
            "file_stats": _file_stats(builder.tmp_path, sorted(files.files)),
        },
        before_swap=lambda path: write_catalog(path, same_views),
    )
    return result


def damaged_files(previous: Snapshot) -> list[str]:
    """Partition files of ``previous`` that are not what it committed, so must not be linked forward.

    Committed files are read-only, but root, a copy tool or a disk can still change one. Each file's
    size and mtime are checked against ``file_stats`` (a ``stat``, cheap even at 1,000,000
    generations); a snapshot written before ``file_stats`` existed has its footers' row counts checked
    against ``files`` instead.
    """
    stats = previous.info.get("file_stats")
    damaged = []
    for rel, rows in previous.info.get("files", {}).items():
        path = f"{previous.path}/{rel}"
        try:
            if stats is not None:
                st = os.stat(path)
                good = stats.get(rel) == [st.st_size, st.st_mtime_ns]
            else:
                good = pq.ParquetFile(path).metadata.num_rows == rows
        except (OSError, pa.ArrowException):
            good = False
        if not good:
            damaged.append(rel)
    return damaged


def _file_stats(root: Path, files: Iterable[str]) -> dict[str, list[int]]:
    """``[size, mtime_ns]`` of each partition file, recorded in ``snapshot.json`` for :func:`damaged_files`."""
    stats = {}
    for rel in files:
        st = os.stat(f"{root}/{rel}")
        stats[rel] = [st.st_size, st.st_mtime_ns]
    return stats


def _members_with_facts(path: Path) -> tuple[pa.Table, int]:
    """A membership file's rows that can lend facts (wide ones, with ``extras``), and its row count.

    When the file's statistics say ``extras`` is null in every row, nothing is read: a store of slim
    membership files lends no facts, and reading 1,000,000 member rows would cost an event-driven
    update 0.3 s.
    """
    parquet = pq.ParquetFile(path)
    meta = parquet.metadata
    column = parquet.schema_arrow.get_field_index("extras")
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    stats = [g.column(column).statistics for g in groups]
    if all(st is not None and st.has_null_count and st.null_count == g.num_rows for st, g in zip(stats, groups)):
        return MEMBERSHIP_SCHEMA.empty_table(), meta.num_rows
    return parquet.read(), meta.num_rows


__all__ = ["Changes", "RefreshResult", "refresh", "refresh_locked", "refresh_url"]
