"""The setting of a refresh of a store on object storage: a staging directory, a local index, publishing.

:func:`remote_store` gives :func:`gensql.refresh` what it needs to refresh a store at a URL like any
local store (a staging directory holding the store's small files, the local directory of the index,
and the :class:`~.objstore.RemoteStore` executor), then publishes the new snapshot when the index
lives on object storage too. It does not call the refresh itself, so this package never imports
:mod:`gensql.refresh` (which imports it for URLs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import layout
from .executors import ThreadExecutor
from .objstore import RemoteStore
from .remote_index import local_cache, publish_snapshot, pull_index


@contextmanager
def remote_store(
    url: str,
    index_dir: str | os.PathLike | None = None,
    *,
    jobs: int | None = None,
    runner=None,
    storage_options: dict | None = None,
) -> Iterator[tuple[Path, Path, RemoteStore]]:
    """``(staging directory, local index directory, executor)`` for a refresh of the store at ``url``.

    ``index_dir``: a local directory, or None (or a URL) for ``<url>/index`` on the object store itself:
    pulled into a local cache first, and the new snapshot published when the block ends without error.
    ``runner``: a :class:`~.executors.DaskExecutor` to scan on a cluster, else ``jobs`` threads here.
    """
    store = RemoteStore(url, storage_options, runner or ThreadExecutor(jobs))
    remote_index = index_dir is None or (isinstance(index_dir, str) and "://" in index_dir)
    index_url = str(index_dir or f"{store.url}/{layout.INDEX_DIR}") if remote_index else None
    local_index = local_cache(index_url) if index_url is not None else Path(index_dir).expanduser().absolute()  # type: ignore[arg-type]
    if index_url is not None:
        pull_index(index_url, local_index, storage_options)
    staging = Path(tempfile.mkdtemp(prefix="gensql-staging-"))
    try:
        store.stage(staging)
        try:
            yield staging, local_index, store
        finally:
            if runner is None:
                store.close()
        if index_url is not None:
            publish_snapshot(local_index, index_url, storage_options)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
