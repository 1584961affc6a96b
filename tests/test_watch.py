"""`gensql refresh --watch` through the real entry point: a pipeline's writes become visible through
events alone, a randomized writer ends in the same index as `--full`, kills leave a whole snapshot, one
watcher per index, Ctrl-C stops it cleanly.

The tests wait for the watcher's own lines (one per update), never for a stretch of wall-clock time; the
write-to-visible latency is measured by bench/bench_watch.py, not asserted here."""

from __future__ import annotations

import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from pause import kill_at
from test_refresh import make_small_store, small_gen, snapshot_tables

import gensql
from gensql.index import KEEP
from gensql.partitions import table_files

pytest.importorskip("watchfiles")
# the reader polls while the store is being written: connect() rightly says the index is behind
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:the index .* is older than changes in the store"),
]  # slow: watcher processes started, fed and stopped


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
        self.markers = 0  # marker drafts written by caught_up()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, word: str, timeout: float = 120) -> str:
        """The next line holding ``word``; ``timeout`` only guards against a hang (a watcher that never
        says it), so it is far above any update's time on a loaded machine."""
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

    def converges_to(self, root: Path, expected: dict) -> None:
        """Return once the index equals ``expected``, checking after each update line the watcher says
        (a line said before the first check is still queued, so no update is missed)."""
        while snapshot_tables(root / "index") != expected:
            self.wait_for("partitions written")

    def caught_up(self, root: Path) -> None:
        """Return once the watcher has handled every event so far: a marker draft written now is in the
        index (events reach it in order, and a directory seen is watched before the update reads)."""
        self.markers += 1
        gen_id = write_draft(root, 5000 + self.markers)
        while not visible(root, "draft", gen_id):
            self.wait_for("partitions written")

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


