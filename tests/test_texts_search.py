"""Texts as data: the `texts` table (sha256, characters, lines) and ranked full-text search.

Every expectation is computed here from the files themselves (hashlib, str.decode, a regex for
phrases), never copied from gensql's own output.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from budget import examples
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import gensql
from gensql.cli import cli
from gensql.errors import IndexNotFoundError, SearchQueryError
from gensql.synth import make_store
from gensql.texts import SEARCH_MAX_CHARS
from gensql.write import write_generation

FILES = {"prompt": "prompt.txt", "raw": "raw.txt", "parsed": "parsed.txt"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def texts_of(root: Path, index_dir: Path | None = None) -> list[tuple]:
    con = gensql.connect(root, index_dir)
    return con.execute(
        "SELECT stage, gen_id, file, bytes, chars, lines, sha256, invalid_utf8 FROM texts ORDER BY ALL"
    ).fetchall()


def expected_texts(root: Path, index_dir: Path | None = None) -> list[tuple]:
    """Every text file of every indexed generation, with its facts computed directly from the bytes."""
    out = []
    gen_dirs = gensql.connect(root, index_dir).execute("SELECT stage, gen_id, gen_dir FROM gens").fetchall()
    for stage, gen_id, gen_dir in gen_dirs:
        for kind, name in FILES.items():
            path = root / gen_dir / name
            if not path.is_file():
                continue
            data = path.read_bytes()
            text = data.decode("utf-8", errors="replace")
            try:
                data.decode("utf-8")
                invalid = False
            except UnicodeDecodeError:
                invalid = True
            lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            out.append((stage, gen_id, kind, len(data), len(text), lines, hashlib.sha256(data).hexdigest(), invalid))
    return sorted(out)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", root, ignore=shutil.ignore_patterns("index"))
    gensql.refresh(root, jobs=1)
    return root


# --------------------------------------------------------------------------------------------------
# The texts table


def test_texts_table_matches_the_files(sample):
    got = texts_of(sample)
    assert got == expected_texts(sample)
    assert len(got) > 900


def test_gens_chars_and_documents_hashes(sample):
    con = gensql.connect(sample)
    mismatches = con.execute("""
        SELECT g.gen_id FROM gens g JOIN texts t USING (stage, gen_id)
        WHERE (t.file = 'raw' AND g.raw_chars IS DISTINCT FROM t.chars)
           OR (t.file = 'parsed' AND g.parsed_chars IS DISTINCT FROM t.chars)
           OR (t.file = 'prompt' AND g.prompt_chars IS DISTINCT FROM t.chars)
    """).fetchall()
    assert mismatches == []
    d = con.execute(
        "SELECT doc_id, doc_dir, prompt_hash, raw_sha256 FROM documents WHERE raw_sha256 IS NOT NULL LIMIT 5"
    ).fetchall()
    for _doc_id, doc_dir, prompt_hash, raw_sha in d:
        assert raw_sha == hashlib.sha256((sample / doc_dir / "raw.txt").read_bytes()).hexdigest()
        if prompt_hash is not None:
            assert prompt_hash == hashlib.sha256((sample / doc_dir / "prompt.txt").read_bytes()).hexdigest()


def test_bad_texts(tmp_path):
    (tmp_path / "gens").mkdir()
    bad = write_generation(tmp_path, "draft", template_id="t", model_id="m", combo_id="c1", raw="x", parsed="seed ")
    (bad.path / "parsed.txt").write_bytes(b"caf\xe9 serendipity \xff\n")  # Latin-1, not UTF-8
    big = write_generation(
        tmp_path,
        "draft",
        template_id="t",
        model_id="m",
        combo_id="c2",
        raw="x",
        parsed="alpha " * (SEARCH_MAX_CHARS // 6) + "beyondthecap",
    )
    fifo = write_generation(tmp_path, "draft", template_id="t", model_id="m", combo_id="c3", raw="x", parsed="p")
    (fifo.path / "raw.txt").unlink()
    os.mkfifo(fifo.path / "raw.txt")
    result = gensql.refresh(tmp_path, jobs=1)  # finishes: nothing hangs, nothing aborts
    con = gensql.connect(tmp_path)
    flags = dict(con.execute("SELECT gen_id, invalid_utf8 FROM texts WHERE file = 'parsed'").fetchall())
    assert flags[bad.gen_id] is True and flags[big.gen_id] is False
    assert con.execute(
        "SELECT search_capped FROM texts WHERE gen_id = ? AND file = 'parsed'", [big.gen_id]
    ).fetchone() == (True,)
    assert gensql.search(tmp_path, "serendipity")["gen_id"].to_list() == [bad.gen_id]  # indexed with replacements
    assert gensql.search(tmp_path, "alpha")["gen_id"].to_list() == [big.gen_id]
    assert gensql.search(tmp_path, "beyondthecap").height == 0  # past the documented cap
    assert con.execute("SELECT count(*) FROM gens WHERE gen_id = ?", [fifo.gen_id]).fetchone() == (1,)
    assert con.execute("SELECT file FROM texts WHERE gen_id = ? ORDER BY file", [fifo.gen_id]).fetchall() == [
        ("parsed",)
    ]
    assert con.execute(
        "SELECT kind FROM scan_errors WHERE gen_id = ? AND file = 'raw.txt'", [fifo.gen_id]
    ).fetchall() == [("unreadable",)]
    assert result.generations == 3


# --------------------------------------------------------------------------------------------------
# Search


PHRASE = re.compile(r"(?<![a-z0-9])default\W+mode\W+network(?![a-z0-9])", re.IGNORECASE)


def _files_matching(root: Path, stage: str, kind: str, pattern: re.Pattern) -> set[str]:
    con = gensql.connect(root)
    found = set()
    for gen_id, gen_dir in con.execute("SELECT gen_id, gen_dir FROM gens WHERE stage = ?", [stage]).fetchall():
        path = root / gen_dir / FILES[kind]
        if path.is_file() and pattern.search(path.read_bytes().decode("utf-8", errors="replace")):
            found.add(gen_id)
    return found


def test_phrase_search_finds_exactly_the_texts_with_the_phrase(sample):
    want = _files_matching(sample, "essay", "parsed", PHRASE)
    assert len(want) >= 3
    hits = gensql.search(sample, '"default mode network"', stage="essay", file="parsed", limit=10_000)
    assert set(hits["gen_id"]) == want and hits.height == len(want)
    assert list(hits["rank"]) == list(range(1, hits.height + 1))
    assert list(hits["bm25"]) == sorted(hits["bm25"], reverse=True)
    # every snippet marks the phrase's words (a phrase at the edge of the 160-character window may be cut)
    assert all(re.search(r"\*\*(default|mode|network)\*\*", s.lower()) for s in hits["snippet"])
    assert sum("**default** **mode** **network**" in s.lower() for s in hits["snippet"]) >= len(want) // 2


def test_filters_narrow_to_the_metadata(sample):
    con = gensql.connect(sample)
    model = con.execute(
        "SELECT model_id FROM gens WHERE stage = 'essay' AND model_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    of_model = {g for (g,) in con.execute("SELECT gen_id FROM gens WHERE model_id = ?", [model]).fetchall()}
    want = _files_matching(sample, "essay", "parsed", PHRASE) & of_model
    hits = gensql.search(sample, '"default mode network"', stage="essay", file="parsed", model=model, limit=10_000)
    assert set(hits["gen_id"]) == want
    assert set(hits["model_id"]) <= {model}
    (cohort,) = con.execute("SELECT cohort_id FROM membership GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
    members = {g for (g,) in con.execute("SELECT gen_id FROM membership WHERE cohort_id = ?", [cohort]).fetchall()}
    in_cohort = gensql.search(sample, "network", cohort=cohort, limit=10_000)
    assert set(in_cohort["gen_id"]) <= members and in_cohort.height > 0
    assert gensql.search(sample, "network", model="no-such-model").height == 0


def test_boolean_and_prefix_queries(sample):
    both = gensql.search(sample, "serendipity AND mechanism", file="parsed", limit=10_000)
    pattern_a, pattern_b = re.compile(r"\bserendipity\b", re.I), re.compile(r"\bmechanism\b", re.I)
    want = set()
    for stage in ("draft", "essay", "evaluation"):
        want |= _files_matching(sample, stage, "parsed", pattern_a) & _files_matching(
            sample, stage, "parsed", pattern_b
        )
    assert set(both["gen_id"]) == want
    prefix = gensql.search(sample, "serendip*", stage="essay", file="parsed", limit=10_000)
    assert set(prefix["gen_id"]) == _files_matching(sample, "essay", "parsed", re.compile(r"\bserendip", re.I))


def test_search_cli(sample):
    result = run(
        "search",
        '"default mode network"',
        "--stage",
        "essay",
        "--file",
        "parsed",
        "-n",
        "2",
        "--format",
        "csv",
        "--data-root",
        str(sample),
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "rank,gen_id,stage,file,model_id,template_id,status,score,bm25,snippet"
    assert len(lines) == 3 and lines[1].startswith("1,e")
    bad = run("search", "network AND (", "--data-root", str(sample))
    assert bad.exit_code == 2 and bad.stdout == ""
    assert (
        bad.stderr.startswith("gensql: error: cannot parse the search query 'network AND ('")
        and bad.stderr.count("\n") == 1
    )
    empty = run("search", "  ", "--data-root", str(sample))
    assert empty.exit_code == 2 and "empty search query" in empty.stderr


@pytest.mark.slow
def test_no_texts(tmp_path):
    make_store(tmp_path, n=40, seed=3)
    result = run("refresh", "--no-texts", "--data-root", str(tmp_path))
    assert result.exit_code == 0 and "search:" not in result.stderr
    con = gensql.connect(tmp_path)
    assert con.execute("SELECT count(*), count(raw_chars) FROM gens").fetchone()[1] == 0
    assert con.execute("SELECT count(*) FROM texts").fetchone() == (0,)
    with pytest.raises(IndexNotFoundError, match="has no search index"):
        gensql.search(tmp_path, "network")
    again = gensql.refresh(tmp_path, jobs=1)  # texts wanted again: every text is read once
    assert again.search is not None and again.search.added == len(expected_texts(tmp_path))
    assert texts_of(tmp_path) == expected_texts(tmp_path)


# --------------------------------------------------------------------------------------------------
# Incremental equals full, and kills leave search whole


QUERIES = ('"default mode network"', "serendipity", "network AND loop", "feedback", "critic -noise")


def _search_state(root: Path, index_dir: Path | None = None) -> dict:
    return {
        q: sorted(
            zip(
                *(
                    gensql.search(root, q, limit=10_000, snippets=False, index_dir=index_dir)[c]
                    for c in ("stage", "gen_id", "file")
                )
            )
        )
        for q in QUERIES
    }


def _mutate(root: Path, rng: random.Random, step: int) -> None:
    gen_dirs = sorted(p.parent for p in (root / "gens").glob("*/*/metadata.json"))
    for _ in range(6):
        d = rng.choice(gen_dirs)
        action = rng.choice(["edit", "append", "delete_text", "delete_dir", "copy_dir"])
        target = d / rng.choice(list(FILES.values()))
        if action == "edit" and target.exists():
            data = bytearray(target.read_bytes())
            if data:
                data[rng.randrange(len(data))] = ord(rng.choice("xyz"))  # same size, new content
                target.write_bytes(bytes(data))
        elif action == "append" and d.exists():
            with open(target, "a") as fh:
                fh.write(f" feedback serendipity {step}\n")
        elif action == "delete_text" and target.exists():
            target.unlink()
        elif action == "delete_dir" and d.exists():
            shutil.rmtree(d)
            gen_dirs.remove(d)
        elif action == "copy_dir" and d.exists():
            new = d.parent / f"{d.name}-copy{step}{rng.randrange(1000)}"
            if not new.exists():
                shutil.copytree(d, new)


@pytest.fixture(params=["one-part", "parts"])
def search_parts(request, monkeypatch):
    """``parts``: many units per stage, in two worker processes, so the search index is assembled
    from many parts, and small segments are merged at once (the path a long-running watcher takes)."""
    if request.param == "parts":
        import gensql.fulltext.engine
        import gensql.partitions
        import gensql.refresh.planning
        import gensql.refresh.workers

        monkeypatch.setattr(gensql.refresh.workers, "PARALLEL_THRESHOLD", 0)
        monkeypatch.setattr(gensql.refresh.planning, "BATCH_SIZE", 12)
        monkeypatch.setattr(gensql.partitions, "TARGET_ROWS", 6)
        monkeypatch.setattr(gensql.fulltext.engine, "SMALL_SEGMENTS", 4)
        return 2
    return 1


@pytest.mark.slow
def test_incremental_equals_full_for_texts_and_search(tmp_path, monkeypatch, search_parts):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0")  # exercise the incremental path, not the racy re-read
    root = tmp_path / "store"
    make_store(root, n=80, seed=11)
    gensql.refresh(root, jobs=search_parts)
    rng = random.Random(5)
    for step in range(3):
        _mutate(root, rng, step)
        inc = gensql.refresh(root, jobs=search_parts)
        assert inc.new + inc.changed + inc.deleted > 0
        full_dir = tmp_path / f"full{step}"
        gensql.refresh(root, full_dir, full=True, jobs=1)
        assert texts_of(root) == texts_of(root, full_dir) == expected_texts(root, full_dir)
        assert _search_state(root) == _search_state(root, full_dir)


def _one_index(root: Path, target: Path):
    """A reference: every readable text of the indexed generations in one tantivy index, one writer."""
    import tantivy

    from gensql.fulltext.engine import schema
    from gensql.texts import read_text_prefix

    target.mkdir()
    index = tantivy.Index(schema(), path=str(target))
    writer = index.writer(50_000_000, 1)
    gens = gensql.connect(root).execute("SELECT stage, gen_id, gen_dir FROM gens ORDER BY ALL").fetchall()
    for stage, gen_id, gen_dir in gens:
        for kind, name in FILES.items():
            path = root / gen_dir / name
            text = read_text_prefix(path) if path.is_file() and not path.is_symlink() else None
            if text is not None:
                writer.add_document(
                    tantivy.Document(
                        gen_key=f"{stage}/{gen_id}", gen_id=gen_id, stage=stage, file=kind, gen_dir=gen_dir, text=text
                    )
                )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def test_search_parts_rank_exactly_as_one_index(tmp_path, monkeypatch):
    """Texts indexed in parts by the worker processes that read them rank as one index of every text
    built in one writer: same hits, same BM25 scores (tantivy takes its statistics over all segments)."""
    import gensql.fulltext.engine
    import gensql.partitions
    import gensql.refresh.planning
    import gensql.refresh.workers

    monkeypatch.setattr(gensql.refresh.workers, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(gensql.refresh.planning, "BATCH_SIZE", 10)
    monkeypatch.setattr(gensql.partitions, "TARGET_ROWS", 5)
    monkeypatch.setattr(gensql.fulltext.engine, "SMALL_SEGMENTS", 10**6)  # keep every part's segment
    root = tmp_path / "store"
    make_store(root, n=90, seed=4)
    result = gensql.refresh(root, jobs=2)
    assert result.search is not None and result.search.segments > 5
    reference = _one_index(root, tmp_path / "one")
    assert reference.searcher().num_docs == result.search.documents
    for query in QUERIES + ("the", "essay OR idea", "network*"):
        got = gensql.search(root, query, limit=10_000, snippets=False)
        ours = {(s, g, f): b for s, g, f, b in zip(got["stage"], got["gen_id"], got["file"], got["bm25"])}
        searcher = reference.searcher()
        parsed = reference.parse_query(query.replace("network*", "text:/network.*/"), ["text"], allow_regexes=True)
        theirs = {}
        for score, address in searcher.search(parsed, 10_000).hits:
            doc = searcher.doc(address)
            theirs[(doc["stage"][0], doc["gen_id"][0], doc["file"][0])] = score
        assert ours.keys() == theirs.keys() and ours, query
        assert all(ours[k] == pytest.approx(theirs[k], rel=1e-6) for k in ours), query


#: A refresh that SIGKILLs itself at its ``k``-th file-system call (link, rename, replace, unlink,
#: mkdir, fsync), in the driver and, with one job, in the unit tasks and the search assembly too.
KILLER = """
import os, signal, sys
import gensql
calls = 0
kill_at = int(sys.argv[3])
def counted(f):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return f(*args, **kwargs)
    return call
