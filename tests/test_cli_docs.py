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