def write_draft(root: Path, i: int) -> str:
    """A complete draft, renamed into place in one step (gensql.write_generation): its gen_id."""
    ref = gensql.write_generation(
        root,
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
    return ref.gen_id


def visible(root: Path, stage: str, gen_id: str) -> bool:
    con = gensql.connect(root)
    try:
        return con.execute(
            "SELECT count(*) FROM gens WHERE stage = ? AND gen_id = ? AND status = 'ok'", [stage, gen_id]
        ).fetchall() == [(1,)]
    finally:
        con.close()


def test_a_written_generation_becomes_visible_by_its_events(store):
    """Each generation written becomes visible in an update the watcher makes from file-system events
    (the sweep interval is an hour), and superseded snapshots are collected after each update."""
    watcher = Watcher(store)
    try:
        watcher.wait_for("start:")
        rng = random.Random(7)
        updates = []
        for i in range(6):
            gen_id = write_draft(store, i)
            while not visible(store, "draft", gen_id):
                updates.append(watcher.wait_for("event paths"))  # fails if no update comes at all
            time.sleep(rng.uniform(0, 0.3))  # writes alone or several in one debounce window
        assert any(re.search(r": [1-9][0-9]* new, .* partitions written", line) for line in updates), updates
        # Each update collects what the one before it superseded before it waits for the next event, so
        # whatever the moment, at most the kept snapshots and the newest update's are there.
        kept = [p.name for p in (store / "index" / "snapshots").iterdir()]
        assert 1 <= len(kept) <= KEEP + 1, kept
    finally:
        watcher.stop()


WRITER_KINDS = ("add", "rewrite", "delete", "rename", "partial", "finish", "cohort")


def random_writer(
    root: Path, seed: int, steps: int, kinds: tuple[str, ...] = WRITER_KINDS, settle: Callable[[], None] = lambda: None
) -> None:
    """Adds, in-place rewrites, deletes, renames and partial writes finished later, at random pauses.

    ``settle``: called between creating a directory (a partial generation, a cohort) and the first
    write into it, to wait until a watcher of active directories has seen the directory appear.
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
            settle()
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
            settle()
            (root / "cohorts" / f"w{step}" / "membership.csv").write_text(f"stage,gen_id\n{stage},{stage[0]}_0001\n")
        time.sleep(rng.choice([0, 0, 0.01, 0.05, 0.2]))


def test_randomized_writer_ends_equal_to_a_full_refresh(store, tmp_path):
    watcher = Watcher(store)
    try:
        watcher.wait_for("start:")
        random_writer(store, seed=11, steps=60)
        full_index = tmp_path / "full-index"
        gensql.refresh(store, full_index, full=True)
        watcher.converges_to(store, snapshot_tables(full_index))  # the sweep interval is an hour: events only
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
        random_writer(
            store,
            seed=5,
            steps=40,
            kinds=tuple(k for k in WRITER_KINDS if k != "rewrite"),
            settle=lambda: watcher.caught_up(store),
        )
        full_index = tmp_path / "full-index"
        gensql.refresh(store, full_index, full=True)
        watcher.converges_to(store, snapshot_tables(full_index))
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


def test_killing_the_watcher_mid_update_leaves_a_whole_snapshot(store):
    """A writer keeps adding generations while the watcher is killed at each step of writing a snapshot
    (where gensql.faults stops it): during its first refresh and during event-driven updates."""
    rng = random.Random(3)
    stop = threading.Event()

    def writer() -> None:
        step = 0
        while not stop.is_set():
            small_gen(store, rng.choice(["draft", "essay"]), 2000 + step)
            step += 1
            time.sleep(0.01)

    gensql.refresh(store)  # the snapshot a kill during the watcher's first refresh must leave current
    thread = threading.Thread(target=writer)
    thread.start()
    args = ["-m", "gensql", "refresh", "--watch", "--data-root", str(store)]
    try:
        # the n-th commit of a watcher: 1 is its first refresh, 2 and 3 updates made from events
        for point, nth in (("snapshot.part", 1), ("snapshot.commit", 2), ("snapshot.swap", 2), ("snapshot.current", 3)):
            assert kill_at(point, nth, args) == f"{point} {nth}"
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
    watcher.proc.send_signal(signal.SIGINT)
    assert watcher.proc.wait(60) == 130  # a generous bound against a hang, not a speed requirement
    whole(store)
    assert [p.name for p in (store / "index" / "snapshots").iterdir() if p.name.startswith(".tmp")] == []


def test_reopening_a_partial_watch_loses_no_event_its_old_notifier_had_not_handed_over(store, monkeypatch):
    """Watching a new active directory replaces the notifier. An event the old one's reader thread had
    not taken from the kernel yet (a loaded machine) must come out of the next watch(), not vanish with it."""
    from gensql import layout, watch

    real = watch.open_notifier

    class Lagging:
        """A notifier whose reader thread lags: its first answers are timeouts whatever the kernel holds."""

        def __init__(self, paths: list[str], recursive: bool):
            self.inner, self.lag = real(paths, recursive), 3

        def watch(self, debounce_ms: int, step_ms: int, timeout_ms: int, stop):
            if self.lag:
                self.lag -= 1
                return "timeout"
            return self.inner.watch(debounce_ms, step_ms, timeout_ms, stop)

        def close(self) -> None:
            self.inner.close()

    monkeypatch.setattr(watch, "open_notifier", Lagging)
    watches = watch.WatchSet(layout.resolve(store), max_watches=0, active_seconds=0)  # none active yet
    try:
        first, second = sorted((store / "gens" / "draft").iterdir())[:2]
        watches.note({("draft", first.name)})
        (first / "late.txt").write_text("written while the old notifier is still the one watching")
        watches.note({("draft", second.name)})  # a new notifier; the old one is closed
        raw = watches.watch(50, 5, 10_000, None)
        assert isinstance(raw, set), raw
        assert str(first / "late.txt") in {path for _change, path in raw}
    finally:
        watches.close()
