"""Seed 000's read path: the newest (successful) attempt of one logical product, from the index."""

from __future__ import annotations

import os
from typing import Any

from .. import layout
from ..catalog import connect

#: Arguments of :func:`resolve_latest` and the ``gens`` column each one filters.
_FILTERS = {
    "combo_id": "combo_id",
    "template_id": "template_id",
    "model_id": "model_id",
    "parent_gen_id": "parent_gen_id",
    "replicate": "replicate",
    "task_id": "task_id",
}


def resolve_latest(
    data_root: str | os.PathLike | None,
    stage: str,
    *,
    combo_id: str | None = None,
    template_id: str | None = None,
    model_id: str | None = None,
    parent_gen_id: str | None = None,
    replicate: int | None = None,
    task_id: str | None = None,
    ok_only: bool = True,
    index_dir: str | os.PathLike | None = None,
) -> dict[str, Any] | None:
    """The newest generation of ``stage`` matching every given fact, as a ``gens`` row; None if none.

    "Newest" is by ``created_at`` then ``gen_id`` (deterministic on ties). With ``ok_only`` (the
    default) only ``status = 'ok'`` attempts count, as seed 000 resolves "the latest successful
    attempt". Reads the current index snapshot: run ``gensql refresh`` first to see new files.
    """
    stage = layout.check_stage(stage)
    given = {
        "combo_id": combo_id,
        "template_id": template_id,
        "model_id": model_id,
        "parent_gen_id": parent_gen_id,
        "replicate": replicate,
        "task_id": task_id,
    }
    where = ["stage = $stage"]
    params: dict[str, Any] = {"stage": stage}
    for arg, value in given.items():
        if value is not None:
            where.append(f"{_FILTERS[arg]} = ${arg}")
            params[arg] = value
    if ok_only:
        where.append("status = 'ok'")
    sql = f"SELECT * FROM gens WHERE {' AND '.join(where)} ORDER BY created_at DESC NULLS LAST, gen_id DESC LIMIT 1"
    con = connect(data_root, index_dir)
    try:
        cur = con.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row))
    finally:
        con.close()
