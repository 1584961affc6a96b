"""Killed means gone: a refresh killed or stopped leaves no worker, forkserver or resource tracker behind.

The refresh runs through the real CLI in a child process, with worker processes forced on (small
batches) so that it is still running, with workers, when the signal arrives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from storebuilder import write_gen

pytestmark = pytest.mark.slow  # refreshes with worker processes, killed and awaited

#: The real CLI, with parallel scanning forced on and one directory per batch (a slow, long refresh).
RUNNER = "import sys, gensql.refresh.workers as w, gensql.refresh.planning as p; w.PARALLEL_THRESHOLD = 0; p.BATCH_SIZE = 1; from gensql.cli import main; sys.argv[0] = 'gensql'; main()"
GENERATIONS = 3000


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("procs") / "data"
    for i in range(GENERATIONS):
        write_gen(root, "draft", f"d_{i:05d}", {"metadata.json": {"model_id": "m"}, "raw.txt": "r", "parsed.txt": "p"})
    return root


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def start_refresh(store: Path, index: Path) -> tuple[subprocess.Popen, set[int]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            "refresh",
            "--data-root",
            str(store),
            "--index-dir",
            str(index),
            "--full",
            "-j",
            "2",
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)
        if len(seen) >= 3:  # forkserver and workers (and the resource tracker) are up
            time.sleep(0.3)
            seen |= descendants(proc.pid)
            return proc, seen
        time.sleep(0.02)
    proc.kill()
    pytest.fail(
        f"the refresh never started worker processes (exit {proc.poll()}): {proc.stderr.read() if proc.stderr else ''}"
    )


def wait_gone(pids: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return left
        time.sleep(0.05)
    return {p for p in pids if alive(p)}


def test_sigkill_of_a_refresh_leaves_no_process(store, tmp_path):
    proc, helpers = start_refresh(store, tmp_path / "index")
    proc.kill()
    proc.wait()
    left = wait_gone(helpers)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert left == set()


@pytest.mark.parametrize(
    "signum, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_sigterm_and_ctrl_c_stop_a_refresh_cleanly(store, tmp_path, signum, code, word):
    index = tmp_path / "index"
    proc, helpers = start_refresh(store, index)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    left = wait_gone(helpers)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert err.strip() == f"gensql: {word}", err  # asked for, so not framed as an error
    assert left == set()
    assert not os.path.lexists(index / "current")
    leftovers = [p.name for p in (index / "snapshots").iterdir()] if (index / "snapshots").exists() else []
    assert leftovers == []
