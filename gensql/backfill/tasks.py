"""What a legacy task id means: the pipeline's task tables first, then its id lists, then the name alone.

Legacy task ids join their parts with a single ``_`` (draft/links/single-phase
``{combo_id}_{template}_{model_id}``, essay ``{draft_task_id}_{essay_template}``, evaluations of
2025-08 ``{document_task_id}_{template}_{model_id}``) or, for evaluations from 2025-09,
``{document_id}__{template}__{model_id}``; model and template ids themselves contain ``_``, ``-``
and ``.``. So the split comes from, in this order:

1. the task tables ``data/2_tasks/*_tasks.csv`` (:data:`~gensql.layout.LEGACY_TASK_TABLES`): the
   pipeline's own record of each task's combo, template, model and parent task (source
   ``task table <path>``);
2. the id lists ``data/1_raw/llm_models.csv`` and ``*_templates.csv``: the longest known model id
   ending the task id, then the longest known template id before it (source ``id list <path>``);
3. the name alone: a ``__``-joined evaluation id, the parent task found as the longest known task id
   prefixing it, the remainder of an essay id after its parent (source ``filename``).

A part none of these yields stays NULL. A malformed table is reported and skipped (the other sources
still apply).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import (
    ESSAY_TEMPLATES_FILE,
    LEGACY_MODELS_FILE,
    LEGACY_RAW_DIR,
    LEGACY_TASK_TABLES,
    LEGACY_TASKS_DIR,
    LEGACY_TEMPLATE_LISTS,
)
from ..safeio import read_file

#: Per task kind, the task table's columns: the id, then each fact and the columns that hold it
#: (first non-empty wins; the column names changed across eras).
TABLE_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "generation": {
        "id": ("generation_task_id",),
        "combo_id": ("combo_id",),
        "template_id": ("generation_template",),
        "model_id": ("generation_model",),
    },
    "links": {
        "id": ("link_task_id",),
        "combo_id": ("combo_id",),
        "template_id": ("link_template",),
        "model_id": ("generation_model",),
    },
    "draft": {
        "id": ("draft_task_id",),
        "combo_id": ("combo_id",),
        "template_id": ("draft_template",),
        "model_id": ("generation_model",),
    },
    "essay": {
        "id": ("essay_task_id",),
        "combo_id": ("combo_id",),
        "template_id": ("essay_template",),
        "model_id": ("generation_model",),
        "parent_task_id": ("draft_task_id", "link_task_id"),
    },
    "evaluation": {
        "id": ("evaluation_task_id",),
        "combo_id": ("combo_id",),
        "template_id": ("evaluation_template",),
        "model_id": ("evaluation_model",),
        "parent_task_id": ("document_id", "essay_task_id", "generation_task_id"),
    },
}
FACTS: tuple[str, ...] = ("combo_id", "template_id", "model_id", "parent_task_id")
#: Essay template generators that make no model call (the essay is the draft's text, or parsed from it).
NO_CALL_GENERATORS = frozenset({"copy", "parser"})
#: Template kinds whose ids can appear in a draft-like task id (drafts were links, and single-phase
#: generations were re-read as drafts).
DRAFT_TEMPLATE_KINDS: dict[str, tuple[str, ...]] = {
    "generation": ("generation", "draft", "links"),
    "links": ("links", "draft", "generation"),
    "draft": ("draft", "links", "generation"),
}


@dataclass
class TaskFacts:
    """The parts of one task id, each with where it came from."""

    combo_id: str | None = None
    template_id: str | None = None
    model_id: str | None = None
    parent_task_id: str | None = None
    sources: dict[str, str] = field(
        default_factory=dict
    )  # fact -> "task table 2_tasks/x.csv" | "id list ..." | "filename"

    def set(self, name: str, value: str | None, source: str) -> None:
        if value and getattr(self, name) is None:
            setattr(self, name, value)
            self.sources[name] = source


class TaskBook:
    """The task tables and id lists of one legacy store (both optional)."""

    def __init__(self, data_root: Path) -> None:
        self.data_root = data_root
        self.rows: dict[str, dict[str, tuple[dict[str, str], str]]] = {
            k: {} for k in TABLE_COLUMNS
        }  # kind -> id -> (facts, table)
        self.models: list[str] = []
        self.models_source = ""
        self.templates: dict[str, list[str]] = {}
        self.template_sources: dict[str, str] = {}
        self.no_call_essay_templates: set[str] = set()
        self.problems: list[tuple[str, str]] = []  # (path, reason): tables or lists that could not be used
        self._read_tables()
        self._read_lists()

    # --- reading ---

    def _csv(self, rel: str) -> tuple[list[str], list[dict[str, str]]] | None:
        path = self.data_root / rel
        if not path.is_file():
            return None
        try:
            data, _ = read_file(path)  # regular files only: a FIFO or device is refused, never opened
            with io.StringIO(data.decode("utf-8"), newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader, None)
                if not header:
                    self.problems.append((rel, "empty file: no header line; ignored"))
                    return None
                header = [h.strip() for h in header]
                rows = []
                for n, values in enumerate(reader, start=2):
                    if not values:
                        continue
                    if len(values) != len(header):
                        self.problems.append(
                            (rel, f"line {n} has {len(values)} fields, the header {len(header)}; table ignored")
                        )
                        return None
                    rows.append({h: v.strip() for h, v in zip(header, values)})
        except UnicodeDecodeError:
            self.problems.append((rel, "not UTF-8 text; ignored"))
            return None
        except (OSError, csv.Error) as exc:
            self.problems.append((rel, f"cannot read: {exc}; ignored"))
            return None
        return header, rows

    def _read_tables(self) -> None:
        for name, kind in LEGACY_TASK_TABLES.items():
            rel = f"{LEGACY_TASKS_DIR}/{name}"
            got = self._csv(rel)
            if got is None:
                continue
            header, rows = got
            columns = TABLE_COLUMNS[kind]
            id_col = next((c for c in columns["id"] if c in header), None)
            if id_col is None:
                self.problems.append((rel, f"no {' or '.join(columns['id'])} column; table ignored"))
                continue
            table = self.rows[kind]
            for row in rows:
                task_id = row.get(id_col)
                if not task_id:
                    continue
                facts = {}
                for fact in FACTS:
                    for col in columns.get(fact, ()):
                        if row.get(col):
                            facts[fact] = row[col]
                            break
                table.setdefault(task_id, (facts, rel))

    def _read_lists(self) -> None:
        rel = f"{LEGACY_RAW_DIR}/{LEGACY_MODELS_FILE}"
        got = self._csv(rel)
        if got is not None:
            header, rows = got
            if "id" in header:
                self.models = sorted({r["id"] for r in rows if r.get("id")}, key=len, reverse=True)
                self.models_source = f"id list {rel}"
            else:
                self.problems.append((rel, "no id column; ignored"))
        for kind, name in LEGACY_TEMPLATE_LISTS.items():
            rel = f"{LEGACY_RAW_DIR}/{name}"
            got = self._csv(rel)
            if got is None:
                continue
            header, rows = got
            if "template_id" not in header:
                self.problems.append((rel, "no template_id column; ignored"))
                continue
            self.templates[kind] = sorted(
                {r["template_id"] for r in rows if r.get("template_id")}, key=len, reverse=True
            )
            self.template_sources[kind] = f"id list {rel}"
            if rel == ESSAY_TEMPLATES_FILE and "generator" in header:
                self.no_call_essay_templates = {
                    r["template_id"] for r in rows if (r.get("generator") or "").strip().lower() in NO_CALL_GENERATORS
                }

    # --- questions ---

    def table_row(self, kind: str, task_id: str) -> tuple[dict[str, str], str] | None:
        return self.rows[kind].get(task_id)

    def known_task_ids(self, kind: str) -> set[str]:
        return set(self.rows[kind])

    def essay_makes_no_call(self, template_id: str | None) -> bool:
        return template_id in self.no_call_essay_templates

    def _suffix(self, text: str, candidates: list[str]) -> tuple[str, str] | None:
        """(rest, candidate) for the longest candidate that ends ``text`` after a ``_``."""
        for c in candidates:
            if text.endswith("_" + c) and len(text) > len(c) + 1:
                return text[: -len(c) - 1], c
        return None

    def split_draft_like(self, kind: str, task_id: str, facts: TaskFacts) -> None:
        """``{combo}_{template}_{model}`` by the id lists."""
        if not self.models:
            return
        m = self._suffix(task_id, self.models)
        if m is None:
            return
        rest, model = m
        facts.set("model_id", model, self.models_source)
        for tkind in DRAFT_TEMPLATE_KINDS[kind]:
            t = self._suffix(rest, self.templates.get(tkind, []))
            if t is not None:
                facts.set("template_id", t[1], self.template_sources[tkind])
                facts.set("combo_id", t[0], self.template_sources[tkind])
                return

    def split_evaluation(self, task_id: str, facts: TaskFacts) -> None:
        """``{document}_{template}_{model}`` by the id lists (the 2025-08 single-underscore form)."""
        if not self.models:
            return
        m = self._suffix(task_id, self.models)
        if m is None:
            return
        rest, model = m
        t = self._suffix(rest, self.templates.get("evaluation", []))
        if t is None:
            return
        facts.set("model_id", model, self.models_source)
        facts.set("template_id", t[1], self.template_sources["evaluation"])
        facts.set("parent_task_id", t[0], self.template_sources["evaluation"])

    def split_essay(self, task_id: str, facts: TaskFacts) -> None:
        """``{draft_task}_{essay_template}`` by the essay template list."""
        t = self._suffix(task_id, self.templates.get("essay", []))
        if t is not None:
            facts.set("template_id", t[1], self.template_sources["essay"])
            facts.set("parent_task_id", t[0], self.template_sources["essay"])
