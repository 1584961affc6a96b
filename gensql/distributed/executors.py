"""Executors that run a refresh's partition scans elsewhere: a Dask cluster, or a thread pool (object storage).

An executor has one method the indexer calls, ``scan(work, data_root, racy_after_ns, texts)``: ``work``
yields ``(stage, items)`` units (whole hash partitions of one stage, the previous manifest's
``(gen_id, mask, sig)`` rows with them) and ``scan`` yields one :class:`gensql.scan.BatchResult` per unit,
in the same order. Without an executor the indexer keeps its local process pool (unchanged).

A unit whose task fails for good (Dask retried it ``retries`` times after exceptions, or the scheduler
gave up after workers died running it: ``KilledWorker``) does not lose the refresh:
:func:`failed_batch` keeps the previous snapshot's rows of its directories (they are checked again by
the next refresh, as always), gives each directory the previous snapshot did not have a placeholder
row (``status = 'gen_error'``), and records ``scan_failed`` rows in ``scan_errors``.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from .. import layout
from ..fields import GENS_COLUMN_ORDER, GENS_SCHEMA
from ..scan import MANIFEST_SCHEMA, TEXTS_SCHEMA, BatchResult, _fallback_row, scan_batch
from . import DistributedError, require

#: Kind of the ``scan_errors`` rows of a unit that failed on the cluster after its retries.
FAILED_KIND = "scan_failed"
#: Retries of a task that raised (a worker that dies is rescheduled by Dask itself, up to the
#: scheduler's ``distributed.scheduler.allowed-failures``).
DEFAULT_RETRIES = 2

Unit = tuple[str, list[tuple], tuple]  # (stage, the unit's items as planned, the task's arguments)


def failed_batch(stage: str, items: list[tuple], exc: BaseException, texts: bool) -> BatchResult:
    """The result of a unit whose scan failed for good: previous rows kept, placeholders for new ones."""
    columns: dict[str, list] = {name: [] for name in GENS_COLUMN_ORDER}
    ids: list[str] = []
    message = f"{type(exc).__name__}: {exc}".strip()[:500]
    errors: list[tuple] = []
    unchanged = 0
    for item in items:
        gen_id, mask = item[0], item[1]
        rel_dir = item[3] if len(item) > 3 and isinstance(item[3], str) else None
        if mask is not None:
            unchanged += 1  # the previous snapshot's row stays; the next refresh checks it again
            continue
        row = _fallback_row(stage, gen_id, exc if isinstance(exc, Exception) else RuntimeError(message), rel_dir).row
        for name in GENS_COLUMN_ORDER:
            columns[name].append(row.get(name))
        ids.append(gen_id)
        errors.append(
            (
                row["gen_dir"],
                stage,
                gen_id,
                None,
                FAILED_KIND,
                f"not scanned: its partition failed on the cluster after retries ({message}); a placeholder row until the next refresh",
            )
        )
    first, last = (items[0][0], items[-1][0]) if items else ("", "")
    errors.insert(
        0,
        (
            f"{layout.GENS_DIR}/{stage}",
            stage,
            None,
            None,
            FAILED_KIND,
            f"a partition of {len(items)} directories ({first} .. {last}) failed after retries: {message}; "
            f"{unchanged} rows kept from the previous snapshot, {len(ids)} placeholder rows",
        ),
    )
    gens = manifest = None
    if ids:
        gens = pa.RecordBatch.from_arrays(
            [pa.array(columns[f.name], type=f.type) for f in GENS_SCHEMA], schema=GENS_SCHEMA
        )
        manifest = pa.RecordBatch.from_arrays(
            [
                pa.array([stage] * len(ids), pa.string()),
                pa.array(ids, pa.string()),
                pa.array([0] * len(ids), pa.int32()),
                pa.nulls(len(ids), pa.int64()),
            ],  # no signature: read next time
            schema=MANIFEST_SCHEMA,
        )
    text_batch = (
        pa.RecordBatch.from_arrays([pa.array([], f.type) for f in TEXTS_SCHEMA], schema=TEXTS_SCHEMA) if texts else None
    )
    return BatchResult(stage, len(items), gens, manifest, len(ids), [], [], unchanged, errors, text_batch)


def _units(work: Iterator[tuple[str, list[tuple]]], task_args: Callable[[str, list[tuple]], tuple]) -> Iterator[Unit]:
    for stage, items in work:
        yield stage, items, task_args(stage, items)


class _OrderedRunner:
    """Submit units with at most ``inflight`` in the air, yield their results in order."""

    inflight = 4

    def _submit(self, fn, args):  # -> a future with .result()
        raise NotImplementedError

    def _cancel(self, future) -> None:
        future.cancel()

    def map_units(self, fn: Callable, units: Iterator[Unit], texts: bool) -> Iterator[BatchResult]:
        pending: deque = deque()
        try:
            for stage, items, args in itertools.islice(units, self.inflight):
                pending.append((stage, items, self._submit(fn, args)))
            while pending:
                stage, items, future = pending.popleft()
                try:
                    result = future.result()
                except (KeyboardInterrupt, SystemExit, GeneratorExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - KilledWorker, or the task raised on every retry
                    result = failed_batch(stage, items, exc, texts)
                for stage2, items2, args2 in itertools.islice(units, 1):
                    pending.append((stage2, items2, self._submit(fn, args2)))
                yield result
        finally:
            for _stage, _items, future in pending:
                self._cancel(future)

    def scan(self, work: Iterator, data_root: str, racy_after_ns: int, texts: bool) -> Iterator[BatchResult]:
        """The indexer's hook: ``scan_batch`` (or ``task``) over every unit, results in order."""
        task = getattr(self, "task", None) or scan_batch
        return self.map_units(
            task, _units(work, lambda stage, items: (data_root, stage, items, racy_after_ns, texts)), texts
        )


