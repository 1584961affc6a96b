"""What each page of the web workbench shows: its SQL, bound parameters, rows and extras, without any web framework."""

from __future__ import annotations

import base64
import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pyarrow as pa

from .. import layout
from ..errors import GensqlError, InvalidIdError, SearchQueryError
from ..lineage import NODE_COLUMNS, build_tree, sibling_order
from .workbench import Workbench

#: Rows per page of the generations table.
PAGE_SIZE = 50
#: Facets of the generations page: query parameter -> gens column (cohort goes through membership).
FACETS: dict[str, str] = {
    "stage": "stage",
    "model": "model_id",
    "template": "template_id",
    "status": "status",
    "run": "run_id",
    "cohort": "cohort_id",
}
#: Values listed per facet (the most frequent first).
FACET_VALUES = 12
DEFAULT_COLUMNS = ("stage", "gen_id", "model_id", "template_id", "status", "completion_tokens", "score", "created_at")
#: Columns one can sort the generations page by (the gens columns of a plain, comparable type).
_SORTABLE_TYPES = (
    "VARCHAR",
    "BIGINT",
    "INTEGER",
    "DOUBLE",
    "BOOLEAN",
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
    "DATE",
    "FLOAT",
    "SMALLINT",
    "HUGEINT",
    "UBIGINT",
)
TOKEN_GROUPS = {
    "model": "model",
    "template": "template",
    "stage": "stage",
    "day": "day",
    "run": "run",
    "cohort": "cohort",
}


class NotFound(GensqlError):
    """The page's subject does not exist (the server answers 404)."""

    exit_code = 2


@dataclass
class Page:
    """One rendered page's facts: the template fills itself from these."""

    template: str
    title: str
    sql: str | None = None  # the SQL the page ran (shown on it)
    params: dict | None = None  # its bound parameters
    table: pa.Table | None = None  # the rows the page's CSV / JSON downloads give
    context: dict[str, Any] = field(default_factory=dict)
    status_code: int = 200


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def format_time(value: Any) -> str:
    """The one way a page shows a timestamp: UTC, to the second (``2025-09-20 14:03:11``), no offset.

    Microseconds and ``+00:00`` only make a column wider; a day stays a day. Anything else passes as text.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: Decimals of every score and mean score a page shows (the matrix, the heatmap, a generation's facts).
SCORE_DECIMALS = 2


def format_score(value: Any) -> str:
    """The one number format of scores: ``SCORE_DECIMALS`` decimals, so 6 and 6.29 line up as 6.00 and 6.29."""
    if value is None:
        return ""
    return f"{float(value):.{SCORE_DECIMALS}f}"


def snapshot_state(wb: Workbench) -> dict[str, Any]:
    """The current snapshot's id and generation count: what an open page compares with its own to say
    "N new generations: reload" (served at /api/snapshot; counted once per snapshot)."""
    opened = wb.current()
    counts = wb.cached("counts", lambda: rows(wb.query(_COUNTS_SQL))[0])
    return {"snapshot_id": opened.snapshot_id, "generations": counts["generations"]}


# -- overview -------------------------------------------------------------------------------------

OVERVIEW_SQL = """-- generations by stage, status and model, with tokens
SELECT stage, coalesce(model_id, '(none)') AS model_id, status,
       count(*) AS generations,
       count(*) FILTER (WHERE is_model_call) AS model_calls,
       sum(completion_tokens) AS completion_tokens,
       sum(prompt_bytes) AS prompt_bytes
