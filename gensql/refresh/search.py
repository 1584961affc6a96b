"""The new snapshot's search index, assembled from the parts the workers built where they read the texts.

Each unit's task indexes the texts it re-read into a small tantivy index of its own (a part, in the
new snapshot's scratch directory :data:`PARTS_DIR`, or sent back inline by a worker that does not
share this disk). Here the previous snapshot's index (minus the documents of changed and deleted
generations) and every part become one index: :func:`gensql.fulltext.engine.assemble`. BM25 ranks
exactly as one index built in one writer: tantivy takes its statistics over all segments together.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..fulltext.engine import SEARCH_DIR, SearchIndexStats, SearchPart, assemble
from ..index import Snapshot, SnapshotBuilder

#: The scratch directory of the new snapshot where workers build search parts (removed before the commit).
PARTS_DIR = ".search-parts"


def parts_dir(builder: SnapshotBuilder) -> str:
    return str(builder.tmp_path / PARTS_DIR)


def update_search(
    builder: SnapshotBuilder, previous: Snapshot | None, changed: set[str], parts: Iterable[SearchPart]
) -> SearchIndexStats:
    """The new snapshot's search index: the previous one's without ``changed`` (gen keys of changed
    and deleted generations), plus every part."""
    target = builder.tmp_path / SEARCH_DIR
    previous_dir = previous.path / SEARCH_DIR if previous is not None else None
    remove = sorted(changed) if previous_dir is not None else []
    stats = assemble(target, previous_dir, remove, parts, builder.tmp_path / PARTS_DIR)
    # Segments linked from the previous snapshot, and the parts' (synced by the workers that built
    # them), are on disk already: the commit syncs the rest (meta.json, rewritten segments).
    builder.durable.update(f"{SEARCH_DIR}/{name}" for name in stats.durable)
    return stats
