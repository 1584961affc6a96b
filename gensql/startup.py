"""Keep gensql's own processes lean: no pandas they never use, Arrow memory given back when freed.

pyarrow imports pandas (when it is installed) the first time it converts a Python list, to recognise
pandas objects and pandas' missing values; its C++ side retries that import on every conversion until
it succeeds. That import costs 0.3 s and about 40 MB per process, more than the rest of a
``gensql refresh`` on a small store. ``gensql refresh`` and its worker processes hand pyarrow only
lists and Arrow data, so they make pandas unimportable for themselves. A library caller's process
(a notebook) is left alone, and so is a refresh on Dask, which needs pandas.

Arrow's default allocator (mimalloc) keeps memory it freed for reuse; a refresh builds and drops large
arrays one after another (the listing, a stage's manifest, partitions), and at 1,000,000 generations
that kept memory was a third of a no-change refresh's peak. jemalloc, with its dirty pages returned at
once, gives it back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


def lean_refresh_process() -> None:
    """Tune this process for a refresh: :func:`block_pandas` and :func:`return_freed_arrow_memory`."""
    block_pandas()
    return_freed_arrow_memory()


def return_freed_arrow_memory() -> None:
    """Make jemalloc, releasing freed pages at once, Arrow's default pool (mimalloc where jemalloc is missing)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # a pyarrow built without jemalloc
        return
    pa.set_memory_pool(pool)


def block_pandas() -> None:
    """Make ``import pandas`` fail in this process, as if pandas were not installed (a no-op once it is loaded)."""
    if "pandas" in sys.modules or any(isinstance(f, _NoPandas) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _NoPandas())


@contextmanager
def pandas_blocked() -> Iterator[None]:
    """``import pandas`` fails inside the block (unless pandas is loaded already): for imports such as
    ``pyarrow.dataset`` that load pandas without needing it (0.5 s of a command's start-up)."""
    if "pandas" in sys.modules or any(isinstance(f, _NoPandas) for f in sys.meta_path):
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _NoPandas:
    """A meta path finder under which ``import pandas`` fails."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (gensql.startup.block_pandas)", name=name)
        return None
