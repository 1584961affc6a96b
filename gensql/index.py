"""The on-disk index: immutable snapshots swapped in atomically, and the lock that serialises writers.

``<index>/snapshots/<id>/`` holds the Parquet files of each table (the per-generation tables as hash
partitions, most of them hard links to the previous snapshot's: docs/index-layout.md) plus
``snapshot.json``. A refresh
writes a new snapshot under a temporary name, renames it into place, then atomically replaces the
``<index>/current`` symlink. A reader resolves ``current`` once and reads that snapshot's files, so
it always sees one complete, consistent index, even while a refresh runs; a refresh killed at any
moment leaves ``current`` pointing at the previous snapshot.

Retention: the newest ``KEEP`` snapshots are kept, plus any snapshot an open reader holds a lease on
(:func:`acquire_lease`: a shared ``flock`` on its ``snapshot.json``, taken by :func:`gensql.connect`),
so a connection pinned to an older snapshot keeps working until it is closed.

The index directory holds only what gensql made: it carries a marker file
(:data:`gensql.layout.INDEX_MARKER_FILE`), gensql refuses to write into a directory inside the store's
``gens/``, ``cohorts/`` or ``docs/`` or into a non-empty directory that is not a gensql index, and
garbage collection deletes only names gensql itself produces (snapshot ids, ``.tmp-<id>`` and
``.tmp-link-<id>``). Rules and reasons: docs/hardening.md.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import stat
import struct
import sys
import uuid
import weakref
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from . import faults, layout
from .errors import GensqlError, IndexDirError, IndexLockedError, IndexNotFoundError, IndexWriteError
from .fsutil import fsync_path

#: Snapshots kept after a refresh (the current one included); older ones are kept only while an open
#: reader holds a lease on them.
KEEP = 3
#: Name prefix of a snapshot directory being written (``snapshots/.tmp-<id>``): garbage once its writer is gone.
TMP_PREFIX = ".tmp-"
#: Name prefix of the new ``current`` symlink before it is renamed over the old one.
LINK_PREFIX = f"{TMP_PREFIX}link-"
#: The names :func:`new_snapshot_id` produces: the only snapshot directories gensql ever deletes.
_SNAPSHOT_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{6}$")
#: What an index directory from before the marker file may hold (then it is adopted).
_OLD_INDEX_NAMES = frozenset({layout.INDEX_CURRENT_LINK, layout.INDEX_SNAPSHOTS_DIR, layout.INDEX_LOCK_FILE})


@dataclass(frozen=True)
class Snapshot:
    """One complete index: its id, directory and the facts written with it."""

    id: str
    path: Path
    info: dict

    def table_path(self, table: str) -> Path:
        return self.path / layout.TABLE_FILES[table]


def _snapshots_dir(index_dir: Path) -> Path:
    return index_dir / layout.INDEX_SNAPSHOTS_DIR


def current_snapshot(index_dir: Path) -> Snapshot | None:
    """The snapshot ``current`` points at, or None when no index has been written."""
    link = index_dir / layout.INDEX_CURRENT_LINK
    try:
        target = (index_dir / os.readlink(link)).resolve()
        info = orjson.loads((target / layout.SNAPSHOT_INFO_FILE).read_bytes())
    except (FileNotFoundError, NotADirectoryError, OSError, orjson.JSONDecodeError):
        return None
    return Snapshot(id=target.name, path=target, info=info)


def require_snapshot(index_dir: Path) -> Snapshot:
    snap = current_snapshot(index_dir)
    if snap is None:
        _raise_if_unreadable(index_dir)
        raise IndexNotFoundError(f"no index at {index_dir}: run `gensql refresh` first (see --data-root / --index-dir)")
    return snap


def _raise_if_unreadable(index_dir: Path) -> None:
    """An index that exists but this user may not read is not "no index": say so (exit 2)."""
    try:
        target = index_dir / os.readlink(index_dir / layout.INDEX_CURRENT_LINK)
        with open(target / layout.SNAPSHOT_INFO_FILE, "rb"):
            pass
    except PermissionError as exc:
        raise IndexNotFoundError(
            f"cannot read the index at {index_dir}: permission denied ({exc.filename}); ask its owner for read "
            "access, or refresh an index of your own with --index-dir"
        ) from None
    except OSError:
        pass


def prepare_index_dir(index_dir: Path, data_root: Path | None = None) -> None:
    """Make sure ``index_dir`` is a gensql index directory gensql may write, creating it if needed.

    Raises :class:`IndexDirError` for a directory inside the store's ``gens/``, ``cohorts/`` or
    ``docs/`` (gensql never writes there), and for an existing non-empty directory that is not a gensql
    index. An index written before the marker file existed is recognised and adopted.
    """
    if data_root is not None:
        real = os.path.realpath(index_dir)
        for name in (layout.GENS_DIR, layout.COHORTS_DIR, layout.DOCS_DIR):
            inner = os.path.realpath(data_root / name)
            if real == inner or real.startswith(inner.rstrip("/") + "/"):
                raise IndexDirError(
                    f"index directory {index_dir} is inside the store's {name}/ ({inner}): gensql never writes there; "
                    "pass an --index-dir outside gens/, cohorts/ and docs/"
                )
    marker = index_dir / layout.INDEX_MARKER_FILE
    if os.path.isfile(marker) and not os.path.islink(marker):
        return
    if os.path.lexists(index_dir) and not index_dir.is_dir():
        raise IndexDirError(f"index directory {index_dir} exists and is not a directory")
    index_dir.mkdir(parents=True, exist_ok=True)
    names = set(os.listdir(index_dir))
    if names and not _is_old_index(index_dir, names):
        raise IndexDirError(
            f"{index_dir} is not empty and is not a gensql index (it has no {layout.INDEX_MARKER_FILE} file): "
            "refusing to write there; pass a new or empty --index-dir"
        )
    with open(marker, "w", encoding="utf-8") as f:
        f.write(
            "This directory is a gensql index: gensql creates and deletes only its own names here (see docs/hardening.md).\n"
        )


def _is_old_index(index_dir: Path, names: set[str]) -> bool:
    """An index written by a gensql from before the marker file: only gensql's own names, ``current`` a link."""
    if not names <= _OLD_INDEX_NAMES | {n for n in names if n.startswith(LINK_PREFIX)}:
        return False
    current = index_dir / layout.INDEX_CURRENT_LINK
    return not os.path.lexists(current) or os.path.islink(current)


