"""Scanning generation directories into ``gens`` rows, and deciding which ones need a re-scan.

One generation directory becomes exactly one row, whatever state its files are in: a file that cannot
be read becomes a ``scan_errors`` entry and the row keeps what the other files said.

Change detection keeps, per directory, a presence mask of the known files and a signature: a hash of
the ``stat`` of the directory (its mtime/ctime change when a file is added, removed or renamed in it)
and of each known file present (size, mtime_ns, ctime_ns, inode: catches in-place rewrites, and
``ctime`` cannot be set back by ``touch``/``rsync -t``). A same-size rewrite within one timestamp tick
of the scan would be invisible to any stat, so a directory touched less than the racy window
(:func:`racy_window_ns`) before the scan started, i.e. at or after ``racy_after_ns``, is stored
without a signature and re-read by the next refresh (git's "racy clean" rule).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from . import layout
from .derive import CREATED_AT_SOURCES, fill_derived
from .fields import GENS_COLUMN_ORDER, GENS_SCHEMA
from .fulltext.engine import PartBuilder, SearchPart
from .metadata import MAX_META_BYTES, FileProblem, extract, merge, parse_json_object, source_file
from .safeio import MAX_JSON_BYTES_ENV, max_file_bytes, max_json_bytes, read_file, safe_stat, store_roots
from .scores import parse_score
from .texts import TEXT_KINDS, TextFacts, facts_of_bytes, search_text, text_facts, text_facts_and_prefix

#: Environment variable: seconds before a scan within which a change makes a directory "racy".
#: The default suits local filesystems (timestamp ticks of a few ms); raise it on filesystems with
#: coarse timestamps (FAT: 2 s, some network filesystems).
RACY_WINDOW_ENV = "GENSQL_RACY_WINDOW"
DEFAULT_RACY_WINDOW_S = 1.0


def racy_window_ns() -> int:
    return int(float(os.environ.get(RACY_WINDOW_ENV) or DEFAULT_RACY_WINDOW_S) * 1e9)


MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("stage", pa.string()),
        pa.field("gen_id", pa.string()),
        pa.field("mask", pa.int32()),
        pa.field("sig", pa.int64()),
    ]
)

#: One row per text file (prompt, raw, parsed) of a scanned generation: the ``texts`` table.
TEXTS_SCHEMA = pa.schema(
    [
        pa.field("gen_id", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("gen_dir", pa.string()),
        pa.field("file", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("chars", pa.int64()),
        pa.field("lines", pa.int64()),
        pa.field("sha256", pa.string()),
        pa.field("invalid_utf8", pa.bool_()),
        pa.field("search_capped", pa.bool_()),
    ]
)
_TEXT_KIND = {name: kind for kind, name in TEXT_KINDS}

ERRORS_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("gen_id", pa.string()),
        pa.field("file", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("message", pa.string()),
    ]
)

_ENOENT_ERRORS = (FileNotFoundError, NotADirectoryError)
_JSON = frozenset(layout.JSON_FILES)
_STAT_KEYS = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino")


def _signature(stats: list[os.stat_result], racy_after_ns: int) -> int | None:
    """Hash of the directory's and its files' stats, or None when the newest change is too recent.

    Any content or metadata change sets ``ctime`` to now, so the racy test looks at ``ctime`` only.
    """
    if max([st.st_ctime_ns for st in stats]) >= racy_after_ns:
        return None  # racy: a later same-tick change could be invisible, so re-read next time
    return hash(tuple([(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) for st in stats]))


#: File names present for each presence mask, in bit order (the order signatures use).
_NAMES_BY_MASK: dict[int, tuple[str, ...]] = {
    mask: tuple(name for name, bit in layout.FILE_BIT.items() if mask & bit)
    for mask in range(1 << len(layout.KNOWN_FILES))
}


def current_signature(gen_dir: str, mask: int, racy_after_ns: int) -> int | None:
    """The signature a directory has now, stat-ing only the files the manifest says are present.

    Returns None when anything is off (a file vanished, the directory is gone): the caller re-scans.
    """
    try:
        stats = [os.stat(gen_dir)]
        for name in _NAMES_BY_MASK[mask]:
            stats.append(os.stat(f"{gen_dir}/{name}"))
    except OSError:
        return None
    return _signature(stats, racy_after_ns)


@dataclass
class ScannedGen:
    row: dict[str, Any]
    mask: int
    sig: int | None
    problems: list[FileProblem] = field(default_factory=list)
    #: (file kind, facts) of each text present; facts None when the text could not be read
    texts: list[tuple[str, TextFacts | None]] = field(default_factory=list)
    #: (file kind, the text search indexes) of each text read, when asked for (``search=True``)
    search_texts: list[tuple[str, str]] = field(default_factory=list)


def scan_generation(
    data_root: str,
    stage: str,
    gen_id: str,
    racy_after_ns: int,
    rel_dir: str | None = None,
    roots: tuple[str, ...] | None = None,
    texts: bool = True,
    limit: int | None = None,
    json_limit: int | None = None,
    search: bool = False,
) -> ScannedGen:
    """Read one generation directory into a ``gens`` row (never raises for bad files).

    ``rel_dir`` is the directory relative to the data root when it is not ``gens/<stage>/<gen_id>``
    (a document of seed 000's docs store); its first component becomes ``store_root``. Files are read
    and stat-ed by :mod:`gensql.safeio`'s rules (``roots``: the store's real paths, computed when None).
    With ``texts``, each text file is also read once, streaming, for its facts (:mod:`gensql.texts`).
    ``limit`` is the size cap (:func:`gensql.safeio.max_file_bytes`; a batch looks it up once),
    ``json_limit`` the lower one of the JSON metadata files (:func:`gensql.safeio.max_json_bytes`).
    With ``search`` (and ``texts``) the same read also keeps each text's searchable start, for the
    search index part the worker builds (:mod:`gensql.fulltext.engine`).
    """
    json_limit = max_json_bytes() if json_limit is None else json_limit
    roots = roots or store_roots(data_root)
    rel_dir = rel_dir or f"{layout.GENS_DIR}/{stage}/{gen_id}"
    gen_dir = f"{data_root}/{rel_dir}"
    problems: list[FileProblem] = []
    stats: dict[str, os.stat_result] = {}
    docs: list[tuple[str, dict]] = []
    dir_st = os.stat(gen_dir)

    parsed_text: str | None = None
    text_rows: list[tuple[str, TextFacts | None]] = []
    search_rows: list[tuple[str, str]] = []
    for name in layout.KNOWN_FILES:
        path = f"{gen_dir}/{name}"
        is_json = name in _JSON
        read = is_json or (name == layout.PARSED_FILE and stage == "evaluation")  # the score
        try:
            if is_json:
                data, st = read_file(path, roots, json_limit, MAX_JSON_BYTES_ENV)
            elif read:
                data, st = read_file(path, roots, limit)
            else:
                st = safe_stat(path, roots)
        except _ENOENT_ERRORS:
            continue
        except OSError as exc:  # UnsafeFileError says its kind: unreadable, too_large, outside_store
            problems.append(
                FileProblem(name, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
            )
            continue
        stats[name] = st
        if is_json:
            obj, problem = parse_json_object(name, data)
            if obj is not None:
                docs.append((name, obj))
            elif problem is not None:
                problems.append(problem)
        elif read:
            parsed_text = data.decode("utf-8", errors="replace")
        if texts and not is_json:
            kind = _TEXT_KIND[name]
            if read:
                text_rows.append((kind, facts_of_bytes(data)))
                if search:
                    search_rows.append((kind, search_text(data)))
            else:
                try:
                    if search:
                        read_facts, text = text_facts_and_prefix(path, roots)
                        text_rows.append((kind, read_facts))
                        search_rows.append((kind, text))
                    else:
                        text_rows.append((kind, text_facts(path, roots)))
                except FileNotFoundError:
                    text_rows.append((kind, None))  # vanished between stat and read: re-read next time
                    problems.append(FileProblem(name, "unreadable", "vanished while being read"))
                except OSError as exc:
                    text_rows.append((kind, None))
                    problems.append(
                        FileProblem(name, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
                    )
    if layout.METADATA_FILE not in stats and not any(p.file == layout.METADATA_FILE for p in problems):
        problems.append(
            FileProblem(layout.METADATA_FILE, "missing_metadata", "generation directory has no metadata.json")
        )

    merged = merge([d for _, d in docs]) if docs else {}
    values, bad = extract(merged)
    for column, key, value, reason in bad:
        origin = source_file(docs, key.split(".")[0]) or layout.METADATA_FILE
        shown = repr(value)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."  # a message, not a copy of the value
        problems.append(FileProblem(origin, "bad_value", f"{key}={shown} ignored for column {column}: {reason}"))

    row = values
    row["gen_id"] = gen_id
    row["stage"] = stage
    row["gen_dir"] = rel_dir
    row["store_root"] = rel_dir.split("/", 1)[0]
    for name, column in ((layout.PROMPT_FILE, "prompt"), (layout.RAW_FILE, "raw"), (layout.PARSED_FILE, "parsed")):
        text_stat = stats.get(name)
        row[f"has_{column}"] = text_stat is not None
        row[f"{column}_bytes"] = text_stat.st_size if text_stat is not None else None
        row[f"{column}_chars"] = None
    for kind, facts in text_rows:
        if facts is not None:
            row[f"{kind}_chars"] = facts.chars
    row["has_metadata"] = layout.METADATA_FILE in stats
    row["has_raw_metadata"] = layout.RAW_METADATA_FILE in stats
    row["has_parsed_metadata"] = layout.PARSED_METADATA_FILE in stats

    if stage == "evaluation":
        row["score"], row["score_error"] = parse_score(parsed_text)
    else:
        row["score"], row["score_error"] = None, None

    for name, source in CREATED_AT_SOURCES:
        if name in stats:
            row["created_at"], row["created_at_source"] = stats[name].st_mtime_ns // 1000, source
            break
    else:
        row["created_at"], row["created_at_source"] = dir_st.st_mtime_ns // 1000, "dir"

    fill_derived(stage, row)
    meta = orjson.dumps(merged, option=orjson.OPT_SORT_KEYS) if docs else None
    if meta is not None and len(meta) > MAX_META_BYTES:  # a batch of such rows would hold GBs
        problems.append(
            FileProblem(
                layout.METADATA_FILE,
                "too_large",
                f"merged metadata is {len(meta)} bytes, more than {MAX_META_BYTES}: not kept in meta (the files keep it)",
            )
        )
        meta = None
    row["meta"] = meta.decode() if meta is not None else None
    row["error_count"] = len(problems)

    mask = 0
    for name in stats:
        mask |= layout.FILE_BIT[name]
    ordered = [dir_st] + [stats[name] for name in _NAMES_BY_MASK[mask]]
    return ScannedGen(row, mask, _signature(ordered, racy_after_ns), problems, text_rows, search_rows)


@dataclass
class BatchResult:
    """What a worker sends back for one batch of directories of one stage."""

    stage: str
    size: int  # directories checked
    gens: pa.RecordBatch | None  # rows of re-scanned directories
    manifest: pa.RecordBatch | None
    new: int  # re-scanned directories the previous index did not have
    replaced: list[str]  # gen ids the previous index had and that got a new row (changed)
    vanished: list[str]  # gen ids the previous index had, gone by the time we looked (deleted mid-scan)
    unchanged: int
    errors: list[tuple]
    texts: pa.RecordBatch | None = None  # texts of re-scanned directories (None when texts are off)
    search: SearchPart | None = None  # the search index part of those texts, when asked for
    #: the unit's partitions, when the worker wrote them (gensql.refresh.partitions.Written); the rows are then None
    partitions: list | None = None


def scan_batch(
    data_root: str,
    stage: str,
    items: list[tuple],
    racy_after_ns: int,
    texts: bool = True,
    search_part: str | PartBuilder | None = None,
) -> BatchResult:
    """Check ``(gen_id, mask, sig[, rel_dir])`` items against the disk; re-scan those that changed.

    ``mask``/``sig`` are the previous refresh's values: ``mask`` None for a directory not seen before,
    ``sig`` None for one that must be re-read (racy). ``rel_dir`` (optional, None for the default
    ``gens/<stage>/<gen_id>``) places a document of the docs store. With ``texts`` the re-scanned
    directories' texts are read for the ``texts`` table; with ``search_part`` too (a directory, or
    :data:`SearchPart.INLINE`), the same reads feed this batch's search index part, built here.
    """
    if isinstance(search_part, PartBuilder):  # the caller's part, finished by the caller (object storage)
        return _scan_batch(data_root, stage, items, racy_after_ns, texts, search_part)
    part = PartBuilder(search_part) if texts and search_part is not None else None
    try:
        result = _scan_batch(data_root, stage, items, racy_after_ns, texts, part)
        if part is not None:
            result.search = part.finish()
    except BaseException:
        if part is not None:
            part.abort()
        raise
    return result


def _scan_batch(
    data_root: str, stage: str, items: list[tuple], racy_after_ns: int, texts: bool, part: PartBuilder | None
) -> BatchResult:
    columns: dict[str, list] = {name: [] for name in GENS_COLUMN_ORDER}
    text_columns: dict[str, list] = {name: [] for name in TEXTS_SCHEMA.names}
    man_ids: list[str] = []
    man_mask: list[int] = []
    man_sig: list[int | None] = []
    errors: list[tuple] = []
    vanished: list[str] = []
    replaced: list[str] = []
    new = unchanged = 0
    stage_dir = f"{data_root}/{layout.GENS_DIR}/{stage}"
    roots = store_roots(data_root)
    limit = max_file_bytes()
    json_limit = max_json_bytes()
    for item in items:
        gen_id, mask, sig = item[0], item[1], item[2]
        rel_dir = item[3] if len(item) > 3 else None
        where = f"{data_root}/{rel_dir}" if rel_dir else f"{stage_dir}/{gen_id}"
        if sig is not None and current_signature(where, mask, racy_after_ns) == sig:
            unchanged += 1
            continue
        try:
            scanned = scan_generation(
                data_root, stage, gen_id, racy_after_ns, rel_dir, roots, texts, limit, json_limit, part is not None
            )
        except _ENOENT_ERRORS:
            if mask is not None:
                vanished.append(gen_id)
            continue
        except Exception as exc:  # a bug or an OS oddity must cost one row's details, not the refresh
            scanned = fallback_row(stage, gen_id, exc, rel_dir)
        if mask is None:
            new += 1
        else:
            replaced.append(gen_id)
        row = scanned.row
        for name in GENS_COLUMN_ORDER:
            columns[name].append(row.get(name))
        man_ids.append(gen_id)
        man_mask.append(scanned.mask)
        man_sig.append(scanned.sig)
        for p in scanned.problems:
            errors.append((f"{row['gen_dir']}/{p.file}", stage, gen_id, p.file, p.kind, p.message))
        for kind, facts in scanned.texts:
            for name, value in zip(("gen_id", "stage", "gen_dir", "file"), (gen_id, stage, row["gen_dir"], kind)):
                text_columns[name].append(value)
            for name, value in zip(TextFacts._fields, facts or (None,) * len(TextFacts._fields)):
                text_columns[name].append(value)
        if part is not None:
            capped = {kind: facts.search_capped for kind, facts in scanned.texts if facts is not None}
            for kind, text in scanned.search_texts:
                part.add(stage, gen_id, row["gen_dir"], kind, text, capped.get(kind, False))
    gens = manifest = None
    if man_ids:
        gens = pa.RecordBatch.from_arrays(
            [pa.array(columns[f.name], type=f.type) for f in GENS_SCHEMA], schema=GENS_SCHEMA
        )
        manifest = pa.RecordBatch.from_arrays(
            [
                pa.array([stage] * len(man_ids), pa.string()),
                pa.array(man_ids, pa.string()),
                pa.array(man_mask, pa.int32()),
                pa.array(man_sig, pa.int64()),
            ],
            schema=MANIFEST_SCHEMA,
        )
    text_batch = None
    if texts:
        text_batch = pa.RecordBatch.from_arrays(
            [pa.array(text_columns[f.name], type=f.type) for f in TEXTS_SCHEMA], schema=TEXTS_SCHEMA
        )
    return BatchResult(stage, len(items), gens, manifest, new, replaced, vanished, unchanged, errors, text_batch)


def fallback_row(stage: str, gen_id: str, exc: Exception, rel_dir: str | None = None) -> ScannedGen:
    """The row of a directory whose scan failed unexpectedly (a bug, an OS oddity, a unit lost on a
    cluster): every fact unknown, ``status = 'gen_error'``, one ``internal`` problem saying why."""
    row: dict[str, Any] = {name: None for name in GENS_COLUMN_ORDER}
    rel_dir = rel_dir or f"{layout.GENS_DIR}/{stage}/{gen_id}"
    row.update(
        gen_id=gen_id,
        stage=stage,
        gen_dir=rel_dir,
        store_root=rel_dir.split("/", 1)[0],
        status="gen_error",
        error_count=1,
    )
    for col in (
        "has_prompt",
        "has_raw",
        "has_parsed",
        "has_metadata",
        "has_raw_metadata",
        "has_parsed_metadata",
        "truncated",
        "is_model_call",
    ):
        row[col] = False
    return ScannedGen(row, 0, None, [FileProblem("", "internal", f"{type(exc).__name__}: {exc}")])
