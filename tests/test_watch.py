"""`gensql refresh --watch` through the real entry point: a pipeline's writes become visible within 2 s,
a randomized writer ends in the same index as `--full`, kills leave a whole snapshot, one watcher per
index, Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from test_refresh import make_small_store, small_gen, snapshot_tables

import gensql
from gensql.partitions import table_files

pytest.importorskip("watchfiles")
# the reader polls while the store is being written: connect() rightly says the index is behind
pytestmark = pytest.mark.filterwarnings("ignore:the index .* is older than changes in the store")


class Watcher:
    """``gensql refresh --watch`` in a subprocess, its stderr lines collected as they come."""

    def __init__(self, root: Path, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gensql", "refresh", "--watch", "--data-root", str(root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, word: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if word in line:
                return line
        raise AssertionError(f"no {word!r} line from the watcher; saw {self.seen}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0.05")
    return make_small_store(tmp_path / "store", n=5)


def visible(root: Path, stage: str, gen_id: str) -> bool:
    con = gensql.connect(root)
    try:
        return con.execute(
            "SELECT count(*) FROM gens WHERE stage = ? AND gen_id = ? AND status = 'ok'", [stage, gen_id]
        ).fetchall() == [(1,)]
    finally:
        con.close()


def test_a_written_generation_is_visible_within_two_seconds(store):
    watcher = Watcher(store)
    try:
        watcher.wait_for("start:")
        latencies = []
        rng = random.Random(7)
        for i in range(6):
            ref = gensql.write_generation(
                store,
                "draft",
                template_id="t1",
                model_id="m1",
                combo_id=f"c{i}",
                run_id=f"run{i}",
                prompt="a prompt\n",
                raw=f"draft {i}\n",
                parsed=f"draft {i}\n",
                usage={"completion_tokens": 10},
                finish_reason="stop",
                parser_name="identity",
                parse_success=True,
            )
            written = time.monotonic()  # the generation's last file write (the rename into place)
            while not visible(store, "draft", ref.gen_id):
                assert time.monotonic() - written < 10, f"{ref.gen_id} never became visible: {watcher.seen}"
                time.sleep(0.02)
            latencies.append(time.monotonic() - written)
            time.sleep(rng.uniform(0, 0.3))
        print("write -> visible (s):", " ".join(f"{x:.2f}" for x in latencies))
        assert max(latencies) < 2.0, latencies
        line = watcher.wait_for("event paths")
        assert "new" in line and "partitions written" in line
        time.sleep(0.5)  # the last update's clean-up runs after its line
        kept = [p.name for p in (store / "index" / "snapshots").iterdir()]
        assert 1 <= len(kept) <= 3, kept  # superseded snapshots are deleted after each update
    finally:
        watcher.stop()


WRITER_KINDS = ("add", "rewrite", "delete", "rename", "partial", "finish", "cohort")


def random_writer(
    root: Path, seed: int, steps: int, kinds: tuple[str, ...] = WRITER_KINDS, settle: float = 0.0
) -> None:
    """Adds, in-place rewrites, deletes, renames and partial writes finished later, at random pauses.

    ``settle``: seconds between creating a directory (a partial generation, a cohort) and the first
    write into it, so that a watcher of active directories has seen the directory appear first.
    """
    rng = random.Random(seed)
    unfinished: list[Path] = []
    for step in range(steps):
        kind = rng.choice(kinds)
        stage = rng.choice(["draft", "essay", "evaluation"])
        existing = sorted(p for p in (root / "gens" / stage).iterdir() if p.is_dir() and not p.name.startswith("."))
        if kind == "add":
            small_gen(root, stage, 1000 + step)
        elif kind == "rewrite" and existing:
            meta = rng.choice(existing) / "metadata.json"
            if meta.exists():
                meta.write_text(meta.read_text().replace('"m1"', '"mW"'))  # in place, same size
        elif kind == "delete" and existing:
            shutil.rmtree(rng.choice(existing))
        elif kind == "rename" and existing:
            source = rng.choice(existing)
            os.rename(source, source.with_name(f"{source.name}-r{step}"))
        elif kind == "partial":
            gen = root / "gens" / stage / f"{stage[0]}_p{step:04d}"
            gen.mkdir()
            time.sleep(settle)
            (gen / "metadata.json").write_text(
                orjson.dumps(
                    {"stage": stage, "gen_id": gen.name, "mode": "llm", "template_id": "t1", "llm_model_id": "m1"}
                ).decode()
            )
            unfinished.append(gen)
        elif kind == "finish" and unfinished:
            gen = unfinished.pop(0)
            if gen.exists():
                (gen / "raw.txt").write_text("finished later\n")
                (gen / "parsed.txt").write_text("7.0\n")
        elif kind == "cohort":
            (root / "cohorts" / f"w{step}").mkdir(parents=True)
            time.sleep(settle)
            (root / "cohorts" / f"w{step}" / "membership.csv").write_text(f"stage,gen_id\n{stage},{stage[0]}_0001\n")
        time.sleep(rng.choice([0, 0, 0.01, 0.05, 0.2]))


def test_randomized_writer_ends_equal_to_a_full_refresh(store, tmp_path):
    watcher = Watcher(store)
    try:
        watcher.wait_for("start:")
        random_writer(store, seed=11, steps=60)
        full_index = tmp_path / "full-index"
        gensql.refresh(store, full_index, full=True)
        expected = snapshot_tables(full_index)
        deadline = time.monotonic() + 15  # the sweep interval is an hour: only events can get it there
        while snapshot_tables(store / "index") != expected:
            assert time.monotonic() < deadline, f"the watcher missed a change; updates: {watcher.seen}"
            time.sleep(0.1)
    finally:
        watcher.stop()


def test_a_store_past_max_watches_is_watched_at_its_active_directories(store, tmp_path):
    """Past --max-watches only stage, cohort and active directories are watched: new, renamed and
    deleted generations and a pipeline's later writes into new ones still arrive by events alone."""
    watcher = Watcher(store, "--max-watches", "0")
    try:
        line = watcher.wait_for("start:")
        assert "active generation directories" in line and "--max-watches 0" in line
        # everything but in-place rewrites of quiet directories, which only a sweep sees in this mode
        random_writer(store, seed=5, steps=40, kinds=tuple(k for k in WRITER_KINDS if k != "rewrite"), settle=0.6)
        full_index = tmp_path / "full-index"
        gensql.refresh(store, full_index, full=True)
        expected = snapshot_tables(full_index)
        deadline = time.monotonic() + 15
        while snapshot_tables(store / "index") != expected:
            assert time.monotonic() < deadline, f"the watcher missed a change; updates: {watcher.seen}"
            time.sleep(0.1)
    finally:
        watcher.stop()


