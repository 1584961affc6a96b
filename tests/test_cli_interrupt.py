"""Ctrl-C always stops: every long command, interrupted at a random moment under CPU load, exits 130 with one line.

Each command runs through the real entry point (``python -m gensql``) in its own process group, and
the interrupt goes to the whole group, as a terminal's Ctrl-C does (workers, forkserver and all). The
moment is random but taken after a readiness event (the refresh's writer lock holding its pid, the
server's "serving" line), never after a guessed sleep. A burner process keeps the CPUs busy throughout.

No assertion is about speed: a stop must happen (the bound, 60 s, only turns a hang into a failure),
and its latency is printed (``pytest -s``) for the record.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

#: A hang, not a slow stop: the command must have exited by then.
HANG_SECONDS = 60
TRIALS = 15
GENERATIONS = 4500  # above gensql.refresh.workers.PARALLEL_THRESHOLD: the refresh runs worker processes


def gensql(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gensql", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the "terminal" of this test
        **kwargs,
    )


@pytest.fixture(scope="module")
def burner() -> Iterator[None]:
    """One CPU-bound process for the whole module: the stops are exercised on a busy machine."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("interrupt") / "data"
    subprocess.run(
        [sys.executable, "-m", "gensql.synth", "store", "--n", str(GENERATIONS), "--profile", "bench", str(root)],
        check=True,
        capture_output=True,
    )
    return root


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + HANG_SECONDS
    while not predicate():
        if proc.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def stop(proc: subprocess.Popen, signum: int) -> tuple[int, str, float | None]:
    """Signal the process group, wait for the exit; (exit code, stderr, seconds from signal to exit)."""
    sent = time.monotonic()
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass
    try:
        _, err = proc.communicate(timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"still running {HANG_SECONDS} s after signal {signum}: {err[-2000:]}")
    return proc.returncode, err, time.monotonic() - sent


def current_snapshot(index: Path) -> str:
    return os.readlink(index / "current")


def count_gens(store: Path, index: Path) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gensql",
            "sql",
            "SELECT count(*) AS n FROM gens",
            "--data-root",
            str(store),
            "--index-dir",
            str(index),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()[1]


def test_refresh_full_stops_at_any_moment_under_load(big_store, tmp_path, burner):
    """15 Ctrl-Cs (and a few SIGTERMs) at random moments of `refresh --full`: listing, scanning with
    workers, writing parts, building the search index, publishing. Each exits 130 (143) with one line
    and no traceback, and the current index is whole: the previous one, or the new one when the signal
    came after it was published."""
    index = tmp_path / "index"
    started = time.monotonic()
    first = subprocess.run(
        [sys.executable, "-m", "gensql", "refresh", "--data-root", str(big_store), "--index-dir", str(index), "-q"],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    duration = time.monotonic() - started
    expected = count_gens(big_store, index)
    rng = random.Random(os.environ.get("GENSQL_INTERRUPT_SEED", "22"))
    latencies: list[float] = []
    stopped = 0
    for trial in range(TRIALS):
        signum = signal.SIGTERM if trial % 5 == 4 else signal.SIGINT
        before = current_snapshot(index)
        proc = gensql("refresh", "--data-root", str(big_store), "--index-dir", str(index), "--full")

        def ready(proc=proc) -> bool:
            try:
                return (index / ".lock").read_text().strip() == str(proc.pid)
            except OSError:
                return False

        wait_for(ready, proc)
        time.sleep(rng.uniform(0, duration))  # the random moment (not a synchronisation)
        code, err, latency = stop(proc, signum)
        if code == 0:  # finished before the signal: a new snapshot, equally whole
            assert current_snapshot(index) != before
            continue
        stopped += 1
        word = "terminated" if signum == signal.SIGTERM else "interrupted"
        assert code == 128 + signum, err
        assert err.strip() == f"gensql: {word}", err
        if current_snapshot(index) != before:  # stopped after publishing: the new index must be whole
            assert count_gens(big_store, index) == expected
        latencies.append(latency)
    assert stopped, "every refresh finished before its signal: nothing was interrupted"
    assert count_gens(big_store, index) == expected  # and still reads whole
    print(
        f"\nrefresh --full stops: {stopped}/{TRIALS} interrupted mid-run; signal to exit "
        f"median {sorted(latencies)[len(latencies) // 2]:.2f} s, max {max(latencies):.2f} s "
        f"(a full refresh took {duration:.2f} s)"
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_watch_stops_with_one_line(big_store, tmp_path, burner, signum):
    index = tmp_path / "index"
    proc = gensql("refresh", "--watch", "--data-root", str(big_store), "--index-dir", str(index))
    lines: list[str] = []

    assert proc.stderr is not None
    lines.append(proc.stderr.readline())  # the "start" update: the watcher is up
    code, err, latency = stop(proc, signum)
    word = "terminated" if signum == signal.SIGTERM else "interrupted"
    assert code == 128 + signum, lines + [err]
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"gensql: {word}"]
    print(f"\nrefresh --watch stopped by signal {signum} in {latency:.2f} s")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_quietly(big_store, tmp_path, burner, signum):
    """The server runs until stopped: stopping it is not an error, and says so in one line."""
    pytest.importorskip("uvicorn")
    index = tmp_path / "index"
    proc = gensql("serve", "--port", "0", "--data-root", str(big_store), "--index-dir", str(index))
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "serving" in line, line
    assert ":0/" not in line  # the bound port, not the one asked for
    code, err, latency = stop(proc, signum)
    assert code == 128 + signum, err
    assert err.strip().splitlines() == ["gensql: stopped"], err
    print(f"\nserve stopped by signal {signum} in {latency:.2f} s")
