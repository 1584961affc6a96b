"""A store on object storage (any fsspec URL, ``s3://bucket/data``): listing, change signatures, reads.

One recursive listing of ``gens/`` gives every object with its size and ETag (or mtime where the
protocol has no ETag): that is the whole stat pass, so a directory's change signature costs no request
of its own. A new or changed directory is fetched (its known files, concurrently) into a temporary
directory on the worker, with each file's mtime set to the object's modification time, and read there
by the very same :func:`gensql.scan.scan_batch` as a local store; its manifest signature is then the
hash of the objects' names, sizes and ETags. Small files (``cohorts/``, ``db/documents.sqlite``, the
essay template list) are copied to a local staging directory for the refresh. The index goes to a local
``index_dir``, or, by default, next to the store on object storage (:mod:`.remote_index`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .. import layout
from ..safeio import max_file_bytes
from . import DistributedError, require

#: Never racy: the signature is computed from the objects, the local copy's stat is not used.
_NEVER = 1 << 62
#: Directories fetched per request group (their files are fetched concurrently by fsspec).
FETCH_GROUP = 64
#: Small files of the store a refresh reads besides ``gens/``, copied to the staging directory.
STAGED = (layout.COHORTS_DIR, layout.DOCS_DB_FILE, layout.ESSAY_TEMPLATES_FILE)

Files = tuple[tuple[str, int, str, int], ...]  # (name, size, etag-or-empty, mtime_ns) per known file


def open_url(url: str, storage_options: dict | None = None):
    """``(filesystem, root path)`` of an fsspec URL, or a one-line error."""
    require("fsspec")
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:
        from . import EXTRA, MissingDistributedError

        raise MissingDistributedError(
            f"cannot open {url}: {exc} (install that fsspec implementation; s3fs comes with pip install 'gensql[{EXTRA}]')"
        ) from None
    except ValueError as exc:
        raise DistributedError(f"cannot open {url}: {exc}") from None
    return fs, root.rstrip("/")


def _mtime_ns(info: dict) -> int:
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or info.get("updated") or 0
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000) * 1000
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1_000_000) * 1000
        except ValueError:
            return 0
    return int(float(value) * 1_000_000) * 1000  # seconds, as local fsspec gives them (microsecond precision)


def _etag(info: dict) -> str:
    return str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or "").strip('"')


def signature(files: Files, racy_after_ns: int) -> int | None:
    """The manifest signature of a directory from its objects; None (re-read next time) when a file
    without an ETag changed within the racy window, as :func:`gensql.scan` does for local files."""
    if any(not etag and mtime >= racy_after_ns for _n, _s, etag, mtime in files):
        return None
    digest = hashlib.blake2b(repr(sorted(files)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def mask_of(files: Files) -> int:
    mask = 0
    for name, *_ in files:
        mask |= layout.FILE_BIT[name]
    return mask


def scan_remote_batch(
    url: str, storage_options: dict | None, stage: str, items: list[tuple], racy_after_ns: int, texts: bool
):
    """:func:`gensql.scan.scan_batch` for directories on object storage.

    ``items``: ``(gen_id, mask, sig, files)`` with the listing's :data:`Files`; the unchanged ones are
    counted, the others fetched into a temporary directory and scanned there.
    """
    from ..scan import scan_batch

    fs, root = open_url(url, storage_options)
    unchanged = 0
    todo: list[tuple[str, int | None, Files, int | None]] = []
    for gen_id, mask, sig, files in items:
        now = signature(files, racy_after_ns)
        if sig is not None and now == sig:
            unchanged += 1
        else:
            todo.append((gen_id, mask, files, now))
    cap = max_file_bytes()
    extra_errors: list[tuple] = []
    unreadable: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="gensql-objstore-") as tmp:
        for start in range(0, len(todo), FETCH_GROUP):
            group = todo[start : start + FETCH_GROUP]
            wanted = [
                f"{root}/{layout.GENS_DIR}/{stage}/{g}/{name}"
                for g, _m, files, _s in group
                for name, size, *_ in files
                if size <= cap
            ]
            got = fs.cat(wanted, on_error="return") if wanted else {}
            got = {_strip(k): v for k, v in got.items()}
            for gen_id, _mask, files, _sig in group:
                local_dir = Path(tmp, layout.GENS_DIR, stage, gen_id)
                local_dir.mkdir(parents=True, exist_ok=True)
                for name, size, _etag, mtime in files:
                    local = local_dir / name
                    if size > cap:
                        with open(local, "wb") as f:
                            f.truncate(size)  # sparse: the scan refuses it as too_large, as for a local file
                    else:
                        data = got.get(_strip(f"{root}/{layout.GENS_DIR}/{stage}/{gen_id}/{name}"))
                        if isinstance(data, FileNotFoundError):
                            continue  # deleted since the listing: absent, as a local scan would see it
                        if not isinstance(data, bytes):
                            unreadable.add(gen_id)
                            extra_errors.append(
                                (
                                    f"{layout.GENS_DIR}/{stage}/{gen_id}/{name}",
                                    stage,
                                    gen_id,
                                    name,
                                    "unreadable",
                                    f"cannot read: {type(data).__name__}: {data}",
                                )
                            )
                            continue
                        local.write_bytes(data)
                    os.utime(local, ns=(mtime, mtime))
                newest = max((m for *_x, m in files), default=0)
                os.utime(local_dir, ns=(newest, newest))  # no directories on object storage: its newest object
            result = scan_batch(tmp, stage, [(g, m, None) for g, m, _f, _s in group], _NEVER, texts)
            shutil.rmtree(Path(tmp, layout.GENS_DIR), ignore_errors=True)
            yield_result = _with_signatures(result, {g: (None if g in unreadable else s) for g, _m, _f, s in group})
            if start == 0:
                merged = yield_result
            else:
                merged = _merge(merged, yield_result)
    if not todo:
        from ..scan import BatchResult

        merged = BatchResult(stage, 0, None, None, 0, [], [], 0, [], _empty_texts() if texts else None)
    merged.size = len(items)
    merged.unchanged += unchanged
    merged.errors.extend(extra_errors)
    return merged


def _strip(path: str) -> str:
    return path.split("://", 1)[-1].lstrip("/")


def _empty_texts():
    import pyarrow as pa

    from ..scan import TEXTS_SCHEMA

    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in TEXTS_SCHEMA], schema=TEXTS_SCHEMA)


def _with_signatures(result, sigs: dict[str, int | None]):
    """The manifest of a scan of local copies, with the objects' signatures instead of the copies' stat."""
    import pyarrow as pa

    if result.manifest is not None:
        ids = result.manifest.column("gen_id").to_pylist()
        result.manifest = result.manifest.set_column(3, "sig", pa.array([sigs.get(g) for g in ids], pa.int64()))
    return result


def _merge(a, b):
    import pyarrow as pa

    def cat(x, y):
        if x is None or y is None:
            return x if y is None else y
        return pa.Table.from_batches([x, y]).combine_chunks().to_batches()[0] if (x.num_rows + y.num_rows) else x

    a.size += b.size
    a.gens, a.manifest, a.texts = cat(a.gens, b.gens), cat(a.manifest, b.manifest), cat(a.texts, b.texts)
    a.new += b.new
    a.replaced += b.replaced
    a.vanished += b.vanished
    a.unchanged += b.unchanged
    a.errors += b.errors
    return a


class RemoteStore:
    """The indexer's hooks for a store at an fsspec URL: ``list_store``, ``scan``, ``read_text``.

    ``runner`` scans the units: a :class:`~.executors.DaskExecutor` (workers reach the store themselves)
    or, by default, a :class:`~.executors.ThreadExecutor` on this machine.
    """

    def __init__(self, url: str, storage_options: dict | None = None, runner=None):
        from .executors import ThreadExecutor

        self.url = url.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self.fs, self.root = open_url(self.url, self.storage_options)
        self.runner = runner or ThreadExecutor()
        self.data_root = self.url  # recorded in snapshot.json
        self.files: dict[tuple[str, str], Files] = {}
        self.staging: Path | None = None

    # -- the staging directory: the small files, and an empty gens/ ------------------------------
    def stage(self, staging: Path) -> Path:
        """Copy the store's small files into ``staging`` (created) and give it an empty ``gens/``."""
        self.staging = staging
        (staging / layout.GENS_DIR).mkdir(parents=True, exist_ok=True)
        for rel in STAGED:
            source = f"{self.root}/{rel}"
            try:
                if self.fs.isdir(source):
                    for path in self.fs.find(source):
                        target = staging / _strip(path)[len(_strip(self.root)) :].lstrip("/")
                        target.parent.mkdir(parents=True, exist_ok=True)
                        self.fs.get_file(path, str(target))
                elif self.fs.isfile(source):
                    (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                    self.fs.get_file(source, str(staging / rel))
            except FileNotFoundError:
                continue
        return staging

    # -- hooks the indexer calls -----------------------------------------------------------------
    def list_store(self, where: layout.StoreLayout) -> tuple[dict[str, list[str]], list[tuple]]:
        """Generation directories per stage from one recursive listing of ``gens/``, with their files."""
        errors: list[tuple] = []
        listed: dict[str, list[str]] = {}
        prefix = f"{self.root}/{layout.GENS_DIR}/"
        try:
            found = self.fs.find(f"{self.root}/{layout.GENS_DIR}", detail=True)
        except FileNotFoundError:
            found = {}
        except OSError as exc:
            raise DistributedError(f"cannot list {self.url}/{layout.GENS_DIR}: {exc}") from None
        known = set(layout.KNOWN_FILES)
        dirs: dict[tuple[str, str], list] = {}
        odd: set[str] = set()
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            rel = _strip(path)[len(_strip(prefix)) :] if _strip(path).startswith(_strip(prefix)) else None
            if rel is None:
                continue
            parts = rel.split("/")
            if any(p.startswith(".") for p in parts[:2]):
                continue  # a writer's temporary entry
            if parts[0] not in layout.STAGES:
                odd.add(f"{layout.GENS_DIR}/{parts[0]}")
                continue
            if len(parts) == 2:
                errors.append(
                    (
                        f"{layout.GENS_DIR}/{rel}",
                        parts[0],
                        None,
                        None,
                        "unexpected_entry",
                        "a file where a generation directory was expected",
                    )
                )
                continue
            entry = dirs.setdefault((parts[0], parts[1]), [])
            if len(parts) == 3 and parts[2] in known:
                entry.append((parts[2], int(info.get("size") or 0), _etag(info), _mtime_ns(info)))
        for rel in sorted(odd):
            errors.append(
                (
                    rel,
                    None,
                    None,
                    None,
                    "unexpected_entry",
                    f"not a stage directory (expected {', '.join(layout.STAGES)})",
                )
            )
        order = {name: i for i, name in enumerate(layout.KNOWN_FILES)}
        self.files = {key: tuple(sorted(v, key=lambda f: order[f[0]])) for key, v in dirs.items()}
        for stage, gen_id in self.files:
            listed.setdefault(stage, []).append(gen_id)
        for names in listed.values():
            names.sort()
        if self.fs.exists(f"{self.root}/{layout.DOCS_DIR}"):
            errors.append(
                (
                    layout.DOCS_DIR,
                    None,
                    None,
                    None,
                    "unexpected_entry",
                    "seed 000's docs store is not indexed on object storage: copy it to a file system (docs/distributed.md)",
                )
            )
        return listed, errors

    def scan(self, work: Iterator, data_root: str, racy_after_ns: int, texts: bool):
        from .executors import _units

        def args(stage: str, items: list[tuple]) -> tuple:
            with_files = [(g, m, s, self.files.get((stage, g), ())) for g, m, s, *_ in items]
            return (self.url, self.storage_options, stage, with_files, racy_after_ns, texts)

        return self.runner.map_units(scan_remote_batch, _units(work, args), texts)

    def read_text(self, path: Path) -> str | None:
        """A text for the search index, fetched from the store (``path`` is under the staging directory)."""
        from ..texts import SEARCH_MAX_CHARS

        rel = os.path.relpath(path, self.staging)
        try:
            with self.fs.open(f"{self.root}/{rel}", "rb") as f:
                data = f.read(4 * SEARCH_MAX_CHARS)
        except OSError:
            return None
        return data.decode("utf-8", errors="replace")[:SEARCH_MAX_CHARS]

    def close(self) -> None:
        close = getattr(self.runner, "close", None)
        if close is not None:
            close()


def refresh_url(
    url: str,
    index_dir=None,
    *,
    full: bool = False,
    jobs: int | None = None,
    strict: bool = False,
    progress=None,
    texts: bool = True,
    runner=None,
    storage_options: dict | None = None,
):
    """:func:`gensql.refresh` of a store at an fsspec URL.

    ``index_dir``: a local directory, or None for ``<url>/index`` on the object store itself (built in
    a local cache, then published: :func:`.remote_index.publish_snapshot`). ``runner``: a
    :class:`~.executors.DaskExecutor` to scan on a cluster, else ``jobs`` threads here.
    """
    from ..indexer import refresh
    from .executors import ThreadExecutor
    from .remote_index import local_cache, publish_snapshot, pull_index

    store = RemoteStore(url, storage_options, runner or ThreadExecutor(jobs))
    remote_index = index_dir is None or (isinstance(index_dir, str) and "://" in index_dir)
    index_url = (index_dir or f"{store.url}/{layout.INDEX_DIR}") if remote_index else None
    local_index = local_cache(index_url) if remote_index else Path(index_dir).expanduser().absolute()
    if remote_index:
        pull_index(index_url, local_index, storage_options)
    staging = Path(tempfile.mkdtemp(prefix="gensql-staging-"))
    try:
        store.stage(staging)
        started = time.perf_counter()
        result = None
        try:
            result = refresh(
                str(staging),
                str(local_index),
                full=full,
                jobs=jobs,
                strict=False,
                progress=progress,
                texts=texts,
                executor=store,
            )
        finally:
            if runner is None:
                store.close()
        if remote_index:
            publish_snapshot(local_index, index_url, storage_options)
        result.seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if strict and result.scan_errors:
        from ..errors import StrictModeError

        raise StrictModeError(f"{result}\n--strict: {result.scan_errors} file problem(s)")
    return result