def whole(root: Path) -> None:
    """The current snapshot is complete: every file it lists exists with its rows; the views open."""
    snap = (root / "index" / "current").resolve()
    info = orjson.loads((snap / "snapshot.json").read_bytes())
    listed = {
        str(p.relative_to(snap)) for t in ("gens", "_gens_scan", "texts", "_manifest") for p in table_files(snap, t)
    }
    assert listed == set(info["files"])
    con = gensql.connect(root)
    assert con.execute("SELECT count(*) FROM gens").fetchall() == [(info["generations"],)]
    con.close()


def test_killing_the_watcher_at_random_moments_leaves_a_whole_snapshot(store):
    rng = random.Random(3)
    stop = threading.Event()

    def writer() -> None:
        step = 0
        while not stop.is_set():
            small_gen(store, rng.choice(["draft", "essay"]), 2000 + step)
            step += 1
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(4):
            watcher = Watcher(store)
            watcher.wait_for("start:")
            time.sleep(rng.uniform(0.05, 1.0))
            watcher.proc.send_signal(signal.SIGKILL)
            watcher.proc.wait()
            whole(store)
    finally:
        stop.set()
        thread.join()
    result = gensql.refresh(store)
    whole(store)
    assert result.generations == sum(
        1 for s in ("draft", "essay", "evaluation") for p in (store / "gens" / s).iterdir() if p.is_dir()
    )
    assert [p.name for p in (store / "index" / "snapshots").iterdir() if p.name.startswith(".tmp")] == []


def test_a_second_watcher_exits_with_the_lock_message(store):
    first = Watcher(store)
    try:
        first.wait_for("start:")
        second = subprocess.run(
            [sys.executable, "-m", "gensql", "refresh", "--watch", "--data-root", str(store)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 3
        assert "another refresh is writing the index" in second.stderr
    finally:
        first.stop()


def test_ctrl_c_stops_the_watcher_cleanly(store):
    watcher = Watcher(store)
    watcher.wait_for("start:")
    small_gen(store, "draft", 77)
    watcher.wait_for("event paths")
    started = time.monotonic()
    watcher.proc.send_signal(signal.SIGINT)
    assert watcher.proc.wait(10) == 130
    assert time.monotonic() - started < 6
    whole(store)
    assert [p.name for p in (store / "index" / "snapshots").iterdir() if p.name.startswith(".tmp")] == []
