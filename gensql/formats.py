"""The output formats, named once: the CLI's options read them here without importing the renderer
(pyarrow), and :mod:`gensql.render` writes them."""

from __future__ import annotations

#: Every output format, in the order help texts list them.
FORMATS: tuple[str, ...] = ("table", "vertical", "csv", "json", "jsonl", "markdown", "parquet", "xlsx")
#: Formats for reading: numbers formatted, capped rows (table, vertical).
READING_FORMATS = frozenset({"table", "vertical", "markdown"})
BINARY_FORMATS = frozenset({"parquet", "xlsx"})
#: ``-o FILE`` extension -> the format it implies when ``--format`` is not given.
EXTENSION_FORMATS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".txt": "table",
}