FROM gens
GROUP BY stage, model_id, status
ORDER BY array_position(['draft', 'essay', 'evaluation'], stage), model_id, status"""

_COUNTS_SQL = """SELECT (SELECT count(*) FROM gens) AS generations,
       (SELECT count(*) FROM problems) AS problems,
       (SELECT count(*) FROM scan_errors) AS scan_errors,
       (SELECT count(DISTINCT cohort_id) FROM membership) AS cohorts"""


def overview(wb: Workbench) -> Page:
    table = wb.cached("overview", lambda: wb.query(OVERVIEW_SQL))
    counts = wb.cached("counts", lambda: rows(wb.query(_COUNTS_SQL))[0])
    opened = wb.current()
    made = snapshot_time(opened.snapshot_id)
    by_stage: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_model: dict[str, int] = {}
    tokens_by_model: dict[str, int] = {}
    for r in rows(table):
        by_stage[r["stage"]] = by_stage.get(r["stage"], 0) + r["generations"]
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["generations"]
        by_model[r["model_id"]] = by_model.get(r["model_id"], 0) + r["generations"]
        tokens_by_model[r["model_id"]] = tokens_by_model.get(r["model_id"], 0) + int(r["completion_tokens"] or 0)
    cost = wb.cached(("tokens", "model"), lambda: _tokens(wb, "model"))
    return Page(
        "overview.html",
        "Overview",
        OVERVIEW_SQL,
        None,
        table,
        {
            "counts": counts,
            "snapshot_id": opened.snapshot_id,
            "snapshot_time": made,
            "snapshot_age": age(made),
            "by_stage": by_stage,
            "by_status": by_status,
            "by_model": by_model,
            "tokens_by_model": tokens_by_model,
            "cost": cost,
        },
    )


def snapshot_time(snapshot_id: str) -> datetime | None:
    try:
        return datetime.strptime(snapshot_id.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def age(when: datetime | None) -> str:
    if when is None:
        return "unknown"
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return f"{seconds} s ago"


# -- generations ----------------------------------------------------------------------------------


def gens_columns(wb: Workbench) -> dict[str, str]:
    """gens column -> DuckDB type (trusted: from the view definition, never from a request)."""

    def compute():
        return {r["column"]: r["type"] for r in rows(wb.schema()) if r["view"] == "gens"}

    return wb.cached("gens_columns", compute)


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values, default=str)).decode().rstrip("=")


def _decode_cursor(text: str) -> list:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidIdError("invalid page cursor: follow the page links") from None
    if (
        not isinstance(values, list)
        or len(values) != 3
        or not all(v is None or isinstance(v, (str, int, float, bool)) for v in values)
    ):
        raise InvalidIdError("invalid page cursor: follow the page links")
    return values


def _filters(
    args: dict[str, list[str]], columns: dict[str, str], members: str = "membership"
) -> tuple[list[str], dict]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    for name, column in FACETS.items():
        values = [v for v in args.get(name, []) if v != ""]
        if not values:
            continue
        params[f"f_{name}"] = [None if v == "(none)" else v for v in values]
        if name == "cohort":
            clauses.append(
                f"(stage, gen_id) IN (SELECT stage, gen_id FROM {members} WHERE cohort_id IN (SELECT unnest($f_{name})))"
            )
        else:
            clauses.append(
                f"({column} IN (SELECT unnest($f_{name})) OR ({column} IS NULL AND list_contains($f_{name}, NULL)))"
            )
    text = (args.get("q") or [""])[0].strip()
    if text:
        clauses.append("(contains(gen_id, $q) OR contains(coalesce(parent_gen_id, ''), $q))")
        params["q"] = text
    for name, op in (("since", ">="), ("until", "<")):
        value = (args.get(name) or [""])[0].strip()
        if value:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise InvalidIdError(f"{name}: expected a day YYYY-MM-DD, not {value!r}") from None
            params[name] = day if name == "since" else date.fromordinal(day.toordinal() + 1)
            clauses.append(f"CAST(created_at AS DATE) {op} ${name}")
    return clauses, params


def _keyset(sort: str, sql_type: str, desc: bool, cursor: list, before: bool) -> tuple[str, dict]:
    """The WHERE clause of the rows after (or before) ``cursor`` in the order ``sort`` (desc or asc)
    NULLS LAST, stage, gen_id; and its parameters. Keyset paging: a deep page costs what the first does."""
    value, stage, gen_id = cursor
    params: dict[str, Any] = {"c_stage": stage, "c_gen": gen_id}
    if not before:
        tie = "(stage > $c_stage OR (stage = $c_stage AND gen_id > $c_gen))"
        if value is None:
            return f"({sort} IS NULL AND {tie})", params
        params["c_value"] = value
        cmp = "<" if desc else ">"
        return (
            f"({sort} IS NULL OR {sort} {cmp} CAST($c_value AS {sql_type}) "
            f"OR ({sort} = CAST($c_value AS {sql_type}) AND {tie}))",
            params,
        )
    tie = "(stage < $c_stage OR (stage = $c_stage AND gen_id < $c_gen))"
    if value is None:
        return f"({sort} IS NOT NULL OR {tie})", params
    params["c_value"] = value
    cmp = ">" if desc else "<"
    return (
        f"({sort} IS NOT NULL AND ({sort} {cmp} CAST($c_value AS {sql_type}) "
        f"OR ({sort} = CAST($c_value AS {sql_type}) AND {tie})))",
        params,
    )


def start_row(args: dict[str, list[str]]) -> int:
    """The 1-based row number a paged list starts at (``?start=``)."""
    try:
        return max(1, int((args.get("start") or ["1"])[0]))
    except ValueError:
        raise InvalidIdError("start: expected a row number") from None


def generations(wb: Workbench, args: dict[str, list[str]], download: bool = False) -> Page:
    """A page of generations (keyset paging: ``after`` / ``before`` a cursor, or ``last``), its facets
    and count; a download is every matching row with the table's columns in the table's order."""
    columns = gens_columns(wb)
    chosen = [c for c in args.get("col", []) if c in columns] or list(DEFAULT_COLUMNS)
    sort = (args.get("sort") or ["created_at"])[0]
    if sort not in columns or columns[sort] not in _SORTABLE_TYPES:
        raise InvalidIdError(f"cannot sort by {sort!r}: pick a column of gens")
    desc = (args.get("dir") or ["desc"])[0] != "asc"
    needed = {"stage", "gen_id", "parent_gen_id", "created_at", sort, *chosen, *FACETS.values()} - {"cohort_id"}
    source = _gens_source(wb, needed)
    members = MEMBERS_TABLE if source == MEMORY_TABLE else "membership"
    clauses, params = _filters(args, columns, members)
    where_filters = list(clauses)
    after = "" if download else (args.get("after") or [""])[0]  # a download is every matching row
    before = "" if download or after else (args.get("before") or [""])[0]
    last = not (download or after or before) and bool((args.get("last") or [""])[0])
    reverse = bool(before) or last  # read backwards from the end (or from a cursor), then flip
    if after or before:
        clause, cursor_params = _keyset(
            sort, columns[sort], desc, list(_decode_cursor(after or before)), before=bool(before)
        )
        clauses.append(clause)
        params.update(cursor_params)
    where = ("WHERE " + "\n  AND ".join(clauses)) if clauses else ""
    select = ", ".join(dict.fromkeys(["stage", "gen_id", sort, *chosen]))
    limit = 100_000 if download else PAGE_SIZE + 1
    if not reverse:
        order = f"{sort} {'DESC' if desc else 'ASC'} NULLS LAST, stage, gen_id"
    else:
        order = f"{sort} {'ASC' if desc else 'DESC'} NULLS FIRST, stage DESC, gen_id DESC"
    sql = f"SELECT {select}\nFROM {source}\n{where}\nORDER BY {order}\nLIMIT {limit}"
    table = wb.query(sql, params)
    more = not download and table.num_rows > PAGE_SIZE  # rows beyond this page in the reading direction
    if more:
        table = table.slice(0, PAGE_SIZE)
    if reverse:
        table = table.take(list(range(table.num_rows - 1, -1, -1)))
    has_next = bool(before) or (not reverse and more)
    has_prev = bool(after) or (reverse and more)
    next_cursor = prev_cursor = None
    if table.num_rows:
        first_row, last_row = table.slice(0, 1).to_pylist()[0], table.slice(table.num_rows - 1).to_pylist()[0]
        if has_next:
            next_cursor = _encode_cursor([_json_value(last_row[sort]), last_row["stage"], last_row["gen_id"]])
        if has_prev:
            prev_cursor = _encode_cursor([_json_value(first_row[sort]), first_row["stage"], first_row["gen_id"]])
    base = {k: v for k, v in params.items() if not k.startswith("c_")}
    ctx: dict[str, Any] = {
        "columns": list(columns),
        "chosen": chosen,
        "sort": sort,
        "desc": desc,
        "next_cursor": next_cursor,
        "prev_cursor": prev_cursor,
        "first_page": not (after or (reverse and more)),
        "last_page": not has_next,
        "page_size": PAGE_SIZE,
    }
    if not download:
        ctx["facets"], total = _facet_counts(wb, args, columns, source, members)
        if total is None:
            where_f = ("WHERE " + " AND ".join(where_filters)) if where_filters else ""
            fparams = {k: v for k, v in base.items()}
            total = wb.cached(
                ("count", where_f, orjson.dumps(fparams, default=str)),
                lambda: wb.query(f"SELECT count(*) AS n FROM {source} {where_f}", fparams).column(0)[0].as_py(),
            )
        ctx["total"] = total
        ctx["download_total"] = total
        if last:
            start = max(1, total - table.num_rows + 1)
        elif ctx["first_page"]:
            start = 1
        else:
            start = start_row(args)
        ctx["start"] = start
        ctx["end"] = start + table.num_rows - 1
        parents = (
            sorted({r for r in table.column("parent_gen_id").to_pylist() if r}) if "parent_gen_id" in chosen else []
        )
        ctx["known_parents"] = _existing(wb, parents)
    table = table.select([c for c in chosen if c in table.column_names])
    if download:
        table = times_as_text(table)
    return Page(
        "generations.html", "Generations", _shown(sql), {k: _json_value(v) for k, v in params.items()}, table, ctx
    )


def times_as_text(table: pa.Table) -> pa.Table:
    """Timestamp columns as :func:`format_time` shows them, so a download reads like the page it came from."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type):
            texts = pa.array(
                [format_time(v) if v is not None else None for v in table.column(i).to_pylist()], pa.string()
            )
            table = table.set_column(i, f.name, texts)
    return table


