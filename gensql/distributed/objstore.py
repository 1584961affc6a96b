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
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .. import layout
from ..safeio import max_file_bytes
from . import DistributedError
from .fs import open_url, strip_protocol

#: Never racy: the signature is computed from the objects, the local copy's stat is not used.
_NEVER = 1 << 62
#: Directories fetched per request group (their files are fetched concurrently by fsspec).
FETCH_GROUP = 64
#: Small files of the store a refresh reads besides ``gens/``, copied to the staging directory.
STAGED = (layout.COHORTS_DIR, layout.DOCS_DB_FILE, layout.ESSAY_TEMPLATES_FILE)

Files = tuple[tuple[str, int, str, int], ...]  # (name, size, etag-or-empty, mtime_ns) per known file


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


def scan_remote_unit(url: str, storage_options: dict | None, task, unit, files: list[Files]):
    """:func:`gensql.refresh.task.run_unit` for directories on object storage.

    ``files``: the listing's :data:`Files` of each of ``unit.items``; the unchanged directories are
    counted, the others fetched into a temporary directory and scanned there, their texts indexed
    into the unit's search part, and its partitions written (``task.output``) where this runs.
    """
    from ..fulltext.engine import PartBuilder
    from ..refresh.task import finish_unit

    items = [(g, m, s, f) for (g, m, s, *_), f in zip(unit.items, files)]
    search_part = task.search_part(unit)
    part = PartBuilder(search_part) if search_part is not None else None
    try:
        merged = _scan_remote(url, storage_options, unit.stage, items, task.racy_after_ns, task.texts, part)
        if part is not None:
            merged.search = part.finish()
    except BaseException:
        if part is not None:
            part.abort()
        raise
    return finish_unit(task, unit, merged)


def _scan_remote(url, storage_options, stage, items, racy_after_ns, texts, part):
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
            got = {strip_protocol(k): v for k, v in got.items()}
            for gen_id, _mask, files, _sig in group:
                local_dir = Path(tmp, layout.GENS_DIR, stage, gen_id)
                local_dir.mkdir(parents=True, exist_ok=True)
                for name, size, _etag, mtime in files:
                    local = local_dir / name
                    if size > cap:
                        with open(local, "wb") as f:
                            f.truncate(size)  # sparse: the scan refuses it as too_large, as for a local file
                    else:
                        data = got.get(strip_protocol(f"{root}/{layout.GENS_DIR}/{stage}/{gen_id}/{name}"))
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
            result = scan_batch(tmp, stage, [(g, m, None) for g, m, _f, _s in group], _NEVER, texts, part)
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
    """The executor of a refresh of a store at an fsspec URL (:class:`gensql.refresh.executor.Executor`).

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
        self.batch_size = getattr(self.runner, "batch_size", None)
        self.shares_disk = self.runner.shares_disk
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
                        target = staging / strip_protocol(path)[len(strip_protocol(self.root)) :].lstrip("/")
                        target.parent.mkdir(parents=True, exist_ok=True)
                        self.fs.get_file(path, str(target))
                elif self.fs.isfile(source):
                    (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                    self.fs.get_file(source, str(staging / rel))
            except FileNotFoundError:
                continue
        return staging

    # -- hooks the indexer calls -----------------------------------------------------------------
    def list_store(self, where: layout.StoreLayout):
        """Generation directories per stage, with their files: one recursive listing per stage, the
        three at once (each is a run of paged requests to the object store)."""
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow as pa

        from ..refresh.listing import sorted_names

        errors: list[tuple] = []
        try:
            top = self.fs.ls(f"{self.root}/{layout.GENS_DIR}", detail=True)
        except FileNotFoundError:
            top = []
        except OSError as exc:
            raise DistributedError(f"cannot list {self.url}/{layout.GENS_DIR}: {exc}") from None
        stages = []
        for info in top:
            name = strip_protocol(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            if name.startswith("."):
                continue
            if name not in layout.STAGES:
                errors.append(
                    (
                        f"{layout.GENS_DIR}/{name}",
                        None,
                        None,
                        None,
                        "unexpected_entry",
                        f"not a stage directory (expected {', '.join(layout.STAGES)})",
                    )
                )
            elif info.get("type") == "directory":
                stages.append(name)
        with ThreadPoolExecutor(max(1, len(stages)), thread_name_prefix="gensql-list") as pool:
            found = list(pool.map(self._list_stage, stages))
        listed = {}
        for stage, (dirs, stage_errors) in zip(stages, found):
            errors += stage_errors
            self.files.update(dirs)
            listed[stage] = sorted_names([pa.array(sorted(g for _s, g in dirs), pa.string())])
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

    def _list_stage(self, stage: str) -> tuple[dict[tuple[str, str], Files], list[tuple]]:
        errors: list[tuple] = []
        prefix = strip_protocol(f"{self.root}/{layout.GENS_DIR}/{stage}/")
        try:
            found = self.fs.find(f"{self.root}/{layout.GENS_DIR}/{stage}", detail=True)
        except FileNotFoundError:
            found = {}
        except OSError as exc:
            raise DistributedError(f"cannot list {self.url}/{layout.GENS_DIR}/{stage}: {exc}") from None
        known = set(layout.KNOWN_FILES)
        dirs: dict[tuple[str, str], list] = {}
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            rel = strip_protocol(path)
            if not rel.startswith(prefix):
                continue
            parts = rel[len(prefix) :].split("/")
            if parts[0].startswith("."):
                continue  # a writer's temporary entry
            if len(parts) == 1:
                errors.append(
                    (
                        f"{layout.GENS_DIR}/{stage}/{parts[0]}",
                        stage,
                        None,
                        None,
                        "unexpected_entry",
                        "a file where a generation directory was expected",
                    )
                )
                continue
            entry = dirs.setdefault((stage, parts[0]), [])
            if len(parts) == 2 and parts[1] in known:
                entry.append((parts[1], int(info.get("size") or 0), _etag(info), _mtime_ns(info)))
        order = {name: i for i, name in enumerate(layout.KNOWN_FILES)}
        return {key: tuple(sorted(v, key=lambda f: order[f[0]])) for key, v in dirs.items()}, errors

    def scan(self, units: Iterator, task):
        """Each unit as :func:`scan_remote_unit` with its directories' objects, on the runner."""
        from .executors import map_units

        def args(unit) -> tuple:
            return (
                self.url,
                self.storage_options,
                task,
                unit,
                [self.files.get((unit.stage, g), ()) for g, *_ in unit.items],
            )

        return map_units(self.runner, scan_remote_unit, ((unit, args(unit)) for unit in units), task.texts)

    def close(self) -> None:
        close = getattr(self.runner, "close", None)
        if close is not None:
            close()
