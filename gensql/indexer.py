"""``gensql refresh`` (:func:`refresh`): bring the Parquet index up to date with the gens store.

A refresh lists the three stage directories, checks each generation directory against the previous
snapshot's manifest (see :mod:`gensql.scan`), re-reads only the new and changed ones (in worker
processes when there are many), carries the other rows over from the previous snapshot, and commits a
new snapshot atomically (see :mod:`gensql.index`). It never writes inside the data root except in the
index directory.
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__, layout
from .catalog import views_digest, write_catalog
from .docs_index import read_documents
from .errors import StrictModeError
from .facts import apply as apply_facts
from .facts import gather as gather_facts
from .fields import GENS_SCHEMA
from .fulltext.engine import SEARCH_DIR, SearchIndexStats, update_search_index
from .index import (
    Snapshot,
    SnapshotBuilder,
    collect_garbage,
    current_snapshot,
    disk_errors_as_messages,
    store_umask,
    writer_lock,
)
from .membership import MEMBERSHIP_SCHEMA, read_memberships
from .partitions import (
    bucket_array,
    buckets,
    choose_bits,
    iter_partition_batches,
    read_files,
    read_partition,
    sort_by_gen_id,
    sources,
    splice,
    table_files,
    write_partition,
)
from .safeio import check_inside, store_roots
from .scan import ERRORS_SCHEMA, MANIFEST_SCHEMA, TEXTS_SCHEMA, BatchResult, racy_window_ns, scan_batch
from .workers import pid_alive, stop_forkserver, stop_workers, worker_pool

#: Directories per worker task: large enough to amortise the round trip, small enough to balance.
BATCH_SIZE = 2000
#: Below this many directories to check, worker processes cost more than they save.
PARALLEL_THRESHOLD = 4000
#: Threads rewriting touched partitions: reading, merging and writing Parquet release the GIL, and
#: one partition's files are independent of every other's. More threads than cores only contend.
WRITE_THREADS = min(4, os.cpu_count() or 1)

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


@dataclass(frozen=True)
class Changes:
    """What changed since the current snapshot, as file-system events said (:mod:`gensql.watch`).

    ``gens``: ``(stage, name)`` of entries directly under ``gens/<stage>/`` that were created, written,
    renamed or deleted; ``cohorts``: something under ``cohorts/`` changed. A refresh given ``changes``
    checks only those directories and carries every other row over unread; whatever it cannot decide
    from them alone (a stage to repartition, an entry that is not a plain directory, a docs store,
    no usable previous snapshot) makes it list the whole store as a plain refresh does.
    """

    gens: frozenset = frozenset()
    cohorts: bool = False


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
    executor=None,
) -> RefreshResult:
    """Refresh the index of the store at ``data_root`` and return what changed.

    ``full`` ignores the previous snapshot and re-reads every directory. ``jobs`` is the number of
    worker processes (default: CPU count). With ``strict``, a :class:`StrictModeError` is raised
    *after* the index was written when any file could not be read. ``texts`` (the default) also
    reads each new or changed text for the ``texts`` table and the snapshot's search index; without
    it, neither is built and the next refresh with texts re-reads every directory once. ``changes``
    (:class:`Changes`, from the watcher) limits the work to the directories named there.
    ``executor`` scans the partitions elsewhere (:mod:`gensql.distributed`: a Dask cluster, a store on
    object storage); None is the local process pool.
    """
    url = data_root if data_root is not None else os.environ.get(layout.DATA_ROOT_ENV)
    if isinstance(url, str) and "://" in url:
        from .distributed import refresh_url  # a store on object storage (fsspec URL)

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


def refresh_locked(
    where: layout.StoreLayout,
    *,
    full: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    texts: bool = True,
    changes: Changes | None = None,
    executor=None,
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
        previous = None if full else _usable(current_snapshot(where.index_dir), texts)
        damaged = _damaged_files(previous) if previous is not None else []
        if damaged:
            previous = None  # never carry a damaged file forward: read the store again
        plan = _plan_changes(where, previous, changes) if changes is not None and previous is not None else None
        if plan is None:
            plan = _plan_listing(where, previous, getattr(executor, "list_store", None))
        builder = SnapshotBuilder(where.index_dir)
        try:
            result = _build(where, builder, previous, plan, jobs, racy_after_ns, texts, progress, executor)
        except BaseException:
            builder.abort()
            raise
        if collect:
            collect_garbage(where.index_dir)
    result.damaged = len(damaged)
    result.seconds = time.perf_counter() - started
    return result


def _usable(previous: Snapshot | None, texts: bool) -> Snapshot | None:
    """The previous snapshot if this refresh can build on it, else None (every directory is read)."""
    if previous is None or previous.info.get("layout") != layout.INDEX_LAYOUT_VERSION:
        return None  # an index of an older layout: read everything again once
    if texts and not (previous.info.get("texts") and (previous.path / SEARCH_DIR).is_dir()):
        return None  # the previous snapshot has no texts (--no-texts, or older): read every text once
    return previous


def _damaged_files(previous: Snapshot) -> list[str]:
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
    """``[size, mtime_ns]`` of each partition file, recorded in ``snapshot.json`` for :func:`_damaged_files`."""
    stats = {}
    for rel in files:
        st = os.stat(f"{root}/{rel}")
        stats[rel] = [st.st_size, st.st_mtime_ns]
    return stats


def _build(
    where: layout.StoreLayout,
    builder: SnapshotBuilder,
    previous: Snapshot | None,
    plan: _Plan,
    jobs: int,
    racy_after_ns: int,
    texts: bool,
    progress: Progress | None,
    executor=None,
) -> RefreshResult:
    """Scan what the plan says, write every partition of the new snapshot, and commit it."""
    data_root_str = str(where.data_root)
    if plan.cohorts or previous is None:
        members, member_errors = read_memberships(where.data_root)
        pq.write_table(members, builder.path("membership"))
        member_count = members.num_rows
    else:  # no event under cohorts/: the previous snapshot's membership is still the truth
        _link_or_copy(previous.table_path("membership"), builder.path("membership"))
        builder.durable.add(layout.TABLE_FILES["membership"])
        members, member_count = _members_with_facts(builder.path("membership"))
        member_errors = []
    documents, db_errors = read_documents(where.data_root)
    facts, fact_errors = gather_facts(where.data_root, members, documents)
    digest = facts.digest()
    errors: list[tuple] = list(plan.entry_errors) + member_errors + db_errors + fact_errors

    with _PartWriter(builder, previous, {s: p.bits for s, p in plan.stages.items()}, texts, facts, digest) as writer:
        total = sum(len(p.names) for p in plan.stages.values())
        removed = {f"{s}/{g}" for s, p in plan.stages.items() for ids in p.removed.values() for g in ids}
        drop_keys = set(removed)
        new = changed = unchanged = 0
        deleted = len(removed)
        done = 0
        units: deque = deque()

        def work() -> Iterator[tuple[str, list[tuple]]]:
            for stage, parts, items in _units(plan, getattr(executor, "batch_size", None)):
                units.append((stage, parts, items))
                yield stage, items

        # Closed on the way out, whatever stops the loop: an interrupt that lands outside the generator
        # (waiting for a writer thread) must still stop the worker processes at once.
        with closing(_run(work(), total, data_root_str, racy_after_ns, jobs, texts, executor)) as results:
            for result in results:
                stage, parts, items = units.popleft()
                sp = plan.stages[stage]
                new += result.new
                changed += len(result.replaced)
                deleted += len(result.vanished)
                unchanged += result.unchanged
                errors.extend(result.errors)
                drop_keys.update(f"{stage}/{g}" for g in result.replaced + result.vanished)
                of = _bucket_map(sp, parts, items) if len(parts) > 1 else None
                drops: dict[int, set[str]] = {b: set(sp.removed.get(b, ())) for b in parts}
                for g in result.replaced + result.vanished:
                    drops[of[g] if of else parts[0]].add(g)
                gens = _split(result.gens, parts, of)
                manifest = _split(result.manifest, parts, of)
                text_rows = _split(
                    result.texts if result.texts is not None and result.texts.num_rows else None, parts, of
                )
                for b in parts:
                    writer.part(stage, b, gens.get(b), manifest.get(b), text_rows.get(b), drops[b])
                done += result.size
                if progress:
                    progress(done, total)
        writer.finish()
    for sp in plan.stages.values():  # the listing's arrays (~35 MB at 1M) are not needed past the scan
        sp.names = sp.masks = sp.sigs = sp.dirs = None
    search = (
        _update_search(
            where.data_root, builder, previous, drop_keys, writer.rewritten_texts, getattr(executor, "read_text", None)
        )
        if texts
        else None
    )
    carried = _carried_errors(previous, drop_keys, plan) if previous is not None else []
    all_errors = pa.Table.from_batches(carried + [_errors_batch(errors)], schema=ERRORS_SCHEMA)
    pq.write_table(all_errors, builder.path("scan_errors"))
    kinds: dict[str, int] = {}
    for kind in all_errors.column("kind").to_pylist():
        kinds[kind] = kinds.get(kind, 0) + 1
    generations = sum(writer.by_stage.values())
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
        by_stage=dict(writer.by_stage),
        new=new,
        changed=changed,
        deleted=deleted,
        unchanged=unchanged,
        scan_errors=all_errors.num_rows,
        error_kinds=kinds,
        members=member_count,
        seconds=0.0,
        full=previous is None,
        jobs=jobs,
        texts=texts,
        search=search,
        partitions_written=writer.written,
        partitions_linked=writer.linked,
        listed=plan.touched is None,
    )
    builder.commit(
        {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "gensql_version": __version__,
            "layout": layout.INDEX_LAYOUT_VERSION,
            "data_root": getattr(executor, "data_root", None) or data_root_str,
            "generations": result.generations,
            "by_stage": result.by_stage,
            "scan_errors": result.scan_errors,
            "members": result.members,
            "facts_digest": digest,
            "texts": texts,
            "search_documents": search.documents if search else None,
            "partition_bits": {s: p.bits for s, p in plan.stages.items()},
            "views_digest": views,
            "files": dict(sorted(writer.files.items())),
            "file_stats": _file_stats(builder.tmp_path, sorted(writer.files)),
        },
        before_swap=lambda path: write_catalog(path, same_views),
    )
    return result


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


def _bucket_map(sp: _StagePlan, parts: list[int], items: list[tuple]) -> dict[str, int]:
    """gen_id -> partition for a unit's items (they come in partition order, ``sp.counts`` each)."""
    out: dict[str, int] = {}
    i = 0
    for b in parts:
        for item in items[i : i + sp.counts[b]]:
            out[item[0]] = b
        i += sp.counts[b]
    return out


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


