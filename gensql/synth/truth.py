"""What the generator meant to write: the expected ``gens`` values, scan errors and membership of a store.

The expected values are computed from the generator's intent (the logical value of each key in each
JSON file, which files exist, which were corrupted) by the scanner's rules, never by reading files back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ..layout import (
    DOCS_DIR,
    JSON_FILES,
    METADATA_FILE,
    PARENT_STAGE,
    PARSED_FILE,
    PARSED_METADATA_FILE,
    PROMPT_FILE,
    RAW_FILE,
    RAW_METADATA_FILE,
    STAGES,
)
from .model import GenDir

#: Format eras of a generation directory (see ``store-formats.md`` and docs/eras.md): the synthetic
#: ``current`` / ``transition`` / ``single`` / ``imported`` eras, and those written as the real pipeline
#: wrote them: ``fat_0915`` (974def2, combo only in the wide membership.csv), ``importer_0924`` (the
#: 2025-09-24 importer's copies of legacy texts), seed 000's docs store in both nestings
#: (``docs_nested``, ``docs_flat``). The legacy flat-file eras are not generation directories:
#: see ``era_legacy.LEGACY_ERAS`` and ``StoreTruth.legacy``.
ERAS: tuple[str, ...] = (
    "current",
    "transition",
    "single",
    "imported",
    "fat_0915",
    "importer_0924",
    "docs_nested",
    "docs_flat",
)
#: ``scan_errors.kind`` values the mixed profile produces.
ERROR_KINDS: tuple[str, ...] = (
    "invalid_json",
    "empty_file",
    "not_utf8",
    "not_an_object",
    "missing_metadata",
    "bad_value",
    "unexpected_entry",
    "bad_membership",
)
PROFILES: tuple[str, ...] = ("mixed", "bench")
#: Strings that mean "missing" (compared case-insensitively), besides JSON null.
NULL_LIKE: tuple[str, ...] = ("", "nan", "none", "null")


@dataclass
class ExpectedGen:
    """What the scanner must find for one generation directory."""

    stage: str
    gen_id: str
    era: str  # one of ERAS
    values: dict[str, object]  # expected ``gens`` column values (names from fields.GENS_COLUMN_ORDER)
    logical_group: str  # the generator's name for the logical product; attempts of one product share it


@dataclass(frozen=True)
class ExpectedError:
    """One expected row of ``scan_errors``. ``path`` is relative to the data root, '/'-separated."""

    stage: str | None
    gen_id: str | None
    file: str | None
    kind: str
    path: str


@dataclass
class StoreTruth:
    """Everything the generator knows about the store it wrote."""

    gens: dict[tuple[str, str], ExpectedGen] = field(default_factory=dict)
    scan_errors: list[ExpectedError] = field(default_factory=list)
    membership: list[tuple[str, str, str]] = field(default_factory=list)  # (cohort_id, stage, gen_id)
    missing_members: list[tuple[str, str, str]] = field(default_factory=list)  # (cohort_id, stage, gen_id)
    dangling_parents: list[tuple[str, str]] = field(default_factory=list)  # (stage, gen_id)
    wrong_stage_parents: list[tuple[str, str]] = field(default_factory=list)
    stage_mismatches: list[tuple[str, str]] = field(default_factory=list)
    #: Every cohort directory written (including one whose membership.csv is unreadable).
    cohorts: list[str] = field(default_factory=list)
    profile: str = "mixed"
    #: Number of generation directories written (also set for the bench profile, whose ``gens`` is empty).
    n_gens: int = 0
    #: Generation directories per stage (also set for the bench profile).
    stage_counts: dict[str, int] = field(default_factory=dict)
    #: The legacy flat-file tasks written (era_legacy.LegacyTask): migrated by backfill, never indexed.
    legacy: list = field(default_factory=list)
    #: The rows of db/documents.sqlite (era_docs.DocRow), one per docs/ directory but one.
    documents: list = field(default_factory=list)
    #: The judges planted in the synthetic evaluations (judges.PlantedJudges; mixed profile only): who
    #: agrees with whom, and the essay templates' effect on quality. Legacy and docs-era evaluations
    #: (their own model names) are scored at random.
    judges: object | None = None

    _ATTRS = ("stage", "gen_id", "era", "logical_group")

    def count(self, **where: object) -> int:
        """Number of expected generations matching every ``column=value`` given.

        Keys are ``ExpectedGen`` attributes (``stage``, ``gen_id``, ``era``, ``logical_group``) or
        keys of ``values`` (``status``, ``model_id``, ...). ``truth.count(stage="essay", status="ok")``.
        """
        n = 0
        for g in self.gens.values():
            for key, want in where.items():
                have = getattr(g, key) if key in self._ATTRS else g.values.get(key, _MISSING)
                if have is _MISSING or have != want or type(have) is bool and type(want) is not bool:
                    break
            else:
                n += 1
        return n

    def errors_of(self, kind: str) -> list[ExpectedError]:
        return [e for e in self.scan_errors if e.kind == kind]


_MISSING = object()


def _first(*values: Any) -> Any:
    """The first value that is not None (JSON values: their type is whatever the file held)."""
    for v in values:
        if v is not None:
            return v
    return None


def _merge(g: GenDir) -> dict[str, object]:
    """metadata.json, then parsed_metadata.json, then raw_metadata.json on top; None never overrides."""
    merged: dict[str, object] = {}
    keys: dict[str, str] = {}
    for name in JSON_FILES:
        j = g.json.get(name)
        if j is None or name in g.corrupt:
            continue
        for fld, value in j.logical.items():
            if value is None:
                continue
            if fld in merged and merged[fld] != value:
                # Only an override through the same key is unambiguous (aliases are resolved after
                # the merge, and objects replace each other whole): never generate anything else.
                if keys[fld] != j.keys[fld] or isinstance(value, dict):
                    raise AssertionError(f"{g.rel()}: ambiguous override of {fld}")
            merged[fld] = value
            keys[fld] = j.keys[fld]
    return merged


def _expect(g: GenDir) -> dict[str, object]:
    m = _merge(g)
    usage = m.get("usage") or {}
    assert isinstance(usage, dict)
    prompt_tokens = _first(usage.get("prompt_tokens"), usage.get("input_tokens"), m.get("prompt_tokens"))
    completion_tokens = _first(usage.get("completion_tokens"), usage.get("output_tokens"), m.get("completion_tokens"))
    total_tokens = _first(usage.get("total_tokens"), m.get("total_tokens"))
    if total_tokens is None and prompt_tokens is not None and completion_tokens is not None:
        total_tokens = prompt_tokens + completion_tokens
    max_tokens = _first(usage.get("max_tokens"), m.get("max_tokens"))
    finish = m.get("finish_reason")
    recorded = m.get("recorded_truncated")
    duration = m.get("duration_s")
    mode = m.get("mode")
    truncated = (
        recorded is True
        or finish == "length"
        or (completion_tokens is not None and max_tokens is not None and completion_tokens >= max_tokens)
    )
    has_prompt, has_raw, has_parsed = PROMPT_FILE in g.text, RAW_FILE in g.text, PARSED_FILE in g.text
    has_meta = METADATA_FILE in g.json
    has_raw_meta = RAW_METADATA_FILE in g.json
    has_parsed_meta = PARSED_METADATA_FILE in g.json
    score = g.score if g.stage == "evaluation" and has_parsed else None

    if not has_raw and not has_parsed:
        attempted = has_raw_meta or finish is not None or m.get("usage") is not None or duration is not None
        status = "gen_error" if attempted else "skipped"
    elif has_raw and not g.text[RAW_FILE] and not has_parsed:
        status = "gen_error"
    elif truncated:
        status = "truncated"
    elif not has_parsed:
        status = "parse_error"
    elif m.get("parse_success") is False:
        status = "parse_error"
    elif g.stage == "evaluation" and score is None:
        status = "parse_error"
    else:
        status = "ok"

    counts = (prompt_tokens, completion_tokens, total_tokens)
    model_call_facts = has_raw or has_raw_meta or any(c is not None for c in counts)
    if max_tokens is not None and not model_call_facts:
        raise AssertionError(f"{g.rel()}: a cap without counts is ambiguous for is_model_call")
    is_model_call = mode != "copy" and finish != "copy" and model_call_facts

    if has_raw:
        source = "raw"
    elif has_parsed:
        source = "parsed"
    elif has_raw_meta:
        source = "raw_metadata"
    elif has_meta:
        source = "metadata"
    else:
        source = "dir"
    t = (
        g.dir_mtime
        if source == "dir"
        else g.mtime[
            {"raw": RAW_FILE, "parsed": PARSED_FILE, "raw_metadata": RAW_METADATA_FILE, "metadata": METADATA_FILE}[
                source
            ]
        ]
    )
    replicate = m.get("replicate")
    return {
        "gen_id": g.gen_id,
        "stage": g.stage,
        "gen_dir": g.rel(),
        "store_root": g.store_root,
        "model_id": m.get("model_id"),
        "template_id": m.get("template_id"),
        "parent_gen_id": m.get("parent_gen_id"),
        "origin_cohort_id": m.get("origin_cohort_id"),
        "combo_id": m.get("combo_id"),
        "replicate": 1 if replicate is None else replicate,
        "mode": mode,
        "run_id": m.get("run_id"),
        "task_id": m.get("task_id"),
        "function": m.get("function"),
        "parser_name": m.get("parser_name"),
        "finish_reason": finish,
        "truncated": truncated,
        "status": status,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": total_tokens,
        "max_tokens": max_tokens,
        "duration_s": duration,
        "prompt_bytes": len(g.text[PROMPT_FILE]) if has_prompt else None,
        "raw_bytes": len(g.text[RAW_FILE]) if has_raw else None,
        "parsed_bytes": len(g.text[PARSED_FILE]) if has_parsed else None,
        "has_prompt": has_prompt,
        "has_raw": has_raw,
        "has_parsed": has_parsed,
        "created_at": datetime.fromtimestamp(t, tz=UTC),
        "created_at_source": source,
        "score": score,
        "score_error_is_null": g.stage != "evaluation" or score is not None,
        "is_model_call": is_model_call,
        "recorded_truncated": recorded,
        "input_mode": m.get("input_mode"),
        "parse_success": m.get("parse_success"),
        "parse_error": m.get("parse_error"),
        "meta_stage": m.get("meta_stage"),
        "meta_gen_id": m.get("meta_gen_id"),
        "has_metadata": has_meta,
        "has_raw_metadata": has_raw_meta,
        "has_parsed_metadata": has_parsed_meta,
    }


class DocumentFacts(Protocol):
    """What refresh borrows from a db/documents.sqlite row (era_docs.DocRow has these and more)."""

    @property
    def run_id(self) -> str | None: ...
    @property
    def task_id(self) -> str | None: ...
    @property
    def template_id(self) -> str | None: ...
    @property
    def model_id(self) -> str | None: ...
    @property
    def parent_doc_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class Borrowed:
    """The facts refresh borrows from outside the directories (docs/eras.md, D1/D2)."""

    #: wide membership lines: (cohort_id, line, stage, gen_id, {column: cell text}) in file order
    membership: list[tuple[str, int, str, str, dict[str, str]]]
    #: db/documents.sqlite rows by (stage, doc_id)
    documents: Mapping[tuple[str, str], DocumentFacts]
    #: essay templates whose generator is copy in 1_raw/essay_templates.csv
    copy_templates: frozenset[str]


#: gens column <- wide membership columns, first non-null wins (gensql.fields.MEMBERSHIP_FACTS).
_MEMBERSHIP_FACTS = {
    "combo_id": ("combo_id",),
    "template_id": ("template_id", "draft_template", "essay_template", "evaluation_template", "essay_template_id"),
    "model_id": ("llm_model_id", "model_id"),
    "parent_gen_id": ("parent_gen_id", "parent_doc_id"),
    "replicate": ("replicate",),
}


def _cell(text: str | None) -> str | None:
    if text is None or text.strip().lower() in NULL_LIKE:
        return None
    return text.strip()


def _member_facts(borrowed: Borrowed) -> dict[tuple[str, str], dict[str, object]]:
    """Per member: the first non-null value of each fact, by cohort id then line."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for _, _, stage, gen_id, cells in sorted(borrowed.membership, key=lambda m: (m[0], m[1])):
        facts = out.setdefault((stage, gen_id), {})
        for column, keys in _MEMBERSHIP_FACTS.items():
            if facts.get(column) is not None:
                continue
            value: str | int | None = next((c for c in (_cell(cells.get(k)) for k in keys) if c is not None), None)
            if column == "replicate" and value is not None:
                try:
                    value = int(float(value))
                except ValueError:
                    value = None
            facts[column] = value
    return out


