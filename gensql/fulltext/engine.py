"""Building a snapshot's search index in parts, where the texts are read, without touching the previous one's.

Each snapshot has its own tantivy index in ``<snapshot>/search/``. A tantivy index is a list of
write-once segments named in ``meta.json``, and BM25 takes its statistics (document count, document
frequencies, average length) over all segments of the index together: so segments built apart, in
the worker processes that read the texts for the ``texts`` table anyway, and then named together in
one ``meta.json``, rank exactly as one index built from the same documents in one writer (tests
compare the scores). That is how a refresh builds search on every core:

1. each unit of work (a few thousand generation directories) indexes the texts it re-read into a
   small index of its own, a *part* (:class:`PartBuilder`), in the worker that read them;
2. the driver assembles the new index (:func:`assemble`): the previous snapshot's segments as hard
   links, except those holding documents of changed or deleted generations, which a writer rewrites
   with those documents deleted (new ``.del`` files, never an old file modified), plus every part's
   segments; small segments are merged so updates do not pile them up; ``meta.json`` is written last.

tantivy never rewrites a file in place (segments are write-once; ``meta.json`` is replaced by a
rename), so the previous snapshot's directory stays byte-for-byte what it was: a refresh killed at any
moment leaves the previous searchable state whole, and a reader of a snapshot only ever finds texts of
that snapshot.

One document per text file: ``gen_key`` (``<stage>/<gen_id>``, the delete term: a changed generation
has all its texts re-indexed), ``gen_id``, ``stage``, ``gen_dir``, ``file`` (prompt, raw, parsed) and
``text`` (tokenised, positions kept for phrase queries, not stored: snippets are cut from the file
when a hit is shown). Texts longer than :data:`SEARCH_MAX_CHARS` are indexed up to that cap (the
``texts`` table flags them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..fsutil import fsync_path, link_or_copy
from ..safeio import store_roots
from ..texts import SEARCH_MAX_CHARS, TEXT_KINDS, read_text_prefix

SEARCH_DIR = "search"
#: tantivy's writer memory budget for one part (it flushes a segment when full) and its threads: a
#: part is a few thousand texts, and one runs in every worker process at once.
PART_HEAP = 32 * 1024 * 1024
#: The heap of the writer that deletes and merges while assembling (on the driver, one at a time).
_WRITER_HEAP = 96 * 1024 * 1024
#: Segments with fewer documents are merged when assembling, once there are :data:`SMALL_SEGMENTS` of
#: them: the parts of event-driven updates would otherwise pile up, one or a few per update.
SMALL_SEGMENT_DOCS = 2000
SMALL_SEGMENTS = 16
#: Files of a tantivy directory that are not index data (locks) and must not be shared.
_NOT_SHARED = (".tantivy-writer.lock", ".tantivy-meta.lock")
_META = "meta.json"
_MANAGED = ".managed.json"


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
    segments: int = 0
    #: files of the new index that are on disk already (synced by the worker that built them, or
    #: linked from the previous index): the commit does not sync them again
    durable: list[str] = field(default_factory=list, repr=False)


@dataclass
class SearchPart:
    """A part built by a worker: a small tantivy index in ``path``, or its files inline (``files``:
    name -> bytes) when the worker does not share the driver's disk (a Dask cluster)."""

    #: The ``search_part`` a driver passes a worker that does not share its disk: send the files back.
    INLINE = ":inline:"

    added: int
    capped: int
    path: str | None = None
    files: dict[str, bytes] | None = None

    def materialise(self, where: Path) -> Path:
        """The part as a directory on this machine (``where``, written when the part came inline)."""
        if self.files is None:
            assert self.path is not None
            return Path(self.path)
        where.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (where / name).write_bytes(data)
            fsync_path(where / name)
        return where


class PartBuilder:
    """Indexes the texts of one unit of work into a part (a tantivy index of its own) at ``path``.

    ``path`` None builds in a temporary directory and returns the files inline. The writer opens on the
    first text, so a unit that re-read nothing costs nothing.
    """

    def __init__(self, path: str | None):
        self.path = None if path == SearchPart.INLINE else path
        self._dir: str | None = None
        self._writer: Any = None
        self._document: Any = None
        self.added = self.capped = 0

    def add(self, stage: str, gen_id: str, gen_dir: str, file: str, text: str, capped: bool = False) -> None:
        """Index one text (``capped``: it was longer than the cap, and ``text`` is its searchable start)."""
        if self._writer is None:
            import tantivy

            self._dir = self.path or tempfile.mkdtemp(prefix="gensql-search-part-")
            shutil.rmtree(self._dir, ignore_errors=True)  # what an earlier try of this unit left
            os.makedirs(self._dir)
            index = tantivy.Index(schema(), path=self._dir, reuse=False)
            self._writer = index.writer(PART_HEAP, 1)
            self._document = tantivy.Document
        if capped or len(text) > SEARCH_MAX_CHARS:
            text = text[:SEARCH_MAX_CHARS]
            self.capped += 1
        self._writer.add_document(
            self._document(
                gen_key=f"{stage}/{gen_id}", gen_id=gen_id, stage=stage, file=file, gen_dir=gen_dir, text=text
            )
        )
        self.added += 1

    def finish(self) -> SearchPart | None:
        """Commit the part; None when no text was added."""
        if self._writer is None:
            return None
        assert self._dir is not None
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._writer = None
        for name in _NOT_SHARED:
            Path(self._dir, name).unlink(missing_ok=True)
        if self.path is not None:
            for entry in os.scandir(self._dir):  # synced here, in parallel on every worker, not at the commit
                fsync_path(entry.path)
            return SearchPart(self.added, self.capped, path=self._dir)
        try:
            files = {e.name: Path(e.path).read_bytes() for e in os.scandir(self._dir) if e.is_file()}
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        return SearchPart(self.added, self.capped, files=files)

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.rollback()
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
            self._writer = None
        if self.path is None and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


