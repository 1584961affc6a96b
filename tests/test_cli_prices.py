"""Prices from a maintained source (issue 13, item 10): `gensql prices suggest` proposes dated rows from
the genai-prices package for the models the store called and lists those it cannot match; `gensql
prices check` lists unpriced models and rules that match nothing. Through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from click.testing import CliRunner
from hand_store import HandStore

from gensql.cli import cli
from gensql.prices import load_prices, parse_prices


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = HandStore(tmp_path_factory.mktemp("prices"))
    s.draft("d1", model="gpt-4o", at=10, raw_meta={"usage": {"completion_tokens": 100}})
    s.essay("e1", "d1", model="deepseek/deepseek-r1", at=20, raw_meta={"usage": {"completion_tokens": 300}})
    s.evaluation("v1", "e1", model="our-house-model", at=30, raw_meta={"usage": {"completion_tokens": 5}})
    s.refresh()
    return s.data


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows_of(text: str) -> list[dict]:
    return list(
        csv.DictReader(io.StringIO("".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))))
    )


def test_suggest_gives_a_price_table_that_gensql_reads(store, tmp_path):
    import genai_prices  # the optional extra 'prices'; the test extra installs it

    out = tmp_path / "suggested.csv"
    r = run("prices", "suggest", "--data-root", str(store), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    text = out.read_text()
    table = parse_prices(text, "suggested")  # the suggestion is a valid price table as it stands
    rows = rows_of(text)
    assert {row["model"] for row in rows} == {"gpt-4o"}  # deepseek/... needs its provider; ours is unknown
    gpt = [row for row in rows if row["model"] == "gpt-4o"]
    assert all(row["note"].startswith(f"genai-prices {genai_prices.__version__}: openai/gpt-4o") for row in gpt)
    assert table.lookup("gpt-4o", None) is not None and table.currency == "USD"
    assert "# No price found for: deepseek/deepseek-r1, our-house-model" in text
    assert "genai-prices has no price for 2 model id(s): deepseek/deepseek-r1, our-house-model" in r.stderr
    assert "try --provider" in r.stderr


def test_suggest_with_a_provider_keeps_its_price_history(store):
    from genai_prices import data_snapshot

    _, info = data_snapshot.get_snapshot().find_provider_model("deepseek/deepseek-r1", None, "openrouter", None)
    starts = sorted(
        p.constraint.start_date.isoformat()
        for p in (info.prices if isinstance(info.prices, list) else [])
        if getattr(p.constraint, "start_date", None)
    )
    r = run("prices", "suggest", "--provider", "openrouter", "--data-root", str(store))
    assert r.exit_code == 0, r.stderr
    ours = [row for row in rows_of(r.stdout) if row["model"] == "deepseek/deepseek-r1"]
    assert ours and ours[0]["note"].endswith("openrouter/deepseek/deepseek-r1")
    assert sorted(row["effective_from"] for row in ours if row["effective_from"]) == starts  # one row per dated price
    assert "our-house-model" in r.stderr


def test_suggest_unknown_provider_is_bad_input(store):
    r = run("prices", "suggest", "--provider", "openrouterr", "--data-root", str(store))
    assert r.exit_code == 2 and "no provider 'openrouterr' (closest: openrouter" in r.stderr


def test_suggest_without_the_package_says_what_to_install(store, monkeypatch):
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # as if not installed
    r = run("prices", "suggest", "--data-root", str(store))
    assert r.exit_code == 2 and "pip install 'gensql[prices]'" in r.stderr and r.stdout == ""


def test_check_lists_unpriced_models_and_unused_rules(store, tmp_path):
    prices = tmp_path / "p.csv"
    prices.write_text(
        "model,match,input_per_mtok,output_per_mtok,currency,effective_from\n"
        "gpt-4o,exact,2.50,10.00,USD,2000-01-01\n"
        "deepseek/*,glob,0.5,2,USD,2099-01-01\n"
        "claude-*,glob,3,15,USD,\n"
    )
    r = run("prices", "check", "--prices", str(prices), "--format", "json", "--data-root", str(store))
    assert r.exit_code == 0, r.stderr
    got = {(row["kind"], row["model"]): row for row in json.loads(r.stdout)}
    assert set(got) == {
        ("unpriced_model", "deepseek/deepseek-r1"),
        ("unpriced_model", "our-house-model"),
        ("unused_rule", "claude-*"),
    }
    assert got[("unpriced_model", "deepseek/deepseek-r1")]["detail"].endswith("no rule in effect on these days")
    assert got[("unpriced_model", "our-house-model")]["detail"].endswith("no rule matches this id")
    assert got[("unpriced_model", "our-house-model")]["calls"] == 1
    assert "line 4" in got[("unused_rule", "claude-*")]["detail"]


def test_check_of_a_complete_table_is_empty(store, tmp_path):
    prices = tmp_path / "all.csv"
    prices.write_text("model,match,input_per_mtok,output_per_mtok,currency\n*,glob,1,1,USD\n")
    r = run("prices", "check", "--prices", str(prices), "--format", "csv", "--data-root", str(store))
    assert r.exit_code == 0 and r.stdout == "kind,model,calls,first_day,last_day,detail\n"
    assert "every model call is priced" in r.stderr
    assert load_prices(prices).lookup("anything", None) is not None
