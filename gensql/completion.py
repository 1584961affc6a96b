"""Shell completion values: named queries, views, ``--by`` columns and gen ids from the current index.

Used by the click command line (``gensql completion bash|zsh|fish`` prints the script to source).
Each function returns the candidates starting with ``prefix`` and never raises: a completion that
cannot be computed (no index yet, an unreadable folder) offers nothing.
"""

from __future__ import annotations

import os

#: At most this many gen ids are offered (the shell shows them all otherwise).
MAX_GEN_IDS = 200


def named_queries(prefix: str, queries_dir: str | os.PathLike | None = None) -> list[str]:
    try:
        from .query import list_queries

        return [q.name for q in list_queries(queries_dir) if q.name.startswith(prefix)]
    except Exception:  # noqa: BLE001 - completion never fails
        return []


def view_names(prefix: str) -> list[str]:
    """Public view and table macro names, read from the view files (no index needed)."""
    import re

    try:
        from .catalog import view_files

        names = set()
        for _, sql in view_files():
            names.update(re.findall(r"CREATE OR REPLACE (?:VIEW|MACRO)\s+([A-Za-z]\w*)", sql))
        return sorted(n for n in names if n.startswith(prefix))
    except Exception:  # noqa: BLE001
        return []


def by_values(prefix: str, choices: tuple[str, ...]) -> list[str]:
    """``--by`` takes comma-separated names: complete the last one, keeping what comes before."""
    head, sep, last = prefix.rpartition(",")
    done = set(head.split(",")) if sep else set()
    return [f"{head}{sep}{c}" for c in choices if c.startswith(last) and c not in done]


def gen_ids(prefix: str, data_root=None, index_dir=None, stage: str | None = None) -> list[str]:
    """gen ids of the current snapshot starting with ``prefix`` (of ``stage`` when given), sorted."""
    try:
        import duckdb

        from . import layout
        from .catalog import base_relation
        from .index import current_snapshot

        where = layout.resolve(data_root, index_dir)
        snap = current_snapshot(where.index_dir)
        if snap is None:
            return []
        con = duckdb.connect()
        try:
            sql = (
                f"SELECT DISTINCT gen_id FROM {base_relation(snap.path, 'gens')} "
                "WHERE starts_with(gen_id, $p) AND ($s IS NULL OR stage = $s) ORDER BY 1 LIMIT $n"
            )
            return [r[0] for r in con.sql(sql, params={"p": prefix, "s": stage, "n": MAX_GEN_IDS}).fetchall()]
        finally:
            con.close()
    except Exception:  # noqa: BLE001
        return []


def cohort_ids(prefix: str, data_root=None) -> list[str]:
    """Cohort folders of the store (``cohorts/<id>/``)."""
    try:
        from . import layout

        folder = layout.resolve(data_root).data_root / layout.COHORTS_DIR
        return sorted(e.name for e in os.scandir(folder) if e.is_dir() and e.name.startswith(prefix))
    except Exception:  # noqa: BLE001
        return []
