"""Hardening of the index directory: it holds only what gensql made, retention keeps the last 3 without
breaking open readers, commits are durable, permissions follow the store, and a full disk is a message.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from storebuilder import write_gen

import gensql
from gensql import index as index_mod
from gensql.errors import IndexDirError, QueryError
from gensql.query import run_sql


def gensql_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gensql", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tempfile.gettempdir(),
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_gen(root, "draft", "d_1", {"metadata.json": {"model_id": "m"}, "raw.txt": "r", "parsed.txt": "p"})
    return root


def snapshot_names(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "snapshots").iterdir())


def touch_gen(root: Path, n: int) -> None:
    write_gen(root, "draft", f"d_new{n}", {"metadata.json": {"model_id": "m"}, "raw.txt": "r", "parsed.txt": "p"})


# --- 4. the index directory holds only what gensql made --------------------------------------------


def test_foreign_entries_in_the_index_directory_survive_every_refresh(store):
    gensql.refresh(store)
    index = store / "index"
    (index / "snapshots" / "my-notes").mkdir()
    (index / "snapshots" / "my-notes" / "keep.txt").write_text("mine")
    (index / "snapshots" / "2020-report.csv").write_text("mine")
    (index / ".tmp-user-file").write_text("mine")
    (index / ".tmp-dir").mkdir()
    (index / ".tmp-dir" / "x").write_text("mine")
    (index / "snapshots" / ".tmp-mine").mkdir()
    for n in range(5):
        touch_gen(store, n)
        gensql.refresh(store)
    assert (index / "snapshots" / "my-notes" / "keep.txt").read_text() == "mine"
    assert (index / "snapshots" / "2020-report.csv").exists()
    assert (index / ".tmp-user-file").read_text() == "mine"
    assert (index / ".tmp-dir" / "x").read_text() == "mine"
    assert (index / "snapshots" / ".tmp-mine").is_dir()


def test_leftovers_of_a_killed_refresh_are_removed(store):
    gensql.refresh(store)
    index = store / "index"
    current = gensql.connect(store).sql("SELECT 1").fetchall()  # noqa: F841 - just proves it reads
    leftover = index / "snapshots" / f".tmp-{index_mod.new_snapshot_id()}"
    leftover.mkdir()
    (leftover / "gens.parquet").write_bytes(b"partial")
    link = index / f".tmp-link-{index_mod.new_snapshot_id()}"
    os.symlink("snapshots/nowhere", link)
    touch_gen(store, 1)
    gensql.refresh(store)
    assert not leftover.exists() and not os.path.lexists(link)


def test_the_index_directory_carries_a_marker(store):
    gensql.refresh(store)
    marker = store / "index" / ".gensql-index"
    assert marker.is_file() and "gensql" in marker.read_text()


@pytest.mark.parametrize("inside", ["gens", "gens/draft", "cohorts", "cohorts/c1"])
def test_an_index_directory_inside_the_store_is_refused(store, inside):
    (store / "cohorts" / "c1").mkdir(parents=True)
    before = sorted(str(p) for p in store.rglob("*"))
    r = gensql_process("refresh", "--data-root", str(store), "--index-dir", str(store / inside / "idx"))
    assert r.returncode == 2, r.stderr
    assert "inside" in r.stderr and "Traceback" not in r.stderr
    assert sorted(str(p) for p in store.rglob("*")) == before


def test_a_non_empty_directory_that_is_not_an_index_is_refused(store, tmp_path):
    foreign = tmp_path / "my-project"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    r = gensql_process("refresh", "--data-root", str(store), "--index-dir", str(foreign))
    assert r.returncode == 2 and "not a gensql index" in r.stderr, r.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(IndexDirError):
        gensql.refresh(store, foreign)


def test_an_index_written_before_the_marker_existed_is_adopted(store):
    gensql.refresh(store)
    (store / "index" / ".gensql-index").unlink()
    touch_gen(store, 1)
    assert gensql.refresh(store).generations == 2
    assert (store / "index" / ".gensql-index").is_file()


# --- 5. retention: the last 3, without breaking an open reader ---------------------------------------


def test_retention_keeps_the_last_three_snapshots(store):
    for n in range(6):
        touch_gen(store, n)
        gensql.refresh(store)
    names = snapshot_names(store / "index")
    assert len(names) == 3
    assert os.readlink(store / "index" / "current").endswith(names[-1])


@pytest.mark.slow
def test_an_open_connection_keeps_its_snapshot(store):
    gensql.refresh(store)
    con = gensql.connect(store)
    pinned = con.sql("SELECT count(*) FROM gens").fetchall()
    for n in range(5):
        touch_gen(store, n)
        gensql.refresh(store)
    assert con.sql("SELECT count(*) FROM gens").fetchall() == pinned  # still its own, complete snapshot
    assert len(snapshot_names(store / "index")) == 4
    con.close()
    del con
    touch_gen(store, 99)
    gensql.refresh(store)
    assert len(snapshot_names(store / "index")) == 3


def test_a_connection_whose_snapshot_is_gone_says_reconnect(store):
    gensql.refresh(store)
    con = gensql.connect(store)
    snap = index_mod.current_snapshot(store / "index")
    shutil.rmtree(snap.path)  # as an outside cleanup would
    with pytest.raises(QueryError, match="reconnect"):
        run_sql(con, "SELECT count(*) FROM gens")


# --- 8. durable commit -------------------------------------------------------------------------------


def test_every_snapshot_file_and_directory_is_fsynced_before_the_swap(store, monkeypatch):
    gensql.refresh(store)
    first = index_mod.current_snapshot(store / "index").path
    touch_gen(store, 1)
    events: list[tuple[str, int]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        return real_fsync(fd)

    def replace(src, dst, **kw):
        if os.path.basename(os.fspath(dst)) == "current":
            events.append(("swap", 0))
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    gensql.refresh(store)
    monkeypatch.undo()
    index = store / "index"
    snap = index_mod.current_snapshot(index)
    swap = events.index(("swap", 0))
    before = {ino for kind, ino in events[:swap] if kind == "fsync"}
    after = {ino for kind, ino in events[swap:] if kind == "fsync"}
    # files hard-linked from the previous (committed, fsynced) snapshot are on disk already (docs/index-layout.md)
    shared = {p.stat().st_ino for p in first.rglob("*") if p.is_file()}
    needed = {p.stat().st_ino for p in snap.path.rglob("*")} - shared | {
        snap.path.stat().st_ino,
        (index / "snapshots").stat().st_ino,
    }
    assert any(p.is_file() and p.stat().st_ino not in shared for p in snap.path.rglob("*"))
    assert needed <= before, sorted(p.name for p in snap.path.rglob("*") if p.stat().st_ino not in before)
    assert index.stat().st_ino in after


# --- 9. permissions follow the store -------------------------------------------------------------------


def test_a_private_store_gets_a_private_index(store):
    os.chmod(store, 0o700)
    old = os.umask(0o022)
    try:
        gensql.refresh(store)
    finally:
        os.umask(old)
    index = store / "index"
    loose = [str(p) for p in [index, *index.rglob("*")] if not p.is_symlink() and p.stat().st_mode & 0o077]
    assert loose == []


def test_a_shared_store_gets_a_readable_index(store):
    os.chmod(store, 0o755)
    old = os.umask(0o022)
    try:
        gensql.refresh(store)
    finally:
        os.umask(old)
    assert stat.S_IMODE((store / "index" / "snapshots").stat().st_mode) == 0o755


# --- 7. disk full ----------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root: cannot test a full disk")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {r.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.mark.slow
def test_disk_full_is_one_line_and_leaves_the_previous_index_current(store, small_disk):
    index = small_disk / "index"
    r = gensql_process("refresh", "--data-root", str(store), "--index-dir", str(index), "-q")
    assert r.returncode == 0, r.stderr
    before = os.readlink(index / "current")
    for n in range(30):
        touch_gen(store, n)
    filler = fill(small_disk)
    r = gensql_process("refresh", "--data-root", str(store), "--index-dir", str(index), "-q")
    assert r.returncode == 5, r.stderr
    assert r.stderr.count("\n") == 1 and "disk full" in r.stderr and str(index) in r.stderr, r.stderr
    assert os.readlink(index / "current") == before
    assert gensql.connect(store, index).sql("SELECT count(*) FROM gens").fetchall() == [(1,)]
    leftovers = [p.name for p in [*index.iterdir(), *(index / "snapshots").iterdir()] if p.name.startswith(".tmp")]
    assert leftovers == []
    assert len(snapshot_names(index)) == 1
    filler.unlink()
    r = gensql_process("refresh", "--data-root", str(store), "--index-dir", str(index), "-q")
    assert r.returncode == 0, r.stderr
    assert gensql.connect(store, index).sql("SELECT count(*) FROM gens").fetchall() == [(31,)]