def _recorded_replicate(g: GenDir) -> bool:
    """A JSON file wrote a replicate that is not null-like (the scan's default 1 is not recorded)."""
    for name, j in g.json.items():
        if name in g.corrupt or "replicate" not in j.obj or j.obj["replicate"] is None:
            continue
        if str(j.obj["replicate"]).strip().lower() not in NULL_LIKE:
            return True
    return False


def _borrow(g: GenDir, v: dict[str, object], member: dict[str, object] | None, borrowed: Borrowed) -> None:
    """The post-pass of refresh: fill only where the directory left a column NULL; say where from."""
    used = []
    if member:
        filled = False
        for column in ("combo_id", "template_id", "model_id", "parent_gen_id"):
            if v[column] is None and member.get(column) is not None:
                v[column], filled = member[column], True
        rep = member.get("replicate")
        if rep is not None and rep != v["replicate"] and not _recorded_replicate(g):
            v["replicate"], filled = rep, True
        if filled:
            used.append("membership")
    row = borrowed.documents.get((g.stage, g.gen_id)) if g.store_root == DOCS_DIR else None
    if row is not None:
        for column, value in (
            ("run_id", row.run_id),
            ("task_id", row.task_id),
            ("template_id", row.template_id),
            ("model_id", row.model_id),
            ("parent_gen_id", row.parent_doc_id),
        ):
            if v[column] is None and value is not None:
                v[column] = value
        v["created_at"], v["created_at_source"] = row.created_at, "sqlite"
        used.append("sqlite")
    if g.stage == "essay" and v["mode"] is None and v["template_id"] in borrowed.copy_templates:
        v["mode"], v["is_model_call"] = "copy", False
        if v["status"] == "gen_error" and not v["has_raw"] and not v["has_parsed"]:
            v["status"] = "skipped"
        used.append("templates")
    v["facts_from"] = ",".join(used) or None


