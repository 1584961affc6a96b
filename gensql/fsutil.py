"""Crash-safe file-system primitives: fsync by path, hard-link-or-copy, write-then-rename, no overwrite.

One home for them: the write path (gensql.write), the index (snapshots, search index) and backfill all
use these, so a fix to one (an fsync missed, a cross-device link) is a fix to all.

A file or directory is built under a hidden temporary name (``.tmp-...``, which refresh never reads
as a generation) beside its final place, fsynced, renamed into place, and the parent directory is
fsynced, so after a crash the final name holds either nothing or the complete content.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

from . import faults, layout


def tmp_name(final_name: str) -> str:
    """A hidden sibling name that no other writer (process or thread) picks; the pid comes last, so
    refresh can tell a running writer's temporary entry from one a killed writer left behind."""
    return f"{layout.WRITER_TMP_PREFIX}{final_name}.{secrets.token_hex(4)}-{os.getpid()}"


def fsync_path(path: str | os.PathLike) -> None:
    """fsync the file or directory at ``path`` (a directory: the names in it, after a create or rename)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_or_copy(source: str | os.PathLike, target: str | os.PathLike) -> bool:
    """Place ``source`` at ``target``: a hard link where the file system allows one (True), else a
    copy with the source's modification time (False).

    Linking shares an immutable file between snapshots (or between a legacy folder and the store) at no
    cost; a copy is the fallback across devices, where links are not permitted, or past a link limit.
    """
    try:
        os.link(source, target)
        return True
    except OSError:
        shutil.copy2(source, target)
        return False


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (which must not exist) with ``data`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: Path, data: bytes) -> None:
    """Atomically create or replace the file ``path`` with ``data`` (write a sibling, rename over)."""
    tmp = path.parent / tmp_name(path.name)
    try:
        write_new_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    fsync_path(path.parent)


def publish_dir(files: dict[str, bytes], target: Path) -> bool:
    """Build a directory holding ``files`` and rename it to ``target``; False if ``target`` exists.

    The rename of a directory onto an existing non-empty directory fails, so two writers racing for
    the same name cannot both succeed, and an existing generation is never replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / tmp_name(target.name)
    os.mkdir(tmp)
    try:
        for name, data in files.items():
            write_new_file(tmp / name, data)
            faults.point("write.file")
        fsync_path(tmp)
        faults.point("write.rename")
        if os.path.lexists(target):
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_path(target.parent)
    return True


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