@contextmanager
def store_umask(data_root: Path) -> Iterator[None]:
    """Write the index no more openly than the store: permission bits the data root lacks for group
    and others are added to the process umask while the block runs (a 0700 store gives a 0700 index).
    """
    try:
        missing = ~os.stat(data_root).st_mode & 0o077
    except OSError:
        missing = 0
    old = os.umask(0o077)
    os.umask(old | missing)
    try:
        yield
    finally:
        os.umask(old)


def disk_error(exc: BaseException, index_dir: Path) -> GensqlError | None:
    """The one-line error for a full disk or quota while writing the index (:class:`IndexWriteError`, exit
    5), or for a user who may not write the index directory (:class:`IndexDirError`, exit 2), else None."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    filename = getattr(exc, "filename", None)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) and _inside(filename, index_dir):
        why = "read-only file system" if code == errno.EROFS else "permission denied"
        return IndexDirError(
            f"cannot write the index at {index_dir} ({why}: {filename}); the previous index is unchanged: "
            "run gensql refresh as the index's owner, or pass an --index-dir you can write"
        )
    if code == errno.ENOSPC or "No space left on device" in text:
        what = "disk full"
    elif code == errno.EDQUOT or "Disk quota exceeded" in text:
        what = "disk quota exceeded"
    else:
        return None
    detail = getattr(exc, "filename", None) or index_dir
    return IndexWriteError(
        f"{what} while writing the index at {index_dir} ({detail}); the previous index is still current and "
        "nothing was left behind: free some space and run `gensql refresh` again"
    )


def _inside(path: object, index_dir: Path) -> bool:
    if not isinstance(path, (str, os.PathLike)):
        return False
    path, index = os.path.abspath(os.fspath(path)), os.path.abspath(index_dir)
    return path == index or path.startswith(index.rstrip("/") + "/")


@contextmanager
def disk_errors_as_messages(index_dir: Path) -> Iterator[None]:
    """Turn a full disk or quota anywhere in the block into :func:`disk_error`'s one-line error."""
    try:
        yield
    except Exception as exc:
        converted = disk_error(exc, index_dir)
        if converted is None:
            raise
        raise converted from None


