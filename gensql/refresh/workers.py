"""The local executor: units of work in a process pool on this machine (:class:`LocalPool`).

The worker processes' lifecycle (they never outlive the refresh that started them, and never see its
Ctrl-C) is :mod:`gensql.workers`'.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from ..workers import stop_forkserver, stop_workers, worker_pool
from .listing import local_listing

if TYPE_CHECKING:
    from .. import layout
    from ..scan import BatchResult
    from .executor import Task, Unit
    from .listing import Listing

#: Below this many directories to check, worker processes cost more than they save.
PARALLEL_THRESHOLD = 4000


class LocalPool:
    """Runs units in ``jobs`` worker processes (``forkserver``), at most ``2 * jobs`` in flight, results
    in order, each dropped once yielded so memory stays flat however large the store is. With one job,
    or fewer than :data:`PARALLEL_THRESHOLD` directories (``total``), units run in this process."""

    data_root = None
    batch_size = None
    shares_disk = True

    def __init__(self, jobs: int, total: int = PARALLEL_THRESHOLD) -> None:
        self.jobs = max(1, jobs)
        self.total = total

    def list_store(self, where: layout.StoreLayout) -> Listing:
        return local_listing(where)

    def scan(self, units: Iterator[Unit], task: Task) -> Iterator[BatchResult]:
        from .task import run_unit

        if self.jobs == 1 or self.total < PARALLEL_THRESHOLD:
            # In this process the rows come back and the driver's writer threads write them while
            # the next unit is scanned (a worker process writes its own, in parallel with the others).
            here = replace(task, output=None)
            for unit in units:
                yield run_unit(here, unit)
            return
        pending: deque = deque()
        # Workers die with this process (gensql.workers); if the refresh stops early (SIGTERM, Ctrl-C,
        # an error, the consumer gone) they are killed at once instead of finishing their units.
        pool = worker_pool(self.jobs, ["gensql.scan", "gensql.refresh.task", "gensql.workers"])
        try:
            for unit in itertools.islice(units, 2 * self.jobs):
                pending.append(pool.submit(run_unit, task, unit))
            while pending:
                result = pending.popleft().result()
                for unit in itertools.islice(units, 1):
                    pending.append(pool.submit(run_unit, task, unit))
                yield result
        except BaseException:
            stop_workers(pool)
            stop_forkserver(kill=True)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            stop_forkserver()

    def close(self) -> None:
        pass
