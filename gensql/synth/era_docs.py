"""Seed 000's docs store (2025-09-06..09-07): ``docs/<stage>/[<logical_key_id>/]<doc_id>/`` and ``db/documents.sqlite``.

Both nestings: the early ``docs/<stage>/<logical_key_id>/<doc_id>/`` and the flattened
``docs/<stage>/<doc_id>/``. Small metadata.json files (``task_id``, ``draft_template`` /
``essay_template`` / ``evaluation_template``, ``model_id``, ``parent_doc_id``, drafts ``combo_id`` and
``usage: null``; ``function`` only in the later commits), ``raw.txt`` and ``parsed.txt`` always,
``prompt.txt`` except for copy-mode essays, no mode, no usage counts, no time. The SQLite index
(``documents`` table) records each document's run id and insert time (see docs/eras.md).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..layout import DOCS_DB_FILE, DOCS_DIR, METADATA_FILE, PARSED_FILE, PROMPT_FILE, RAW_FILE
from .model import GenDir, JsonFile

ERA_NESTED = "docs_nested"
ERA_FLAT = "docs_flat"

#: seed 000's ``documents`` table as its writer created it.
DOCUMENTS_DDL = (
    "CREATE TABLE documents (doc_id TEXT PRIMARY KEY, logical_key_id TEXT, stage TEXT, task_id TEXT, "
    "parent_doc_id TEXT, template_id TEXT, model_id TEXT, run_id TEXT, parser TEXT, status TEXT, "
    "usage_prompt_tokens INTEGER, usage_completion_tokens INTEGER, usage_max_tokens INTEGER, created_at TEXT, "
    "doc_dir TEXT, raw_chars INTEGER, parsed_chars INTEGER, content_hash TEXT, meta_small TEXT, "
    "lineage_prev_doc_id TEXT)"
)
_TEMPLATE_KEY = {"draft": "draft_template", "essay": "essay_template", "evaluation": "evaluation_template"}


@dataclass(frozen=True)
class DocRow:
    """One row of ``documents`` (the facts refresh borrows for the docs row of the same stage and id)."""

    doc_id: str
    logical_key_id: str
    stage: str
    task_id: str
    parent_doc_id: str | None
    template_id: str
    model_id: str
    run_id: str
    created_at: datetime
    doc_dir: str
    raw_chars: int
    parsed_chars: int
    function: str | None


def render_doc(
    stage: str,
    doc_id: str,
    era: str,
    bucket: str | None,
    *,
    task_id: str,
    template: str,
    model: str,
    parent: str | None,
    combo: str | None,
    function: str | None,
    prompt: bytes | None,
    raw: bytes,
    parsed: bytes,
    score: float | None,
    t: int,
    group: str,
) -> GenDir:
    """A document directory of either nesting (``bucket``: the logical_key_id directory, nested only)."""
    g = GenDir(stage, doc_id, era, group, None)
    g.store_root = DOCS_DIR
    g.bucket = bucket
    m = JsonFile()
    m.set("task_id", task_id)
    if combo is not None:
        m.set("combo_id", combo)
    m.set("template_id", template, key=_TEMPLATE_KEY[stage])
    m.set("model_id", model, key="model_id")
    if parent is not None:
        m.set("parent_gen_id", parent, key="parent_doc_id")
    if stage == "draft":
        m.set("usage", None)
    if function is not None:
        m.set("function", function)
    if prompt is not None:
        g.add_text(PROMPT_FILE, prompt, t - 30)
    g.add_text(RAW_FILE, raw, t)
    g.add_text(PARSED_FILE, parsed, t)
    g.add_json(METADATA_FILE, m, t)
    g.score = score if stage == "evaluation" else None
    g.dir_mtime = t
    return g


def write_db(root: Path, rows: list[DocRow], t: int) -> None:
    """``db/documents.sqlite`` with ``rows`` (WAL mode as the pipeline left it, checkpointed on close)."""
    path = root / DOCS_DB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(DOCUMENTS_DDL)
        con.execute("CREATE INDEX idx_documents_logical ON documents(logical_key_id, created_at)")
        con.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'ok', NULL, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL)",
            [
                (
                    r.doc_id,
                    r.logical_key_id,
                    r.stage,
                    r.task_id,
                    r.parent_doc_id,
                    r.template_id,
                    r.model_id,
                    r.run_id,
                    iso_ms(r.created_at),
                    r.doc_dir,
                    r.raw_chars,
                    r.parsed_chars,
                    f"{abs(hash_text(r.doc_id)):016x}",
                    json.dumps({"function": r.function}) if r.function else None,
                )
                for r in rows
            ],
        )
        con.commit()
    finally:
        con.close()


def iso_ms(when: datetime) -> str:
    """``strftime('%Y-%m-%dT%H:%M:%fZ','now')`` as SQLite wrote it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def hash_text(text: str) -> int:
    """A stable (not salted) 64-bit hash for the placeholder content hashes."""
    h = 1469598103934665603
    for ch in text.encode("utf-8"):
        h = ((h ^ ch) * 1099511628211) % (1 << 64)
    return h
