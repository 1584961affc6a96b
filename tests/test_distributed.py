"""Refresh on a Dask cluster and on object storage, with real parts: a ``distributed.LocalCluster`` of
worker processes and an S3 API server on localhost (moto in server mode) holding a store.

The slow tests of the project's distributed path live here, together; a cluster and a server are started
once for the module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow  # a Dask cluster and an S3 server per module, ~10 s per store test
pytest.importorskip("distributed", reason="the distributed extra: pip install -e '.[test]'")
pytest.importorskip("moto.server", reason="moto[server] (test extra)")

import cloudpickle  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import gensql  # noqa: E402
from gensql import partitions  # noqa: E402
from gensql.distributed import DaskExecutor, MissingDistributedError  # noqa: E402
from gensql.distributed.remote_index import newest_snapshot, pull_index, snapshot_ids  # noqa: E402
from gensql.index import current_snapshot  # noqa: E402
from gensql.refresh.task import run_unit  # noqa: E402
from gensql.synth import make_store  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the failure-injecting tasks below run on workers

GENSQL = [sys.executable, "-m", "gensql"]
TABLES = ("gens", "_manifest", "texts")
SORT = {"gens": ["stage", "gen_id"], "_manifest": ["stage", "gen_id"], "texts": ["stage", "gen_id", "file"]}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server in its own process on localhost; AWS_* variables point every client (and the
    cluster's workers) at it."""
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield env
    finally:
        server.terminate()
        server.wait(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def client(s3):
    """Three worker processes, one thread each (started after the S3 variables are set: they inherit them)."""
    with (
        LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The generator's mixed store (every era and anomaly; the docs store and its database left out:
    they are not indexed on object storage)."""
    root = tmp_path_factory.mktemp("mixed") / "data"
    make_store(root, n=0, seed=7)
    shutil.rmtree(root / "docs", ignore_errors=True)
    shutil.rmtree(root / "db", ignore_errors=True)
    return root


@pytest.fixture(scope="module")
def s3_store(store, tmp_path_factory) -> Path:
    """The mixed store with 12 of its evaluations (every draft and essay): the S3 server on localhost
    answers about 100 requests a second, so the store on the bucket is kept small."""
    root = tmp_path_factory.mktemp("s3store") / "data"
    shutil.copytree(store, root, symlinks=True, copy_function=shutil.copy2)
    for gen_dir in sorted((root / "gens" / "evaluation").iterdir())[12:]:
        shutil.rmtree(gen_dir)
    return root


@pytest.fixture(autouse=True)
def no_racy_window(monkeypatch):
    """Directories written just before a refresh keep their signature (the manifest is compared too)."""
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0")


@pytest.fixture
def small_partitions(monkeypatch):
    """Several hash partitions per stage and several units per stage, so tasks each get a slice."""
    import gensql.refresh.planning

    monkeypatch.setattr(partitions, "TARGET_ROWS", 8)
    monkeypatch.setattr(gensql.refresh.planning, "BATCH_SIZE", 16)


def _copy(store: Path, tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(store, root, symlinks=True, copy_function=shutil.copy2)
    return root


def _rows(index_dir: Path, drop: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    snap = current_snapshot(Path(index_dir))
    assert snap is not None
    out = {}
    for table in TABLES:
        t = partitions.read_table(snap.path, table)
        t = t.drop_columns([c for c in (drop or {}).get(table, []) if c in t.column_names])
        out[table] = t.sort_by([(c, "ascending") for c in SORT[table]]).to_pylist()
    errors = pq.read_table(snap.path / "scan_errors.parquet")
    out["scan_errors"] = sorted(errors.to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))
    out["membership"] = pq.read_table(snap.path / "membership.parquet").to_pylist()
    out["partition_bits"] = snap.info["partition_bits"]
    return out


def _mutate(root: Path) -> dict[str, str]:
    """A rewritten metadata.json, a deleted generation, a new one; returns them (``paths``: the files touched)."""
    essays = sorted((root / "gens" / "essay").iterdir())
    changed = next(
        d for d in essays if (d / "metadata.json").is_file() and (d / "metadata.json").read_bytes().startswith(b"{")
    )
    meta = changed / "metadata.json"
    meta.write_bytes(meta.read_bytes().replace(b"{", b'{"note": "edited", ', 1))
    deleted = sorted((root / "gens" / "draft").iterdir())[0]
    shutil.rmtree(deleted)
    new = root / "gens" / "evaluation" / "v_new0000000001"
    new.mkdir()
    (new / "metadata.json").write_text(
        '{"stage": "evaluation", "gen_id": "v_new0000000001", "template_id": "t", "model_id": "m", "mode": "llm"}'
    )
    (new / "parsed.txt").write_text("SCORE: 7\n")
    (new / "raw.txt").write_text("thinking... SCORE: 7\n")
    paths = [meta] + list(new.iterdir())
    return {
        "changed": changed.name,
        "deleted": deleted.name,
        "new": new.name,
        "paths": [p.relative_to(root).as_posix() for p in paths],
    }


# --- a Dask cluster over a shared file system -----------------------------------------------------


def _search_hits(index_dir: Path, root: Path) -> dict[str, list[tuple]]:
    """Every hit of a few queries with its BM25 score (rounded: float formatting, not ranking)."""
    return {
        q: sorted(
            zip(
                *(
                    gensql.search(root, q, limit=10_000, snippets=False, index_dir=index_dir)[c]
                    for c in ("stage", "gen_id", "file")
                ),
                [
                    round(b, 4)
                    for b in gensql.search(root, q, limit=10_000, snippets=False, index_dir=index_dir)["bm25"]
                ],
            )
        )
        for q in ("essay", "the", "score", "idea AND model")
    }


@pytest.mark.parametrize("shared_disk", [False, True], ids=["rows-back", "workers-write"])
def test_dask_refresh_equals_local_full_and_incremental(client, store, tmp_path, small_partitions, shared_disk):
    """Workers that send their rows back and workers that write partitions and search parts
    themselves (a shared disk) build the same index as a local refresh, full and incremental."""
    root = _copy(store, tmp_path, "data")
    first = gensql.refresh(root, tmp_path / "idx-dask", executor=DaskExecutor(client, shared_disk=shared_disk))
    gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1)
    assert first.generations > 100 and set(first.by_stage.values()) != {0}
    assert all(b > 0 for b in _rows(tmp_path / "idx-dask")["partition_bits"].values())
    assert _rows(tmp_path / "idx-dask") == _rows(tmp_path / "idx-local")

    assert _search_hits(tmp_path / "idx-dask", root) == _search_hits(tmp_path / "idx-local", root)

    what = _mutate(root)
    second = gensql.refresh(root, tmp_path / "idx-dask", executor=DaskExecutor(client, shared_disk=shared_disk))
    assert (second.new, second.changed, second.deleted) == (1, 1, 1)
    assert second.partitions_linked > 0  # untouched partitions were linked, not rewritten
    gensql.refresh(root, tmp_path / "idx-full", full=True, jobs=1)
    assert _rows(tmp_path / "idx-dask") == _rows(tmp_path / "idx-full")
    gens = {r["gen_id"] for r in _rows(tmp_path / "idx-dask")["gens"]}
    assert what["new"] in gens and what["deleted"] not in gens


def test_cli_refresh_dask_option(client, store, tmp_path):
    root = _copy(store, tmp_path, "data")
    address = client.scheduler.address
    run = subprocess.run(
        [*GENSQL, "refresh", "--data-root", str(root), "--index-dir", str(tmp_path / "idx"), "--dask", address],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "indexed" in run.stderr and run.stdout == ""
    gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1)
    assert _rows(tmp_path / "idx") == _rows(tmp_path / "idx-local")


def _die_once_on_essays(task, unit, marker):
    """run_unit, except that the first essay unit kills its worker process (no exception, no cleanup)."""
    if unit.stage == "essay":
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(1)
    return run_unit(task, unit)


def _always_fail_on_essays(task, unit):
    if unit.stage == "essay":
        raise OSError("the network file system went away")
    return run_unit(task, unit)


def test_worker_death_is_retried_by_dask(client, store, tmp_path):
    root = _copy(store, tmp_path, "data")
    marker = tmp_path / "killed-once"

    def task(*args):
        return _die_once_on_essays(*args, marker=str(marker))

    result = gensql.refresh(root, tmp_path / "idx", executor=DaskExecutor(client, task=task))
    assert marker.exists()  # a worker really died in the middle of a unit
    assert result.scan_errors == gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1).scan_errors
    assert _rows(tmp_path / "idx") == _rows(tmp_path / "idx-local")
    assert len(client.scheduler_info()["workers"]) >= 1


def test_a_partition_that_keeps_failing_is_a_scan_error_not_a_lost_refresh(client, store, tmp_path):
    root = _copy(store, tmp_path, "data")
    gensql.refresh(root, tmp_path / "idx", executor=DaskExecutor(client))
    before = {r["gen_id"]: r for r in _rows(tmp_path / "idx")["gens"] if r["stage"] == "essay"}
    new = root / "gens" / "essay" / "e_arrived_late01"
    new.mkdir()
    (new / "metadata.json").write_text('{"stage": "essay", "template_id": "t", "mode": "copy"}')

    result = gensql.refresh(
        root, tmp_path / "idx", executor=DaskExecutor(client, task=_always_fail_on_essays, retries=1)
    )
    rows = _rows(tmp_path / "idx")
    failed = [e for e in rows["scan_errors"] if e["kind"] == "scan_failed"]
    assert failed and any(e["gen_id"] is None and "the network file system went away" in e["message"] for e in failed)
    assert [e["gen_id"] for e in failed if e["gen_id"]] == ["e_arrived_late01"]
    essays = {r["gen_id"]: r for r in rows["gens"] if r["stage"] == "essay"}
    assert {g: essays[g] for g in before} == before  # the previous rows are kept, unchanged
    assert essays["e_arrived_late01"]["status"] == "gen_error"  # a placeholder, never a dropped row
    assert result.generations == len(_rows(tmp_path / "idx")["gens"])

    gensql.refresh(root, tmp_path / "idx", executor=DaskExecutor(client))  # the cluster is healthy again
    gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1)
    assert _rows(tmp_path / "idx") == _rows(tmp_path / "idx-local")


def test_missing_extra_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDistributedError, match=r"pip install 'gensql\[distributed\]'"):
        DaskExecutor("tcp://127.0.0.1:1")


# --- a store and its index on S3 ------------------------------------------------------------------


def _upload(local: Path, url: str) -> None:
    import s3fs

    fs = s3fs.S3FileSystem()
    bucket = url.split("://", 1)[1].split("/", 1)[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    fs.put(str(local) + "/", url, recursive=True)


def _sync(local: Path, url: str, written: list[str]) -> None:
    """Make the bucket hold ``local``'s files again: objects gone locally removed, ``written`` put."""
    import s3fs

    fs = s3fs.S3FileSystem()
    fs.invalidate_cache()
    prefix = url.split("://", 1)[1]
    remote = {p[len(prefix) + 1 :] for p in fs.find(prefix) if "/index/" not in p}
    here = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    if remote - here:
        fs.rm([f"{prefix}/{r}" for r in sorted(remote - here)])
    for rel in written:
        fs.put_file(str(local / rel), f"{prefix}/{rel}")


def _created_from_objects(url: str) -> dict[tuple[str, str], int]:
    """LastModified (µs) of the object each row's created_at comes from."""
    import s3fs

    from gensql.distributed.objstore import _mtime_ns

    fs = s3fs.S3FileSystem()
    fs.invalidate_cache()
    prefix = url.split("://", 1)[1]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return {
        p[len(prefix) + 1 :]: epoch + timedelta(microseconds=_mtime_ns(info) // 1000)
        for p, info in fs.find(prefix + "/gens", detail=True).items()
    }


def _check_created_at(rows: list[dict], url: str) -> None:
    objects = _created_from_objects(url)
    names = {"raw": "raw.txt", "parsed": "parsed.txt", "raw_metadata": "raw_metadata.json", "metadata": "metadata.json"}
    for row in rows:
        name = names.get(row["created_at_source"])
        if name is None:  # no file that dates it: the directory's time, i.e. its newest object's
            assert row["created_at_source"] == "dir"
            assert row["created_at"] == max(t for p, t in objects.items() if p.startswith(row["gen_dir"] + "/"))
        else:
            assert row["created_at"] == objects[f"{row['gen_dir']}/{name}"]


def test_store_on_s3_refreshed_on_the_cluster_equals_a_local_refresh(client, s3, s3_store, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSQL_CACHE_DIR", str(tmp_path / "cache"))
    root = _copy(s3_store, tmp_path, "data")
    url = "s3://lab/store-a"
    _upload(root, url)

    first = gensql.refresh(url, executor=DaskExecutor(client))  # the index goes to s3://lab/store-a/index
    assert first.generations > 50 and first.error_kinds  # the anomalies are in the bucket too
    published = newest_snapshot(url + "/index")
    assert published is not None and published[1]["id"] == first.snapshot_id and published[1]["data_root"] == url
    reader = tmp_path / "reader"
    pulled = pull_index(url + "/index", reader)  # what any reader does: the newest complete manifest
    assert pulled.id == first.snapshot_id

    gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1)
    created = {"gens": ["created_at"], "_manifest": ["sig"]}  # created_at: the objects' upload time; sig: of objects
    assert _rows(reader, created) == _rows(tmp_path / "idx-local", created)
    _check_created_at(_rows(reader)["gens"], url)
    assert gensql.connect(index_dir=reader).execute("SELECT count(*) FROM gens").fetchone()[0] == first.generations

    what = _mutate(root)
    _sync(root, url, what["paths"])
    second = gensql.refresh(url, executor=DaskExecutor(client))
    assert (second.new, second.changed, second.deleted) == (1, 1, 1)
    assert pull_index(url + "/index", reader).id == second.snapshot_id
    gensql.refresh(root, tmp_path / "idx-full", full=True, jobs=1)
    assert _rows(reader, created) == _rows(tmp_path / "idx-full", created)
    assert what["new"] in {r["gen_id"] for r in _rows(reader)["gens"]}
    ids, complete = snapshot_ids(url + "/index")
    assert complete == {first.snapshot_id, second.snapshot_id}

    third = gensql.refresh(url, executor=DaskExecutor(client))  # nothing changed: every signature matches
    assert (third.new, third.changed, third.deleted, third.unchanged) == (0, 0, 0, third.generations)


def test_readers_follow_the_newest_complete_manifest_and_cli_on_a_bucket(s3, s3_store, tmp_path):
    import s3fs

    root = _copy(s3_store, tmp_path, "data")
    for stage in ("essay", "evaluation"):
        shutil.rmtree(root / "gens" / stage)  # a smaller store: this test is about the index
    url = "s3://lab/store-b"
    _upload(root, url)
    env = {**os.environ, "GENSQL_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [*GENSQL, "refresh", "-q", "--data-root", url], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 0, run.stderr
    published = newest_snapshot(url + "/index")
    assert published is not None

    fs = s3fs.S3FileSystem()
    unfinished = "29991231T235959999999Z-abcdef"  # newer than any real one; its publisher died before the manifest
    fs.pipe_file(f"lab/store-b/index/snapshots/{unfinished}/gens/stage=draft/part-00-0000.parquet", b"not parquet")
    fs.invalidate_cache()
    assert newest_snapshot(url + "/index")[1]["id"] == published[1]["id"]

    run = subprocess.run(
        [*GENSQL, "refresh", "-q", "--data-root", url, "--index-dir", str(tmp_path / "local-index")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    count = subprocess.run(
        [
            *GENSQL,
            "sql",
            "--data-root",
            str(root),
            "--index-dir",
            str(tmp_path / "local-index"),
            "SELECT stage, count(*) AS n FROM gens GROUP BY stage ORDER BY stage",
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert count.returncode == 0, count.stderr
    gensql.refresh(root, tmp_path / "idx-local", full=True, jobs=1)
    local = (
        gensql.connect(root, tmp_path / "idx-local")
        .execute("SELECT stage, count(*) FROM gens GROUP BY stage ORDER BY stage")
        .fetchall()
    )
    assert count.stdout.strip().splitlines()[1:] == [f"{s},{n}" for s, n in local]
