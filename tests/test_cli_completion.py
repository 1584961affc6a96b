"""Shell completion (issue 13, item 9): click's completion protocol through the real entry point offers
named queries, views, --by values, cohort ids and gen ids of the current index; `gensql completion
SHELL` prints a script that uses it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hand_store import HandStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = HandStore(tmp_path_factory.mktemp("complete"))
    s.draft("d_alpha", at=10)
    s.essay("e_alpha", "d_alpha", at=20)
    s.essay("e_beta", "d_alpha", replicate=2, at=21)
    s.evaluation("v_alpha", "e_alpha", at=30)
    s.cohort("2025-03-08-rerun", [("draft", "d_alpha")])
    s.refresh()
    return s.data


def complete(*words: str, env: dict | None = None) -> list[str]:
    """What bash completion offers after ``gensql WORDS`` (the last word is the one being completed)."""
    line = ["gensql", *words]
    environ = {
        **os.environ,
        "_GENSQL_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(line),
        "COMP_CWORD": str(len(line) - 1),
        **(env or {}),
    }
    p = subprocess.run([sys.executable, "-m", "gensql"], capture_output=True, text=True, env=environ)
    assert p.returncode == 0, p.stderr
    return [item.split(",", 1)[1] for item in p.stdout.splitlines() if item]


def test_named_queries():
    assert complete("query", "sc") == ["scan_errors_summary", "score_pivot"]


def test_views():
    assert complete("views", "sc") == ["scan_errors", "scores"]
    assert "counted_scores" in complete("views", "")


def test_by_values_after_a_comma():
    assert complete("report", "tokens", "--by", "model,s") == ["model,stage"]
    assert complete("report", "tokens", "--by", "m") == ["model", "month"]


def test_gen_ids_of_the_index(store):
    assert complete("show", "--data-root", str(store), "e_") == ["e_alpha", "e_beta"]
    assert complete("lineage", "v_", env={"GENSQL_DATA_ROOT": str(store)}) == ["v_alpha"]
    assert complete("show", "--data-root", str(store), "--stage", "draft", "") == ["d_alpha"]
    assert complete("show", "--data-root", str(store / "nowhere"), "e_") == []  # no index: nothing, no error


def test_cohort_ids(store):
    assert complete("report", "cohort", "--data-root", str(store), "2025") == ["2025-03-08-rerun"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(shell):
    p = subprocess.run([sys.executable, "-m", "gensql", "completion", shell], capture_output=True, text=True)
    assert p.returncode == 0 and "_GENSQL_COMPLETE" in p.stdout and f"{shell}_complete" in p.stdout
