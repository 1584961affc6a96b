"""Human ratings beside the store: ``gensql labels import FILE.csv``, read back by the judge reports.

People's scores of essays are the reference an LLM judge is ultimately held to. They are not
generations, so they never go inside ``gens/``: each import is one Parquet file
``<data-root>/labels/<name>.parquet`` (``name`` defaults to the CSV's stem), replaced atomically when the
same name is imported again. The index does not carry them: the reports read the labels directory
when asked for ``reference="humans"``, so a refresh neither needs nor loses them.

The CSV has a header with, in any order:

* ``essay_gen_id`` (or ``essay``, ``essay_id``), or ``evaluation_gen_id`` (or ``evaluation``,
  ``evaluation_id``): what was rated; an evaluation id stands for the essay it evaluated and, when the
  row has no criterion, for its evaluation template;
* ``criterion`` (or ``evaluation_template_id``, ``template``): the evaluation template the score is on;
* ``score``: a number on the judges' scale;
* ``rater``: who rated (a person's id or initials); several raters per essay are expected.

Every id is checked against the index (an id it does not know is an error listing a few), so a
typo does not silently become a label nobody matches.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from . import layout
from .errors import GensqlError

#: Columns of a stored labels file.
LABEL_COLUMNS: tuple[str, ...] = ("essay_gen_id", "criterion", "score", "rater")
_ALIASES: dict[str, tuple[str, ...]] = {
    "essay_gen_id": ("essay_gen_id", "essay", "essay_id"),
    "evaluation_gen_id": ("evaluation_gen_id", "evaluation", "evaluation_id"),
    "criterion": ("criterion", "evaluation_template_id", "template"),
    "score": ("score",),
    "rater": ("rater",),
}
_SCHEMA: dict[str, Any] = {"essay_gen_id": pl.String, "criterion": pl.String, "score": pl.Float64, "rater": pl.String}


class LabelsError(GensqlError):
    """A labels file that cannot be imported or read (missing column, unknown id, bad score)."""

    exit_code = 2


@dataclass(frozen=True)
class LabelImport:
    """What ``import_labels`` stored: where, how many ratings, essays, criteria and raters."""

    path: Path
    ratings: int
    essays: int
    criteria: int
    raters: int

    def describe(self) -> str:
        return (
            f"{self.ratings:,} ratings of {self.essays:,} essays on {self.criteria:,} criteria by "
            f"{self.raters:,} raters -> {self.path}"
        )


def labels_dir(data_root: str | os.PathLike | None = None) -> Path:
    """``<data-root>/labels``: where imported human ratings live."""
    return layout.resolve(data_root).labels_root


def import_labels(
    csv_path: str | os.PathLike,
    data_root: str | os.PathLike | None = None,
    name: str | None = None,
    *,
    index_dir: str | os.PathLike | None = None,
) -> LabelImport:
    """Check ``csv_path`` against the index and store it as ``<data-root>/labels/<name>.parquet``."""
    from .catalog import connect
    from .fsutil import replace_file

    src = Path(csv_path)
    name = layout.check_name(name or src.stem, "labels name")
    try:
        text = src.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LabelsError(f"cannot read {src}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LabelsError(f"{src} is not UTF-8 text: save it as UTF-8 CSV") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise LabelsError(f"{src} is empty: expected a header essay_gen_id,criterion,score,rater")
    header = [h.strip().lower() for h in rows[0]]
    where: dict[str, int] = {}
    for column, names in _ALIASES.items():
        for n in names:
            if n in header:
                where[column] = header.index(n)
                break
    missing = [c for c in ("score", "rater") if c not in where]
    if "essay_gen_id" not in where and "evaluation_gen_id" not in where:
        missing.insert(0, "essay_gen_id (or evaluation_gen_id)")
    if missing:
        raise LabelsError(f"{src}: no column {', '.join(missing)} (header: {', '.join(header)})")

    def cell(row: list[str], column: str) -> str | None:
        i = where.get(column)
        value = row[i].strip() if i is not None and i < len(row) else ""
        return value or None

    records = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in row):
            continue
        raw_score = cell(row, "score")
        try:
            score = float(raw_score) if raw_score is not None else None
        except ValueError:
            score = None
        if score is None or score != score:
            raise LabelsError(f"{src}:{line}: score {raw_score!r} is not a number")
        rater = cell(row, "rater")
        if rater is None:
            raise LabelsError(f"{src}:{line}: no rater")
        essay, evaluation = cell(row, "essay_gen_id"), cell(row, "evaluation_gen_id")
        if essay is None and evaluation is None:
            raise LabelsError(f"{src}:{line}: neither an essay nor an evaluation id")
        records.append((line, essay, evaluation, cell(row, "criterion"), score, rater))
    if not records:
        raise LabelsError(f"{src} has a header but no ratings")

    con = connect(data_root, index_dir)
    try:
        essays = {r[0] for r in con.sql("SELECT gen_id FROM gens WHERE stage = 'essay'").fetchall()}
        evals = {r[2] for r in records if r[2] is not None}
        resolved = {}
        if evals:
            found = con.sql(
                "SELECT gen_id, essay_gen_id, evaluation_template_id FROM scores WHERE list_contains($ids, gen_id)",
                params={"ids": sorted(evals)},
            ).fetchall()
            resolved = {g: (e, t) for g, e, t in found}
    finally:
        con.close()
    out, unknown = [], []
    for line, essay, evaluation, criterion, score, rater in records:
        if evaluation is not None and essay is None:
            if evaluation not in resolved or resolved[evaluation][0] is None:
                unknown.append(f"line {line}: evaluation {evaluation}")
                continue
            essay, criterion = resolved[evaluation][0], criterion or resolved[evaluation][1]
        if essay not in essays:
            unknown.append(f"line {line}: essay {essay}")
            continue
        if criterion is None:
            raise LabelsError(f"{src}:{line}: no criterion (the evaluation template the score is on)")
        out.append((essay, criterion, score, rater))
    if unknown:
        shown = "; ".join(unknown[:5]) + (f"; and {len(unknown) - 5:,} more" if len(unknown) > 5 else "")
        raise LabelsError(
            f"{src}: {len(unknown):,} row{'s' if len(unknown) != 1 else ''} name an essay or evaluation the index "
            f"does not know ({shown}); check the ids, or run `gensql refresh` if they are new"
        )
    df = pl.DataFrame(out, schema=_SCHEMA, orient="row").sort(LABEL_COLUMNS)
    target_dir = labels_dir(data_root)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{name}.parquet"
    buf = io.BytesIO()
    df.write_parquet(buf)
    replace_file(target, buf.getvalue())
    return LabelImport(
        target, df.height, df["essay_gen_id"].n_unique(), df["criterion"].n_unique(), df["rater"].n_unique()
    )


def read_labels(data_root: str | os.PathLike | None = None, name: str | None = None) -> pl.DataFrame:
    """The imported human ratings (:data:`LABEL_COLUMNS` plus ``labels``, the import's name): every
    file in ``<data-root>/labels/``, or only ``name``. Empty (with those columns) when there is none."""
    root = labels_dir(data_root)
    if name is not None:
        files = [root / f"{layout.check_name(name, 'labels name')}.parquet"]
        if not files[0].is_file():
            known = sorted(p.stem for p in root.glob("*.parquet")) if root.is_dir() else []
            raise LabelsError(
                f"no labels named {name!r} in {root}; imported: {', '.join(known) if known else 'none'} "
                "(gensql labels import FILE.csv)"
            )
    else:
        files = sorted(root.glob("*.parquet")) if root.is_dir() else []
    frames = []
    for path in files:
        try:
            frames.append(pl.read_parquet(path).select(LABEL_COLUMNS).with_columns(labels=pl.lit(path.stem)))
        except Exception as exc:  # a damaged file is the user's to fix: say which
            raise LabelsError(f"cannot read labels file {path}: {exc}; import it again") from None
    schema = pl.Schema(_SCHEMA | {"labels": pl.String})
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).cast(schema)
