"""A filter that matches nothing says so on stderr, naming the closest known values, and the exit code
stays 0 for a valid but empty result (issue 13, item 2). Through the real entry point."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hand_store import HandStore, ts

from gensql.cli import cli


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = HandStore(tmp_path_factory.mktemp("filters"))
    s.draft("d1", model="gpt-4o", template="deliberate-v2", at=10)
    s.essay("e1", "d1", model="sonnet-4", template="essay-v3", at=20)
    s.evaluation("v1", "e1", model="gpt-4o-mini", template="novelty-v1", at=30)
    s.cohort("2025-03-08-rerun", [("draft", "d1")])
    s.refresh()
    return s.data


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def notes(stderr: str) -> list[str]:
    return [line.removeprefix("gensql: note: ") for line in stderr.splitlines() if line.startswith("gensql: note: ")]


def test_unknown_model_names_the_closest(store):
    r = run("report", "tokens", "--model", "gpt4o", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert "--model 'gpt4o' matches no generation (closest: gpt-4o, gpt-4o-mini)" in notes(r.stderr)


def test_one_matching_model_and_one_not(store):
    r = run(
        "report", "tokens", "--model", "gpt-4o", "--model", "sonet-4", "--format", "json", "--data-root", str(store)
    )
    assert r.exit_code == 0 and [row["model_id"] for row in json.loads(r.stdout)] == ["gpt-4o"]
    said = notes(r.stderr)
    assert "--model 'sonet-4' matches no generation (closest: sonnet-4)" in said
    assert not any("'gpt-4o' matches" in n for n in said)


def test_stage_without_generations(tmp_path):
    s = HandStore(tmp_path)
    s.draft("d1", at=10)
    s.refresh()
    r = run("report", "tokens", "--stage", "evaluation", "--format", "csv", "--data-root", str(s.data))
    assert r.exit_code == 0
    assert "--stage 'evaluation' matches no generation (known: draft)" in notes(r.stderr)


def test_scores_model_is_an_evaluation_model(store):
    r = run("report", "scores", "--model", "gpt-4o", "--long", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    # gpt-4o made a draft, not an evaluation: the evaluation models are offered
    assert "--model 'gpt-4o' matches no generation of stage evaluation (closest: gpt-4o-mini)" in notes(r.stderr)


def test_dates_outside_the_data(store):
    first, last = ts(10).date(), ts(30).date()
    r = run("report", "tokens", "--since", "2031-01-01", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert (
        f"--since 2031-01-01 is after the newest generation's day ({last}; the data spans {first} to {last})"
        in notes(r.stderr)
    )
    r = run("report", "tokens", "--until", "2001-01-01", "--format", "json", "--data-root", str(store))
    assert (
        f"--until 2001-01-01 is before the oldest generation's day ({first}; the data spans {first} to {last})"
        in notes(r.stderr)
    )


def test_matching_filters_say_nothing(store):
    r = run(
        "report",
        "tokens",
        "--model",
        "gpt-4o",
        "--stage",
        "draft",
        "--since",
        str(ts(0).date()),
        "--data-root",
        str(store),
    )
    assert r.exit_code == 0 and not any("matches no" in n or "is after" in n for n in notes(r.stderr))


def test_search_with_no_hits_names_the_filter(store):
    r = run("search", "essay", "--template", "esay-v3", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert "--template 'esay-v3' matches no generation (closest: essay-v3)" in notes(r.stderr)
    r = run("search", "zzzznothing", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0 and notes(r.stderr) == ["no hits"]
    r = run("search", "essay", "--cohort", "2025-03-08-rerum", "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0
    assert "--cohort '2025-03-08-rerum' is not a cohort in the index (closest: 2025-03-08-rerun)" in notes(r.stderr)
