"""Issue 21 (items 3, 7-11), 22.2, 25.1: the index is read-only and checked before it is carried
forward, and every fault is one line or a ``scan_errors`` row."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from storebuilder import write_gen

import gensql
from gensql import layout

#: An unprivileged account to run commands as (tests run as root, which ignores permission bits).
NOBODY = "65534"


def gensql_process(*args: str, timeout: float = 60, user: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(gensql.__file__).parent.parent)}
    command = [sys.executable, "-m", "gensql", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir(), env=env)


def can_drop_privileges() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def essay_store(root: Path, n: int = 12) -> Path:
    for i in range(n):
        write_gen(root, "draft", f"d_{i}", {"metadata.json": {"model_id": "m"}, "raw.txt": "r", "parsed.txt": "p"})
        write_gen(
            root,
            "essay",
            f"e_{i}",
            {"metadata.json": {"model_id": "m", "parent_gen_id": f"d_{i}"}, "raw.txt": f"essay {i}", "parsed.txt": "x"},
        )
    return root


def current(root: Path) -> Path:
    return (root / "index" / "current").resolve()


def essay_count(root: Path) -> int:
    con = gensql.connect(root)
    try:
        return con.execute("SELECT count(*) FROM gens WHERE stage = 'essay'").fetchone()[0]
    finally:
        con.close()


# --- 25.1: a previous snapshot whose `files` lacks a path --------------------------------------------


def test_a_previous_snapshot_without_a_files_entry_is_linked_with_its_footer_row_count(tmp_path):
    root = essay_store(tmp_path / "data")
    gensql.refresh(root)
    snap = current(root)
    info_path = snap / layout.SNAPSHOT_INFO_FILE
    info = orjson.loads(info_path.read_bytes())
    rel = next(r for r in info["files"] if r.startswith("_gens_scan/stage=essay/"))
    del info["files"][rel]
    del info["file_stats"][rel]
    os.chmod(info_path, 0o644)
    info_path.write_bytes(orjson.dumps(info))
    result = gensql.refresh(root)
    assert result.partitions_linked > 0 and result.damaged == 0
    assert result.by_stage["essay"] == 12
    assert essay_count(root) == 12


# --- 21.3: committed snapshots are read-only and checked before they are carried forward -------------


def test_committed_snapshot_files_and_directories_are_read_only(tmp_path):
    root = essay_store(tmp_path / "data")
    gensql.refresh(root)
    snap = current(root)
    modes = {}
    for dirpath, dirnames, filenames in os.walk(snap):
        for name in filenames + dirnames:
            path = Path(dirpath, name)
            modes[str(path.relative_to(snap))] = stat.S_IMODE(path.lstat().st_mode)
    parquet = [rel for rel in modes if rel.endswith(".parquet")]
    assert parquet and all(modes[rel] & 0o222 == 0 for rel in parquet)
    assert modes[layout.SNAPSHOT_INFO_FILE] & 0o222 == 0
    assert modes[layout.INDEX_CATALOG_FILE] & 0o222 == 0
    assert modes["gens"] & 0o222 == 0 and modes["gens/stage=essay"] & 0o222 == 0
    assert stat.S_IMODE(snap.stat().st_mode) & 0o222 == 0


def test_linked_files_stay_read_only_and_superseded_snapshots_are_still_deleted(tmp_path):
    root = essay_store(tmp_path / "data")
    for i in range(5):  # KEEP is 3: the first two snapshots are collected, read-only as they are
        write_gen(root, "draft", f"d_new{i}", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
        result = gensql.refresh(root)
    assert result.partitions_linked > 0
    assert len(list((root / "index" / "snapshots").iterdir())) == 3
    essay = next((current(root) / "gens" / "stage=essay").iterdir())
    assert essay.stat().st_nlink > 1  # carried forward as a hard link...
    assert stat.S_IMODE(essay.stat().st_mode) & 0o222 == 0  # ...and still read-only
    full = gensql.refresh(root, full=True)
    assert full.full and full.by_stage["essay"] == 12


@pytest.fixture
def shared_dir():
    """A directory every user can reach (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="gensql-shared-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_user(user: str, code: str) -> subprocess.CompletedProcess:
    """Run ``python -c code`` as ``user`` (needs root and setpriv)."""
    return subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
    )


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to run as an unprivileged user")
def test_even_the_owner_of_a_snapshot_file_cannot_write_it(shared_dir):
    root = essay_store(shared_dir / "data")
    gensql.refresh(root)
    part = next((current(root) / "gens" / "stage=essay").iterdir())
    os.chown(part, 65534, 65534)  # nobody owns it now: only the missing write bits stop a write
    assert as_user(NOBODY, f"open({str(part)!r}, 'rb').read(4)").returncode == 0
    done = as_user(NOBODY, f"open({str(part)!r}, 'r+b')")
    assert done.returncode != 0 and "Permission denied" in done.stderr


