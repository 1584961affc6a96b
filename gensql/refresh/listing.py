"""Listing the store: the generation directories of each stage, and the entries that cannot be one.

The three stage directories are listed at once, each in its own thread (a listing waits on the file
system, not on Python: on NFS or a loaded disk the three overlap), and each stage's names become one
sorted Arrow array. Every entry that cannot be a generation becomes a ``scan_errors`` row, never an
abort (docs/hardening.md). Seed 000's ``docs/`` store is listed here too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc

from .. import layout
from ..safeio import check_inside, store_roots
from ..workers import pid_alive

#: ``(stage -> sorted names, errors)``: what a listing gives the planner.
Listing = tuple[dict[str, pa.Array], list[tuple]]


def abandoned_tmp(name: str) -> bool:
    """A writer's temporary entry (``.tmp-<name>[.<random>]-<pid>``) whose process is gone.

    Writers (backfill, the write path) build a generation under such a name and rename it into place;
    one left behind by a killed writer is reported, one of a running writer is not.
    """
    if not name.startswith(layout.WRITER_TMP_PREFIX):
        return False
    pid = name.rsplit("-", 1)[-1]
    return not pid.isdigit() or not pid_alive(int(pid))


def hidden_generation(entry: os.DirEntry) -> bool:
    """A dot-named directory that holds a metadata file: a generation hidden by its name, not a writer's
    temporary entry (those are ``.tmp-...``), so worth a ``scan_errors`` row rather than silence."""
    if entry.name.startswith(layout.WRITER_TMP_PREFIX):
        return False
    try:
        if entry.is_symlink() or not entry.is_dir():
            return False
        return any(os.path.lexists(os.path.join(entry.path, name)) for name in layout.JSON_FILES)
    except OSError:
        return False


#: Names listed per chunk before they become Arrow strings: a million Python strings would cost
#: about 70 MB, the same names in Arrow about 20 MB.
_LIST_CHUNK = 65536


def list_generations(where: layout.StoreLayout) -> Listing:
    """Generation directory names per stage (sorted, as Arrow strings), and errors for entries that are not one.

    Names starting with '.' are ignored: they are temporary directories of writers (backfill). Every
    other entry that cannot be a generation is a ``scan_errors`` row, never an abort: a name that is
    not UTF-8 (``bad_name``), a directory that cannot be listed or a symlink loop (``unreadable``), a
    symlink whose real path leaves the store (``outside_store``, not followed: docs/hardening.md).
    The stages are listed in parallel (:func:`list_stage`).
    """
    errors: list[tuple] = []
    gens_root = where.gens_root
    roots = store_roots(where.data_root)
    try:
        with os.scandir(gens_root) as top:
            for entry in top:
                name = printable(entry.name)
                if entry.name.startswith("."):
                    continue
                if name != entry.name:
                    errors.append(
                        _error(f"{layout.GENS_DIR}/{name}", None, "bad_name", "entry name is not valid UTF-8")
                    )
                elif entry.name not in layout.STAGES or not entry.is_dir():
                    errors.append(
                        _error(
                            f"{layout.GENS_DIR}/{entry.name}",
                            None,
                            "unexpected_entry",
                            f"not a stage directory (expected {', '.join(layout.STAGES)})",
                        )
                    )
    except OSError as exc:
        errors.append(_error(layout.GENS_DIR, None, "unreadable", f"cannot list: {exc.strerror or exc}"))
    listed: dict[str, pa.Array] = {}
    with ThreadPoolExecutor(len(layout.STAGES), thread_name_prefix="gensql-list") as pool:
        stages = list(pool.map(lambda stage: list_stage(where, stage, roots), layout.STAGES))
    for stage, (names, stage_errors) in zip(layout.STAGES, stages):
        errors += stage_errors
        if names is not None:
            listed[stage] = names
    return listed, errors


def _error(rel: str, stage: str | None, kind: str, message: str) -> tuple:
    return (rel, stage, None, None, kind, message)


def list_stage(
    where: layout.StoreLayout, stage: str, roots: tuple[str, ...] | None = None
) -> tuple[pa.Array | None, list[tuple]]:
    """One stage's generation directory names (sorted; None when the stage directory does not exist)
    and the errors of its entries that cannot be one."""
    roots = roots or store_roots(where.data_root)
    errors: list[tuple] = []
    names: list[str] = []
    chunks: list[pa.Array] = []
    stage_rel = f"{layout.GENS_DIR}/{stage}"
    stage_dir = where.gens_root / stage
    try:
        if stage_dir.is_symlink():
            check_inside(stage_dir, roots)
        entries = os.scandir(stage_dir)
    except (FileNotFoundError, NotADirectoryError):
        return None, errors
    except OSError as exc:
        errors.append(
            _error(stage_rel, stage, getattr(exc, "kind", "unreadable"), f"cannot list: {exc.strerror or exc}")
        )
        return None, errors
    with entries:
        for entry in entries:
            if entry.name.startswith("."):
                if abandoned_tmp(entry.name):
                    errors.append(
                        _error(
                            f"{stage_rel}/{printable(entry.name)}",
                            stage,
                            "leftover_tmp",
                            "temporary entry of a writer that is no longer running (a killed write or backfill); not read, safe to delete",
                        )
                    )
                elif hidden_generation(entry):
                    errors.append(
                        _error(
                            f"{stage_rel}/{printable(entry.name)}",
                            stage,
                            "unexpected_entry",
                            "a generation directory whose name starts with '.' (the mark of a writer's temporary "
                            "entry); not read: rename it without the dot to index it",
                        )
                    )
                continue
            name = printable(entry.name)
            rel = f"{stage_rel}/{name}"
            if name != entry.name:
                errors.append(
                    _error(rel, stage, "bad_name", "directory name is not valid UTF-8: it cannot be a generation id")
                )
                continue
            try:
                if entry.is_symlink():
                    check_inside(entry.path, roots)
                is_dir = entry.is_dir()
            except FileNotFoundError:
                errors.append(
                    _error(
                        rel, stage, "unexpected_entry", "a symlink to nothing where a generation directory was expected"
                    )
                )
                continue
            except OSError as exc:
                errors.append(
                    _error(rel, stage, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
                )
                continue
            if is_dir:
                names.append(entry.name)
                if len(names) == _LIST_CHUNK:
                    chunks.append(pa.array(names, pa.string()))
                    names = []
            else:
                errors.append(
                    _error(rel, stage, "unexpected_entry", "a file where a generation directory was expected")
                )
    chunks.append(pa.array(names, pa.string()))
    listed = sorted_names(chunks)
    odd = listed.filter(pc.invert(pc.match_substring_regex(listed, layout.SAFE_NAME_PATTERN)))
    for name in odd.to_pylist():  # indexed all the same: the row is a warning, not a refusal
        errors.append(
            _error(
                f"{stage_rel}/{name}",
                stage,
                "unsafe_name",
                "generation id with characters other than letters, digits, '.', '_' and '-': indexed, but "
                "`gensql show`, the write path and the web pages refuse such an id; rename the directory",
            )
        )
    return listed, errors


def local_listing(where: layout.StoreLayout) -> Listing:
    """The listing of a store on a local (or network) file system; nothing when it has no ``gens/``."""
    return list_generations(where) if where.gens_root.is_dir() else ({}, [])


def sorted_names(chunks: list[pa.Array]) -> pa.Array:
    """One sorted string array (UTF-8 byte order, which is code point order, as Python sorts)."""
    names = pa.concat_arrays(chunks) if len(chunks) != 1 else chunks[0]
    return names.take(pc.sort_indices(names))


def printable(name: str) -> str:
    """``name`` itself when it is valid UTF-8, else with the undecodable bytes as ``\\xNN`` escapes."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def list_docs(
    where: layout.StoreLayout, gens_listed: dict[str, pa.Array]
) -> tuple[dict[str, dict[str, str]], list[tuple]]:
    """Documents of seed 000's docs store per stage, ``{doc_id: directory relative to the data root}``.

    ``docs/<stage>/<doc_id>/`` (flat, from 2025-09-07) and ``docs/<stage>/<logical_key_id>/<doc_id>/``
    (nested, before): an entry holding only directories is a logical-key bucket (an empty one holds
    no document: the era's pruner left such leftovers), any other entry a document. A doc_id that is also a gens id of the stage, or a second directory with the same
    doc_id (the flat one wins), is not indexed: it is a ``duplicate_id`` error, never dropped silently.
    """
    root = where.data_root / layout.DOCS_DIR
    found: dict[str, dict[str, str]] = {}
    errors: list[tuple] = []
    if not root.is_dir():
        return found, errors
    roots = store_roots(where.data_root)

    def inside(entry: os.DirEntry, rel: str, stage: str | None) -> bool:
        """A directory entry that may be read: not a symlink leading outside the store (the rule of
        ``gens/``), not a dangling link or a loop. Otherwise a ``scan_errors`` row, and False."""
        try:
            if entry.is_symlink():
                check_inside(entry.path, roots)
            return True
        except FileNotFoundError:
            errors.append((rel, stage, None, None, "unexpected_entry", "a symlink to nothing"))
        except OSError as exc:
            errors.append((rel, stage, None, None, getattr(exc, "kind", "unreadable"), f"{exc.strerror or exc}"))
        return False

    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and (entry.name not in layout.STAGES or not entry.is_dir()):
                    errors.append(
                        (
                            f"{layout.DOCS_DIR}/{entry.name}",
                            None,
                            None,
                            None,
                            "unexpected_entry",
                            f"not a stage directory (expected {', '.join(layout.STAGES)})",
                        )
                    )
    except OSError as exc:
        errors.append((layout.DOCS_DIR, None, None, None, "unreadable", f"cannot list: {exc.strerror or exc}"))
        return found, errors
    for stage in layout.STAGES:
        flat: list[tuple[str, str]] = []
        nested: list[tuple[str, str]] = []
        stage_rel = f"{layout.DOCS_DIR}/{stage}"
        try:
            if (root / stage).is_symlink():
                check_inside(root / stage, roots)
            entries = os.scandir(root / stage)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            kind = getattr(exc, "kind", "unreadable")
            errors.append((stage_rel, stage, None, None, kind, f"cannot list: {exc.strerror or exc}"))
            continue
        with entries:
            for entry in entries:
                rel = f"{stage_rel}/{entry.name}"
                if entry.name.startswith(".") or not inside(entry, rel, stage):
                    continue
                if not entry.is_dir():
                    errors.append(
                        (rel, stage, None, None, "unexpected_entry", "a file where a document directory was expected")
                    )
                    continue
                try:
                    with os.scandir(entry.path) as inner:
                        children = [e for e in inner if not e.name.startswith(".")]
                    bucket = all(e.is_dir() for e in children)  # empty: a bucket whose documents were pruned
                except OSError:
                    children, bucket = [], False  # the scan records why the directory cannot be read
                if bucket:
                    nested.extend((e.name, f"{rel}/{e.name}") for e in children if inside(e, f"{rel}/{e.name}", stage))
                else:
                    flat.append((entry.name, rel))
        gens_ids = set(gens_listed[stage].to_pylist()) if stage in gens_listed else set()
        docs: dict[str, str] = {}
        for doc_id, rel in sorted(flat) + sorted(nested):
            if doc_id in gens_ids:
                errors.append(
                    (
                        rel,
                        stage,
                        doc_id,
                        None,
                        "duplicate_id",
                        f"{layout.GENS_DIR}/{stage}/{doc_id} has the same id: the gens directory is indexed, this one is not",
                    )
                )
            elif doc_id in docs:
                errors.append(
                    (
                        rel,
                        stage,
                        doc_id,
                        None,
                        "duplicate_id",
                        f"{docs[doc_id]} has the same id: that directory is indexed, this one is not",
                    )
                )
            else:
                docs[doc_id] = rel
        found[stage] = docs
    return found, errors
