"""Hardening of refresh, show and the price table against hostile or broken store contents.

Each test builds a real store in tmp_path and runs the real refresh (library or ``python -m gensql``):
one bad value, file or directory must become a ``scan_errors`` row, never abort, hang, or leak a file
from outside the store into the index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from storebuilder import write_gen, write_membership

import gensql
from gensql.errors import PriceTableError
from gensql.prices import load_prices, parse_prices

SECRET = "gensql-hardening-secret-line"
TIMEOUT = 30  # a hang is a failure, not a stuck test run


def gensql_process(
    *args: str, env: dict | None = None, timeout: float = TIMEOUT, user: str | None = None
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "gensql", *args]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=tempfile.gettempdir())


def rows(root: Path, sql: str) -> list[tuple]:
    con = gensql.connect(root)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def errors(root: Path) -> list[tuple]:
    return rows(root, "SELECT path, kind, message FROM scan_errors ORDER BY path, kind")


def draft(root: Path, gen_id: str, meta: dict | None = None, **files) -> Path:
    content = {
        "metadata.json": meta
        if meta is not None
        else {"stage": "draft", "gen_id": gen_id, "model_id": "m1", "template_id": "t1", "combo_id": "c1"}
    }
    content.update({"raw.txt": "raw text", "parsed.txt": "parsed text", **files})
    return write_gen(root, "draft", gen_id, content)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    draft(root, "d_ok")
    (root / "gens" / "essay").mkdir(parents=True)
    (root / "gens" / "evaluation").mkdir(parents=True)
    return root


# --- 1. one bad value never aborts a refresh -----------------------------------------------------


def test_out_of_int64_values_are_bad_values_and_the_row_stays(store):
    draft(
        store,
        "d_big",
        {
            "model_id": "m-big",
            "usage": {"completion_tokens": 18446744073709551615, "prompt_tokens": 1e30},
            "replicate": 2**70,
            "max_tokens": -(2**63) - 1,
        },
    )
    gensql.refresh(store)
    (row,) = rows(
        store,
        "SELECT model_id, completion_tokens, prompt_tokens, replicate, max_tokens FROM gens WHERE gen_id = 'd_big'",
    )
    assert row == ("m-big", None, None, 1, None)
    bad = {(p, k) for p, k, _ in errors(store) if k == "bad_value"}
    assert len(bad) == 1 and next(iter(bad))[0] == "gens/draft/d_big/metadata.json"
    messages = [m for p, k, m in errors(store) if k == "bad_value"]
    for key in ("usage.completion_tokens", "usage.prompt_tokens", "replicate", "max_tokens"):
        assert any(m.startswith(key + "=") for m in messages), (key, messages)


def test_a_token_sum_that_would_overflow_is_never_computed(store):
    big = 2**62 + 1  # each fits int64, the sum does not
    draft(store, "d_sum", {"model_id": "m", "usage": {"prompt_tokens": big, "completion_tokens": big}})
    gensql.refresh(store)
    (row,) = rows(
        store, "SELECT model_id, prompt_tokens, completion_tokens, total_tokens FROM gens WHERE gen_id = 'd_sum'"
    )
    assert row == ("m", None, None, None)
    assert sum(1 for _, k, _ in errors(store) if k == "bad_value") == 2


@pytest.mark.parametrize(
    "meta, key",
    [
        ({"usage": {"completion_tokens": -5}}, "usage.completion_tokens"),
        ({"prompt_tokens": -1}, "prompt_tokens"),
        ({"duration_s": "inf"}, "duration_s"),
        ({"duration_s": -3.5}, "duration_s"),
        ({"duration_ms": "Infinity"}, "duration_ms"),
        ({"usage": "lots"}, "usage"),
        ({"usage": [1, 2]}, "usage"),
    ],
)
def test_absurd_values_are_bad_values(store, meta, key):
    draft(store, "d_absurd", {"model_id": "m-absurd", **meta})
    gensql.refresh(store)
    (row,) = rows(
        store, "SELECT model_id, prompt_tokens, completion_tokens, duration_s, meta FROM gens WHERE gen_id = 'd_absurd'"
    )
    assert row[:4] == ("m-absurd", None, None, None)
    assert key.split(".")[0] in row[4]  # the original value stays in meta
    bad = [m for p, k, m in errors(store) if k == "bad_value"]
    assert len(bad) == 1 and bad[0].startswith(key + "="), bad


def test_a_symlink_loop_in_place_of_a_generation_directory(store):
    os.symlink("d_loop", store / "gens" / "draft" / "d_loop")
    os.symlink("e_a", store / "gens" / "essay" / "e_b")
    os.symlink("e_b", store / "gens" / "essay" / "e_a")
    result = gensql.refresh(store)
    assert result.generations == 1
    got = {(p, k) for p, k, _ in errors(store)}
    assert ("gens/draft/d_loop", "unreadable") in got
    assert ("gens/essay/e_a", "unreadable") in got and ("gens/essay/e_b", "unreadable") in got


def test_a_directory_name_that_is_not_utf8(store):
    os.mkdir(os.fsencode(store / "gens" / "draft") + b"/d_\xff\xfe")
    result = gensql.refresh(store)
    assert result.generations == 1
    (err,) = [e for e in errors(store) if e[1] == "bad_name"]
    assert err[0] == "gens/draft/d_\\xff\\xfe"
    # an incremental refresh agrees
    assert gensql.refresh(store).generations == 1


def test_a_file_where_the_stage_directory_should_be_and_a_stage_symlink_out(store, tmp_path):
    shutil.rmtree(store / "gens" / "essay")
    (store / "gens" / "essay").write_text("not a dir")
    outside = tmp_path / "elsewhere"
    write_gen(outside, "evaluation", "v_out", {"metadata.json": {"secret": SECRET}})
    shutil.rmtree(store / "gens" / "evaluation")
    os.symlink(outside / "gens" / "evaluation", store / "gens" / "evaluation")
    result = gensql.refresh(store)
    assert result.generations == 1
    got = {(p, k) for p, k, _ in errors(store)}
    assert ("gens/evaluation", "outside_store") in got
    assert rows(store, "SELECT count(*) FROM gens WHERE meta LIKE ?".replace("?", f"'%{SECRET}%'")) == [(0,)]


# --- unreadable directories: run as an unprivileged user (root ignores chmod 000) ------------------


def _nobody_ok() -> str | None:
    if os.geteuid() != 0:
        return None if os.geteuid() != 0 else "not root"
    if not shutil.which("setpriv"):
        return "setpriv is not installed"
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        return "no user 'nobody'"
    return None


@pytest.fixture
def shared_store():
    """A store in a world-readable temp directory, its index directory owned by nobody."""
    reason = _nobody_ok()
    if os.geteuid() != 0:
        base = Path(tempfile.mkdtemp())
        yield base / "data", base / "index", None
        shutil.rmtree(base, ignore_errors=True)
        return
    if reason:
        pytest.skip(f"cannot drop root privileges to test unreadable directories: {reason}")
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(base, 0o755)
    root = base / "data"
    draft(root, "d_ok")
    write_gen(root, "essay", "e_hidden", {"metadata.json": {"model_id": "m"}, "raw.txt": "x", "parsed.txt": "y"})
    write_gen(root, "evaluation", "v_ok", {"metadata.json": {"model_id": "m"}, "raw.txt": "x", "parsed.txt": "7"})
    write_membership(root, "c_locked", "stage,gen_id\ndraft,d_ok\n")
    write_membership(root, "c_open", "stage,gen_id\ndraft,d_ok\nevaluation,v_ok\n")
    for dirpath, dirnames, filenames in os.walk(base):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    index = base / "index"
    index.mkdir()
    os.chown(index, 65534, 65534)
    yield root, index, "nobody"
    for dirpath, dirnames, filenames in os.walk(base):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_unreadable_stage_and_cohort_directories_are_recorded(shared_store):
    root, index, user = shared_store
    if user is None:
        pytest.skip("needs root to create the unprivileged setup")
    os.chmod(root / "gens" / "essay", 0)
    os.chmod(root / "cohorts" / "c_locked", 0)
    r = gensql_process("refresh", "--data-root", str(root), "--index-dir", str(index), "-q", user=user)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    con = gensql.connect(root, index)
    got = {(p, k) for p, k in con.sql("SELECT path, kind FROM scan_errors").fetchall()}
    assert ("gens/essay", "unreadable") in got
    assert ("cohorts/c_locked", "unreadable") in got
    assert con.sql("SELECT stage, gen_id FROM gens ORDER BY 1").fetchall() == [
        ("draft", "d_ok"),
        ("evaluation", "v_ok"),
    ]
    assert con.sql("SELECT cohort_id, gen_id FROM membership ORDER BY 1, 2").fetchall() == [
        ("c_open", "d_ok"),
        ("c_open", "v_ok"),
    ]
    con.close()
    # the whole cohorts/ folder unreadable: recorded, not silently empty
    os.chmod(root / "cohorts", 0)
    r = gensql_process("refresh", "--data-root", str(root), "--index-dir", str(index), "-q", user=user)
    assert r.returncode == 0, r.stderr
    con = gensql.connect(root, index)
    assert ("cohorts", "unreadable") in {(p, k) for p, k in con.sql("SELECT path, kind FROM scan_errors").fetchall()}
    con.close()


@pytest.mark.slow
def test_an_unreadable_gens_root_is_recorded_per_stage(shared_store):
    root, index, user = shared_store
    if user is None:
        pytest.skip("needs root to create the unprivileged setup")
    os.chmod(root / "gens" / "draft", 0o311)  # traversable, not listable
    r = gensql_process("refresh", "--data-root", str(root), "--index-dir", str(index), "-q", user=user)
    assert r.returncode == 0, r.stderr
    con = gensql.connect(root, index)
    assert ("gens/draft", "unreadable") in {(p, k) for p, k in con.sql("SELECT path, kind FROM scan_errors").fetchall()}
    con.close()


# --- 2. nothing hangs ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fifo_in_place_of_a_json_file_does_not_hang(store):
    names = ["metadata.json", "raw_metadata.json", "parsed_metadata.json"]
    for i, name in enumerate(names):
        gen = draft(store, f"d_fifo{i}", {"model_id": "m-fifo"} if name != "metadata.json" else None)
        if name == "metadata.json":
            (gen / name).unlink()
        os.mkfifo(gen / name)
    r = gensql_process("refresh", "--data-root", str(store), "-q")
    assert r.returncode == 0, r.stderr
    got = {(p, k) for p, k, _ in errors(store)}
    for i, name in enumerate(names):
        assert (f"gens/draft/d_fifo{i}/{name}", "unreadable") in got
    assert rows(store, "SELECT count(*) FROM gens WHERE gen_id LIKE 'd_fifo%'") == [(3,)]
    assert rows(store, "SELECT model_id FROM gens WHERE gen_id = 'd_fifo1'") == [("m-fifo",)]
    r = gensql_process("show", "d_fifo0", "--data-root", str(store))
    assert r.returncode == 0, r.stderr
    assert "unreadable" in r.stderr


@pytest.mark.slow
def test_a_fifo_parsed_txt_of_an_evaluation_and_a_fifo_membership(store):
    gen = write_gen(store, "evaluation", "v_fifo", {"metadata.json": {"model_id": "m"}, "raw.txt": "SCORE: 3"})
    os.mkfifo(gen / "parsed.txt")
    (store / "cohorts" / "c1").mkdir(parents=True)
    os.mkfifo(store / "cohorts" / "c1" / "membership.csv")
    r = gensql_process("refresh", "--data-root", str(store), "-q")
    assert r.returncode == 0, r.stderr
    got = {(p, k) for p, k, _ in errors(store)}
    assert ("gens/evaluation/v_fifo/parsed.txt", "unreadable") in got
    assert ("cohorts/c1/membership.csv", "unreadable") in got
    r = gensql_process("show", "v_fifo", "--parsed", "--data-root", str(store))
    assert r.returncode != 0 and "not a regular file" in r.stderr, r.stderr


def test_a_symlink_to_dev_zero_is_outside_the_store(store):
    gen = draft(store, "d_zero", {"model_id": "m"})
    os.symlink("/dev/zero", gen / "raw_metadata.json")
    os.symlink("/dev/urandom", gen / "parsed_metadata.json")
    r = gensql_process("refresh", "--data-root", str(store), "-q")
    assert r.returncode == 0, r.stderr
    got = {(p, k) for p, k, _ in errors(store)}
    assert ("gens/draft/d_zero/raw_metadata.json", "outside_store") in got
    assert ("gens/draft/d_zero/parsed_metadata.json", "outside_store") in got


@pytest.mark.slow
def test_a_file_over_the_size_limit_is_recorded_not_read(store):
    draft(store, "d_huge", {"model_id": "m-huge", "padding": "x" * 5000})
    r = gensql_process("refresh", "--data-root", str(store), "-q", env={"GENSQL_MAX_FILE_BYTES": "4096"})
    assert r.returncode == 0, r.stderr
    got = [(p, k, m) for p, k, m in errors(store) if k == "too_large"]
    assert [(p, k) for p, k, _ in got] == [("gens/draft/d_huge/metadata.json", "too_large")]
    assert "4096" in got[0][2]
    assert rows(store, "SELECT has_metadata, model_id FROM gens WHERE gen_id = 'd_huge'") == [(False, None)]


# --- 3. symlinks do not leak the outside in --------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "metadata.json").write_text('{"model_id": "%s"}' % SECRET)
    (folder / "secret.txt").write_text(SECRET + "\n")
    (folder / "secret.csv").write_text(SECRET + ",x\n")
    return folder


def test_a_generation_directory_symlinked_out_of_the_store_is_not_read(store, outside):
    os.symlink(outside, store / "gens" / "draft" / "d_out")
    gensql.refresh(store)
    assert rows(store, f"SELECT count(*) FROM gens WHERE meta LIKE '%{SECRET}%' OR model_id = '{SECRET}'") == [(0,)]
    assert ("gens/draft/d_out", "outside_store") in {(p, k) for p, k, _ in errors(store)}
    r = gensql_process("show", "d_out", "--stage", "draft", "--data-root", str(store))
    assert r.returncode == 2 and SECRET not in r.stdout


def test_a_symlink_inside_the_store_is_followed(store):
    gen = draft(store, "d_link", {"model_id": "m-link"})
    (gen / "raw.txt").unlink()
    os.symlink("../d_ok/raw.txt", gen / "raw.txt")
    os.symlink("d_ok", store / "gens" / "draft" / "d_alias")
    gensql.refresh(store)
    assert rows(store, "SELECT gen_id, has_raw FROM gens WHERE gen_id IN ('d_link', 'd_alias') ORDER BY 1") == [
        ("d_alias", True),
        ("d_link", True),
    ]
    assert errors(store) == []


@pytest.mark.slow
def test_show_never_prints_a_file_from_outside_the_store(store, outside):
    gen = draft(store, "d_peek", {"model_id": "m"})
    for name in ("raw.txt", "parsed.txt", "prompt.txt"):
        (gen / name).unlink(missing_ok=True)
        os.symlink(outside / "secret.txt", gen / name)
    for flag in ("--raw", "--parsed", "--prompt"):
        r = gensql_process("show", "d_peek", flag, "--data-root", str(store))
        assert SECRET not in r.stdout + r.stderr
        assert r.returncode != 0 and "outside the store" in r.stderr
    got = gensql.load_generation(store / "gens", "draft", "d_peek")
    assert got["raw_text"] is None and any("outside_store" in p for p in got["problems"])
    gensql.refresh(store)
    assert ("gens/draft/d_peek/raw.txt", "outside_store") in {(p, k) for p, k, _ in errors(store)}


def test_a_membership_csv_symlinked_out_is_not_read(store, outside):
    (store / "cohorts" / "c_out").mkdir(parents=True)
    os.symlink(outside / "secret.csv", store / "cohorts" / "c_out" / "membership.csv")
    os.symlink(outside, store / "cohorts" / "c_dir_out")
    gensql.refresh(store)
    errs = errors(store)
    assert SECRET not in repr(errs)
    got = {(p, k) for p, k, _ in errs}
    assert ("cohorts/c_out/membership.csv", "outside_store") in got
    assert ("cohorts/c_dir_out", "outside_store") in got


# --- price tables ------------------------------------------------------------------------------------

HEADER = "model,match,input_per_mtok,output_per_mtok,currency\n"


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)*b", "(x+x+)+y", "(\\w+\\s?)*$", "(a*)*"])
def test_a_regex_that_can_backtrack_catastrophically_is_rejected(pattern):
    with pytest.raises(PriceTableError, match=r"line 2: .*backtrack"):
        parse_prices(HEADER + f'"{pattern}",regex,1,2,USD\n', "p.csv")


def test_without_cpythons_regex_parser_every_regex_rule_is_refused_with_the_glob_alternative(monkeypatch):
    """The backtracking check reads re's private parser; on a Python without it, refuse, never guess."""
    import gensql.prices

    monkeypatch.setattr(gensql.prices, "_re_internals", lambda: None)
    with pytest.raises(PriceTableError, match=r"line 2: .*no regex parser.*use a glob rule"):
        parse_prices(HEADER + "openai/gpt-4o(-mini)?,regex,1,2,USD\n", "p.csv")
    assert parse_prices(HEADER + "openai/gpt-4o*,glob,1,2,USD\n").lookup("openai/gpt-4o-mini", None).line == 2