# --- assembling parts into one index ----------------------------------------------------------------


@dataclass
class _Segment:
    """One segment as ``meta.json`` lists it, and the directory that holds its files."""

    meta: dict
    home: Path

    @property
    def prefix(self) -> str:
        return self.meta["segment_id"].replace("-", "")

    @property
    def docs(self) -> int:
        deletes = self.meta.get("deletes") or {}
        return int(self.meta["max_doc"]) - int(deletes.get("num_deleted_docs", 0))

    def files(self) -> list[str]:
        """The segment's files: its data files and its current ``.del`` file (older ones are garbage)."""
        deletes = self.meta.get("deletes")
        current_del = f"{self.prefix}.{deletes['opstamp']}.del" if deletes else None
        out = []
        for name in os.listdir(self.home):
            if not name.startswith(self.prefix + "."):
                continue
            if name.endswith(".del") and name != current_del:
                continue
            out.append(name)
        return out


def _read_meta(directory: Path) -> dict:
    return orjson.loads((directory / _META).read_bytes())


def _write_index(
    target: Path, base: dict, segments: Sequence[_Segment], opstamp: int, keep: Path | None = None
) -> None:
    """Make ``target`` an index of exactly ``segments``: their files hard-linked (from ``keep``, the
    previous snapshot's index, or everywhere when ``keep`` is None) or moved (from scratch
    directories), then ``.managed.json`` and, last, ``meta.json``."""
    target.mkdir(parents=True, exist_ok=True)
    managed = [_META]
    for segment in segments:
        move = keep is not None and segment.home != keep
        for name in segment.files():
            source = segment.home / name
            if move:
                try:
                    os.rename(source, target / name)
                except OSError:
                    link_or_copy(source, target / name)
            else:
                link_or_copy(source, target / name)
            managed.append(name)
    meta = dict(base)
    meta["segments"] = [s.meta for s in segments]
    meta["opstamp"] = opstamp
    (target / _MANAGED).write_bytes(orjson.dumps(sorted(managed)))
    (target / _META).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))


def _rewrite(work: Path, base: dict, segments: list[_Segment], opstamp: int, delete: Iterable[str]) -> list[_Segment]:
    """``segments`` after deleting the documents of ``delete`` (gen keys) and letting tantivy's merge
    policy merge what it wants, written in ``work`` (new files only: the inputs are hard links)."""
    import tantivy

    _write_index(work, base, segments, opstamp)
    index = tantivy.Index.open(str(work))
    writer = index.writer(_WRITER_HEAP, 1)
    try:
        for key in delete:
            writer.delete_documents_by_term("gen_key", key)
        writer.commit()  # a commit also runs the merge policy, even with nothing deleted
        writer.wait_merging_threads()
    except BaseException:
        try:
            writer.rollback()
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise
    del writer
    meta = _read_meta(work)
    return [_Segment(s, work) for s in meta["segments"]]


def _segments_holding(previous: Path, keys: Sequence[str]) -> set[int]:
    """Positions (in ``meta.json``'s list) of the previous index's segments holding documents of ``keys``.

    A searcher's segment ordinals follow ``meta.json``'s order (tests check it)."""
    import tantivy

    if not keys:
        return set()
    index = tantivy.Index.open(str(previous))
    searcher = index.searcher()
    found: set[int] = set()
    most = len(TEXT_KINDS)  # documents per generation key: one per text file
    for start in range(0, len(keys), 10_000):
        chunk = list(keys[start : start + 10_000])
        query = tantivy.Query.term_set_query(index.schema, "gen_key", chunk)
        found.update(address.segment_ord for _score, address in searcher.search(query, most * len(chunk)).hits)
    return found


