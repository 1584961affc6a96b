"""Price table: parsing, the rules that pick a price, malformed files, and cost in the tokens report.

The cost tests use a hand-built store whose every token count, prompt size and generation day is
known, so expected costs are computed here by hand (exact decimals), not by gensql.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hand_store import T0, HandStore
from report_store import sample_store

from gensql.errors import PriceTableError
from gensql.prices import SHIPPED_LABEL, load_prices, parse_prices
from gensql.reports import build_tokens, tokens_report

HEADER = "model,match,input_per_mtok,output_per_mtok,currency,effective_from\n"


def table(*lines: str):
    return parse_prices(HEADER + "".join(line + "\n" for line in lines), "test.csv")


# --------------------------------------------------------------------------------------------------
# Matching rules
# --------------------------------------------------------------------------------------------------


def test_exact_beats_glob_beats_regex():
    t = table(
        "gpt-.*,regex,3,3,USD,",
        "gpt-4*,glob,2,2,USD,",
        "gpt-4o,exact,1,1,USD,",
    )
    on = date(2025, 3, 1)
    assert t.lookup("gpt-4o", on).input_per_mtok == 1
    assert t.lookup("gpt-4o-mini", on).input_per_mtok == 2
    assert t.lookup("gpt-3.5", on).input_per_mtok == 3
    assert t.lookup("claude", on) is None
    assert t.lookup(None, on) is None


def test_kind_wins_over_a_newer_date_of_a_less_specific_rule():
    t = table("m-1,exact,1,1,USD,2025-01-01", "m-*,glob,9,9,USD,2025-06-01")
    assert t.lookup("m-1", date(2025, 7, 1)).input_per_mtok == 1


def test_latest_effective_date_on_or_before_the_day_wins():
    t = table(
        "m,exact,1,10,USD,",
        "m,exact,2,20,USD,2025-03-01",
        "m,exact,3,30,USD,2025-04-01",
    )
    assert t.lookup("m", date(2025, 2, 28)).input_per_mtok == 1
    assert t.lookup("m", date(2025, 3, 1)).input_per_mtok == 2  # effective_from is inclusive
    assert t.lookup("m", date(2025, 3, 31)).input_per_mtok == 2
    assert t.lookup("m", date(2026, 1, 1)).output_per_mtok == 30
    assert t.lookup("m", None).input_per_mtok == 3  # no date: the latest price


def test_no_rule_in_effect_yet_means_unpriced():
    t = table("m,exact,1,1,USD,2025-03-01")
    assert t.lookup("m", date(2025, 2, 28)) is None


def test_tie_between_two_patterns_goes_to_the_earlier_line():
    t = table("a*,glob,1,1,USD,2025-01-01", "*b,glob,2,2,USD,2025-01-01")
    assert t.lookup("ab", date(2025, 1, 2)).line == 2
    t = table("*b,glob,2,2,USD,2025-01-01", "a*,glob,1,1,USD,2025-01-01")
    assert t.lookup("ab", date(2025, 1, 2)).input_per_mtok == 2


def test_glob_and_regex_match_the_whole_id_case_sensitively():
    t = table("llama-3*,glob,1,1,USD,", "qwen[0-9]+,regex,2,2,USD,")
    on = date(2025, 1, 1)
    assert t.lookup("llama-3.3-70b", on) is not None
    assert t.lookup("meta-llama-3", on) is None
    assert t.lookup("Llama-3", on) is None
    assert t.lookup("qwen3", on) is not None
    assert t.lookup("qwen3-235b", on) is None  # fullmatch, not search


def test_comments_blank_lines_optional_columns_and_defaults():
    t = parse_prices(
        "# a comment\n\nmodel,input_per_mtok,output_per_mtok,currency\n# another\nm,0.5,1.5,EUR\n",
        "x.csv",
    )
    (rule,) = t.rules
    assert (rule.line, rule.match, rule.effective_from, rule.currency) == (5, "exact", None, "EUR")
    assert rule.input_per_mtok == Decimal("0.5")
    assert t.currency == "EUR"


def test_shipped_table_is_dated_and_prices_every_sample_store_model():
    _, sample_truth = sample_store()
    t = load_prices()
    assert t.source == SHIPPED_LABEL
    assert t.rules and all(r.effective_from is not None for r in t.rules)
    models = {g.values.get("model_id") for g in sample_truth.gens.values() if g.values.get("is_model_call")}
    models.discard(None)
    for day in (date(2025, 3, 1), date(2025, 3, 31)):
        assert {m for m in models if t.lookup(m, day) is None} == set()


# --------------------------------------------------------------------------------------------------
# Malformed tables name the line
# --------------------------------------------------------------------------------------------------

BAD = [
    ("model,in,output_per_mtok,currency\n", 1, "missing column(s) input_per_mtok"),
    ("# c\nmodel,input_per_mtok,output_per_mtok,currency,colour\n", 2, "unknown column(s) 'colour'"),
    (HEADER + "m,exact,1,1,USD\n", 2, "5 fields, expected 6"),
    (HEADER + "m,fuzzy,1,1,USD,\n", 2, "match 'fuzzy'"),
    (HEADER + "\n# note\nm,exact,one,1,USD,\n", 4, "input_per_mtok 'one' is not a number"),
    (HEADER + "m,exact,1,-2,USD,\n", 2, "output_per_mtok '-2' is negative"),
    (HEADER + "m,exact,1,NaN,USD,\n", 2, "not a finite number"),
    (HEADER + "m,exact,1,1,USD,2025-13-01\n", 2, "effective_from '2025-13-01' is not a date"),
    (HEADER + "m,exact,1,1,USD,01/03/2025\n", 2, "is not a date"),
    (HEADER + "m(,regex,1,1,USD,\n", 2, "invalid regex 'm('"),
    (HEADER + "m,exact,1,1,usd,\n", 2, "three-letter code"),
    (HEADER + "a,exact,1,1,USD,\nb,exact,1,1,EUR,\n", 3, "currency EUR differs from USD (line 2)"),
    (
        HEADER + "m,exact,1,1,USD,2025-01-01\nm,exact,2,2,USD,2025-01-01\n",
        3,
        "same exact rule for 'm' (2025-01-01) as line 2",
    ),
    (HEADER + ",exact,1,1,USD,\n", 2, "empty model"),
    (HEADER + 'm,exact,"1,1,USD,\n', 2, "not a CSV line"),
    ("# only comments\n", 1, "no header line"),
    (HEADER + "m,exact,0.0000000001,1,USD,\n", 2, "more than 9 decimal places"),
]


@pytest.mark.parametrize("text,line,fragment", BAD, ids=[b[2][:30] for b in BAD])
def test_malformed_table_names_the_line(text, line, fragment):
    with pytest.raises(PriceTableError) as err:
        parse_prices(text, "bad.csv")
    message = str(err.value)
    assert message.startswith(f"bad.csv, line {line}: "), message
    assert fragment in message


def test_not_utf8_names_the_line():
    with pytest.raises(PriceTableError, match=r"line 3: not UTF-8"):
        parse_prices(HEADER.encode() + b"a,exact,1,1,USD,\nb\xff,exact,1,1,USD,\n", "bad.csv")


def test_missing_file_is_a_price_table_error(tmp_path):
    with pytest.raises(PriceTableError, match="cannot read price table"):
        load_prices(tmp_path / "nope.csv")


# --------------------------------------------------------------------------------------------------
# Cost in the tokens report, on a store whose numbers are known
# --------------------------------------------------------------------------------------------------

DAY = 86400
FEB_10 = int(datetime(2025, 2, 10, 12, tzinfo=UTC).timestamp()) - T0
MAR_10 = int(datetime(2025, 3, 10, 12, tzinfo=UTC).timestamp()) - T0

PRICES = (
    HEADER
    + "alpha,exact,1,2,USD,2025-01-01\n"
    + "alpha,exact,10,20,USD,2025-03-01\n"
    + "alph*,glob,100,200,USD,2025-01-01\n"  # loses to the exact rules
    + "beta-*,glob,3,4,USD,\n"
    + "beta.*,regex,50,60,USD,\n"  # loses to the glob
    + "gamma-\\d+b,regex,5,6,USD,2025-03-01\n"
)


def _call(
    store: HandStore,
    gen_id: str,
    model: str,
    at: int,
    completion: int,
    prompt_bytes: int,
    prompt_tokens: int | None = None,
):
    usage = {"completion_tokens": completion, "max_tokens": 10**7}
    if prompt_tokens is not None:
        usage["prompt_tokens"] = prompt_tokens
    store.gen(
        "draft",
        gen_id,
        {"stage": "draft", "gen_id": gen_id, "mode": "llm", "combo_id": "c", "template_id": "t", "llm_model_id": model},
        raw_meta={
            "stage": "draft",
            "gen_id": gen_id,
            "mode": "llm",
            "llm_model_id": model,
            "usage": usage,
            "finish_reason": "stop",
            "truncated": False,
            "duration_s": 1.5,
        },
        prompt="x" * prompt_bytes,
        raw="text\n",
        parsed="text\n",
        at=at,
    )


@pytest.fixture(scope="module")
def priced_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("priced")
    store = HandStore(root)
    _call(store, "d1", "alpha", FEB_10, 1000, 4000)  # est 1000
    _call(store, "d2", "alpha", MAR_10, 2000, 400, prompt_tokens=500)  # recorded 500 wins over 100
    _call(store, "d3", "beta-large", MAR_10, 1_000_000, 8)  # est 2
    _call(store, "d4", "gamma-7b", MAR_10, 100, 40)  # est 10
    _call(store, "d5", "unknown-x", MAR_10, 300, 400)  # est 100, unpriced
    store.gen(
        "essay",
        "e1",
        {"stage": "essay", "gen_id": "e1", "mode": "copy", "parent_gen_id": "d1", "llm_model_id": "alpha"},
        parsed="copied\n",
        at=MAR_10,
    )  # copy mode: no call, no cost
    store.refresh()
    prices = tmp_path_factory.mktemp("prices") / "prices.csv"
    prices.write_text(PRICES)
    return store.data, prices


def _by_model(df) -> dict:
    return {row["model_id"]: row for row in df.iter_rows(named=True)}


def _cost(tokens: int, per_mtok: int | str) -> Decimal:
    return Decimal(tokens) * Decimal(per_mtok) / Decimal(1_000_000)


def test_cost_uses_the_price_in_effect_on_each_generation_day(priced_store):
    data, prices = priced_store
    rows = _by_model(tokens_report(data, by="model", prices=prices))
    alpha = rows["alpha"]
    assert alpha["model_calls"] == 2 and alpha["generations"] == 3  # the copy essay counts as a generation only
    assert alpha["prompt_tokens_est"] == 1000 + 500
    assert alpha["cost_input_est"] == float(_cost(1000, 1) + _cost(500, 10))
    assert alpha["cost_output"] == float(_cost(1000, 2) + _cost(2000, 20))
    assert alpha["cost_total_est"] == float(_cost(1000, 1) + _cost(500, 10) + _cost(1000, 2) + _cost(2000, 20))
    beta = rows["beta-large"]
    assert (beta["cost_input_est"], beta["cost_output"]) == (float(_cost(2, 3)), 4.0)  # glob beats regex
    gamma = rows["gamma-7b"]
    assert (gamma["cost_input_est"], gamma["cost_output"]) == (float(_cost(10, 5)), float(_cost(100, 6)))
    assert all(rows[m]["unpriced_calls"] == 0 for m in ("alpha", "beta-large", "gamma-7b"))


def test_unpriced_model_is_a_bucket_never_a_zero_cost(priced_store):
    data, prices = priced_store
    report = build_tokens(data, by="model", prices=prices)
    unknown = _by_model(report.df)["unknown-x"]
    assert unknown["cost_input_est"] is None and unknown["cost_output"] is None and unknown["cost_total_est"] is None
    assert (
        unknown["unpriced_calls"],
        unknown["unpriced_completion_tokens"],
        unknown["unpriced_prompt_tokens_est"],
    ) == (1, 300, 100)
    total = report.totals.row(0, named=True)
    assert total["unpriced_calls"] == 1 and total["unpriced_completion_tokens"] == 300
    assert total["cost_output"] == float(_cost(1000, 2) + _cost(2000, 20) + _cost(1_000_000, 4) + _cost(100, 6))
    (note,) = [n for n in report.notes if "could not be priced" in n]
    assert "unknown-x (1 call, 300 completion tokens)" in note and str(prices) in note


def test_a_group_mixing_priced_and_unpriced_calls_shows_both(priced_store):
    data, prices = priced_store
    (row,) = tokens_report(data, by="stage", stage="draft", prices=prices).iter_rows(named=True)
    assert row["model_calls"] == 5 and row["unpriced_calls"] == 1
    assert row["cost_output"] == float(_cost(1000, 2) + _cost(2000, 20) + _cost(1_000_000, 4) + _cost(100, 6))


def test_price_at_reprices_everything_at_one_date(priced_store):
    data, prices = priced_store
    rows = _by_model(tokens_report(data, by="model", prices=prices, price_at="2025-02-01"))
    assert rows["alpha"]["cost_input_est"] == float(_cost(1000, 1) + _cost(500, 1))
    assert rows["alpha"]["cost_output"] == float(_cost(1000, 2) + _cost(2000, 2))
    # gamma's only rule starts 2025-03-01: at 2025-02-01 it is unpriced
    assert rows["gamma-7b"]["cost_total_est"] is None and rows["gamma-7b"]["unpriced_calls"] == 1
    later = _by_model(tokens_report(data, by="model", prices=prices, price_at=date(2025, 12, 31)))
    assert later["alpha"]["cost_output"] == float(_cost(1000, 20) + _cost(2000, 20))


@pytest.mark.slow
def test_cli_price_options_and_a_bad_price_file(priced_store, tmp_path):
    data, prices = priced_store
    out = tmp_path / "t.csv"
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "gensql",
            "report",
            "tokens",
            "--data-root",
            str(data),
            "--prices",
            str(prices),
            "--price-at",
            "2025-02-01",
            "--format",
            "csv",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "gensql: note: 2 model calls could not be priced" in ok.stderr
    assert '"price_at": "2025-02-01"' in (tmp_path / "t.csv.meta.json").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "alpha,exact,1,1,USD,\nbeta,exact,1,x,USD,\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gensql", "report", "tokens", "--data-root", str(data), "--prices", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"gensql: error: {bad}, line 3: output_per_mtok 'x' is not a number"