def _existing(wb: Workbench, ids: list[str]) -> set[str]:
    """Which of ``ids`` are generations of the snapshot (a link to any other would be a 404)."""
    if not ids:
        return set()
    source = _gens_source(wb, {"gen_id"})
    found = wb.query(f"SELECT DISTINCT gen_id FROM {source} WHERE gen_id IN (SELECT unnest($ids))", {"ids": ids})
    return set(found.column(0).to_pylist())


def _facet_counts(
    wb: Workbench,
    args: dict[str, list[str]],
    columns: dict[str, str],
    source: str = "gens",
    members: str = "membership",
) -> tuple[dict[str, list[tuple[str, int, bool]]], int | None]:
    """Per facet: (value, count under the other facets' filters, selected), most frequent first; and the
    number of rows passing every filter when that came with the counts (else None).

    Facets with no value selected share one filter, so they are counted in one pass (GROUPING SETS);
    a facet with a selection is counted without its own filter, and cohort goes through membership.
    """
    found: dict[str, list[tuple[str, int]]] = {}
    total = None
    plain = [n for n in FACETS if n != "cohort" and not args.get(n)]
    own = [n for n in FACETS if n not in plain]
    if plain:
        clauses, params = _filters(args, columns, members)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        exprs = {n: f"coalesce(CAST({FACETS[n]} AS VARCHAR), '(none)')" for n in plain}
        sql = (
            f"SELECT {', '.join(f'{e} AS {n}, grouping({e}) AS g_{n}' for n, e in exprs.items())}, count(*) AS n FROM {source} {where} "
            f"GROUP BY GROUPING SETS ({', '.join(f'({e})' for e in exprs.values())})"
        )
        key = ("facets", sql, orjson.dumps(params, default=str))
        table = wb.cached(key, lambda: rows(wb.query(sql, params)))
        total = sum(r["n"] for r in table if r[f"g_{plain[0]}"] == 0)  # every row is in one group of each set
        for name in plain:
            values = sorted(((r[name], r["n"]) for r in table if r[f"g_{name}"] == 0), key=lambda vn: (-vn[1], vn[0]))
            found[name] = values[:FACET_VALUES]
    for name in own:
        others = {k: v for k, v in args.items() if k != name}
        clauses, params = _filters(others, columns, members)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        if name == "cohort":
            sql = (
                f"SELECT m.cohort_id AS v, count(DISTINCT (g.stage, g.gen_id)) AS n FROM {members} m "
                f"JOIN (SELECT stage, gen_id FROM {source} {where}) g USING (stage, gen_id) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {FACET_VALUES}"
            )
        else:
            sql = (
                f"SELECT coalesce(CAST({FACETS[name]} AS VARCHAR), '(none)') AS v, count(*) AS n FROM {source} {where} "
                f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {FACET_VALUES}"
            )
        key = ("facet", sql, orjson.dumps(params, default=str))
        found[name] = wb.cached(
            key, lambda sql=sql, params=params: [(r["v"], r["n"]) for r in rows(wb.query(sql, params))]
        )
    out = {}
    for name in FACETS:
        selected = set(args.get(name, []))
        out[name] = [(v, n, v in selected) for v, n in found[name]]
    return out, total


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


# -- one generation -------------------------------------------------------------------------------

