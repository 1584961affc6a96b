"""Keep gensql's own processes lean: stop pyarrow from importing pandas they never use.

pyarrow imports pandas (when it is installed) the first time it converts a Python list, to recognise
pandas objects and pandas' missing values; its C++ side retries that import on every conversion until
it succeeds. That import costs 0.3 s and about 40 MB per process, more than the rest of a
``gensql refresh`` on a small store. ``gensql refresh`` and its worker processes hand pyarrow only
lists and Arrow data, so they make pandas unimportable for themselves. A library caller's process
(a notebook) is left alone, and so is a refresh on Dask, which needs pandas.
"""

from __future__ import annotations

import sys


def block_pandas() -> None:
    """Make ``import pandas`` fail in this process, as if pandas were not installed (a no-op once it is loaded)."""
    if "pandas" in sys.modules or any(isinstance(f, _NoPandas) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _NoPandas())


class _NoPandas:
    """A meta path finder under which ``import pandas`` fails."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (gensql.startup.block_pandas)", name=name)
        return None
