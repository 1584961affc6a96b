"""Executors that run a refresh's units elsewhere: a Dask cluster, or a thread pool (object storage).

Each follows :class:`gensql.refresh.executor.Executor`: ``scan(units, task)`` runs
:func:`gensql.refresh.task.run_unit` (or a ``task`` function of the same signature) over units of
whole hash partitions and yields one :class:`gensql.scan.BatchResult` per unit, in order. Without an
executor a refresh uses its local process pool (:class:`gensql.refresh.workers.LocalPool`).

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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from .. import layout
from ..fields import GENS_COLUMN_ORDER, GENS_SCHEMA
from ..refresh.executor import Task, Unit
from ..refresh.listing import Listing, local_listing
from ..refresh.task import run_unit
from ..scan import MANIFEST_SCHEMA, TEXTS_SCHEMA, BatchResult, fallback_row
from . import DistributedError, require

#: Kind of the ``scan_errors`` rows of a unit that failed on the cluster after its retries.
FAILED_KIND = "scan_failed"
#: Retries of a task that raised (a worker that dies is rescheduled by Dask itself, up to the
#: scheduler's ``distributed.scheduler.allowed-failures``).
DEFAULT_RETRIES = 2


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
        row = fallback_row(stage, gen_id, exc if isinstance(exc, Exception) else RuntimeError(message), rel_dir).row
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


def map_units(
    runner: _OrderedRunner, fn: Callable, units: Iterable[tuple[Unit, tuple]], texts: bool
) -> Iterator[BatchResult]:
    """``fn(*args)`` for each ``(unit, args)`` on ``runner``, results in order; a unit that fails for
    good becomes :func:`failed_batch`'s result."""
    return runner.map_units(fn, units, texts)


class _OrderedRunner:
    """Submit units with at most ``inflight`` in the air, yield their results in order."""

    inflight = 4
    data_root: str | None = None
    batch_size: int | None = None
    shares_disk = False
    task: Callable | None = None

    def _submit(self, fn: Callable, args: tuple) -> Any:  # -> a future with .result()
        raise NotImplementedError

    def _cancel(self, future: Any) -> None:
        future.cancel()

    def map_units(self, fn: Callable, units: Iterable[tuple[Unit, tuple]], texts: bool) -> Iterator[BatchResult]:
        pending: deque = deque()
        units = iter(units)
        try:
            for unit, args in itertools.islice(units, self.inflight):
                pending.append((unit, self._submit(fn, args)))
            while pending:
                unit, future = pending.popleft()
                try:
                    result = future.result()
                except (KeyboardInterrupt, SystemExit, GeneratorExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - KilledWorker, or the task raised on every retry
                    result = failed_batch(unit.stage, unit.items, exc, texts)
                for unit2, args2 in itertools.islice(units, 1):
                    pending.append((unit2, self._submit(fn, args2)))
                yield result
        finally:
            for _unit, future in pending:
                self._cancel(future)

    def list_store(self, where: layout.StoreLayout) -> Listing:
        return local_listing(where)

    def scan(self, units: Iterator[Unit], task: Task) -> Iterator[BatchResult]:
        """:func:`gensql.refresh.task.run_unit` (or ``self.task``) over every unit, results in order."""
        return self.map_units(self.task or run_unit, ((unit, (task, unit)) for unit in units), task.texts)

    def close(self) -> None:
        pass


class DaskExecutor(_OrderedRunner):
    """Scan a refresh's partitions as Dask tasks on a cluster (``scheduler``: an address or a ``Client``).

    Every worker must see the store at the same path as the driver (a shared file system) or reach the
    same object store, and have gensql installed. ``retries``: re-runs of a task that raised; a task
    whose worker died is rescheduled by the scheduler. ``task`` replaces
    :func:`gensql.refresh.task.run_unit` (same arguments, same result; tests use it to inject
    failures). ``batch_size``: directories per task (whole partitions; default
    :data:`gensql.refresh.planning.BATCH_SIZE`). ``shared_disk``: the workers see the index directory
    at the driver's path (one machine, or a shared file system): they then write the partitions and
    search parts themselves, and only counts travel back; otherwise the rows come back and the driver
    writes them.
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
        shared_disk: bool = False,
    ):
        require("dask", "distributed")
        self.scheduler = scheduler
        self.batch_size = batch_size
        self.shares_disk = shared_disk
        self.retries = retries
        self.task = task
        self.timeout = timeout
        self._inflight = inflight
        self._client: Any = None  # a distributed.Client once connected (dask is imported lazily)
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

    shares_disk = True

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