_GEN_SQL = "SELECT * FROM gens WHERE stage = $stage AND gen_id = $gen_id"
#: One pass for what sits around a generation: its parent, its children, the other attempts of its product.
_NEARBY_SQL = """SELECT stage, gen_id, parent_gen_id, template_id, model_id, status, score, logical_key, run_id,
       completion_tokens, created_at
FROM gens
WHERE gen_id = $parent_gen_id
   OR (parent_gen_id = $gen_id AND stage <> 'draft')
   OR (logical_key = $logical_key AND stage = $stage)"""


def has_page(gen_id: Any) -> bool:
    """Whether a generation id can be the address of a page (a plain name, as :func:`layout.check_name`
    wants): a directory named ``<svg onload=...>`` is shown as text, never linked to a 400."""
    try:
        layout.check_name(gen_id, "gen_id")
    except InvalidIdError:
        return False
    return True


def check_ids(stage: str, gen_id: str) -> None:
    layout.check_stage(stage)
    layout.check_name(gen_id, "gen_id")


def generation(wb: Workbench, stage: str, gen_id: str, diff_with: str | None = None, diff_file: str = "parsed") -> Page:
    check_ids(stage, gen_id)
    params = {"stage": stage, "gen_id": gen_id}
    table = wb.query(_GEN_SQL, params)
    if table.num_rows == 0:
        raise NotFound(
            f"no generation {stage}/{gen_id} in the index snapshot (check the id, or run `gensql refresh` if it is new)"
        )
    row = rows(table)[0]
    meta = row.pop("meta", None)
    texts: dict[str, dict[str, Any]] = {}
    problems = []
    for key, name in (("prompt", layout.PROMPT_FILE), ("raw", layout.RAW_FILE), ("parsed", layout.PARSED_FILE)):
        text, size, problem = wb.read_text(row["gen_dir"], name) if row.get("gen_dir") else (None, None, None)
        texts[key] = {
            "text": text,
            "size": size,
            "cut": text is not None and size is not None and len(text.encode()) < size,
        }
        if problem:
            problems.append(problem)
    nearby = _nearby(
        wb,
        {
            "parent_gen_id": row.get("parent_gen_id"),
            "gen_id": gen_id,
            "logical_key": row.get("logical_key"),
            "stage": stage,
        },
    )
    tree = lineage(wb, row, nearby)
    parent_id = row.get("parent_gen_id")
    parent = next((r for r in nearby if parent_id and r["gen_id"] == parent_id), None)
    scored = [
        r["score"]
        for r in nearby
        if r["parent_gen_id"] == gen_id and r["stage"] == "evaluation" and r["score"] is not None
    ]
    evaluations = {"mean": sum(scored) / len(scored) if scored else None, "n": len(scored)}
    attempts = sorted(
        (
            r
            for r in nearby
            if row.get("logical_key") and r["logical_key"] == row["logical_key"] and r["stage"] == stage
        ),
        key=lambda r: (r["created_at"] is None, r["created_at"], r["gen_id"]),
    )
    own_problems = [r for r in problem_rows(wb) if r["stage"] == stage and r["gen_id"] == gen_id]
    diff = None
    if diff_with:
        layout.check_name(diff_with, "gen_id")
        if diff_file not in ("prompt", "raw", "parsed"):
            raise InvalidIdError(f"unknown text {diff_file!r}: expected prompt, raw or parsed")
        other = rows(wb.query(_GEN_SQL, {"stage": stage, "gen_id": diff_with}))
        if not other:
            raise NotFound(f"no generation {stage}/{diff_with} to compare with")
        other_text = wb.read_text(other[0]["gen_dir"], f"{diff_file}.txt")[0] if other[0].get("gen_dir") else None
        diff = {
            "other": diff_with,
            "file": diff_file,
            "lines": text_diff(other_text or "", texts[diff_file]["text"] or "", diff_with, gen_id),
        }
    try:
        meta_obj = orjson.loads(meta) if isinstance(meta, str) else meta
        meta_text = orjson.dumps(meta_obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONDecodeError, TypeError):
        meta_text = str(meta)
    shown_sql = f"{_GEN_SQL};\n\n-- around it (lineage one step up and down, other attempts)\n{_NEARBY_SQL}"
    shown_params = {**params, "parent_gen_id": row.get("parent_gen_id"), "logical_key": row.get("logical_key")}
    return Page(
        "generation.html",
        f"{stage} {gen_id}",
        shown_sql,
        shown_params,
        table.drop_columns(["meta"]) if "meta" in table.column_names else table,
        {
            "row": row,
            "meta_text": meta_text,
            "texts": texts,
            "problems": problems,
            "tree": tree,
            "parent": parent,
            "evaluations": evaluations,
            "known": {r["gen_id"] for r in nearby} | {gen_id},
            "attempts": attempts,
            "own_problems": own_problems,
            "diff": diff,
            "nearby_sql": _NEARBY_SQL,
        },
    )


_NODE_SQL = """SELECT stage, gen_id, parent_gen_id, template_id, model_id, status, score
FROM gens WHERE {where} ORDER BY array_position(['draft', 'essay', 'evaluation'], stage), template_id NULLS LAST,
         model_id NULLS LAST, gen_id"""