def _abandoned_tmp(name: str) -> bool:
    """A writer's temporary entry (``.tmp-<name>[.<random>]-<pid>``) whose process is gone.

    Writers (backfill, the write path) build a generation under such a name and rename it into place;
    one left behind by a killed writer is reported, one of a running writer is not.
    """
    if not name.startswith(layout.WRITER_TMP_PREFIX):
        return False
    pid = name.rsplit("-", 1)[-1]
    return not pid.isdigit() or not pid_alive(int(pid))


def _hidden_generation(entry: os.DirEntry) -> bool:
    """A dot-named directory that holds a metadata file: a generation hidden by its name, not a writer's
    temporary entry (those are ``.tmp-...``), so worth a ``scan_errors`` row rather than silence."""
    if entry.name.startswith(layout.WRITER_TMP_PREFIX):
        return False
    try:
        if entry.is_symlink() or not entry.is_dir():
            return False
        return any(os.path.lexists(os.path.join(entry.path, name)) for name in layout.JSON_FILES)
    except OSError:
        return False


#: Names listed per chunk before they become Arrow strings: a million Python strings would cost
#: about 70 MB, the same names in Arrow about 20 MB.
_LIST_CHUNK = 65536


def _list_generations(where: layout.StoreLayout) -> tuple[dict[str, pa.Array], list[tuple]]:
    """Generation directory names per stage (sorted, as Arrow strings), and errors for entries that are not one.

    Names starting with '.' are ignored: they are temporary directories of writers (backfill). Every
    other entry that cannot be a generation is a ``scan_errors`` row, never an abort: a name that is
    not UTF-8 (``bad_name``), a directory that cannot be listed or a symlink loop (``unreadable``), a
    symlink whose real path leaves the store (``outside_store``, not followed: docs/hardening.md).
    """
    listed: dict[str, pa.Array] = {}
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
                    error(
                        f"{layout.GENS_DIR}/{entry.name}",
                        None,
                        "unexpected_entry",
                        f"not a stage directory (expected {', '.join(layout.STAGES)})",
                    )
    except OSError as exc:
        error(layout.GENS_DIR, None, "unreadable", f"cannot list: {exc.strerror or exc}")
    for stage in layout.STAGES:
        names: list[str] = []
        chunks: list[pa.Array] = []
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
                        error(
                            f"{stage_rel}/{_printable(entry.name)}",
                            stage,
                            "leftover_tmp",
                            "temporary entry of a writer that is no longer running (a killed write or backfill); not read, safe to delete",
                        )
                    elif _hidden_generation(entry):
                        error(
                            f"{stage_rel}/{_printable(entry.name)}",
                            stage,
                            "unexpected_entry",
                            "a generation directory whose name starts with '.' (the mark of a writer's temporary "
                            "entry); not read: rename it without the dot to index it",
                        )
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
                    error(
                        rel, stage, "unexpected_entry", "a symlink to nothing where a generation directory was expected"
                    )
                    continue
                except OSError as exc:
                    error(rel, stage, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
                    continue
                if is_dir:
                    names.append(entry.name)
                    if len(names) == _LIST_CHUNK:
                        chunks.append(pa.array(names, pa.string()))
                        names = []
                else:
                    error(rel, stage, "unexpected_entry", "a file where a generation directory was expected")
        chunks.append(pa.array(names, pa.string()))
        listed[stage] = _sorted_names(chunks)
        odd = listed[stage].filter(pc.invert(pc.match_substring_regex(listed[stage], layout.SAFE_NAME_PATTERN)))
        for name in odd.to_pylist():  # indexed all the same: the row is a warning, not a refusal
            error(
                f"{stage_rel}/{name}",
                stage,
                "unsafe_name",
                "generation id with characters other than letters, digits, '.', '_' and '-': indexed, but "
                "`gensql show`, the write path and the web pages refuse such an id; rename the directory",
            )
    return listed, errors


def _sorted_names(chunks: list[pa.Array]) -> pa.Array:
    """One sorted string array (UTF-8 byte order, which is code point order, as Python sorts)."""
    names = pa.concat_arrays(chunks) if len(chunks) != 1 else chunks[0]
    return names.take(pc.sort_indices(names))


def _printable(name: str) -> str:
    """``name`` itself when it is valid UTF-8, else with the undecodable bytes as ``\\xNN`` escapes."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass
class _StagePlan:
    """One stage's directories to check, in partition order, joined with the previous manifest."""

    bits: int  # the stage's partitions in the new snapshot: 2**bits
    names: pa.Array  # gen ids to check, ordered by partition, then name
    masks: pa.Array  # previous presence mask, null for a directory not seen before
    sigs: pa.Array  # previous signature, null when unknown, racy, or named by an event
    counts: list[int]  # items per partition
    removed: dict[int, list[str]]  # partition -> gen ids of the previous snapshot gone from disk
    dirs: pa.Array | None = None  # directory relative to the data root for docs/ documents, null for gens/


@dataclass
class _Plan:
    stages: dict[str, _StagePlan]
    entry_errors: list[tuple]  # errors of the listing
    touched: set[str] | None = None  # event-driven: ``gens/<stage>/<name>`` paths named by events; None: listed
    cohorts: bool = True  # membership is read again


def _plan_listing(where: layout.StoreLayout, previous: Snapshot | None, lister: Callable | None = None) -> _Plan:
    """List the whole store and join it with the previous manifest: every directory is checked.

    ``lister(where)`` replaces the local listing (a store on object storage: :mod:`gensql.distributed`).
    """
    if lister is not None:
        found, entry_errors = lister(where)
        listed = {stage: _sorted_names([pa.array(names, pa.string())]) for stage, names in found.items()}
    else:
        listed, entry_errors = _list_generations(where) if where.gens_root.is_dir() else ({}, [])
    docs, docs_errors = _list_docs(where, listed)
    entry_errors = entry_errors + docs_errors
    for stage, found_docs in docs.items():
        listed[stage] = _sorted_names(
            [listed.get(stage, pa.array([], pa.string())), pa.array(list(found_docs), pa.string())]
        )
    previous_bits = previous.info.get("partition_bits", {}) if previous is not None else {}
    # Every stage gets a plan, so a stage directory that vanished removes all of its rows. The previous
    # manifest is read one stage at a time, after the listing: at 1,000,000 generations, holding it
    # whole next to the listing's names was the peak of a no-change refresh.
    stages = {}
    for stage in layout.STAGES:
        names = listed.pop(stage, None)
        if names is None:
            names = pa.array([], pa.string())
        bits = choose_bits(len(names), previous_bits.get(stage))
        manifest = None
        if previous is not None:
            manifest = read_files(
                table_files(previous.path, "_manifest", stage), MANIFEST_SCHEMA, ["gen_id", "mask", "sig"]
            )
        stages[stage] = _stage_plan(names, bits, manifest, docs.get(stage))
    return _Plan(stages, entry_errors)


def _stage_plan(
    on_disk: pa.Array, bits: int, manifest: pa.Table | None, docs: dict[str, str] | None = None
) -> _StagePlan:
    """Join one stage's listing with its previous manifest rows in Arrow, then order it by partition.

    ``docs`` maps the names that are documents of the docs store to their directories.
    """
    of = bucket_array(on_disk, bits)
    counts = [0] * (1 << bits)
    for row in pc.value_counts(of).to_pylist():
        counts[row["values"]] = row["counts"]
    order = pc.sort_indices(of)  # stable: names stay sorted inside a partition
    dirs = pa.array([docs.get(name) for name in on_disk.to_pylist()], pa.string()).take(order) if docs else None
    if manifest is None:
        nulls = pa.nulls(len(on_disk))
        return _StagePlan(bits, on_disk.take(order), nulls.cast(pa.int32()), nulls.cast(pa.int64()), counts, {}, dirs)
    prev_ids = manifest.column("gen_id").combine_chunks()
    where = pc.index_in(on_disk, value_set=prev_ids)
    gone = prev_ids.filter(pc.invert(pc.is_in(prev_ids, value_set=on_disk))).to_pylist()
    removed: dict[int, list[str]] = {}
    for gen_id, b in zip(gone, buckets(gone, bits)):
        removed.setdefault(b, []).append(gen_id)
    masks = pc.take(manifest.column("mask"), where).combine_chunks().take(order)
    sigs = pc.take(manifest.column("sig"), where).combine_chunks().take(order)
    return _StagePlan(bits, on_disk.take(order), masks, sigs, counts, removed, dirs)


def _plan_changes(where: layout.StoreLayout, previous: Snapshot, changes: Changes) -> _Plan | None:
    """Check only the directories events named; None when the whole store must be listed instead."""
    if (where.data_root / layout.DOCS_DIR).exists():
        return None  # seed 000's docs store: ids shared with gens/ need the whole listing
    previous_bits = previous.info.get("partition_bits", {})
    by_stage = previous.info.get("by_stage", {})
    touched: set[str] = set()
    named: dict[str, set[str]] = {stage: set() for stage in layout.STAGES}
    for stage, name in changes.gens:
        if stage not in named:
            return None
        named[stage].add(name)
    stages = {}
    for stage in layout.STAGES:
        present, absent = [], []
        for name in sorted(named[stage]):
            if name.startswith("."):
                continue  # a writer's temporary entry; its rename into place is an event of its own
            if _printable(name) != name:
                return None
            try:
                st = os.lstat(where.gens_root / stage / name)
            except FileNotFoundError:
                absent.append(name)
            except OSError:
                return None
            else:
                if not stat.S_ISDIR(st.st_mode):
                    return None  # a file, a symlink: the listing's rules decide (docs/hardening.md)
                present.append(name)
            touched.add(f"{layout.GENS_DIR}/{stage}/{name}")
        bits = previous_bits.get(stage)
        if bits is None:
            return None
        lookup = present + absent
        files = sorted(set(buckets(lookup, bits)))
        prev = read_files(
            [previous.path / layout.partition_file("_manifest", stage, bits, b) for b in files],
            MANIFEST_SCHEMA,
            ["gen_id", "mask"],
        )
        known = dict(zip(prev.column("gen_id").to_pylist(), prev.column("mask").to_pylist()))
        rows = by_stage.get(stage, 0) + sum(1 for n in present if n not in known) - sum(1 for n in absent if n in known)
        if choose_bits(rows, bits) != bits:
            return None  # the stage is repartitioned: every row moves, the listing does it
        of = dict(zip(present, buckets(present, bits)))
        present.sort(key=lambda n: (of[n], n))
        counts = [0] * (1 << bits)
        for name in present:
            counts[of[name]] += 1
        removed: dict[int, list[str]] = {}
        for name, b in zip(absent, buckets(absent, bits)):
            if name in known:
                removed.setdefault(b, []).append(name)
        stages[stage] = _StagePlan(
            bits,
            pa.array(present, pa.string()),
            pa.array([known.get(n) for n in present], pa.int32()),
            pa.nulls(len(present), pa.int64()),  # named by an event: read again whatever its signature says
            counts,
            removed,
        )
    return _Plan(stages, [], touched, changes.cohorts)


def _units(plan: _Plan, batch_size: int | None = None) -> Iterator[tuple[str, list[int], list[tuple]]]:
    """Work items ``(stage, partitions, [(gen_id, mask, sig[, rel_dir]), ...])``: whole partitions,
    about ``batch_size`` (default ``BATCH_SIZE``) directories each, materialised one unit at a time."""
    batch_size = batch_size or BATCH_SIZE
    for stage in layout.STAGES:
        p = plan.stages[stage]
        start = 0
        parts: list[int] = []
        size = 0
        last = (1 << p.bits) - 1
        for b in range(last + 1):
            parts.append(b)
            size += p.counts[b]
            if size < batch_size and b < last:
                continue
            sl = slice(start, start + size)
            columns = [p.names[sl].to_pylist(), p.masks[sl].to_pylist(), p.sigs[sl].to_pylist()]
            if p.dirs is not None:
                columns.append(p.dirs[sl].to_pylist())
            yield stage, parts, list(zip(*columns))
            start += size
            parts, size = [], 0


def _list_docs(
    where: layout.StoreLayout, gens_listed: dict[str, pa.Array]
) -> tuple[dict[str, dict[str, str]], list[tuple]]:
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
    roots = store_roots(where.data_root)

    def inside(entry: os.DirEntry, rel: str, stage: str | None) -> bool:
        """A directory entry that may be read: not a symlink leading outside the store (the rule of
        ``gens/``), not a dangling link or a loop. Otherwise a ``scan_errors`` row, and False."""
        try:
            if entry.is_symlink():
                check_inside(entry.path, roots)
            return True
        except FileNotFoundError:
            errors.append((rel, stage, None, None, "unexpected_entry", "a symlink to nothing"))
        except OSError as exc:
            errors.append((rel, stage, None, None, getattr(exc, "kind", "unreadable"), f"{exc.strerror or exc}"))
        return False

    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and (entry.name not in layout.STAGES or not entry.is_dir()):
                    errors.append(
                        (
                            f"{layout.DOCS_DIR}/{entry.name}",
                            None,
                            None,
                            None,
                            "unexpected_entry",
                            f"not a stage directory (expected {', '.join(layout.STAGES)})",
                        )
                    )
    except OSError as exc:
        errors.append((layout.DOCS_DIR, None, None, None, "unreadable", f"cannot list: {exc.strerror or exc}"))
        return found, errors
    for stage in layout.STAGES:
        flat: list[tuple[str, str]] = []
        nested: list[tuple[str, str]] = []
        stage_rel = f"{layout.DOCS_DIR}/{stage}"
        try:
            if (root / stage).is_symlink():
                check_inside(root / stage, roots)
            entries = os.scandir(root / stage)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            kind = getattr(exc, "kind", "unreadable")
            errors.append((stage_rel, stage, None, None, kind, f"cannot list: {exc.strerror or exc}"))
            continue
        with entries:
            for entry in entries:
                rel = f"{stage_rel}/{entry.name}"
                if entry.name.startswith(".") or not inside(entry, rel, stage):
                    continue
                if not entry.is_dir():
                    errors.append(
                        (rel, stage, None, None, "unexpected_entry", "a file where a document directory was expected")
                    )
                    continue
                try:
                    with os.scandir(entry.path) as inner:
                        children = [e for e in inner if not e.name.startswith(".")]
                    bucket = all(e.is_dir() for e in children)  # empty: a bucket whose documents were pruned
                except OSError:
                    children, bucket = [], False  # the scan records why the directory cannot be read
                if bucket:
                    nested.extend((e.name, f"{rel}/{e.name}") for e in children if inside(e, f"{rel}/{e.name}", stage))
                else:
                    flat.append((entry.name, rel))
        gens_ids = set(gens_listed[stage].to_pylist()) if stage in gens_listed else set()
        docs: dict[str, str] = {}
        for doc_id, rel in sorted(flat) + sorted(nested):
            if doc_id in gens_ids:
                errors.append(
                    (
                        rel,
                        stage,
                        doc_id,
                        None,
                        "duplicate_id",
                        f"{layout.GENS_DIR}/{stage}/{doc_id} has the same id: the gens directory is indexed, this one is not",
                    )
                )
            elif doc_id in docs:
                errors.append(
                    (
                        rel,
                        stage,
                        doc_id,
                        None,
                        "duplicate_id",
                        f"{docs[doc_id]} has the same id: that directory is indexed, this one is not",
                    )
                )
            else:
                docs[doc_id] = rel
        found[stage] = docs
    return found, errors


def _run(
    work: Iterator, total: int, data_root: str, racy_after_ns: int, jobs: int, texts: bool = True, executor=None
) -> Iterator[BatchResult]:
    """Results of ``scan_batch`` over ``work``, in order.

    In parallel, at most ``2 * jobs`` batches are in flight and each result is dropped once yielded,
    so memory stays flat however large the store is. An ``executor`` (:mod:`gensql.distributed`) runs
    the batches instead: ``executor.scan(work, data_root, racy_after_ns, texts)`` yields them in order.
    """
    if executor is not None:
        yield from executor.scan(work, data_root, racy_after_ns, texts)
        return
    if jobs == 1 or total < PARALLEL_THRESHOLD:
        for stage, items in work:
            yield scan_batch(data_root, stage, items, racy_after_ns, texts)
        return
    pending: deque = deque()
    queue = work
    # Workers die with this process (gensql.workers); if the refresh stops early (SIGTERM, Ctrl-C, an
    # error, the consumer gone) they are killed at once instead of finishing their batches.
    pool = worker_pool(jobs, ["gensql.scan", "gensql.workers"])
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
        stop_forkserver(kill=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stop_forkserver()


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


def _carried_errors(previous: Snapshot, drop: set[str], plan: _Plan) -> list[pa.RecordBatch]:
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


def _errors_batch(errors: list[tuple]) -> pa.RecordBatch:
    columns = list(zip(*errors)) if errors else [[] for _ in ERRORS_SCHEMA]
    return pa.RecordBatch.from_arrays(
        [pa.array(list(col), f.type) for col, f in zip(columns, ERRORS_SCHEMA)], schema=ERRORS_SCHEMA
    )


class _PartWriter:
    """Writes the partitions of ``_gens_scan``, ``_manifest``, ``texts`` and ``gens`` into the snapshot.

    A partition nothing touched (no row re-read, none deleted, same partitioning) is a hard link to
    the previous snapshot's file (snapshots are immutable, so sharing the inode is safe); a touched one
    is rewritten from the previous file's rows that remain plus the fresh rows, ordered by gen_id, so
    an incremental refresh writes the same rows in the same order as a full one. ``gens`` is linked to
    ``_gens_scan`` when there are no borrowed facts, else filled by :func:`gensql.facts.apply` for the
    partitions that were rewritten (all of them when the facts changed).
    """

    _TABLES = (("_gens_scan", GENS_SCHEMA), ("_manifest", MANIFEST_SCHEMA), ("texts", TEXTS_SCHEMA))

    def __init__(
        self, builder: SnapshotBuilder, previous: Snapshot | None, bits: dict[str, int], texts: bool, facts, digest: str
    ):
        self.builder = builder
        self.previous = previous
        self.bits = bits
        self.texts = texts
        self.facts = facts
        self.prev_bits: dict[str, int] = previous.info.get("partition_bits", {}) if previous is not None else {}
        self.prev_files: dict[str, int] = previous.info.get("files", {}) if previous is not None else {}
        self.facts_same = previous is not None and previous.info.get("facts_digest") == digest
        self.files: dict[str, int] = {}  # path inside the snapshot -> rows
        self.by_stage = {stage: 0 for stage in layout.STAGES}
        self._texts: dict[tuple[int, int], Path | pa.Table] = {}  # texts to index: files (full refresh) or fresh rows
        self._facts: dict[tuple[int, int], tuple[Path, Path]] = {}  # gens partitions to fill with borrowed facts
        self.written = self.linked = 0
        self._empty_texts: Path | None = None
        self._lock = threading.Lock()  # guards the counters and the shared empty texts file
        self._pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="gensql-part")
        self._pending: deque[Future] = deque()

    def __enter__(self) -> _PartWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)  # no thread writes into an aborted snapshot

    def part(
        self,
        stage: str,
        b: int,
        gens: pa.Table | None,
        manifest: pa.Table | None,
        texts: pa.Table | None,
        drop: set[str],
    ) -> None:
        """Write (or link) partition ``b`` of ``stage`` in a writer thread; at most ``2 * WRITE_THREADS``
        partitions wait, so the fresh rows held in memory stay bounded. A thread's error is raised here
        or by :meth:`finish`."""
        if self._untouched(stage, gens, texts, drop):
            self._link_part(stage, b)  # four hard links: not worth a thread
            return
        while len(self._pending) >= 2 * WRITE_THREADS:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._rewrite_part, stage, b, gens, manifest, texts, drop))

    def _untouched(self, stage: str, gens: pa.Table | None, texts: pa.Table | None, drop: set[str]) -> bool:
        """No row of the partition re-read or deleted, and the stage not repartitioned: link the previous file."""
        return (
            self.previous is not None
            and self.prev_bits.get(stage) == self.bits[stage]
            and gens is None
            and texts is None
            and not drop
        )

    @property
    def rewritten_texts(self) -> list[Path | pa.Table]:
        """Texts the search index must add, in partition order whatever order the threads finished in."""
        return [self._texts[k] for k in sorted(self._texts)]

    def _link_part(self, stage: str, b: int) -> None:
        bits = self.bits[stage]
        for table, _schema in self._TABLES:
            if table == "texts" and not self.texts:
                self._empty_text_part(stage, b)
            else:
                self._link_previous(layout.partition_file(table, stage, bits, b))
        self._gens(stage, b, touched=False)
        with self._lock:
            self.linked += 1

    def _rewrite_part(
        self,
        stage: str,
        b: int,
        gens: pa.Table | None,
        manifest: pa.Table | None,
        texts: pa.Table | None,
        drop: set[str],
    ) -> None:
        key = (layout.STAGES.index(stage), b)
        bits = self.bits[stage]
        prev_bits = self.prev_bits.get(stage) if self.previous is not None else None
        fresh = {"_gens_scan": gens, "_manifest": manifest, "texts": texts}
        for table, schema in self._TABLES:
            if table == "texts" and not self.texts:
                self._empty_text_part(stage, b)
                continue
            new_rows = fresh[table].cast(schema) if fresh[table] is not None else None
            if prev_bits == bits:  # the common case: the previous file spliced, no copy, no sort
                old = read_partition(self.previous.path / layout.partition_file(table, stage, bits, b))
                data = splice(old if old.schema.equals(schema) else old.cast(schema), drop, new_rows)
            else:
                pieces = []
                if prev_bits is not None:  # the stage was repartitioned: take this partition's rows of the old ones
                    for pbits, pb in sources(stage, bits, b, prev_bits):
                        old = read_partition(self.previous.path / layout.partition_file(table, stage, pbits, pb))
                        ids = old.column("gen_id")
                        keep = pc.equal(pa.array(buckets(ids.to_pylist(), bits), pa.int32()), b)
                        if drop:
                            keep = pc.and_(
                                keep, pc.invert(pc.is_in(ids, value_set=pa.array(sorted(drop), pa.string())))
                            )
                        pieces.append(old.filter(keep).cast(schema))
                if new_rows is not None:
                    pieces.append(new_rows)
                data = sort_by_gen_id(pa.concat_tables(pieces)) if pieces else schema.empty_table()
            path = self.builder.part_path(table, stage, bits, b)
            write_partition(data, path)
            self.files[layout.partition_file(table, stage, bits, b)] = data.num_rows
            if table == "_gens_scan":
                with self._lock:
                    self.by_stage[stage] += data.num_rows
            if table == "texts":
                # Rows carried over (even into new partitions) are in the previous search index already.
                # An update keeps its fresh rows (few); a full refresh reads every file back (memory stays flat).
                if self.previous is None:
                    self._texts[key] = path
                elif texts is not None:
                    self._texts[key] = texts.select(_SEARCH_COLUMNS)
        self._gens(stage, b, touched=True)
        with self._lock:
            self.written += 1

    def _link_previous(self, rel: str) -> None:
        _link_into(f"{self.previous.path}/{rel}", f"{self.builder.tmp_path}/{rel}")
        self.builder.durable.add(rel)
        rows = self.prev_files.get(rel)
        if rows is None:
            rows = pq.ParquetFile(f"{self.builder.tmp_path}/{rel}").metadata.num_rows
        self.files[rel] = rows
        if rel.startswith(layout.TABLE_FILES["_gens_scan"] + "/"):
            stage = rel.split("/")[1].split("=", 1)[1]
            with self._lock:
                self.by_stage[stage] += rows

    def _empty_text_part(self, stage: str, b: int) -> None:
        path = self.builder.part_path("texts", stage, self.bits[stage], b)
        with self._lock:
            if self._empty_texts is None:
                write_partition(TEXTS_SCHEMA.empty_table(), path)
                self._empty_texts = path
            else:
                _link_or_copy(self._empty_texts, path)
        self.files[layout.partition_file("texts", stage, self.bits[stage], b)] = 0

    def _gens(self, stage: str, b: int, touched: bool) -> None:
        bits = self.bits[stage]
        rel = layout.partition_file("gens", stage, bits, b)
        scan_rel = layout.partition_file("_gens_scan", stage, bits, b)
        target = f"{self.builder.tmp_path}/{rel}"
        scan = f"{self.builder.tmp_path}/{scan_rel}"
        if self.facts.empty:
            _link_into(scan, target)
            if scan_rel in self.builder.durable:
                self.builder.durable.add(rel)
        elif not touched and self.facts_same:
            _link_into(f"{self.previous.path}/{rel}", target)
            self.builder.durable.add(rel)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            self._facts[(layout.STAGES.index(stage), b)] = (Path(scan), Path(target))
        self.files[rel] = self.files[scan_rel]

    def finish(self) -> None:
        """Wait for every partition, then fill borrowed facts into the ``gens`` partitions that need them."""
        while self._pending:
            self._pending.popleft().result()
        apply_facts([self._facts[k] for k in sorted(self._facts)], self.facts)
        self._facts = {}


