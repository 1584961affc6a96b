"""Staleness is visible (issue 13, item 8): when a generation or a cohort file appears after the index
snapshot was taken, summary, reports, named queries and connect() say so with the snapshot's time;
after a refresh they do not. Through the real entry point (a real process: the CLI's own warning line)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import pytest
from click.testing import CliRunner
from hand_store import HandStore

import gensql
from gensql.cli import cli
from gensql.staleness import StaleIndexWarning


def gensql_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gensql", *args], capture_output=True, text=True)


@pytest.fixture
def store(tmp_path):
    s = HandStore(tmp_path)
    s.draft("d1", at=10)
    s.essay("e1", "d1", at=20)
    s.cohort("A", [("draft", "d1")])
    s.refresh()
    return s


def _later(path):
    """Give ``path`` a modification time clearly after the snapshot (now + 2 s)."""
    future = time.time() + 2
    os.utime(path, (future, future))


def test_fresh_index_says_nothing(store):
    r = CliRunner().invoke(cli, ["summary", "--data-root", str(store.data)], catch_exceptions=False)
    assert r.exit_code == 0 and "older than changes" not in r.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleIndexWarning)
        gensql.connect(store.data).close()


@pytest.mark.slow
def test_new_generation_is_reported_with_the_snapshot_time(store):
    snapshot = (store.data / "index" / "current").resolve().name
    store.essay("e2", "d1", replicate=2)
    _later(store.data / "gens" / "essay")
    p = gensql_process("summary", "--data-root", str(store.data))  # the real CLI's one warning line
    assert p.returncode == 0, p.stderr
    (line,) = [x for x in p.stderr.splitlines() if "older than changes" in x]
    assert line.startswith(f"gensql: warning: the index (snapshot {snapshot}, taken ")
    assert line.endswith("(gens/essay/): run `gensql refresh`")
    for args in (["report", "tokens"], ["query", "overview"]):  # the same warning through click's runner
        with pytest.warns(StaleIndexWarning, match=f"snapshot {snapshot}, taken .*gens/essay/"):
            r = CliRunner().invoke(cli, [*args, "--data-root", str(store.data)], catch_exceptions=False)
        assert r.exit_code == 0
    with pytest.warns(StaleIndexWarning, match="gens/essay/"):
        gensql.connect(store.data).close()
    store.refresh()
    r = CliRunner().invoke(cli, ["summary", "--data-root", str(store.data)], catch_exceptions=False)
    assert "older than changes" not in r.stderr


def test_new_or_changed_cohort_file_is_reported(store):
    store.cohort("B", [("essay", "e1")])
    _later(store.data / "cohorts" / "B" / "membership.csv")
    with pytest.warns(StaleIndexWarning, match="cohorts/B/membership.csv"):
        gensql.connect(store.data).close()
    store.refresh()
    _later(store.data / "cohorts" / "A" / "membership.csv")  # an existing cohort rewritten
    with pytest.warns(StaleIndexWarning, match="cohorts/A/membership.csv"):
        gensql.connect(store.data).close()