@contextmanager
def writer_lock(index_dir: Path, data_root: Path | None = None) -> Iterator[None]:
    """Hold the index's writer lock; a second writer fails at once with a clear message.

    The directory is checked (and created) by :func:`prepare_index_dir` first. ``flock`` is released
    by the kernel when the holder dies, so a killed refresh never leaves a stale lock behind.
    """
    prepare_index_dir(index_dir, data_root)
    path = index_dir / layout.INDEX_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise IndexLockedError(
                f"another refresh is writing the index at {index_dir} (pid {holder}); "
                "wait for it to finish and run the command again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def new_snapshot_id() -> str:
    """Sortable by creation time, unique across processes."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


class SnapshotBuilder:
    """A snapshot being written: files go to a hidden temporary directory until :meth:`commit`."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self.id = new_snapshot_id()
        root = _snapshots_dir(index_dir)
        root.mkdir(parents=True, exist_ok=True)
        self.tmp_path = root / f"{TMP_PREFIX}{self.id}"
        self.tmp_path.mkdir()
        self.final_path = root / self.id
        #: Paths (inside the snapshot) that are hard links to files of an earlier, committed snapshot:
        #: already on disk, so the commit does not fsync them again.
        self.durable: set[str] = set()

    def path(self, table: str) -> Path:
        return self.tmp_path / layout.TABLE_FILES[table]

    def part_path(self, table: str, stage: str, bits: int, bucket: int) -> Path:
        """A partition file of a partitioned table (its directory created): docs/index-layout.md."""
        faults.point("snapshot.part")
        path = self.tmp_path / layout.partition_file(table, stage, bits, bucket)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def commit(self, info: dict, before_swap: Callable[[Path], object] | None = None) -> Snapshot:
        """Make the snapshot durable and current in one atomic step (the symlink swap).

        ``before_swap(final_path)`` runs once the snapshot has its final name but is not current yet.
        """
        faults.point("snapshot.commit")
        info = {"id": self.id, **info}
        (self.tmp_path / layout.SNAPSHOT_INFO_FILE).write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
        seal_tree(self.tmp_path, top=False)  # committed means read-only (the top once the catalog is in)
        _fsync_tree(self.tmp_path, self.durable)  # every file and directory is on disk before any name points at it
        os.rename(self.tmp_path, self.final_path)
        fsync_path(self.final_path.parent)  # the rename itself
        if before_swap is not None:
            written = before_swap(self.final_path)
            if isinstance(written, Path):  # what before_swap wrote (the catalog file)
                seal_tree(written)
                fsync_path(written)
                fsync_path(self.final_path)
            else:
                seal_tree(self.final_path, top=False)
                _fsync_tree(self.final_path)
        seal_tree(self.final_path, below=False)
        link = self.index_dir / layout.INDEX_CURRENT_LINK
        self.tmp_link = self.index_dir / f"{LINK_PREFIX}{self.id}"
        os.symlink(os.path.join(layout.INDEX_SNAPSHOTS_DIR, self.id), self.tmp_link)
        faults.point("snapshot.swap")
        os.replace(self.tmp_link, link)
        fsync_path(self.index_dir)  # the swap
        faults.point("snapshot.current")
        return Snapshot(self.id, self.final_path, info)

    def abort(self) -> None:
        """Remove whatever this builder wrote, unless it already became current."""
        remove_tree(self.tmp_path)
        tmp_link = getattr(self, "tmp_link", None)
        if tmp_link is not None and os.path.islink(tmp_link):
            os.unlink(tmp_link)
        current = current_snapshot(self.index_dir)
        if self.final_path.exists() and (current is None or current.id != self.id):
            remove_tree(self.final_path)


#: Directories of a snapshot that stay writable: tantivy's readers create their lock files in ``search/``.
_WRITABLE_DIRS = frozenset({"search"})
#: Files that stay writable: tantivy's lock files, which every reader opens for writing.
_WRITABLE_FILES = (".tantivy-",)


def seal_tree(root: Path, *, top: bool = True, below: bool = True) -> None:
    """Make a snapshot (or one file of it) read-only before it is committed: files lose every write bit,
    and so do the snapshot's directories except ``search/`` (tantivy's readers take locks there).

    A snapshot is immutable by design, and its files are hard links shared with later snapshots, so a
    stray write through any reader would damage every snapshot at once. The write bits are only a
    guard against accidents and other users (root ignores them): an incremental refresh also checks
    what it carries forward (:func:`gensql.refresh.index.refresh`). :func:`remove_tree` gives the bits back
    to delete a snapshot. ``top=False`` leaves ``root`` itself writable (the catalog is still to come);
    ``below=False`` seals ``root`` alone.
    """
    if not root.is_dir():
        os.chmod(root, stat.S_IMODE(os.lstat(root).st_mode) & ~0o222)
        return
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False) if below else ():
        writable = os.path.relpath(dirpath, root).split(os.sep)[0] in _WRITABLE_DIRS
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and not name.startswith(_WRITABLE_FILES) and st.st_mode & 0o222:
                os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o222)
        if not writable and dirpath != str(root):
            os.chmod(dirpath, stat.S_IMODE(os.lstat(dirpath).st_mode) & ~0o222)
    if top:
        os.chmod(root, stat.S_IMODE(os.lstat(root).st_mode) & ~0o222)