_SEARCH_COLUMNS = ["gen_id", "stage", "gen_dir", "file", "sha256"]


def _update_search(
    data_root: Path,
    builder: SnapshotBuilder,
    previous: Snapshot | None,
    changed: set[str],
    rewritten: list[Path | pa.Table],
    read_text: Callable | None = None,
) -> SearchIndexStats:
    """The new snapshot's search index: the previous one's, minus changed and deleted generations,
    plus the texts re-read by this refresh (fresh rows, or the texts files a full refresh wrote)."""
    target = builder.tmp_path / SEARCH_DIR
    previous_dir = previous.path / SEARCH_DIR if previous is not None else None

    def fresh() -> Iterator[dict]:
        for source in rewritten:
            if isinstance(source, Path):
                batches = iter_partition_batches(source, _SEARCH_COLUMNS)
            else:
                batches = source.to_batches()
            for batch in batches:
                for row in batch.to_pylist():
                    if row["sha256"] is not None:  # an unreadable text has no facts and is not indexed
                        yield row

    stats = update_search_index(
        data_root, target, previous_dir, sorted(changed) if previous_dir else (), fresh(), read_text
    )
    if previous_dir is not None:  # segments shared with the previous snapshot are on disk already
        for entry in os.scandir(target):
            old = previous_dir / entry.name
            if entry.is_file(follow_symlinks=False) and old.exists() and os.path.samefile(entry.path, old):
                builder.durable.add(f"{SEARCH_DIR}/{entry.name}")
    return stats


def _link_into(source: str, target: str) -> None:
    """:func:`_link_or_copy`, creating the target's directory on first use (strings: an update links
    thousands of files, and pathlib costs more than the link)."""
    try:
        _link_or_copy(source, target)
    except FileNotFoundError:
        if os.path.exists(source):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _link_or_copy(source, target)
        else:
            raise


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
