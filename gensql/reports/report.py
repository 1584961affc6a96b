"""The report object every report builds, its error, and the column kinds shared by the renderers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import GensqlError
from ..prices import PriceTable

COST_COLUMNS: tuple[str, ...] = ("cost_input_est", "cost_output", "cost_total_est")


class ReportError(GensqlError):
    """A report was asked for something that does not exist or does not parse (unknown cohort, bad date)."""

    exit_code = 2


@dataclass
class Report:
    """A computed report: its rows, a totals row, notes for stderr, and what produced it."""

    name: str
    df: pl.DataFrame
    group_columns: tuple[str, ...] = ()
    totals: pl.DataFrame | None = None  # one row, same columns, group columns NULL
    notes: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)  # filters, grouping and options, JSON-ready
    snapshot_id: str | None = None
    prices: PriceTable | None = None


class ReportNote(UserWarning):
    """A report's note (rows left out, unpriced models), issued by the ``*_report`` functions."""


def frame_with_notes(report: Report, with_notes: bool = False) -> Any:
    """What a ``*_report`` function returns: the DataFrame, each note issued as a :class:`ReportNote`
    warning, so a note is never silently lost. The report with its notes as data is the ``build_*``
    twin's :class:`Report` (``.df``, ``.notes``). ``with_notes=True`` (deprecated: a keyword that
    changed the return type) still returns ``(df, notes)``, with a ``DeprecationWarning``."""
    if with_notes:
        warnings.warn(
            f"{report.name}_report(with_notes=True) is deprecated: gensql.reports.build_{report.name}(...) "
            "returns the report with .df and .notes",
            DeprecationWarning,
            stacklevel=3,
        )
        return report.df, list(report.notes)
    for note in report.notes:
        warnings.warn(f"{report.name} report: {note}", ReportNote, stacklevel=3)
    return report.df