def test_a_damaged_partition_is_rewritten_not_linked_forward(tmp_path):
    root = essay_store(tmp_path / "data")
    gensql.refresh(root)
    snap = current(root)
    for part in (snap / "gens" / "stage=essay").iterdir():
        schema = pq.read_schema(part)
        part.chmod(0o644)
        pq.write_table(pa.Table.from_batches([], schema=schema), part)  # emptied, as a stray COPY TO did
    assert essay_count(root) == 0
    result = gensql.refresh(root)
    assert result.damaged > 0 and "damaged" in str(result)
    assert result.by_stage["essay"] == 12
    assert essay_count(root) == 12
    again = gensql.refresh(root)  # the repaired snapshot is carried forward as usual
    assert again.damaged == 0 and again.partitions_linked > 0 and essay_count(root) == 12


def test_a_snapshot_from_before_file_stats_is_checked_by_row_counts(tmp_path):
    root = essay_store(tmp_path / "data")
    gensql.refresh(root)
    snap = current(root)
    info_path = snap / layout.SNAPSHOT_INFO_FILE
    info = orjson.loads(info_path.read_bytes())
    del info["file_stats"]
    os.chmod(info_path, 0o644)
    info_path.write_bytes(orjson.dumps(info))
    untouched = gensql.refresh(root)
    assert untouched.damaged == 0 and untouched.partitions_linked > 0
    snap = current(root)
    info_path = snap / layout.SNAPSHOT_INFO_FILE
    info = orjson.loads(info_path.read_bytes())
    del info["file_stats"]
    os.chmod(info_path, 0o644)
    info_path.write_bytes(orjson.dumps(info))
    part = snap / next(r for r in info["files"] if r.startswith("_gens_scan/stage=essay/") and info["files"][r])
    schema = pq.read_schema(part)
    part.chmod(0o644)
    pq.write_table(pa.Table.from_batches([], schema=schema), part)
    result = gensql.refresh(root)
    assert result.damaged >= 1 and result.by_stage["essay"] == 12