def test_ordinary_regex_rules_still_work():
    table = parse_prices(
        HEADER
        + "openai/gpt-4o(-mini)?,regex,1,2,USD\nanthropic/claude-.*,regex,3,4,USD\n[a-z]+/[a-z0-9.-]+-v[0-9]+,regex,5,6,USD\n"
    )
    assert table.lookup("openai/gpt-4o-mini", None).line == 2
    assert table.lookup("anthropic/claude-3", None).line == 3
    assert table.lookup("acme/model-v2", None).line == 4


@pytest.mark.parametrize("value", ["1E+999999", "1e30", "99999999999999999999"])
def test_an_absurd_price_is_a_clear_error(value):
    with pytest.raises(PriceTableError, match="line 2: input_per_mtok"):
        parse_prices(HEADER + f"m,exact,{value},2,USD\n", "p.csv")


def test_a_huge_price_through_the_cli_is_one_line(store, tmp_path):
    gensql.refresh(store)
    prices = tmp_path / "p.csv"
    prices.write_text(HEADER + "m1,exact,1E+999999,2,USD\n")
    r = gensql_process("report", "tokens", "--data-root", str(store), "--prices", str(prices))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "line 2" in r.stderr


def test_a_fifo_price_table_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "p.csv")
    with pytest.raises(PriceTableError, match="not a regular file"):
        load_prices(tmp_path / "p.csv")
