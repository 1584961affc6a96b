"""Refresh beyond one machine: partitions scanned on a Dask cluster, stores and indexes on object storage (fsspec).

Optional extra ``distributed`` (``pip install 'gensql[distributed]'``: dask[distributed], fsspec, s3fs);
:func:`require` turns its absence into a one-line :class:`MissingDistributedError`. docs/distributed.md.
"""

from __future__ import annotations

from importlib import import_module

from .._lazy import lazy_getattr
from ..errors import GensqlError

#: The extra that provides dask, distributed, fsspec and s3fs.
EXTRA = "distributed"


class MissingDistributedError(GensqlError):
    """A distributed refresh or a store URL was asked for, but the ``distributed`` extra is not installed."""

    exit_code = 2


class DistributedError(GensqlError):
    """The cluster or the object store could not be used (unreachable scheduler, bad URL, no credentials)."""

    exit_code = 2


def require(*modules: str) -> None:
    """Import ``modules`` or raise :class:`MissingDistributedError` naming the extra to install."""
    for name in modules:
        try:
            import_module(name)
        except ImportError as exc:
            raise MissingDistributedError(
                f"this needs {name} ({exc.name or name} is not installed): pip install 'gensql[{EXTRA}]'"
            ) from None


_EXPORTS = {
    "DaskExecutor": "gensql.distributed.executors",
    "ThreadExecutor": "gensql.distributed.executors",
    "failed_batch": "gensql.distributed.executors",
    "RemoteStore": "gensql.distributed.objstore",
    "refresh_url": "gensql.refresh.index",
    "remote_store": "gensql.distributed.remote_refresh",
    "newest_snapshot": "gensql.distributed.remote_index",
    "pull_index": "gensql.distributed.remote_index",
    "publish_snapshot": "gensql.distributed.remote_index",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
