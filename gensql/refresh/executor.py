"""What runs a refresh's units of work: the executor protocol, and the unit and task every executor is handed.

The driver of a refresh lists the store, plans, hands out units and commits the snapshot; an
executor runs the units. One runs on this machine's process pool (:class:`gensql.refresh.workers.LocalPool`,
the default); :mod:`gensql.distributed` has one for a Dask cluster and one for a store on object
storage. Each unit's task (:func:`gensql.refresh.task.run_unit`) scans its directories, writes its
partitions into the new snapshot and indexes its texts into a search part, where it runs, when it
shares the driver's disk (:attr:`Executor.shares_disk`); otherwise it sends the rows back and the
driver writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .. import layout
    from ..scan import BatchResult
    from .listing import Listing
    from .partitions import Output


@dataclass
class Unit:
    """Whole hash partitions of one stage: the directories to check in them, in partition order.

    ``items``: ``(gen_id, mask, sig[, rel_dir])``, the previous manifest's values (:func:`gensql.scan.scan_batch`);
    ``removed``: per partition, gen ids of the previous snapshot that the listing no longer has.
    """

    seq: int
    stage: str
    parts: list[int]
    items: list[tuple]
    removed: dict[int, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """What every unit's task needs besides its unit (the same for a whole refresh; sent with each task).

    ``search``: where the search parts go (a directory; a unit's part is ``<search>/<seq>``),
    :data:`gensql.fulltext.engine.SearchPart.INLINE` to send them back, None without texts.
    ``output``: where and how the unit's partitions are written, or None: the rows come back.
    """

    data_root: str
    racy_after_ns: int
    texts: bool
    search: str | None = None
    output: Output | None = None

    def search_part(self, unit: Unit) -> str | None:
        if self.search is None or not self.texts:
            return None
        from ..fulltext.engine import SearchPart

        return self.search if self.search == SearchPart.INLINE else f"{self.search}/{unit.seq:06d}"


@runtime_checkable
class Executor(Protocol):
    """Runs a refresh's units; ``refresh(executor=...)`` takes any object with these members."""

    @property
    def data_root(self) -> str | None:
        """What ``snapshot.json`` records as the store (a URL); None: the local data root."""
        ...

    @property
    def batch_size(self) -> int | None:
        """Directories per unit (None: :data:`gensql.refresh.planning.BATCH_SIZE`)."""
        ...

    @property
    def shares_disk(self) -> bool:
        """Tasks see the driver's index directory at the same path: they write partitions and search parts there."""
        ...

    def list_store(self, where: layout.StoreLayout) -> Listing:
        """The store's generation directories per stage (sorted Arrow strings) and the listing's errors."""
        ...

    def scan(self, units: Iterator[Unit], task: Task) -> Iterator[BatchResult]:
        """Run ``task`` over ``units``, yielding one result per unit, in the units' order."""
        ...

    def close(self) -> None: ...
