"""Building a snapshot's search index incrementally, without ever touching the previous snapshot's.

Each snapshot has its own tantivy index in ``<snapshot>/search/``. tantivy never rewrites a file in
place (segments are write-once; ``meta.json`` is replaced by a rename), so a new snapshot starts as
hard links to the previous snapshot's files, deletes the documents of texts that changed or vanished,
adds the new ones, and commits. The previous snapshot's directory stays byte-for-byte what it was:
a refresh killed at any moment leaves the previous searchable state whole, and a reader of a snapshot
only ever finds texts of that snapshot.

One document per text file: ``gen_key`` (``<stage>/<gen_id>``, the delete term: a changed generation
has all its texts re-indexed), ``gen_id``, ``stage``, ``gen_dir``,
``file`` (prompt, raw, parsed) and ``text`` (tokenised, positions kept for phrase queries, not
stored: snippets are cut from the file when a hit is shown). Texts longer than
:data:`SEARCH_MAX_CHARS` are indexed up to that cap (the ``texts`` table flags them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import link_or_copy
from ..safeio import store_roots
from ..texts import SEARCH_MAX_CHARS, TEXT_KINDS, read_text_prefix

SEARCH_DIR = "search"
#: tantivy's writer memory budget (it flushes a segment when full) and threads.
_WRITER_HEAP = 96 * 1024 * 1024
_WRITER_THREADS = 2
#: Files of a tantivy directory that are not index data (locks) and must not be shared.
_NOT_SHARED = (".tantivy-writer.lock", ".tantivy-meta.lock")
#: Files tantivy replaces by rename; copied rather than linked for good measure.
_COPIED = ("meta.json", ".managed.json")


def schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("gen_key", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("gen_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("stage", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("file", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("gen_dir", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", stored=False, tokenizer_name="default", index_option="position")
    return builder.build()


@dataclass
class SearchIndexStats:
    """What one update did: documents added and deleted, texts cut at the cap, bytes on disk."""

    added: int = 0
    deleted: int = 0
    capped: int = 0
    documents: int = 0
    size_bytes: int = 0


def _seed_from(previous: Path | None, target: Path) -> None:
    target.mkdir(parents=True)
    if previous is None or not previous.is_dir():
        return
    for entry in os.scandir(previous):
        if not entry.is_file(follow_symlinks=False) or entry.name in _NOT_SHARED:
            continue
        src, dst = Path(entry.path), target / entry.name
        if entry.name in _COPIED:
            shutil.copy2(src, dst)
        else:
            link_or_copy(src, dst)


def update_search_index(
    data_root: Path,
    target: Path,
    previous: Path | None,
    remove: Iterable[str],
    add: Iterable[dict],
    read_text: Callable[[str], str | None] | None = None,
) -> SearchIndexStats:
    """Make ``target`` the search index of a new snapshot, starting from the index at ``previous``.

    ``remove``: generation keys (``<stage>/<gen_id>``) whose texts leave the index (changed or
    deleted directories); ``add``: text rows (``gen_id``, ``stage``, ``gen_dir``, ``file``) to index,
    read from the store now. Without a usable previous index, pass every text in ``add``.
    """
    import tantivy

    roots = store_roots(data_root)
    root = str(data_root)
    read = read_text or (lambda path: _read_text(path, roots))
    if previous is not None and not (previous / "meta.json").is_file():
        raise FileNotFoundError(f"no search index at {previous}")
    _seed_from(previous, target)
    index = tantivy.Index(schema(), path=str(target), reuse=True)
    stats = SearchIndexStats()
    writer = index.writer(_WRITER_HEAP, _WRITER_THREADS)
    try:
        if previous is not None:
            for key in remove:
                writer.delete_documents_by_term("gen_key", key)
                stats.deleted += 1
        for row in add:
            text = read(f"{root}/{row['gen_dir']}/{_FILE_NAMES[row['file']]}")  # strings: pathlib costs µs per text
            if text is None:
                continue
            if len(text) > SEARCH_MAX_CHARS:
                text = text[:SEARCH_MAX_CHARS]
                stats.capped += 1
            writer.add_document(
                tantivy.Document(
                    gen_key=f"{row['stage']}/{row['gen_id']}",
                    gen_id=row["gen_id"],
                    stage=row["stage"],
                    file=row["file"],
                    gen_dir=row["gen_dir"],
                    text=text,
                )
            )
            stats.added += 1
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        try:
            writer.rollback()
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise
    for name in _NOT_SHARED:
        (target / name).unlink(missing_ok=True)
    index.reload()
    stats.documents = index.searcher().num_docs
    stats.size_bytes = sum(e.stat().st_size for e in os.scandir(target) if e.is_file())
    return stats


#: The file of each text kind (``prompt`` -> ``prompt.txt``).
_FILE_NAMES: dict[str, str] = dict(TEXT_KINDS)


def _read_text(path: str, roots: tuple[str, ...] | None = None) -> str | None:
    return read_text_prefix(path, roots)