def finish_truth(truth: StoreTruth, gens: list[GenDir], borrowed: Borrowed | None = None) -> None:
    borrowed = borrowed or Borrowed([], {}, frozenset())
    members = _member_facts(borrowed)
    stages_of: dict[str, set[str]] = {}
    for g in gens:
        stages_of.setdefault(g.gen_id, set()).add(g.stage)
    errors: list[ExpectedError] = []
    for g in gens:
        for name, kind in g.corrupt.items():
            assert name in g.json, (g.rel(), name)
            errors.append(ExpectedError(g.stage, g.gen_id, name, kind, g.rel(name)))
        for name, j in g.json.items():
            if name not in g.corrupt:
                errors.extend(ExpectedError(g.stage, g.gen_id, name, "bad_value", g.rel(name)) for _ in j.bad)
        if METADATA_FILE not in g.json:
            errors.append(ExpectedError(g.stage, g.gen_id, METADATA_FILE, "missing_metadata", g.rel(METADATA_FILE)))
    per_gen: dict[tuple[str | None, str | None], int] = {}
    for e in errors:
        per_gen[(e.stage, e.gen_id)] = per_gen.get((e.stage, e.gen_id), 0) + 1
    for g in gens:
        v = _expect(g)
        _borrow(g, v, members.get((g.stage, g.gen_id)), borrowed)
        v["error_count"] = per_gen.get((g.stage, g.gen_id), 0)
        key = (g.stage, g.gen_id)
        assert key not in truth.gens, key
        truth.gens[key] = ExpectedGen(g.stage, g.gen_id, g.era, v, g.group)
        parent = v["parent_gen_id"]
        if parent is not None:
            where = stages_of.get(str(parent), set())
            if PARENT_STAGE[g.stage] in where:
                pass
            elif where:
                truth.wrong_stage_parents.append(key)
            else:
                truth.dangling_parents.append(key)
        if (v["meta_stage"] is not None and v["meta_stage"] != g.stage) or (
            v["meta_gen_id"] is not None and v["meta_gen_id"] != g.gen_id
        ):
            truth.stage_mismatches.append(key)
    truth.scan_errors = errors
    truth.missing_members = [
        (c, s, gid) for c, s, gid in truth.membership if gid not in stages_of or s not in stages_of[gid]
    ]
    truth.n_gens = len(gens)
    truth.stage_counts = {s: sum(1 for g in gens if g.stage == s) for s in STAGES}