class DaskExecutor(_OrderedRunner):
    """Scan a refresh's partitions as Dask tasks on a cluster (``scheduler``: an address or a ``Client``).

    Every worker must see the store at the same path as the driver (a shared file system) or reach the
    same object store, and have gensql installed. ``retries``: re-runs of a task that raised; a task
    whose worker died is rescheduled by the scheduler. ``task`` replaces :func:`gensql.scan.scan_batch`
    (same arguments, same result; tests use it to inject failures). ``batch_size``: directories per task
    (whole partitions; default :data:`gensql.indexer.BATCH_SIZE`).
    """

    def __init__(
        self,
        scheduler=None,
        *,
        retries: int = DEFAULT_RETRIES,
        inflight: int | None = None,
        task: Callable | None = None,
        timeout: float = 10,
        batch_size: int | None = None,
    ):
        require("dask", "distributed")
        self.scheduler = scheduler
        self.batch_size = batch_size
        self.retries = retries
        self.task = task
        self.timeout = timeout
        self._inflight = inflight
        self._client = None
        self._own_client = False
        self.data_root = None

    @property
    def client(self):
        if self._client is None:
            from distributed import Client

            if self.scheduler is not None and not isinstance(self.scheduler, str):
                self._client = self.scheduler
            else:
                try:
                    self._client = Client(self.scheduler, timeout=self.timeout, set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    raise DistributedError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
                self._own_client = True
        return self._client

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers (at least 1)."""
        info = (
            self.client.scheduler_info(n_workers=-1) if _takes_n_workers(self.client) else self.client.scheduler_info()
        )
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def map_units(self, fn, units, texts):
        self.inflight = self._inflight or 2 * self.workers
        return super().map_units(fn, units, texts)

    def _submit(self, fn, args):
        return self.client.submit(fn, *args, pure=False, retries=self.retries)

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
        self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _takes_n_workers(client) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


class ThreadExecutor(_OrderedRunner):
    """Scan units in a local thread pool: for a store on object storage without a cluster (the time goes
    in network round trips, which threads overlap)."""

    def __init__(self, threads: int | None = None, task: Callable | None = None):
        self.threads = threads or min(32, 4 * (os.cpu_count() or 1))
        self.inflight = 2 * self.threads
        self.task = task
        self.data_root = None
        self._pool: ThreadPoolExecutor | None = None

    def _submit(self, fn, args):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="gensql-scan")
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
