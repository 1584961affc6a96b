"""The short overview printed after the demo refresh: what is in the store and what is broken."""

from __future__ import annotations

import os

import pyarrow as pa

from .catalog import connect
from .query import run_named

#: (title, named query) shown by ``gensql summary``, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Generations by stage and model", "overview"),
    ("Problems found (SELECT * FROM problems for details)", "problems_summary"),
)


def store_summary(
    data_root: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None
) -> list[tuple[str, pa.Table]]:
    con = connect(data_root, index_dir)
    return [(title, run_named(con, name)) for title, name in SECTIONS]