#: In-memory lookup tables the server builds per snapshot in the background (never written to disk):
#: generations sorted by parent and by logical key, so children and other attempts are found without
#: scanning the whole index (DuckDB skips row groups by their min/max on a sorted column).
#: gens columns the server keeps in memory per snapshot for the generations page (facets, filters,
#: default columns, common sorts): scanning them there is several times faster than the Parquet files.
MEMORY_COLUMNS = (
    "stage",
    "gen_id",
    "parent_gen_id",
    "model_id",
    "template_id",
    "status",
    "run_id",
    "combo_id",
    "created_at",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "duration_s",
    "score",
    "truncated",
)
MEMORY_TABLE = "_serve_gens"
#: Cohort membership as the generations page filters on it (cohort, stage, gen_id; the membership view
#: also joins every member to gens, which a cohort facet does not need).
MEMBERS_TABLE = "_serve_members"
LOOKUP_TABLES = {
    MEMBERS_TABLE: f"CREATE OR REPLACE TABLE {MEMBERS_TABLE} AS SELECT DISTINCT cohort_id, stage, gen_id FROM membership ORDER BY ALL",
    MEMORY_TABLE: f"CREATE OR REPLACE TABLE {MEMORY_TABLE} AS SELECT {', '.join(MEMORY_COLUMNS)} FROM gens",
    "_serve_children": """CREATE OR REPLACE TABLE _serve_children AS
        SELECT stage, gen_id, parent_gen_id, template_id, model_id, status, score, logical_key, run_id, completion_tokens, created_at,
               gen_dir, score_error
        FROM gens WHERE parent_gen_id IS NOT NULL AND stage <> 'draft' ORDER BY parent_gen_id""",
    "_serve_attempts": """CREATE OR REPLACE TABLE _serve_attempts AS
        SELECT stage, gen_id, parent_gen_id, template_id, model_id, status, score, logical_key, run_id, completion_tokens, created_at,
               gen_dir, score_error
        FROM gens WHERE logical_key IS NOT NULL ORDER BY logical_key""",
}
_NEARBY_FAST_SQL = """SELECT * FROM _serve_children WHERE parent_gen_id = $gen_id
UNION ALL SELECT * FROM _serve_attempts WHERE logical_key = $logical_key AND stage = $stage
UNION ALL SELECT stage, gen_id, parent_gen_id, template_id, model_id, status, score, NULL, run_id, completion_tokens, created_at,
       NULL, NULL
FROM _serve_gens WHERE gen_id = $parent_gen_id"""


def build_lookups(wb: Workbench) -> None:
    opened = wb.current()
    for sql in LOOKUP_TABLES.values():
        wb.execute(sql)
    opened.cache["lookups"] = True


def _gens_source(wb: Workbench, needed: set[str]) -> str:
    """``gens``, or the server's in-memory copy of some of its columns when it is built and holds ``needed``."""
    if wb.current().cache.get("lookups") and needed <= set(MEMORY_COLUMNS):
        return MEMORY_TABLE
    return "gens"


def _shown(sql: str) -> str:
    """The SQL as a user can run it: the in-memory copy named as the view it copies."""
    if MEMORY_TABLE not in sql:
        return sql
    return (
        "-- run on the server's in-memory copy of these gens columns (and of membership's cohort_id, stage, gen_id)\n"
        + sql.replace(MEMORY_TABLE, "gens").replace(MEMBERS_TABLE, "membership")
    )


def _nearby(wb: Workbench, params: dict) -> list[dict]:
    if wb.current().cache.get("lookups"):
        found = rows(wb.query(_NEARBY_FAST_SQL, params))
        seen, out = set(), []
        for r in found:  # a child can also be an attempt of the same product: once
            if (r["stage"], r["gen_id"]) not in seen:
                seen.add((r["stage"], r["gen_id"]))
                out.append(r)
        return out
    return rows(wb.query(_NEARBY_SQL, params))


def _children(wb: Workbench, ids: list[str]) -> list[dict]:
    if wb.current().cache.get("lookups"):
        return rows(
            wb.query(
                "SELECT * FROM _serve_children WHERE parent_gen_id IN (SELECT unnest($ids)) "
                "ORDER BY array_position(['draft', 'essay', 'evaluation'], stage), template_id NULLS LAST, "
                "model_id NULLS LAST, gen_id",
                {"ids": ids},
            )
        )
    return rows(
        wb.query(_NODE_SQL.format(where="list_contains($ids, parent_gen_id) AND stage <> 'draft'"), {"ids": ids})
    )


def lineage(wb: Workbench, row: dict, nearby: list[dict] | None = None) -> dict:
    """The lineage around a generation, built by :func:`gensql.lineage.build_tree` (the one builder the CLI
    uses too) from the server's narrow lookups. ``nearby`` (rows of ``_NEARBY_SQL``) already holds the
    parent and the children: no lookup for those.
    """
    source = _gens_source(wb, set(NODE_COLUMNS))

    def parents(parent_id: str) -> list[dict]:
        if nearby is not None and parent_id == row.get("parent_gen_id"):
            return [r for r in nearby if r["gen_id"] == parent_id]
        return rows(wb.query(f"SELECT {', '.join(NODE_COLUMNS)} FROM {source} WHERE gen_id = $g", {"g": parent_id}))

    def children(of: list[dict]) -> list[dict]:
        if nearby is not None and [r["gen_id"] for r in of] == [row["gen_id"]]:
            found = [r for r in nearby if r["parent_gen_id"] == row["gen_id"] and r["stage"] != "draft"]
            return sorted(found, key=sibling_order)
        return _children(wb, [r["gen_id"] for r in of])

    return build_tree(row, parents, children)