def assemble(
    target: Path,
    previous: Path | None,
    remove: Sequence[str],
    parts: Iterable[SearchPart],
    scratch: Path,
) -> SearchIndexStats:
    """Make ``target`` the search index of a new snapshot: the index at ``previous`` without the
    documents of the generation keys in ``remove`` (changed or deleted), plus every part's documents.

    ``scratch`` is a directory of the new snapshot that this function may fill and removes (the parts
    built by workers live there too); nothing in ``previous`` is written. Without a previous index,
    ``parts`` must hold every text.
    """
    stats = SearchIndexStats()
    if previous is not None and not (previous / _META).is_file():
        raise FileNotFoundError(f"no search index at {previous}")
    scratch.mkdir(parents=True, exist_ok=True)
    kept: list[_Segment] = []
    base: dict | None = None
    opstamp = 0
    if previous is not None:
        prev_meta = _read_meta(previous)
        base = prev_meta
        opstamp = int(prev_meta.get("opstamp", 0))
        kept = [_Segment(s, previous) for s in prev_meta["segments"]]
        stats.deleted = len(remove)
        hit = _segments_holding(previous, remove)
        if hit:  # only the segments holding such documents are rewritten; a writer never sees the others
            touched = [s for i, s in enumerate(kept) if i in hit]
            kept = [s for i, s in enumerate(kept) if i not in hit]
            rewritten = _rewrite(scratch / "deletes", base, touched, opstamp, remove)
            opstamp = max(opstamp, int(_read_meta(scratch / "deletes").get("opstamp", 0)))
            kept += rewritten
    fresh: list[_Segment] = []
    for n, part in enumerate(parts):
        stats.added += part.added
        stats.capped += part.capped
        home = part.materialise(scratch / f"inline-{n:06d}")
        meta = _read_meta(home)
        if base is None:
            base = meta
        opstamp = max(opstamp, int(meta.get("opstamp", 0)))
        fresh += [_Segment(s, home) for s in meta["segments"]]
    if base is None:  # nothing at all: an empty index of the schema
        import tantivy

        (scratch / "empty").mkdir()
        tantivy.Index(schema(), path=str(scratch / "empty"), reuse=False)
        base = _read_meta(scratch / "empty")
    segments = kept + fresh
    small = [s for s in segments if s.docs < SMALL_SEGMENT_DOCS]
    if len(small) >= SMALL_SEGMENTS:  # merge the small ones, so updates do not pile segments up
        merged = _rewrite(scratch / "merge", base, small, opstamp, ())
        opstamp = max(opstamp, int(_read_meta(scratch / "merge").get("opstamp", 0)))
        small_ids = {id(s) for s in small}
        segments = [s for s in segments if id(s) not in small_ids] + merged
    segments = [s for s in segments if s.meta["max_doc"] > 0]
    synced = {id(s) for s in fresh} | {id(s) for s in kept if s.home == previous}
    stats.durable = [name for s in segments if id(s) in synced for name in s.files()]
    _write_index(target, base, segments, opstamp, keep=previous or scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    stats.documents = sum(s.docs for s in segments)
    stats.segments = len(segments)
    stats.size_bytes = sum(e.stat().st_size for e in os.scandir(target) if e.is_file())
    return stats


def update_search_index(
    data_root: Path,
    target: Path,
    previous: Path | None,
    remove: Iterable[str],
    add: Iterable[dict],
    read_text: Callable[[str], str | None] | None = None,
    scratch: Path | None = None,
) -> SearchIndexStats:
    """Make ``target`` the search index of a new snapshot, starting from the index at ``previous``,
    reading the texts to add here (one part): for callers that did not index texts where they read them.

    ``remove``: generation keys (``<stage>/<gen_id>``) whose texts leave the index (changed or
    deleted directories); ``add``: text rows (``gen_id``, ``stage``, ``gen_dir``, ``file``) to index,
    read from the store now. Without a usable previous index, pass every text in ``add``.
    """
    roots = store_roots(data_root)
    root = str(data_root)
    read = read_text or (lambda path: read_text_prefix(path, roots))
    scratch = scratch or target.parent / f".{target.name}-scratch"
    builder = PartBuilder(str(scratch / "part"))
    try:
        for row in add:
            text = read(f"{root}/{row['gen_dir']}/{FILE_NAMES[row['file']]}")  # strings: pathlib costs µs per text
            if text is not None:
                builder.add(row["stage"], row["gen_id"], row["gen_dir"], row["file"], text)
        part = builder.finish()
    except BaseException:
        builder.abort()
        raise
    return assemble(target, previous, sorted(remove) if previous is not None else (), [part] if part else [], scratch)


#: The file of each text kind (``prompt`` -> ``prompt.txt``).
FILE_NAMES: dict[str, str] = dict(TEXT_KINDS)


def search_stats(directory: Path) -> tuple[int, int]:
    """``(documents, segments)`` of a search index as its ``meta.json`` lists them (no index opened)."""
    segments = [_Segment(s, directory) for s in _read_meta(directory)["segments"]]
    return sum(s.docs for s in segments), len(segments)


__all__ = [
    "FILE_NAMES",
    "SEARCH_DIR",
    "PartBuilder",
    "SearchIndexStats",
    "SearchPart",
    "assemble",
    "schema",
    "search_stats",
    "update_search_index",
]
