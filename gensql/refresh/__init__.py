"""``gensql refresh``: bring the Parquet index up to date with the gens store, on every core.

A refresh lists the three stage directories (:mod:`.listing`), checks each generation directory
against the previous snapshot's manifest (:mod:`.planning`, :mod:`gensql.scan`), hands units of whole
hash partitions to an executor (:mod:`.executor`; the local process pool is :mod:`.workers`) whose
tasks (:mod:`.task`) re-read only the new and changed directories, write their partitions
(:mod:`.partitions`) and index their texts into search parts where they run; the driver then
assembles the search index (:mod:`.search`), carries over the errors of directories not read again
(:mod:`.carry`), and commits a new snapshot atomically (:mod:`.index`, :mod:`gensql.index`). It never
writes inside the data root except in the index directory.

``gensql.refresh`` is both this package and the function: ``gensql.refresh(data_root, ...)`` calls
:func:`gensql.refresh.index.refresh`. Names are imported lazily, so a worker process or
``gensql.refresh.workers`` alone stays cheap.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .._lazy import lazy_getattr

_EXPORTS = {
    "refresh": "gensql.refresh.index",
    "refresh_locked": "gensql.refresh.index",
    "refresh_url": "gensql.refresh.index",
    "RefreshResult": "gensql.refresh.index",
    "Changes": "gensql.refresh.planning",
}

__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


class _CallableModule(types.ModuleType):
    """This package, callable as the function: importing ``gensql.refresh.<module>`` makes the
    attribute ``gensql.refresh`` the package, and ``gensql.refresh(...)`` must keep working."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .index import refresh

        return refresh(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = sorted(_EXPORTS)
