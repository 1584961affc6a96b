"""Crash-safe file-system primitives of the write path: write-then-rename, fsync, no overwrite.

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

from .. import faults, layout


def tmp_name(final_name: str) -> str:
    """A hidden sibling name that no other writer (process or thread) picks; the pid comes last, so
    refresh can tell a running writer's temporary entry from one a killed writer left behind."""
    return f"{layout.WRITER_TMP_PREFIX}{final_name}.{secrets.token_hex(4)}-{os.getpid()}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    fsync_dir(path.parent)


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
        fsync_dir(tmp)
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
    fsync_dir(target.parent)
    return True


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
