"""Report filters (cohort, stage, model, since/until) as bound SQL conditions, and argument parsing."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from .report import ReportError

#: UTC day of a TIMESTAMPTZ without a time-zone conversion per row (epoch arithmetic, exact).
UTC_DAY = "(DATE '1970-01-01' + CAST(floor(epoch_us({ts}) / 86400000000.0) AS INTEGER))"


def as_date(value, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)") from None


def as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if v is not None]


def _check_cohort(con: duckdb.DuckDBPyConnection, cohort: str) -> None:
    known = [r[0] for r in con.sql("SELECT DISTINCT cohort_id FROM _membership ORDER BY 1").fetchall()]
    if cohort not in known:
        listed = ", ".join(known) if known else "none"
        raise ReportError(
            f"no cohort {cohort!r} in the index (cohorts: {listed}); a cohort whose membership.csv could "
            "not be read is in scan_errors (kind bad_membership)"
        )


@dataclass(frozen=True)
class Filters:
    cohort: str | None
    stages: tuple[str, ...]
    models: tuple[str, ...]
    since: date | None
    until: date | None
    #: what matched nothing (for stderr): each filter value no generation has, with the closest known
    #: values, and dates outside the data's range
    notes: tuple[str, ...] = field(default=(), compare=False)

    def sql(self, table: str = "gens", stage: str | None = None) -> tuple[str, dict]:
        """A WHERE condition over ``table`` (a relation with stage, gen_id, model_id, created_at).

        ``stage``: the SQL expression of the stage when ``table`` has no stage column.
        """
        stage = stage or f"{table}.stage"
        where: list[str] = ["true"]
        params: dict[str, object] = {}
        if self.cohort is not None:
            where.append(
                f"EXISTS (SELECT 1 FROM _membership AS fm WHERE fm.cohort_id = $cohort "
                f"AND fm.stage = {stage} AND fm.gen_id = {table}.gen_id)"
            )
            params["cohort"] = self.cohort
        if self.stages:
            where.append(f"list_contains($stages, {stage})")
            params["stages"] = list(self.stages)
        if self.models:
            where.append(f"list_contains($models, {table}.model_id)")
            params["models"] = list(self.models)
        if self.since is not None:
            where.append(UTC_DAY.format(ts=f"{table}.created_at") + " >= $since")
            params["since"] = self.since
        if self.until is not None:
            where.append(UTC_DAY.format(ts=f"{table}.created_at") + " <= $until")
            params["until"] = self.until
        return " AND ".join(where), params

    def describe(self) -> dict:
        return {
            "cohort": self.cohort,
            "stage": list(self.stages),
            "model": list(self.models),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def make_filters(con, cohort, stage, model, since, until) -> Filters:
    if cohort is not None:
        _check_cohort(con, cohort)
    since_d, until_d = as_date(since, "since"), as_date(until, "until")
    if since_d and until_d and since_d > until_d:
        raise ReportError(f"since {since_d} is after until {until_d}")
    stages, models = tuple(as_list(stage)), tuple(as_list(model))
    notes = unmatched_notes(con, stage=stages, model=models, since=since_d, until=until_d)
    return Filters(cohort, stages, models, since_d, until_d, tuple(notes))


#: filter name -> the _gens column it compares with
_FILTER_COLUMNS = {"stage": "stage", "model": "model_id", "template": "template_id", "status": "status"}


def closest(value: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known values closest to ``value`` (spelling), best first; case-insensitive matches first."""
    known = [k for k in known if k is not None]
    same_case = [k for k in known if k.lower() == value.lower()]
    lowered = {k.lower(): k for k in known}
    near = [lowered[k] for k in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.5)]
    return list(dict.fromkeys(same_case + near))[:n]


def unmatched_notes(
    con: duckdb.DuckDBPyConnection,
    *,
    stage: Iterable[str] = (),
    model: Iterable[str] = (),
    template: Iterable[str] = (),
    status: Iterable[str] = (),
    cohort: Iterable[str] = (),
    since: date | None = None,
    until: date | None = None,
    within_stage: str | Iterable[str] | None = None,
) -> list[str]:
    """Notes for stderr about filter values that match no generation in the index.

    A value no generation has is named with the closest known values (``--model gpt4o`` → ``gpt-4o``);
    a ``since`` after the newest generation's day or an ``until`` before the oldest one's says so with
    the data's range. ``within_stage``: compare model/template/status values with that stage's
    generations only (the scores report's ``--model`` is an evaluation model). A valid but empty
    result is not an error: these are notes.
    """
    notes: list[str] = []
    stage_list = as_list(within_stage)
    stage_sql = " WHERE list_contains($stages, stage)" if stage_list else ""
    stage_params = {"stages": stage_list} if stage_list else {}
    where = f" of stage {', '.join(stage_list)}" if stage_list else ""
    for name, values in (("stage", stage), ("model", model), ("template", template), ("status", status)):
        values = as_list(values)
        if not values:
            continue
        column = _FILTER_COLUMNS[name]
        known = [
            r[0]
            for r in con.sql(
                f"SELECT DISTINCT {column} FROM _gens{stage_sql if name != 'stage' else ''} ORDER BY 1",
                params=(stage_params if name != "stage" else {}) or None,
            ).fetchall()
            if r[0] is not None
        ]
        for value in values:
            if value in known:
                continue
            near = closest(value, known)
            hint = (
                f"closest: {', '.join(near)}"
                if near
                else f"known: {', '.join(known[:8])}{', …' if len(known) > 8 else ''}"
                if known
                else "none known"
            )
            notes.append(f"--{name} {value!r} matches no generation{where if name != 'stage' else ''} ({hint})")
    cohorts = as_list(cohort)
    if cohorts:
        known = [r[0] for r in con.sql("SELECT DISTINCT cohort_id FROM _membership ORDER BY 1").fetchall()]
        for value in cohorts:
            if value not in known:
                near = closest(value, known)
                notes.append(
                    f"--cohort {value!r} is not a cohort in the index ({'closest: ' + ', '.join(near) if near else 'cohorts: ' + (', '.join(known) or 'none')})"
                )
    if since is not None or until is not None:
        day = UTC_DAY.format(ts="created_at")
        first, last = con.sql(f"SELECT min({day}), max({day}) FROM _gens").fetchall()[0]
        if first is not None:
            if since is not None and since > last:
                notes.append(
                    f"--since {since} is after the newest generation's day ({last}; the data spans {first} to {last})"
                )
            if until is not None and until < first:
                notes.append(
                    f"--until {until} is before the oldest generation's day ({first}; the data spans {first} to {last})"
                )
    return notes


def filter_notes(data_root=None, index_dir=None, **filters) -> list[str]:
    """:func:`unmatched_notes` on the current index of ``data_root`` (what ``gensql search`` says when
    it finds nothing)."""
    from ..catalog import connect

    con = connect(data_root, index_dir)
    try:
        return unmatched_notes(con, **filters)
    finally:
        con.close()
