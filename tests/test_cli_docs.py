"""Every `gensql ...` example in docs/cli.md runs as written on a copy of the shipped sample store
(issue 13, item 7: examples that run, no placeholder ids), through the real entry point, from a folder
holding that copy as ./data. A line's `> FILE` redirect is honoured; `-o FILE` must produce the file."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gensql.cli import cli

pytestmark = pytest.mark.slow  # every documented example run through the CLI

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "docs" / "cli.md",)


def examples(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("gensql ")]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(
        REPO / "data", root / "data", copy_function=shutil.copy2, ignore=shutil.ignore_patterns("index")
    )  # the copy gets its own index
    return root


def test_the_docs_have_examples():
    assert len(examples(DOCS[0])) >= 20


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_example_runs_on_the_sample_store(doc, sample, monkeypatch):
    monkeypatch.chdir(sample)
    for env in ("GENSQL_DATA_ROOT", "GENSQL_INDEX_DIR", "GENSQL_PRICES", "GENSQL_QUERIES_DIR"):
        monkeypatch.delenv(env, raising=False)
    for line in examples(doc):
        words = shlex.split(line, comments=True)[1:]
        target = None
        if ">" in words:
            at = words.index(">")
            words, target = words[:at], words[at + 1]
        result = CliRunner().invoke(cli, words, catch_exceptions=False)
        assert result.exit_code == 0, f"{doc.name}: `{line}` exited {result.exit_code}: {result.stderr}"
        assert "gensql: error" not in result.stderr, (line, result.stderr)
        if target and not target.startswith("~"):  # never write into the user's home
            (sample / target).write_text(result.stdout)
        if target:
            assert result.stdout.strip(), line
        if "-o" in words:
            assert (sample / words[words.index("-o") + 1]).stat().st_size > 0, line
        elif not target and words[0] not in ("refresh",):
            assert result.stdout.strip(), f"`{line}` printed nothing"


#: Examples that need what a test cannot have (a server, a cluster, a bucket, the user's home).
_NOT_RUN = ("gensql serve", "--dask", "s3://", "~/")
#: Examples whose useful answer may be empty (a check that finds nothing to report) or that print talk only.
_MAY_BE_EMPTY = ("refresh", "export", "prices check", "backfill", "completion")


def _documented_examples(root: Path) -> list[tuple[str, str]]:
    found = []
    for doc in ("README.md", "docs/cli.md"):
        text = (root / doc).read_text(encoding="utf-8")
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = line.strip()
                if line.startswith("gensql ") and not any(skip in line for skip in _NOT_RUN):
                    found.append((doc, line))
    return found


@pytest.mark.slow
def test_every_documented_example_runs_on_a_fresh_clone(tmp_path):
    """`git clone`, the demo's mtime step, then every example of README.md and docs/cli.md as written:
    each exits 0, and each that promises rows prints some (the dated ones rows of the sample's days)."""
    import os
    import subprocess
    import sys

    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENSQL_")}
    env.update(PYTHONPATH=str(clone), COLUMNS="100")

    def gensql(*words: str, module: str = "gensql") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", module, *words], cwd=clone, env=env, capture_output=True, text=True
        )

    assert gensql("restore-mtimes", "data", module="gensql.synth").returncode == 0
    examples_run = _documented_examples(clone)
    assert len(examples_run) >= 40
    for doc, line in examples_run:
        words = shlex.split(line, comments=True)[1:]
        target = None
        if ">" in words:
            at = words.index(">")
            words, target = words[:at], words[at + 1]
        result = gensql(*words)
        where = f"{doc}: `{line}`"
        assert result.returncode == 0, f"{where} exited {result.returncode}: {result.stderr}"
        assert "gensql: error" not in result.stderr and "Traceback" not in result.stderr, (where, result.stderr)
        if target:
            (clone / target).write_text(result.stdout)
        if "-o" in words:
            written = (clone / words[words.index("-o") + 1]).read_bytes()
            assert len(written.splitlines()) > 1 or not written.isascii(), f"{where} wrote no rows"
        elif not any(" ".join(words).startswith(w) for w in _MAY_BE_EMPTY):
            assert result.stdout.strip(), f"{where} printed nothing"
            assert not re.search(r"^0 rows", result.stdout, re.M), f"{where} printed no rows"
        if "--since" in words:  # the sample's days are February-March 2025 once the mtimes are restored
            assert "2025-03-0" in result.stdout, f"{where} found none of the sample's days: {result.stdout[:300]}"
