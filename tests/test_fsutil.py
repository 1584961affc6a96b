"""gensql.fsutil: the one hard-link-or-copy the index, the search index and backfill share."""

from __future__ import annotations

import errno
import os

from gensql import fsutil


def test_link_or_copy_links_where_it_can(tmp_path):
    src = tmp_path / "a.parquet"
    src.write_bytes(b"rows")
    assert fsutil.link_or_copy(src, tmp_path / "b.parquet") is True
    assert os.stat(tmp_path / "b.parquet").st_ino == os.stat(src).st_ino


def test_link_or_copy_copies_across_devices_keeping_the_mtime(tmp_path, monkeypatch):
    """Backfill reads a legacy file's mtime as its generation time: a copy must keep it."""
    src = tmp_path / "raw.txt"
    src.write_bytes(b"an essay")
    os.utime(src, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))

    def cross_device(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    assert fsutil.link_or_copy(src, tmp_path / "copy.txt") is False
    copy = tmp_path / "copy.txt"
    assert copy.read_bytes() == b"an essay"
    assert os.stat(copy).st_ino != os.stat(src).st_ino
    assert os.stat(copy).st_mtime_ns == 1_700_000_000_000_000_000