def text_diff(old: str, new: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """Unified diff lines as (kind, text): kind is add, del, hunk, head or same."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=3):
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def find_generation(wb: Workbench, gen_id: str) -> list[dict]:
    layout.check_name(gen_id, "gen_id")
    source = _gens_source(wb, {"stage", "gen_id"})
    return rows(
        wb.query(f"SELECT stage, gen_id FROM {source} WHERE gen_id = $gen_id ORDER BY stage", {"gen_id": gen_id})
    )


# -- compare --------------------------------------------------------------------------------------

#: The draft (or essay) and its essays, in one pass; then the evaluations of those essays.
COMPARE_ESSAYS_SQL = """SELECT stage, gen_id, template_id, model_id, status, created_at, gen_dir
FROM gens
WHERE (stage = $stage AND gen_id = $gen_id)
   OR ($stage = 'draft' AND stage = 'essay' AND parent_gen_id = $gen_id)"""
COMPARE_EVALS_SQL = """SELECT parent_gen_id AS essay_gen_id, gen_id AS evaluation_gen_id, template_id AS evaluation_template_id,
       model_id AS evaluation_model_id, status AS evaluation_status, score, score_error
FROM gens
WHERE stage = 'evaluation' AND list_contains($essay_ids, parent_gen_id)
ORDER BY model_id NULLS LAST, template_id NULLS LAST, gen_id"""
COMPARE_SQL = f"{COMPARE_ESSAYS_SQL};\n\n{COMPARE_EVALS_SQL}"
#: The same through the server's in-memory lookup tables (sorted by parent: no scan of the whole index).
COMPARE_FAST_SQL = """SELECT stage, gen_id, template_id, model_id, status, created_at, gen_dir FROM gens
WHERE stage = $stage AND gen_id = $gen_id
UNION ALL
SELECT stage, gen_id, template_id, model_id, status, created_at, gen_dir FROM _serve_children
WHERE $stage = 'draft' AND stage = 'essay' AND parent_gen_id = $gen_id;

SELECT parent_gen_id AS essay_gen_id, gen_id AS evaluation_gen_id, template_id AS evaluation_template_id,
       model_id AS evaluation_model_id, status AS evaluation_status, score, score_error
FROM _serve_children
WHERE stage = 'evaluation' AND parent_gen_id IN (SELECT unnest($essay_ids))
ORDER BY model_id NULLS LAST, template_id NULLS LAST, gen_id"""

#: Characters of each essay shown side by side (the full text is one click away).
COMPARE_TEXT_CHARS = 4000


def compare(wb: Workbench, stage: str, gen_id: str) -> Page:
    check_ids(stage, gen_id)
    if stage not in ("draft", "essay"):
        raise InvalidIdError("compare works on a draft (its essays) or an essay (its evaluations)")
    params = {"stage": stage, "gen_id": gen_id}
    fast = bool(wb.current().cache.get("lookups"))
    essays_sql, evals_sql = COMPARE_FAST_SQL.split(";\n\n") if fast else (COMPARE_ESSAYS_SQL, COMPARE_EVALS_SQL)
    found = rows(wb.query(essays_sql, params))
    me = next((r for r in found if r["stage"] == stage and r["gen_id"] == gen_id), None)
    if me is None:
        raise NotFound(f"no generation {stage}/{gen_id} in the index snapshot")
    essay_rows = [r for r in found if r["stage"] == "essay"]
    essay_rows.sort(
        key=lambda r: (
            r["template_id"] is None,
            r["template_id"] or "",
            r["model_id"] is None,
            r["model_id"] or "",
            r["created_at"] is None,
            r["created_at"],
            r["gen_id"],
        )
    )
    evals = rows(wb.query(evals_sql, {"essay_ids": [r["gen_id"] for r in essay_rows]})) if essay_rows else []
    essays: dict[str, dict] = {}
    eval_cols: dict[tuple, None] = {}
    for r in essay_rows:
        essays[r["gen_id"]] = {
            "gen_id": r["gen_id"],
            "template_id": r["template_id"],
            "model_id": r["model_id"],
            "status": r["status"],
            "gen_dir": r["gen_dir"],
            "evals": [],
        }
    for v in evals:
        essays[v["essay_gen_id"]]["evals"].append(v)
        eval_cols[(v["evaluation_template_id"], v["evaluation_model_id"])] = None
    flat = []
    for e in essays.values():
        scores = [v["score"] for v in e["evals"] if v["score"] is not None]
        e["mean"] = sum(scores) / len(scores) if scores else None
        try:
            text = wb.read_text(e["gen_dir"], layout.PARSED_FILE)[0] if e["gen_dir"] else None
        except InvalidIdError as exc:  # a directory name no page reads from (`<svg onload=...>`): say so, go on
            text, e["unreadable"] = None, str(exc)
        e["text"] = text[:COMPARE_TEXT_CHARS] if text else text
        e["cut"] = bool(text and len(text) > COMPARE_TEXT_CHARS)
        cells: dict[tuple, list] = {}
        for v in e["evals"]:
            cells.setdefault((v["evaluation_template_id"], v["evaluation_model_id"]), []).append(v)
        e["cells"] = cells
        base = {
            "essay_gen_id": e["gen_id"],
            "essay_template_id": e["template_id"],
            "essay_model_id": e["model_id"],
            "essay_status": e["status"],
        }
        flat += [{**base, **{k: v[k] for k in v if k != "essay_gen_id"}} for v in e["evals"]] or [base]
    table = pa.Table.from_pylist(flat) if flat else pa.table({"essay_gen_id": pa.array([], pa.string())})
    return Page(
        "compare.html",
        f"compare {stage} {gen_id}",
        COMPARE_FAST_SQL if fast else COMPARE_SQL,
        {**params, "essay_ids": list(essays)},
        table,
        {
            "me": me,
            "essays": list(essays.values()),
            "eval_cols": list(eval_cols),
        },
    )


# -- reports --------------------------------------------------------------------------------------

SCORE_HEATMAP_SQL = """-- mean score per essay template x evaluation model: the counted scores (one per logical evaluation,
-- its newest scored attempt), as `gensql report scores` counts them
SELECT coalesce(essay_template_id, '(none)') AS essay_template_id,
       coalesce(evaluation_model_id, '(none)') AS evaluation_model_id,
       round(avg(score), 2) AS mean_score, count(*) AS n
FROM counted_scores()
WHERE score IS NOT NULL AND essay_gen_id IS NOT NULL
GROUP BY ALL
ORDER BY 1, 2"""

COHORT_SQL = """-- cohort coverage per stage
SELECT cohort_id, stage,
       count(DISTINCT gen_id) AS expected,
       count(DISTINCT gen_id) FILTER (WHERE exists_on_disk) AS on_disk,
       count(DISTINCT gen_id) FILTER (WHERE status = 'ok') AS ok,
       count(DISTINCT gen_id) FILTER (WHERE NOT exists_on_disk) AS missing
FROM membership
GROUP BY cohort_id, stage
ORDER BY cohort_id, array_position(['draft', 'essay', 'evaluation'], stage)"""


def _tokens(wb: Workbench, by: str) -> dict:
    from ..reports.tokens import build_tokens

    cur = wb.cursor()
    try:
        report = build_tokens(cur, by=(by,))
    finally:
        cur.close()
    return {
        "table": report.df.to_arrow(),
        "rows": report.df.to_dicts(),
        "totals": report.totals.to_dicts()[0] if report.totals is not None else {},
        "notes": report.notes,
        "group": report.group_columns[0] if report.group_columns else None,
        "currency": report.prices.currency if report.prices else None,
    }


def reports(wb: Workbench, by: str = "model", part: str = "tokens") -> Page:
    if by not in TOKEN_GROUPS:
        raise InvalidIdError(f"unknown grouping {by!r}: expected one of {', '.join(TOKEN_GROUPS)}")
    if part not in ("tokens", "scores", "cohorts"):
        raise InvalidIdError(f"unknown report {part!r}: expected tokens, scores or cohorts")
    tokens = wb.cached(("tokens", by), lambda: _tokens(wb, by))
    heat = wb.cached("heat", lambda: wb.query(SCORE_HEATMAP_SQL))
    cohorts = wb.cached("cohorts", lambda: wb.query(COHORT_SQL))
    command = f"gensql report tokens --by {by}"
    sql, table = {
        "tokens": (
            f"-- computed by `{command}` (gensql.reports.build_tokens: token_usage + the price table)",
            tokens["table"],
        ),
        "scores": (SCORE_HEATMAP_SQL, heat),
        "cohorts": (COHORT_SQL, cohorts),
    }[part]
    return Page(
        "reports.html",
        "Reports",
        sql,
        None,
        table,
        {
            "by": by,
            "part": part,
            "tokens": tokens,
            "heat": rows(heat),
            "cohorts": rows(cohorts),
            "groups": list(TOKEN_GROUPS),
            "heat_sql": SCORE_HEATMAP_SQL,
            "cohort_sql": COHORT_SQL,
            "command": command,
        },
    )


# -- problems -------------------------------------------------------------------------------------

#: Rows a problems or scan errors list pages through and downloads at most (the page says when there are more).
PROBLEMS_CAP = 5000
PROBLEMS_SQL = """SELECT kind, stage, gen_id, cohort_id, path, detail
FROM problems
WHERE $kind IS NULL OR kind = $kind
ORDER BY kind, stage, gen_id, path
LIMIT $cap"""
SCAN_ERRORS_SQL = """SELECT path, stage, gen_id, file, kind, message
FROM scan_errors
WHERE $kind IS NULL OR kind = $kind
ORDER BY kind, path
LIMIT $cap"""


def problem_rows(wb: Workbench) -> list[dict]:
    """Every row of the problems view, computed once per snapshot (it checks the whole index)."""
    return wb.cached("problems_rows", lambda: rows(wb.query(PROBLEMS_SQL, {"kind": None, "cap": 10_000_000})))


#: Rows per page of the problems and scan errors lists.
PROBLEMS_PAGE = 100


def problems(wb: Workbench, kind: str | None, which: str = "problems", start: int = 1) -> Page:
    """A page of the problems (or scan errors) view, :data:`PROBLEMS_PAGE` rows from row ``start``; the
    view is computed once per snapshot and kind (it checks the whole index), the pages are slices of it."""
    sql = PROBLEMS_SQL if which == "problems" else SCAN_ERRORS_SQL
    params = {"kind": kind or None, "cap": PROBLEMS_CAP}
    view = "problems" if which == "problems" else "scan_errors"
    table = wb.cached((view, kind), lambda: wb.query(sql, params))
    if start > table.num_rows:  # past the end: the last page
        start = max(1, table.num_rows - PROBLEMS_PAGE + 1)

    def linkable():  # which listed generations have a page (a missing cohort member has none)
        ids = sorted({r for r in table.column("gen_id").to_pylist() if r})
        if not ids:
            return set()
        found = wb.query("SELECT stage, gen_id FROM gens WHERE gen_id IN (SELECT unnest($ids))", {"ids": ids})
        return {(r["stage"], r["gen_id"]) for r in rows(found)}

    known = wb.cached((view, kind, "known"), linkable)
    listed = rows(table.slice(start - 1, PROBLEMS_PAGE))
    kinds = wb.cached(
        ("kinds", view), lambda: rows(wb.query(f"SELECT kind, count(*) AS n FROM {view} GROUP BY 1 ORDER BY 2 DESC, 1"))
    )
    total = sum(k["n"] for k in kinds if kind is None or k["kind"] == kind)
    return Page(
        "problems.html",
        "Problems" if which == "problems" else "Scan errors",
        sql,
        params,
        table,
        {
            "rows": listed,
            "kinds": kinds,
            "kind": kind,
            "which": which,
            "known": known,
            "total": total,
            "listed_total": table.num_rows,
            "start": start,
            "end": start + len(listed) - 1,
            "page_size": PROBLEMS_PAGE,
            "last_start": max(1, table.num_rows - PROBLEMS_PAGE + 1),
        },
    )


# -- search ---------------------------------------------------------------------------------------

SEARCH_FILTERS = ("file", "stage", "model", "template", "status", "cohort")
#: Texts a search reads at most (its count says so when it reached this: never a silent stop).
SEARCH_HIT_CAP = 10_000
#: Generations per page of search results.
SEARCH_PAGE_SIZE = 50
#: Columns of a search page's rows and downloads, in the order a hit shows them.
SEARCH_ROW_COLUMNS = ("rank", "stage", "gen_id", "files", "model_id", "template_id", "status", "score", "bm25")
_SEARCH_FACETS = (
    ("file", "files"),
    ("stage", "stage"),
    ("model", "model_id"),
    ("template", "template_id"),
    ("status", "status"),
)


#: Searches kept (hits and a page's snippets), most recent first: paging through one search, or going back
#: to it, does not search again; a few at most, since one search holds up to SEARCH_HIT_CAP rows.
SEARCHES_KEPT = 8
_searches: OrderedDict[tuple, Any] = OrderedDict()
_searches_lock = threading.Lock()


def _recent(wb: Workbench, key: tuple, compute: Callable[[], Any]) -> Any:
    key = (str(wb.index_dir), wb.current().snapshot_id, *key)
    with _searches_lock:
        if key in _searches:
            _searches.move_to_end(key)
            return _searches[key]
    value = compute()
    with _searches_lock:
        _searches[key] = value
        while len(_searches) > SEARCHES_KEPT:
            _searches.popitem(last=False)
    return value


def merge_hits(hits: list[dict]) -> list[dict]:
    """One row per generation from hits ranked per text: the best text's rank and facts, every matching
    file listed (a generation whose raw and parsed texts both match is one result, not two)."""
    merged: dict[tuple[str, str], dict] = {}
    for h in hits:
        key = (h["stage"], h["gen_id"])
        row = merged.get(key)
        if row is None:
            merged[key] = {**h, "files": [h["file"]], "rank": len(merged) + 1, "text_rank": h["rank"]}
        elif h["file"] not in row["files"]:
            row["files"].append(h["file"])
    return list(merged.values())


def search_page(wb: Workbench, args: dict[str, list[str]]) -> Page:
    """Search results, one row per generation, best first, paged; facets and counts over every hit
    (up to :data:`SEARCH_HIT_CAP` texts), snippets for the page shown."""
    from ..fulltext import search

    q = (args.get("q") or [""])[0]
    ctx: dict[str, Any] = {"q": q, "hits": [], "error": None, "no_index": None, "facets": {}, "args": args}
    filters = {k: [v for v in args.get(k, []) if v] or None for k in SEARCH_FILTERS}
    start = start_row(args)
    table = None
    code = (
        f"gensql.search(data_root, {q!r}, limit={SEARCH_HIT_CAP}"
        + "".join(f", {k}={v!r}" for k, v in filters.items() if v)
        + ")"
    )
    opened = wb.current()
    if not (opened.snapshot_path / "search" / "meta.json").is_file():
        ctx["no_index"] = (
            f"the index snapshot {opened.snapshot_id} has no search index (refreshed with --no-texts?): run `gensql refresh` without it"
        )
    elif q.strip():
        found = None
        try:
            found = _recent(
                wb,
                ("search", q, orjson.dumps(filters)),
                lambda: search(
                    wb.data_root, q, limit=SEARCH_HIT_CAP, snippets=False, index_dir=wb.index_dir, **filters
                ).to_dicts(),
            )
        except SearchQueryError as exc:
            ctx["error"] = str(exc)
        if found is not None:
            merged = merge_hits(found)
            total = len(merged)
            if start > total:  # past the end (the hits changed): the last page
                start = max(1, total - SEARCH_PAGE_SIZE + 1)
            shown = merged[start - 1 : start - 1 + SEARCH_PAGE_SIZE]
            if shown:  # snippets of the page's texts only (once per snapshot): reading files costs, counting not
                deepest = max(r["text_rank"] for r in shown)
                snippet = _recent(
                    wb,
                    ("snippets", q, orjson.dumps(filters), deepest),
                    lambda: {
                        (h["stage"], h["gen_id"], h["file"]): h["snippet"]
                        for h in search(
                            wb.data_root, q, limit=deepest, snippets=True, index_dir=wb.index_dir, **filters
                        ).to_dicts()
                    },
                )
                for r in shown:
                    r["snippet"] = snippet.get((r["stage"], r["gen_id"], r["file"]))
            ctx.update(
                hits=shown,
                total=total,
                texts=len(found),
                capped=len(found) >= SEARCH_HIT_CAP,
                start=start,
                end=start + len(shown) - 1,
                page_size=SEARCH_PAGE_SIZE,
                last_start=max(1, total - SEARCH_PAGE_SIZE + 1),
                download_total=total,
            )
            for key, column in _SEARCH_FACETS:
                counts: dict[str, int] = {}
                for h in merged:
                    for value in h[column] if column == "files" else [h[column]]:
                        counts[value or "(none)"] = counts.get(value or "(none)", 0) + 1
                ctx["facets"][key] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_VALUES]
            table = pa.Table.from_pylist(
                [{c: (",".join(h[c]) if c == "files" else h[c]) for c in SEARCH_ROW_COLUMNS} for h in merged]
                or [dict.fromkeys(SEARCH_ROW_COLUMNS)]
            )
            if not merged:
                table = table.slice(0, 0)
    return Page("search.html", "Search", None, None, table, {**ctx, "code": code})


_MARK = re.compile(r"\*\*(.+?)\*\*")


def snippet_parts(snippet: str | None) -> list[tuple[bool, str]]:
    """A search snippet as (highlighted, text) parts: the template escapes each part."""
    if not snippet:
        return []
    parts, at = [], 0
    for m in _MARK.finditer(snippet):
        parts.append((False, snippet[at : m.start()]))
        parts.append((True, m.group(1)))
        at = m.end()
    parts.append((False, snippet[at:]))
    return [p for p in parts if p[1]]


__all__ = ["FACETS", "NotFound", "PAGE_SIZE", "Page", "generation", "generations", "overview", "warm"]


def warm(wb: Workbench) -> None:
    """Compute a new snapshot's per-snapshot facts ahead of the first visitor (run in the background)."""
    build_lookups(wb)
    overview(wb)
    wb.console_connection(wb.current())
    gens_columns(wb)
    generations(wb, {})
    problems(wb, None, "problems")
    problems(wb, None, "scan_errors")
    problem_rows(wb)
    for by in ("model", "day", "template", "stage"):
        reports(wb, by)
