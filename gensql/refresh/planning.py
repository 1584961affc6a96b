"""Planning a refresh: which directories to check, in which partitions, with what the previous snapshot knew.

A plan joins the listing (:mod:`.listing`), or the directories file-system events named
(:class:`Changes`), with the previous snapshot's manifest, stage by stage, in Arrow; :func:`units`
then cuts it into units of work (whole hash partitions, about :data:`BATCH_SIZE` directories each)
that the executor hands to workers (:mod:`.executor`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .. import layout
from ..fulltext.engine import SEARCH_DIR
from ..index import Snapshot
from ..partitions import bucket_array, buckets, choose_bits, read_files, table_files
from ..scan import MANIFEST_SCHEMA
from .executor import Unit
from .listing import Listing, list_docs, local_listing, printable, sorted_names

#: Directories per unit of work: large enough to amortise the round trip, small enough to balance.
BATCH_SIZE = 2000


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


def usable(previous: Snapshot | None, texts: bool) -> Snapshot | None:
    """The previous snapshot if this refresh can build on it, else None (every directory is read)."""
    if previous is None or previous.info.get("layout") != layout.INDEX_LAYOUT_VERSION:
        return None  # an index of an older layout: read everything again once
    if texts and not (previous.info.get("texts") and (previous.path / SEARCH_DIR).is_dir()):
        return None  # the previous snapshot has no texts (--no-texts, or older): read every text once
    return previous


@dataclass
class StagePlan:
    """One stage's directories to check, in partition order, joined with the previous manifest."""

    bits: int  # the stage's partitions in the new snapshot: 2**bits
    names: pa.Array  # gen ids to check, ordered by partition, then name
    masks: pa.Array  # previous presence mask, null for a directory not seen before
    sigs: pa.Array  # previous signature, null when unknown, racy, or named by an event
    counts: list[int]  # items per partition
    removed: dict[int, list[str]]  # partition -> gen ids of the previous snapshot gone from disk
    dirs: pa.Array | None = None  # directory relative to the data root for docs/ documents, null for gens/


@dataclass
class Plan:
    stages: dict[str, StagePlan]
    entry_errors: list[tuple]  # errors of the listing
    touched: set[str] | None = None  # event-driven: ``gens/<stage>/<name>`` paths named by events; None: listed
    cohorts: bool = True  # membership is read again


def plan_listing(
    where: layout.StoreLayout, previous: Snapshot | None, lister: Callable[[layout.StoreLayout], Listing] | None = None
) -> Plan:
    """List the whole store and join it with the previous manifest: every directory is checked.

    ``lister(where)`` replaces the local listing (:func:`local_listing`): a store on object storage
    (:mod:`gensql.distributed`).
    """
    listed, entry_errors = (lister or local_listing)(where)
    docs, docs_errors = list_docs(where, listed)
    entry_errors = entry_errors + docs_errors
    for stage, found_docs in docs.items():
        listed[stage] = sorted_names(
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
        stages[stage] = stage_plan(names, bits, manifest, docs.get(stage))
    return Plan(stages, entry_errors)


def stage_plan(
    on_disk: pa.Array, bits: int, manifest: pa.Table | None, docs: dict[str, str] | None = None
) -> StagePlan:
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
        return StagePlan(bits, on_disk.take(order), nulls.cast(pa.int32()), nulls.cast(pa.int64()), counts, {}, dirs)
    prev_ids = manifest.column("gen_id").combine_chunks()
    where = pc.index_in(on_disk, value_set=prev_ids)
    gone = prev_ids.filter(pc.invert(pc.is_in(prev_ids, value_set=on_disk))).to_pylist()
    removed: dict[int, list[str]] = {}
    for gen_id, b in zip(gone, buckets(gone, bits)):
        removed.setdefault(b, []).append(gen_id)
    masks = pc.take(manifest.column("mask"), where).combine_chunks().take(order)
    sigs = pc.take(manifest.column("sig"), where).combine_chunks().take(order)
    return StagePlan(bits, on_disk.take(order), masks, sigs, counts, removed, dirs)


def plan_changes(where: layout.StoreLayout, previous: Snapshot, changes: Changes) -> Plan | None:
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
            if printable(name) != name:
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
        stages[stage] = StagePlan(
            bits,
            pa.array(present, pa.string()),
            pa.array([known.get(n) for n in present], pa.int32()),
            pa.nulls(len(present), pa.int64()),  # named by an event: read again whatever its signature says
            counts,
            removed,
        )
    return Plan(stages, [], touched, changes.cohorts)


def units(plan: Plan, batch_size: int | None = None) -> Iterator[Unit]:
    """The plan's units of work, in order: whole partitions of one stage, about ``batch_size`` (default
    :data:`BATCH_SIZE`) directories each, each unit's items materialised only when it is reached."""
    batch_size = batch_size or BATCH_SIZE
    seq = 0
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
            removed = {b: p.removed[b] for b in parts if b in p.removed}
            yield Unit(seq, stage, parts, list(zip(*columns)), removed)
            seq += 1
            start += size
            parts, size = [], 0