for name in ("link", "rename", "replace", "unlink", "mkdir", "fsync", "symlink"):
    setattr(os, name, counted(getattr(os, name)))
gensql.refresh(sys.argv[1], sys.argv[2], jobs=1)
print(calls)
"""


@pytest.mark.slow
def test_a_refresh_killed_at_any_file_operation_leaves_a_whole_snapshot_and_search(tmp_path, monkeypatch):
    """Killed at random points among every file-system call it makes (partitions, search parts,
    search assembly, commit), a refresh leaves the index answering exactly as before it started or
    exactly as after it: never a mix, never a broken search index; the next refresh completes."""
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0")
    root = tmp_path / "store"
    make_store(root, n=60, seed=3)
    index = tmp_path / "index"
    gensql.refresh(root, index, jobs=1)
    before = (_search_state(root, index), texts_of(root, index))
    _mutate(root, random.Random(8), 0)
    after_dir = tmp_path / "after"
    gensql.refresh(root, after_dir, full=True, jobs=1)
    after = (_search_state(root, after_dir), texts_of(root, after_dir))
    assert after != before
    dry = tmp_path / "dry"
    shutil.copytree(index, dry, symlinks=True)
    run = subprocess.run([sys.executable, "-c", KILLER, str(root), str(dry), "0"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    total = int(run.stdout.split()[-1])
    assert total > 50
    rng = random.Random(13)
    points = sorted(rng.sample(range(1, total + 1), 8)) + [total]  # the last: after the swap, before cleanup
    seen = set()
    for k in points:
        proc = subprocess.run([sys.executable, "-c", KILLER, str(root), str(index), str(k)], capture_output=True)
        assert proc.returncode == -signal.SIGKILL, (k, proc.stderr[-2000:])
        state = (_search_state(root, index), texts_of(root, index))
        assert state in (before, after), k
        seen.add("after" if state == after else "before")
        if state == after:  # committed: make the store differ again for the next kill
            break
    assert "before" in seen
    gensql.refresh(root, index, jobs=1)
    assert (_search_state(root, index), texts_of(root, index)) == after


def test_search_never_returns_what_the_snapshot_does_not_have(tmp_path, monkeypatch):
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0")
    (tmp_path / "gens").mkdir()
    keep = write_generation(tmp_path, "draft", template_id="t", model_id="m", combo_id="c1", parsed="zebra keeps")
    gone = write_generation(tmp_path, "draft", template_id="t", model_id="m", combo_id="c2", parsed="zebra goes")
    gensql.refresh(tmp_path, jobs=1)
    assert set(gensql.search(tmp_path, "zebra")["gen_id"]) == {keep.gen_id, gone.gen_id}
    old_search = Path(os.path.realpath(tmp_path / "index" / "current")) / "search"
    shutil.rmtree(gone.path)
    gensql.refresh(tmp_path, jobs=1)
    assert list(gensql.search(tmp_path, "zebra")["gen_id"]) == [keep.gen_id]
    import tantivy  # the previous snapshot's index is untouched: its readers keep what they had

    old = tantivy.Index.open(str(old_search))
    assert old.searcher().search(old.parse_query("zebra", ["text"]), 10).count == 2
    with pytest.raises(SearchQueryError, match="limit must be at least 1"):
        gensql.search(tmp_path, "zebra", limit=0)


@settings(max_examples=examples(2))
@given(
    data=st.one_of(st.binary(max_size=64), st.text(alphabet="aé€😀\n\r", max_size=40).map(str.encode)),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_text_facts_equal_a_one_shot_decode_whatever_the_chunking(tmp_path, monkeypatch, data, chunk):
    import gensql.texts as texts

    monkeypatch.setattr(texts, "_CHUNK", chunk)  # chunk boundaries inside multi-byte characters
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    facts = texts.text_facts(str(path))
    try:
        data.decode("utf-8")
        invalid = False
    except UnicodeDecodeError:
        invalid = True
    assert facts == texts.facts_of_bytes(data)
    assert (facts.bytes, facts.chars, facts.sha256, facts.invalid_utf8) == (
        len(data),
        len(data.decode("utf-8", errors="replace")),
        hashlib.sha256(data).hexdigest(),
        invalid,
    )
    assert facts.lines == data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
