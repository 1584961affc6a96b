"""An index on object storage without atomic rename: snapshot files first, ``snapshot.json`` (the manifest) last.

``<index-url>/snapshots/<id>/`` holds the same files as a local snapshot (docs/index-layout.md). A
publisher uploads every file of a new snapshot (a file unchanged since the previous snapshot is a
server-side copy, no upload) and writes ``snapshot.json`` last, in one PUT: a snapshot is complete
exactly when its ``snapshot.json`` exists. Readers list ``snapshots/``, take the newest id (ids sort by
creation time) whose ``snapshot.json`` exists, and read only the files that manifest lists. Old
snapshots are deleted only when they are older than :data:`GRACE_SECONDS` and not among the newest
:data:`gensql.index.KEEP`, so a reader that started on one has that long to finish.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from .. import layout
from ..index import KEEP, Snapshot, current_snapshot, prepare_index_dir
from .fs import open_url, strip_protocol

#: Seconds an older snapshot stays readable after a newer one was published.
GRACE_SECONDS = 3600
#: Environment variable: where the local copies of remote indexes live (default ~/.cache/gensql).
CACHE_ENV = "GENSQL_CACHE_DIR"
_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{6}$")
#: Made again by every reader from its local paths; not published.
_LOCAL_ONLY = {layout.INDEX_CATALOG_FILE}


def local_cache(index_url: str) -> Path:
    """The local directory that mirrors the index at ``index_url`` (a refresh builds there, then publishes)."""
    base = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gensql")
    return base / f"index-{hashlib.sha256(index_url.encode()).hexdigest()[:16]}"


def _created(snapshot_id: str) -> float:
    return datetime.strptime(snapshot_id.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC).timestamp()


def snapshot_ids(index_url: str, storage_options: dict | None = None) -> tuple[list[str], set[str]]:
    """Every snapshot id under ``<index-url>/snapshots/`` (newest first), and the complete ones."""
    fs, root = open_url(index_url, storage_options)
    fs.invalidate_cache()
    try:
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(f"{root}/{layout.INDEX_SNAPSHOTS_DIR}", detail=False)]
    except FileNotFoundError:
        return [], set()
    ids = sorted((n for n in names if _ID.match(n)), reverse=True)
    try:
        manifests = fs.glob(f"{root}/{layout.INDEX_SNAPSHOTS_DIR}/*/{layout.SNAPSHOT_INFO_FILE}")
    except FileNotFoundError:
        manifests = []
    complete = {p.rstrip("/").rsplit("/", 2)[-2] for p in manifests}
    return ids, complete & set(ids)


def newest_snapshot(index_url: str, storage_options: dict | None = None) -> tuple[str, dict] | None:
    """``(snapshot URL, its snapshot.json)`` of the newest complete snapshot, or None: what readers follow."""
    fs, root = open_url(index_url, storage_options)
    ids, complete = snapshot_ids(index_url, storage_options)
    for snapshot_id in ids:
        if snapshot_id in complete:
            base = f"{root}/{layout.INDEX_SNAPSHOTS_DIR}/{snapshot_id}"
            info = orjson.loads(fs.cat_file(f"{base}/{layout.SNAPSHOT_INFO_FILE}"))
            protocol = index_url.split("://", 1)[0] + "://" if "://" in index_url else ""
            return f"{protocol}{strip_protocol(base)}", info
    return None


def pull_index(index_url: str, local_index: str | os.PathLike, storage_options: dict | None = None) -> Snapshot | None:
    """Make the newest complete snapshot at ``index_url`` the current snapshot of ``local_index``.

    Downloads it unless the local index already has it; returns it (None: no snapshot published yet).
    ``gensql.connect(index_dir=local_index)`` then reads it like any local index.
    """
    from ..catalog import write_catalog
    from ..fsutil import fsync_path
    from ..index import LINK_PREFIX, TMP_PREFIX

    local_index = Path(local_index)
    newest = newest_snapshot(index_url, storage_options)
    prepare_index_dir(local_index)
    if newest is None:
        return current_snapshot(local_index)
    url, info = newest
    current = current_snapshot(local_index)
    if current is not None and current.id == info["id"]:
        return current
    snapshots = local_index / layout.INDEX_SNAPSHOTS_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    final = snapshots / info["id"]
    if not final.is_dir():
        fs, base = open_url(url, storage_options)
        tmp = snapshots / f"{TMP_PREFIX}{info['id']}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        sources = [p for p in fs.find(base) if not p.endswith("/" + layout.SNAPSHOT_INFO_FILE)]
        targets = [str(tmp / strip_protocol(p)[len(strip_protocol(base)) :].lstrip("/")) for p in sources]
        for t in targets:
            Path(t).parent.mkdir(parents=True, exist_ok=True)
        if sources:
            fs.get(sources, targets)
        # The copies have this machine's mtimes: the publisher's file_stats would call every file damaged.
        # Without them the next refresh checks the files' Parquet footers against `files` instead.
        local_info = {k: v for k, v in info.items() if k != "file_stats"}
        (tmp / layout.SNAPSHOT_INFO_FILE).write_bytes(orjson.dumps(local_info, option=orjson.OPT_INDENT_2))
        os.rename(tmp, final)
        write_catalog(final)
    link = local_index / layout.INDEX_CURRENT_LINK
    tmp_link = local_index / f"{LINK_PREFIX}{info['id']}"
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.join(layout.INDEX_SNAPSHOTS_DIR, info["id"]), tmp_link)
    os.replace(tmp_link, link)
    fsync_path(local_index)
    return current_snapshot(local_index)


def publish_snapshot(
    local_index: str | os.PathLike,
    index_url: str,
    storage_options: dict | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> str:
    """Publish ``local_index``'s current snapshot to ``index_url``: data files, then ``snapshot.json``.

    A file that is the same inode as the same path in the local copy of the newest published snapshot
    (a partition the refresh did not touch) is copied server-side from there. Returns the snapshot's URL.
    """
    local_index = Path(local_index)
    snap = current_snapshot(local_index)
    if snap is None:
        raise FileNotFoundError(f"no snapshot in {local_index}")
    fs, root = open_url(index_url, storage_options)
    base = f"{root}/{layout.INDEX_SNAPSHOTS_DIR}/{snap.id}"
    ids, complete = snapshot_ids(index_url, storage_options)
    if snap.id in complete:
        return base
    previous = next((i for i in ids if i in complete), None)
    prev_local = local_index / layout.INDEX_SNAPSHOTS_DIR / previous if previous else None
    put_l, put_r, copy_s, copy_t = [], [], [], []
    for dirpath, _dirs, names in os.walk(snap.path):
        for name in names:
            path = Path(dirpath, name)
            rel = path.relative_to(snap.path).as_posix()
            if rel == layout.SNAPSHOT_INFO_FILE or rel in _LOCAL_ONLY or name.endswith(".tmp"):
                continue
            same = prev_local is not None and (prev_local / rel).exists() and os.path.samefile(path, prev_local / rel)
            if same:
                copy_s.append(f"{root}/{layout.INDEX_SNAPSHOTS_DIR}/{previous}/{rel}")
                copy_t.append(f"{base}/{rel}")
            else:
                put_l.append(str(path))
                put_r.append(f"{base}/{rel}")
    if copy_s:
        fs.copy(copy_s, copy_t)
    if put_l:
        fs.put(put_l, put_r)
    fs.pipe_file(
        f"{base}/{layout.SNAPSHOT_INFO_FILE}", (snap.path / layout.SNAPSHOT_INFO_FILE).read_bytes()
    )  # last: now complete
    collect_remote(index_url, storage_options, grace_seconds, keep_id=snap.id)
    return base


def collect_remote(
    index_url: str,
    storage_options: dict | None = None,
    grace_seconds: float = GRACE_SECONDS,
    keep: int = KEEP,
    keep_id: str | None = None,
) -> list[str]:
    """Delete snapshots older than ``grace_seconds`` beyond the newest ``keep`` complete ones, and
    unfinished ones (a publisher that died) older than that; returns the deleted ids."""
    fs, root = open_url(index_url, storage_options)
    ids, complete = snapshot_ids(index_url, storage_options)
    now = time.time()
    kept = [i for i in ids if i in complete][:keep]
    deleted = []
    for snapshot_id in ids:
        if snapshot_id in kept or snapshot_id == keep_id or now - _created(snapshot_id) < grace_seconds:
            continue
        base = f"{root}/{layout.INDEX_SNAPSHOTS_DIR}/{snapshot_id}"
        if snapshot_id in complete:
            fs.rm_file(f"{base}/{layout.SNAPSHOT_INFO_FILE}")  # first: no reader starts on it any more
        fs.rm(base, recursive=True)
        deleted.append(snapshot_id)
    return deleted