@pytest.mark.slow  # several gensql processes (or 100 MB written): ~5-20 s
@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to run as an unprivileged user")
def test_an_unprivileged_owner_still_deletes_superseded_read_only_snapshots(shared_dir):
    root = essay_store(shared_dir / "data", n=2)
    for path in [root, *root.rglob("*")]:
        os.chown(path, 65534, 65534)
    for i in range(5):
        write_gen(root, "draft", f"d_new{i}", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
        for path in [root / "gens" / "draft", *(root / "gens" / "draft" / f"d_new{i}").rglob("*")]:
            os.chown(path, 65534, 65534)
        done = gensql_process("refresh", "--data-root", str(root), user=NOBODY)
        assert done.returncode == 0, done.stderr
    assert len(list((root / "index" / "snapshots").iterdir())) == 3
    full = gensql_process("refresh", "--full", "--data-root", str(root), user=NOBODY)
    assert full.returncode == 0, full.stderr
    assert len(list((root / "index" / "snapshots").iterdir())) == 3


# --- 21.7: the docs/ store follows the symlink rule of gens/ ------------------------------------------


def write_doc(root: Path, rel: str, text: str) -> Path:
    """A document of seed 000's docs store at ``docs/<rel>/``."""
    path = root / "docs" / rel
    path.mkdir(parents=True)
    (path / "metadata.json").write_text('{"task_id": "t1", "model_id": "m1"}')
    (path / "raw.txt").write_text(text)
    (path / "parsed.txt").write_text(text)
    return path


def scan_errors(root: Path) -> list[tuple[str, str]]:
    con = gensql.connect(root)
    try:
        return con.execute("SELECT path, kind FROM scan_errors ORDER BY path").fetchall()
    finally:
        con.close()


def gen_dirs(root: Path) -> list[str]:
    con = gensql.connect(root)
    try:
        return [r[0] for r in con.execute("SELECT gen_dir FROM gens ORDER BY gen_dir").fetchall()]
    finally:
        con.close()


def test_a_docs_symlink_leading_outside_the_store_is_recorded_not_indexed(tmp_path):
    root = tmp_path / "data"
    write_doc(root, "essay/ess0000000000001", "an ordinary essay")
    outside = tmp_path / "secret" / "ess0000000000002"
    outside.mkdir(parents=True)
    (outside / "metadata.json").write_text('{"task_id": "t2", "model_id": "m1"}')
    (outside / "raw.txt").write_text("TOPSECRET plans")
    (root / "docs" / "essay" / "ess0000000000002").symlink_to(outside)
    (root / "docs" / "essay" / "lk0000000000001").mkdir()  # a nested bucket whose document links outside
    (root / "docs" / "essay" / "lk0000000000001" / "ess0000000000003").symlink_to(outside)
    (root / "docs" / "draft").symlink_to("/")
    write_doc(root, "evaluation/inside00000000001", "evaluation text")
    (root / "docs" / "evaluation" / "inside00000000002").symlink_to(root / "docs" / "evaluation" / "inside00000000001")
    gensql.refresh(root)
    assert gen_dirs(root) == [
        "docs/essay/ess0000000000001",
        "docs/evaluation/inside00000000001",
        "docs/evaluation/inside00000000002",  # a link inside the store is followed, as in gens/
    ]
    errors = scan_errors(root)
    assert ("docs/draft", "outside_store") in errors
    assert ("docs/essay/ess0000000000002", "outside_store") in errors
    assert ("docs/essay/lk0000000000001/ess0000000000003", "outside_store") in errors
    found = gensql_process("search", "TOPSECRET", "--data-root", str(root))
    assert found.returncode in (0, 1) and "TOPSECRET" not in found.stdout and "ess0000000000002" not in found.stdout


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to run as an unprivileged user")
def test_an_unlistable_docs_stage_is_a_scan_error_for_an_unprivileged_user(shared_dir):
    root = shared_dir / "data"
    write_doc(root, "essay/ess0000000000001", "an essay")
    write_doc(root, "draft/dra0000000000001", "a draft")
    for path in [root, *root.rglob("*")]:
        os.chown(path, 65534, 65534)
    (root / "docs" / "draft").chmod(0o000)
    done = gensql_process("refresh", "--data-root", str(root), user=NOBODY)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (root / "docs" / "draft").chmod(0o755)
    assert gen_dirs(root) == ["docs/essay/ess0000000000001"]
    assert ("docs/draft", "unreadable") in scan_errors(root)


# --- 21.10: every bad file is recorded somewhere -------------------------------------------------------


def test_a_dot_named_generation_directory_with_metadata_is_recorded(tmp_path):
    root = essay_store(tmp_path / "data", n=1)
    write_gen(root, "draft", ".d_hidden", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
    write_gen(root, "essay", ".e_parsed_only", {"parsed_metadata.json": {"x": 1}})
    (root / "gens" / "draft" / ".cache").mkdir()  # no metadata: not a generation, nothing to say
    write_gen(root, "draft", f".tmp-d_new-{os.getpid()}", {"metadata.json": {"model_id": "m"}})  # a live writer's
    gensql.refresh(root)
    errors = [e for e in scan_errors(root) if "/." in e[0]]
    assert errors == [("gens/draft/.d_hidden", "unexpected_entry"), ("gens/essay/.e_parsed_only", "unexpected_entry")]
    assert gen_dirs(root) == ["gens/draft/d_0", "gens/essay/e_0"]


# --- 21.8 / 21.11: cohort files that cannot be parsed; cohort list from the index ----------------------


def write_cohorts(root: Path) -> None:
    cohorts = root / "cohorts"
    for name, text in {
        "good": "stage,gen_id\ndraft,d_0\nessay,e_0\nessay,e_missing\n",
        "wide": "stage,gen_id,note\ndraft,d_1,a\ndraft,d_1,again\n",
        "big": 'stage,gen_id,note\ndraft,d_2,ok\ndraft,d_3,"' + "x" * 200_000 + '"\ndraft,d_4,never read\n',
        "open": 'stage,gen_id,note\ndraft,d_5,ok\ndraft,d_6,"unterminated\ndraft,d_7,x\n',
        "empty": "stage,gen_id\n",
    }.items():
        (cohorts / name).mkdir(parents=True)
        (cohorts / name / "membership.csv").write_text(text)


def cohort_rows(root: Path) -> list[list[str]]:
    done = gensql_process("cohort", "list", "--data-root", str(root), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return [line.split(",") for line in done.stdout.splitlines()]


def test_an_unparsable_cohort_file_is_a_scan_error_and_everything_else_goes_on(tmp_path):
    root = essay_store(tmp_path / "data", n=8)
    write_cohorts(root)
    result = gensql.refresh(root)
    assert result.members == 3 + 2 + 1 + 1
    errors = {path: kind for path, kind in scan_errors(root) if path.startswith("cohorts/")}
    assert errors == {"cohorts/big/membership.csv": "bad_membership", "cohorts/open/membership.csv": "bad_membership"}
    assert cohort_rows(root) == [
        ["cohort_id", "members", "on_disk", "missing"],
        ["big", "1", "1", "0"],
        ["empty", "0", "0", "0"],
        ["good", "3", "2", "1"],
        ["open", "1", "1", "0"],
        ["wide", "2", "2", "0"],
    ]


def test_cohort_list_reads_the_index_and_agrees_with_the_files(tmp_path, monkeypatch):
    from gensql import membership
    from gensql.write import cohorts
    from gensql.write.cohorts import list_cohorts

    root = essay_store(tmp_path / "data", n=8)
    write_cohorts(root)
    from_files = list_cohorts(root)  # no index yet: the files are parsed
    gensql.refresh(root)
    parsed: list[object] = []

    def counting(data_root, only=None):
        parsed.append(only)
        return membership.read_memberships(data_root, only)

    monkeypatch.setattr(cohorts, "read_memberships", counting)
    assert list_cohorts(root) == from_files
    assert parsed == []  # the index answered: no membership file was parsed
    # A cohort written after the refresh: only its file is parsed, and the reader says the index is stale.
    (root / "cohorts" / "late").mkdir()
    (root / "cohorts" / "late" / "membership.csv").write_text("stage,gen_id\ndraft,d_0\nessay,e_nope\n")
    with pytest.warns(UserWarning, match="refresh"):
        counts = {c.cohort_id: (c.members, c.on_disk) for c in list_cohorts(root)}
    assert parsed == [{"late"}]
    assert counts["late"] == (2, 1) and counts["good"] == (3, 2)


def test_broken_metadata_links_fifos_devices_and_odd_names_are_each_recorded(tmp_path):
    root = essay_store(tmp_path / "data", n=1)
    loop = write_gen(root, "draft", "d_loop", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
    (loop / "raw_metadata.json").symlink_to("raw_metadata.json")
    dangling = write_gen(root, "draft", "d_dangling", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
    (dangling / "parsed_metadata.json").symlink_to("nothing.json")
    write_gen(root, "essay", "<svg onload=alert(4)>", {"metadata.json": {"model_id": "m", "parent_gen_id": "d_0"}})
    (root / "db").mkdir()
    os.mkfifo(root / "db" / "documents.sqlite")
    (root / "1_raw").mkdir()
    os.mkfifo(root / "1_raw" / "essay_templates.csv")
    gensql.refresh(root)  # returns: nothing was opened that could block
    errors = dict(scan_errors(root))
    assert errors["gens/draft/d_loop/raw_metadata.json"] == "unreadable"
    assert errors["gens/draft/d_dangling/parsed_metadata.json"] == "unreadable"
    assert errors["db/documents.sqlite"] == "unreadable"
    assert errors["1_raw/essay_templates.csv"] == "unreadable"
    assert errors["gens/essay/<svg onload=alert(4)>"] == "unsafe_name"
    assert "gens/essay/<svg onload=alert(4)>" in gen_dirs(root)  # recorded, and still indexed


@pytest.mark.parametrize("kind", ["dev_zero", "directory"])
def test_a_documents_database_that_is_a_device_link_or_a_directory_is_recorded(tmp_path, kind):
    root = essay_store(tmp_path / "data", n=1)
    (root / "db").mkdir()
    if kind == "dev_zero":
        (root / "db" / "documents.sqlite").symlink_to("/dev/zero")
    else:
        (root / "db" / "documents.sqlite").mkdir()
    gensql.refresh(root)
    expected = "outside_store" if kind == "dev_zero" else "unreadable"
    assert dict(scan_errors(root))["db/documents.sqlite"] == expected


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root and setpriv to run as an unprivileged user")
def test_a_user_who_may_not_write_or_read_the_index_gets_one_line(shared_dir):
    root = essay_store(shared_dir / "data", n=1)
    gensql.refresh(root)  # root's index: readable by all (0755), writable by root only
    refresh = gensql_process("refresh", "--data-root", str(root), user=NOBODY)
    assert refresh.returncode == 2, refresh.stderr
    assert refresh.stderr.count("\n") == 1 and "cannot write the index" in refresh.stderr
    read = gensql_process(
        "sql", "SELECT count(*) AS n FROM gens", "--format", "csv", "--data-root", str(root), user=NOBODY
    )
    assert read.returncode == 0 and read.stdout.splitlines() == ["n", "2"]
    (root / "index").chmod(0o700)
    read = gensql_process("sql", "SELECT 1", "--data-root", str(root), user=NOBODY)
    assert read.returncode == 2 and read.stderr.count("\n") == 1
    assert "cannot read the index" in read.stderr and "permission denied" in read.stderr


# --- full disks: tmpfs mounts (tests run as root) -------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs to fill up; skipped where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte with one file; delete it to free the space."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


@pytest.mark.slow  # several gensql processes (or 100 MB written): ~5-20 s
def test_the_watcher_waits_out_a_full_disk_and_then_catches_up(tmp_path, small_disk, monkeypatch):
    from test_watch import Watcher

    monkeypatch.setenv("GENSQL_INDEX_DIR", str(small_disk / "index"))
    root = essay_store(tmp_path / "data", n=2)
    watcher = Watcher(root)
    try:
        watcher.wait_for("start")
        filler = fill(small_disk)
        write_gen(root, "draft", "d_late", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
        waiting = watcher.wait_for("waiting")
        assert "disk full" in waiting and "tries again" in waiting
        assert watcher.proc.poll() is None  # still running
        filler.unlink()
        watcher.wait_for("sweep")
        assert "gens/draft/d_late" in gen_dirs(root), watcher.seen
    finally:
        watcher.stop()
    assert not any("Traceback" in line for line in watcher.seen)


# --- 22.2 / 21.8 / 21.10: export sqlite never destroys input --------------------------------------------

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # several gensql processes (or 100 MB written): ~5-20 s
def test_export_on_the_sample_store_leaves_the_pipelines_documents_sqlite_alone(tmp_path):
    pipeline_db = REPO / "data" / "db" / "documents.sqlite"
    before = (pipeline_db.read_bytes(), pipeline_db.stat().st_mtime_ns)
    beside = sorted(p.name for p in pipeline_db.parent.iterdir())
    index = tmp_path / "index"
    assert gensql_process("refresh", "--data-root", str(REPO / "data"), "--index-dir", str(index)).returncode == 0
    done = gensql_process("export", "sqlite", "--data-root", str(REPO / "data"), "--index-dir", str(index))
    assert done.returncode == 0, done.stderr
    assert str(index / "exports" / "documents.sqlite") in done.stderr
    # Pointed at the pipeline's own index, the export refuses in one line.
    refused = gensql_process(
        "export", "sqlite", "--db", str(pipeline_db), "--data-root", str(REPO / "data"), "--index-dir", str(index)
    )
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "was not written by `gensql export sqlite`" in refused.stderr
    assert (pipeline_db.read_bytes(), pipeline_db.stat().st_mtime_ns) == before
    assert sorted(p.name for p in pipeline_db.parent.iterdir()) == beside  # no -wal / -shm left in the store


@pytest.mark.parametrize("kind", ["text", "fifo", "symlink"])
def test_export_never_replaces_a_file_it_did_not_write(tmp_path, kind):
    root = essay_store(tmp_path / "data", n=1)
    gensql.refresh(root)
    target = tmp_path / "out.sqlite"
    if kind == "text":
        target.write_text("my notes")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(root / "gens" / "draft" / "d_0" / "raw.txt")
    done = gensql_process("export", "sqlite", "--db", str(target), "--data-root", str(root))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "refusing to replace it" in done.stderr
    assert os.path.lexists(target) and (kind != "text" or target.read_text() == "my notes")


def test_a_second_export_replaces_the_first_and_a_reader_keeps_the_old_file(tmp_path):
    import sqlite3

    root = essay_store(tmp_path / "data", n=2)
    gensql.refresh(root)
    assert gensql_process("export", "sqlite", "--data-root", str(root)).returncode == 0
    db = root / "index" / "exports" / "documents.sqlite"
    reader = sqlite3.connect(db)
    assert reader.execute("SELECT count(*) FROM documents").fetchone() == (4,)
    write_gen(root, "draft", "d_more", {"metadata.json": {"model_id": "m"}, "raw.txt": "r"})
    gensql.refresh(root)
    assert gensql_process("export", "sqlite", "--data-root", str(root)).returncode == 0
    assert reader.execute("SELECT count(*) FROM documents").fetchone() == (4,)  # the old file, whole
    reader.close()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM documents").fetchone() == (5,)
    assert sorted(p.name for p in db.parent.iterdir()) == ["documents.sqlite"]  # no -wal, no -shm


def test_a_killed_export_leaves_a_temporary_file_the_next_one_removes(tmp_path):
    root = essay_store(tmp_path / "data", n=2)
    gensql.refresh(root)
    read_end, write_end = os.pipe()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(gensql.__file__).parent.parent),
        "GENSQL_PAUSE_AT": "export.commit",
        "GENSQL_PAUSE_FD": str(write_end),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gensql", "export", "sqlite", "--data-root", str(root)],
        env=env,
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as paused:
        assert paused.readline().startswith("export.commit")
    proc.kill()
    proc.wait()
    exports = root / "index" / "exports"
    leftovers = [p.name for p in exports.iterdir()]
    assert leftovers and all(name.startswith(".tmp-documents.sqlite.") for name in leftovers)
    done = gensql_process("export", "sqlite", "--data-root", str(root))
    assert done.returncode == 0 and "removed" in done.stderr and "killed exports" in done.stderr
    assert [p.name for p in exports.iterdir()] == ["documents.sqlite"]


def test_an_export_of_a_private_store_is_private(tmp_path):
    root = essay_store(tmp_path / "data", n=1)
    root.chmod(0o700)
    gensql.refresh(root)
    db = tmp_path / "elsewhere" / "documents.sqlite"
    assert gensql_process("export", "sqlite", "--db", str(db), "--data-root", str(root)).returncode == 0
    assert stat.S_IMODE(db.stat().st_mode) & 0o077 == 0


def test_export_on_a_full_disk_is_one_line_and_exit_5(tmp_path, small_disk):
    root = essay_store(tmp_path / "data", n=2)
    gensql.refresh(root)
    db = small_disk / "documents.sqlite"
    assert gensql_process("export", "sqlite", "--db", str(db), "--data-root", str(root)).returncode == 0
    previous = db.read_bytes()
    fill(small_disk)
    done = gensql_process("export", "sqlite", "--db", str(db), "--data-root", str(root))
    assert done.returncode == 5, done.stderr
    assert done.stderr.count("\n") == 1 and "disk full while writing the export" in done.stderr
    assert db.read_bytes() == previous
    assert sorted(p.name for p in small_disk.iterdir()) == ["documents.sqlite", "filler"]


# --- 21.9: memory bounded by caps on metadata files and values ------------------------------------------


@pytest.mark.slow  # several gensql processes (or 100 MB written): ~5-20 s
def test_a_huge_metadata_file_is_refused_and_a_huge_value_is_capped(tmp_path):
    root = essay_store(tmp_path / "data", n=1)
    huge = write_gen(root, "draft", "d_huge", {"raw.txt": "r"})
    with open(huge / "metadata.json", "w") as fh:  # 100 MB of valid JSON: one 100,000,000-character model id
        fh.write('{"model_id": "')
        for _ in range(100):
            fh.write("m" * 1_000_000)
        fh.write('"}')
    write_gen(root, "draft", "d_long", {"metadata.json": {"model_id": "x" * 2000, "template_id": "t"}})
    probe = (
        "import resource, subprocess, sys; "
        f"subprocess.run([sys.executable, '-m', 'gensql', 'refresh', '--jobs', '1', '--data-root', {str(root)!r}], "
        "check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(gensql.__file__).parent.parent)}
    peak_kib = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env).stdout)
    assert peak_kib < 600 * 1024  # was 2.2 GB for this one file
    con = gensql.connect(root)
    try:
        errors = con.execute("SELECT gen_id, kind, message FROM scan_errors WHERE gen_id IN ('d_huge', 'd_long')")
        by_gen = {gen_id: (kind, message) for gen_id, kind, message in errors.fetchall()}
        rows = dict(con.execute("SELECT gen_id, model_id FROM gens WHERE gen_id IN ('d_huge', 'd_long')").fetchall())
        meta = con.execute("SELECT meta->>'template_id' FROM gens WHERE gen_id = 'd_long'").fetchone()[0]
    finally:
        con.close()
    assert by_gen["d_huge"][0] == "too_large" and "GENSQL_MAX_JSON_BYTES" in by_gen["d_huge"][1]
    assert by_gen["d_long"][0] == "bad_value" and "2000 characters" in by_gen["d_long"][1]
    assert len(by_gen["d_long"][1]) < 400  # the message quotes the start of the value, not all of it
    assert rows == {"d_huge": None, "d_long": None}
    assert meta == "t"  # the rest of the file is used


def test_the_json_cap_is_configurable(tmp_path, monkeypatch):
    root = essay_store(tmp_path / "data", n=1)
    write_gen(root, "draft", "d_big", {"metadata.json": {"model_id": "m", "notes": "n" * 5000}})
    monkeypatch.setenv("GENSQL_MAX_JSON_BYTES", "4096")
    gensql.refresh(root)
    assert ("gens/draft/d_big/metadata.json", "too_large") in scan_errors(root)
    monkeypatch.setenv("GENSQL_MAX_JSON_BYTES", "1000000")
    gensql.refresh(root, full=True)
    assert not [e for e in scan_errors(root) if e[0].startswith("gens/draft/d_big")]
