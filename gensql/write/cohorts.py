"""Writing a cohort's ``membership.csv`` (current two-column form) atomically, and listing cohorts."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import layout
from ..errors import InvalidIdError, StoreNotFoundError, WriteError
from ..fsutil import replace_file
from ..membership import read_memberships


@dataclass(frozen=True)
class CohortRef:
    cohort_id: str
    path: Path
    members: int


@dataclass(frozen=True)
class CohortInfo:
    """One cohort as ``gensql cohort list`` shows it: members listed, how many exist on disk."""

    cohort_id: str
    members: int
    on_disk: int
    missing: int


def _member(row: object, n: int) -> tuple[str, str]:
    if isinstance(row, Mapping):
        stage, gen_id = row.get("stage"), row.get("gen_id")
    else:
        try:
            stage, gen_id = row  # type: ignore[misc]
        except (TypeError, ValueError):
            raise WriteError(
                f"member {n}: expected (stage, gen_id) or a mapping with those keys, got {row!r}"
            ) from None
    try:
        return layout.check_stage(stage), layout.check_name(gen_id, "gen_id")
    except InvalidIdError as exc:
        raise WriteError(f"member {n}: {exc}") from None


def write_membership(
    data_root: str | os.PathLike | None,
    cohort_id: str,
    rows: Iterable[tuple[str, str] | Mapping[str, str]],
    *,
    overwrite: bool = False,
) -> CohortRef:
    """Write ``cohorts/<cohort_id>/membership.csv`` as ``stage,gen_id`` rows, atomically.

    Every row is validated (a known stage, a safe id) and a duplicate row is an error, before
    anything is written. An existing membership file is replaced only with ``overwrite=True``;
    the replacement is a rename, so a reader sees the old file or the new one, never a mix.
    """
    where = layout.resolve(data_root)
    cohort_id = layout.check_name(cohort_id, "cohort_id")
    members: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in enumerate(rows, start=1):
        member = _member(row, n)
        if member in seen:
            raise WriteError(f"member {n}: {member[0]}/{member[1]} is listed twice (first as member {seen[member]})")
        seen[member] = n
        members.append(member)
    target = where.cohorts_root / cohort_id / layout.MEMBERSHIP_FILE
    if target.exists() and not overwrite:
        raise WriteError(f"cohort {cohort_id!r} already has {target}: pass overwrite=True (--overwrite) to replace it")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("stage", "gen_id"))
    writer.writerows(members)
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_file(target, buffer.getvalue().encode("utf-8"))
    return CohortRef(cohort_id=cohort_id, path=target, members=len(members))


def list_cohorts(
    data_root: str | os.PathLike | None, *, index_dir: str | os.PathLike | None = None
) -> list[CohortInfo]:
    """Every cohort with a membership file, sorted by id, its counts read from the index
    (:func:`gensql.reports.cohort.cohort_counts`).

    Only the membership files written after the index snapshot (a cohort just created) are parsed,
    so the list is right at once however large the other cohorts are; the reader still warns that the
    index is stale. A store without an index yet is read from its files. A cohort whose file has no
    valid member line is listed with zero members (its problems are ``scan_errors`` rows).
    """
    from ..index import current_snapshot
    from ..reports.cohort import cohort_counts
    from ..staleness import check_staleness

    where = layout.resolve(data_root, index_dir)
    if not where.data_root.is_dir():
        raise StoreNotFoundError(f"no data root at {where.data_root}: pass --data-root or set {layout.DATA_ROOT_ENV}")
    snapshot = current_snapshot(where.index_dir)
    if snapshot is None:
        counts = _counts_from_files(where)
    else:
        counts = {c: list(v) for c, v in cohort_counts(where.data_root, index_dir=where.index_dir).items()}
        stale = check_staleness(where.data_root, snapshot.id, snapshot.info)
        prefix, suffix = f"{layout.COHORTS_DIR}/", f"/{layout.MEMBERSHIP_FILE}"
        changed = {p[len(prefix) : -len(suffix)] for p in (stale.changed if stale else ()) if p.endswith(suffix)}
        if changed:
            for cohort_id in changed:
                counts.pop(cohort_id, None)
            counts.update(_counts_from_files(where, changed))
    present = {p.parent.name for p in where.cohorts_root.glob(f"*/{layout.MEMBERSHIP_FILE}")}
    listed = []
    for cohort_id in sorted(present):
        members, on_disk = counts.get(cohort_id, (0, 0))
        listed.append(CohortInfo(cohort_id, members, on_disk, members - on_disk))
    return listed


def _counts_from_files(where: layout.StoreLayout, cohorts: set[str] | None = None) -> dict[str, list[int]]:
    """``{cohort_id: [members, on_disk]}`` parsed from the membership files (all, or ``cohorts``)."""
    table, _errors = read_memberships(where.data_root, cohorts)
    counts: dict[str, list[int]] = {}
    for cohort_id, stage, gen_id in zip(*(table.column(c).to_pylist() for c in ("cohort_id", "stage", "gen_id"))):
        entry = counts.setdefault(cohort_id, [0, 0])
        entry[0] += 1
        entry[1] += (where.gens_root / stage / gen_id).is_dir()
    return counts


def create_cohort_from_query(
    data_root: str | os.PathLike | None,
    cohort_id: str,
    sql: str,
    params: dict | None = None,
    *,
    overwrite: bool = False,
    index_dir: str | os.PathLike | None = None,
) -> CohortRef:
    """Make a cohort from any query over the current index that returns ``stage`` and ``gen_id`` columns.

    For example every latest successful essay of a template:
    ``SELECT stage, gen_id FROM latest_attempt WHERE stage = 'essay' AND template_id = $t``.
    Duplicate (stage, gen_id) rows of the result are kept once, in first-seen order.
    """
    from ..catalog import connect
    from ..query import run_sql

    con = connect(data_root, index_dir)
    try:
        table = run_sql(con, sql, params or None)
    finally:
        con.close()
    missing = [c for c in ("stage", "gen_id") if c not in table.column_names]
    if missing:
        raise WriteError(
            f"the query must return the columns stage and gen_id (it lacks {', '.join(missing)}; it returned {', '.join(table.column_names) or 'nothing'})"
        )
    rows = dict.fromkeys(zip(table.column("stage").to_pylist(), table.column("gen_id").to_pylist()))
    if not rows:  # almost always a parameter naming nothing: an empty cohort would hide that
        raise WriteError(
            f"the query returned no rows: cohort {cohort_id} not written; check the query's values "
            '(e.g. `gensql sql "SELECT template_id, count(*) FROM gens GROUP BY 1"` lists the templates)'
        )
    return write_membership(data_root, cohort_id, rows, overwrite=overwrite)
