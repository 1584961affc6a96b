"""Seed 000's docs store, nested layout: era e8480f8 (2025-09-06, ``data/docs/<stage>/<logical_key_id>/<doc_id>/``).

Real code run (copied under ``daydreaming_dagster/`` by ``../copy_real.py``): the same assets as
:mod:`realwriter.docs_0907`, which at this commit write each document inline (``_write_atomic`` of
raw.txt, parsed.txt, prompt.txt and metadata.json into ``ids.doc_dir(docs_root, stage,
logical_key_id, doc_id)``) and insert its row with ``SQLiteDocumentsIndex.insert_document``, behind
the era's feature flag ``DD_DOCS_INDEX_ENABLED=1`` (set by the tooling, as the era's runbook did);
essays find their draft and evaluations their essay by task id in the index (``get_latest_by_task``).
Why this commit: later nested-layout commits cannot run (05293e5 and neighbours: ``DocumentRow``
does not import; fb11e7f..46d547f: ``draft_response`` passes a dropped ``prompt_path`` field).
``assets/__init__.py`` is a package marker, not the real file. Stubbed: dagster, openai, tenacity,
ratelimit. Scenario: as :mod:`realwriter.docs_0907` (:func:`realwriter.docs_0907.run`), with the
earlier task tables (``by_task``).
"""

from __future__ import annotations

from pathlib import Path

from ..docs_0907 import run
from ..legacy_stubs import FakeLLM

COMMIT = "e8480f8"
HERE = Path(__file__).parent


def build(data_root: Path, llm: FakeLLM | None = None):
    return run(__name__, HERE, data_root, llm, by_task=True)
