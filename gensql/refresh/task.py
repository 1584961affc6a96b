"""The task of one unit of work, run in a worker: scan, write the unit's partitions, index its texts.

:func:`run_unit` is what every executor runs per unit (a process of the local pool, a Dask worker, a
thread for object storage). Everything it reads and writes stays where it runs: the texts it reads
for the ``texts`` table feed its search part in the same pass (:mod:`gensql.fulltext.engine`), and
when the task shares the driver's disk its partitions are written into the new snapshot here, so
only counts, errors and file names travel back to the driver.
"""

from __future__ import annotations

from ..scan import BatchResult, scan_batch
from .executor import Task, Unit
from .partitions import write_unit


def run_unit(task: Task, unit: Unit) -> BatchResult:
    """Scan ``unit``'s directories; with ``task.output``, write its partitions and keep its rows here."""
    result = scan_batch(task.data_root, unit.stage, unit.items, task.racy_after_ns, task.texts, task.search_part(unit))
    return finish_unit(task, unit, result)


def finish_unit(task: Task, unit: Unit, result: BatchResult) -> BatchResult:
    """Write a scanned unit's partitions where it was scanned (``task.output``), dropping its rows from
    the result; without an output the result goes back whole, and the driver writes it."""
    if task.output is not None:
        result.partitions = write_unit(task.output, unit.stage, unit.parts, unit.removed, result)
        result.gens = result.manifest = result.texts = None
    return result
