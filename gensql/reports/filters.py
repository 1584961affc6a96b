"""Report filters (cohort, stage, model, since/until) as bound SQL conditions, and argument parsing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

import duckdb

from .report import ReportError

#: UTC day of a TIMESTAMPTZ without a time-zone conversion per row (epoch arithmetic, exact).
UTC_DAY = "(DATE '1970-01-01' + CAST(floor(epoch_us({ts}) / 86400000000.0) AS INTEGER))"


def as_date(value, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
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

    def sql(self, table: str = "gens", stage: str | None = None) -> tuple[str, dict]:
        """A WHERE condition over ``table`` (a relation with stage, gen_id, model_id, created_at).

        ``stage``: the SQL expression of the stage when ``table`` has no stage column.
        """
        stage = stage or f"{table}.stage"
        where, params = ["true"], {}
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
    return Filters(cohort, tuple(as_list(stage)), tuple(as_list(model)), since_d, until_d)