def remove_tree(root: Path | str) -> None:
    """Delete a snapshot directory :func:`seal_tree` made read-only (its owner gives the write bits
    back first; errors are ignored, as a half-deleted snapshot is removed again by the next refresh)."""
    if not os.path.isdir(root) or os.path.islink(root):
        return
    for dirpath, _dirnames, _filenames in os.walk(root):
        try:
            mode = stat.S_IMODE(os.lstat(dirpath).st_mode)
            if not mode & stat.S_IWUSR:
                os.chmod(dirpath, mode | stat.S_IWUSR)
        except OSError:
            pass
    shutil.rmtree(root, ignore_errors=True)


def _fsync_tree(root: Path, skip: AbstractSet[str] = frozenset()) -> None:
    """fsync every file and directory under ``root`` (directories after their files), except the
    files whose path relative to ``root`` is in ``skip``.

    Each inode once (a partition file linked under two names is synced once), files in a few threads
    at a time (the file system commits concurrent fsyncs together), then the directories.
    """
    from concurrent.futures import ThreadPoolExecutor

    prefix = len(str(root)) + 1
    files: dict[tuple[int, int], str] = {}
    dirs: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path[prefix:] in skip:
                continue
            st = os.lstat(path)
            if not os.path.islink(path):
                files.setdefault((st.st_dev, st.st_ino), path)
        dirs.append(dirpath)
    if len(files) > 4:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda path: fsync_path(Path(path)), files.values()))
    else:
        for path in files.values():
            fsync_path(Path(path))
    for dirpath in dirs:  # deepest first (os.walk bottom-up)
        fsync_path(Path(dirpath))


# --- reader leases -------------------------------------------------------------------------------


def acquire_lease(index_dir: Path, attempts: int = 5) -> tuple[Snapshot, int]:
    """The current snapshot and an open descriptor holding a shared lease on it.

    While the descriptor is open, garbage collection keeps that snapshot. A snapshot collected between
    resolving ``current`` and taking the lease is noticed (its file is gone) and ``current`` resolved again.
    """
    for _ in range(attempts):
        snap = require_snapshot(index_dir)
        try:
            fd = os.open(snap.path / layout.SNAPSHOT_INFO_FILE, os.O_RDONLY)
        except FileNotFoundError:
            continue
        except PermissionError:
            _raise_if_unreadable(index_dir)
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink > 0:
                return snap, fd
        except BlockingIOError:
            pass  # being collected right now
        os.close(fd)
    raise IndexNotFoundError(f"the index at {index_dir} keeps changing under us: run the command again")


def hold_lease(owner: object, fd: int) -> None:
    """Release the lease ``fd`` when ``owner`` (a connection) is garbage-collected."""
    weakref.finalize(owner, os.close, fd)


def _in_use(snapshot: Path) -> int | None:
    """None when some reader holds a lease on ``snapshot``; else an fd holding it exclusively (close it)."""
    try:
        fd = os.open(snapshot / layout.SNAPSHOT_INFO_FILE, os.O_RDONLY)
    except OSError:
        return -1  # no info file: an unfinished snapshot, nobody can read it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if catalog_open_elsewhere(snapshot / layout.INDEX_CATALOG_FILE):
        os.close(fd)
        return None
    return fd


def catalog_open_elsewhere(catalog: Path) -> bool:
    """Whether another process has the catalog file open in DuckDB (which holds a POSIX record lock on
    it while open, shared when read-only): a DuckDB session's lease, so its snapshot is kept like that of
    a :func:`gensql.connect` connection. Linux only (the ``struct flock`` layout); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fd = os.open(catalog, os.O_RDONLY)
    except OSError:
        return False
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        return struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)


def collect_garbage(index_dir: Path, keep: int = KEEP) -> None:
    """Remove temporary leftovers of killed refreshes and all but the newest ``keep`` snapshots.

    Only names gensql produces are touched; a snapshot an open reader holds a lease on is kept. Call
    only while holding the writer lock.
    """
    current = current_snapshot(index_dir)
    for entry in os.scandir(index_dir):
        if (
            entry.name.startswith(LINK_PREFIX)
            and _SNAPSHOT_ID.match(entry.name[len(LINK_PREFIX) :])
            and entry.is_symlink()
        ):
            os.unlink(entry.path)
    root = _snapshots_dir(index_dir)
    if not root.is_dir() or root.is_symlink():
        return
    finished = []
    for entry in os.scandir(root):
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.startswith(TMP_PREFIX) and _SNAPSHOT_ID.match(entry.name[len(TMP_PREFIX) :]):
            remove_tree(entry.path)
        elif _SNAPSHOT_ID.match(entry.name):
            finished.append(Path(entry.path))
    finished.sort(key=lambda p: p.name, reverse=True)
    for old in finished[keep:]:
        if current is not None and old.name == current.id:
            continue
        fd = _in_use(old)
        if fd is None:
            continue  # an open connection still reads it
        try:
            remove_tree(old)
        finally:
            if fd >= 0:
                os.close(fd)
