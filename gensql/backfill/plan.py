"""The backfill plan: every attempt the legacy folders hold, its files, facts, parent and status.

Attempts
    In the versioned era a run wrote ``*_responses_raw/<task>_vN.txt`` (the model's output) and,
    when it succeeded, ``*_responses/<task>_vM.txt`` (parsed) with an independent counter: a truncated
    run leaves a raw version without a parsed one, and the essay side-write of 2025-09-05 always wrote
    ``_v1``. So raw and parsed versions are paired by time, not by number: a task's files are swept
    in modification-time order (raw before parsed at equal times, then by version); a parsed file
    joins the raw file written before it in the same sweep, or is an attempt of its own. Every raw
    version is an attempt; so is every parsed version no raw file accounts for. The prompt of an
    attempt is the newest prompt version written no later than the attempt.
Verbatim responses
    Where the pipeline stored the model's output unchanged in the responses folder (every
    evaluation, links_responses/, generation_responses/, llm-mode essays) a response without its raw
    file is also the attempt's ``raw.txt``: it was a model call.
Single-phase files (before 2025-08-19)
    As the pipeline's own backfill of 2025-09-07 (scripts/backfill/backfill_from_evaluations.py) did:
    each ``generation_responses/<task>.txt`` becomes a draft (combo, generation template, model; prompt
    from generation_prompts/) and a copy-mode essay with template ``parsed-from-links-v1`` holding
    ``parsed_generation_responses/<task>.txt`` (else the response itself), whose parent is that
    draft; the task's evaluations get that essay as parent.
Copy mode
    An essay whose template's ``generator`` is ``copy`` or ``parser`` in 1_raw/essay_templates.csv, or
    whose prompt says ``COPY_MODE``/``PARSER_MODE`` (what the pipeline wrote instead of a prompt),
    made no model call: ``mode = copy``.
Parents
    The parent task comes from the task table, else the id lists, else the longest known task id
    prefixing the child's (see :mod:`.tasks`). ``parent_gen_id`` is that task's latest attempt (the one
    holding its newest parsed text, else its newest attempt); an evaluation whose document is a draft
    keeps the draft as parent (``problems`` then reports the wrong stage).
Already imported
    A target directory written by an earlier backfill is skipped. So is an attempt whose response
    file the pipeline's importer of 2025-09-24 (utils/legacy_gens_migration.py) already copied into
    gens/ (``legacy_fields.origin_filename`` / ``source_file`` with ``created_from``); its children
    then point at the importer's generation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..ids import logical_key_id, new_gen_id
from ..layout import (
    GENS_DIR,
    LEGACY_DIRS,
    LEGACY_LINKS_DIR,
    LEGACY_LINKS_PROMPTS_DIR,
    LEGACY_SINGLE_PHASE_DIRS,
    METADATA_FILE,
    PARSED_FILE,
    PROMPT_FILE,
    RAW_FILE,
    STAGES,
)
from ..safeio import read_file, safe_stat
from ..texts import read_text_prefix
from .names import TEXT_SUFFIX, parse_name
from .tasks import TaskBook, TaskFacts

#: Stands in for the run id when deriving backfill gen ids, so ids do not depend on the run.
GEN_ID_NAMESPACE = "backfill"

KIND_RAW = "raw"  # an attempt with a raw side-write (and its parsed text, when paired)
KIND_PARSED = "parsed"  # a parsed (or verbatim) response no raw file accounts for
KIND_LINKS = "links"  # links_responses/: the two-phase drafts of 2025-08
KIND_SINGLE = "generation"  # generation_responses/: a single-phase call, imported as a draft
KIND_SINGLE_ESSAY = "generation-essay"  # ... and its parsed essay portion, a copy-mode essay
#: Template the pipeline's own backfill gave to the essays it made from single-phase files.
SINGLE_PHASE_ESSAY_TEMPLATE = "parsed-from-links-v1"
_NO_CALL_PROMPT_PREFIXES = ("COPY_MODE", "PARSER_MODE")

SRC_FILENAME = "filename"
#: Stages the 2025-09-24 importer wrote into (only their metadata.json files are read to find its work).
IMPORTER_STAGES: tuple[str, ...] = ("essay", "evaluation")


@dataclass(frozen=True)
class Source:
    rel: str  # path relative to the data root, posix
    task_id: str
    version: int
    mtime_ns: int


@dataclass
class PlannedGeneration:
    """One generation directory the backfill creates (or found already imported)."""

    stage: str
    gen_id: str
    task_id: str
    kind: str
    version: int
    #: target file name in the generation dir -> source path relative to the data root (posix)
    files: dict[str, str]
    logical_key_id: str
    mode: str = "llm"
    parent_task_id: str | None = None
    parent_gen_id: str | None = None
    #: metadata fields from the task id: combo_id (drafts), template_id, llm_model_id
    task_fields: dict[str, str] = field(default_factory=dict)
    #: field -> where it came from ("task table 2_tasks/x.csv", "id list 1_raw/y.csv", "filename", ...)
    facts_from: dict[str, str] = field(default_factory=dict)
    #: "new" (to create / created), "imported" (already there), "conflict" (another dir is there), "error"
    status: str = "new"
    #: why it is skipped or what is unusual (already imported by ..., parent in the wrong stage, ...)
    note: str | None = None
    #: the gen id children should point at when this attempt is their parent (an importer's dir)
    existing_gen_id: str | None = None
    order_key: tuple = ()

    @property
    def parsed_version(self) -> int | None:
        rel = self.files.get(PARSED_FILE)
        parsed = parse_name(rel.rsplit("/", 1)[-1]) if rel else None
        return parsed[1] if parsed else None

    def to_dict(self) -> dict:
        return {
            "stage": self.stage,
            "gen_id": self.gen_id,
            "task_id": self.task_id,
            "kind": self.kind,
            "version": self.version,
            "mode": self.mode,
            "files": dict(self.files),
            "parent_gen_id": self.parent_gen_id,
            "fields": dict(self.task_fields),
            "facts_from": dict(self.facts_from),
            "status": self.status,
            "note": self.note,
        }


def backfill_gen_id(stage: str, task_id: str, kind: str, version: int) -> str:
    """The gen id the backfill gives to ``version`` of ``task_id`` from a ``kind`` source.

    Independent of the run id, so every run derives the same ids (idempotence).
    """
    return new_gen_id(logical_key_id(stage, task_id), GEN_ID_NAMESPACE, f"{kind}-v{version}")


@dataclass
class Plan:
    planned: list[PlannedGeneration]
    unresolved_parents: list[tuple[str, str, str]]  # (stage, task_id, reason)
    errors: list[tuple[str, str]]  # (path, message)
    ignored: list[tuple[str, str]]  # (path, why it is not imported)
    warnings: list[tuple[str, str]]  # (path, reason): task tables / id lists that could not be used


# --- reading the legacy folders ---------------------------------------------------------------


def _scan(data_root: Path, rel_dir: str, plan: Plan) -> dict[str, dict[int, Source]]:
    """task_id -> version -> source file, for one legacy folder (missing folder: empty)."""
    found: dict[str, dict[int, Source]] = {}
    try:
        entries = sorted(os.scandir(data_root / rel_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return found
    except OSError as exc:
        plan.errors.append((rel_dir, f"cannot list folder: {exc.strerror or exc}"))
        return found
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}"
        if entry.name.startswith("."):
            continue
        parsed = parse_name(entry.name)
        if parsed is None:
            plan.ignored.append((rel, "not a <task_id>[_vN].txt file"))
            continue
        try:
            safe_stat(entry.path)  # a FIFO, socket, device or a symlink to one is never opened
        except OSError as exc:
            plan.ignored.append((rel, f"{exc.strerror or exc}"))
            continue
        task_id, version = parsed
        try:
            mtime = entry.stat().st_mtime_ns
        except OSError as exc:
            plan.errors.append((rel, f"cannot stat: {exc.strerror or exc}"))
            continue
        src = Source(rel, task_id, version, mtime)
        versions = found.setdefault(task_id, {})
        other = versions.get(version)
        if other is not None:  # x.txt and x_v0.txt: keep the unversioned one
            keep, drop = (other, src) if other.rel.endswith(f"{task_id}{TEXT_SUFFIX}") else (src, other)
            versions[version] = keep
            plan.ignored.append((drop.rel, f"same version {version} of {task_id!r} as {keep.rel}; not imported"))
        else:
            versions[version] = src
    return found


def _pair(raw: dict[int, Source], parsed: dict[int, Source]) -> list[tuple[Source | None, Source | None]]:
    """The attempts of one task, oldest first: (raw, parsed) paired by time (see module doc)."""
    events = [(s.mtime_ns, 0, s.version, s) for s in raw.values()] + [
        (s.mtime_ns, 1, s.version, s) for s in parsed.values()
    ]
    events.sort(key=lambda e: e[:3])
    attempts: list[tuple[Source | None, Source | None]] = []
    pending: Source | None = None
    for _, is_parsed, _, src in events:
        if not is_parsed:
            if pending is not None:
                attempts.append((pending, None))
            pending = src
        else:
            attempts.append((pending, src))
            pending = None
    if pending is not None:
        attempts.append((pending, None))
    return attempts


def _prompt_for(prompts: dict[int, Source] | None, when_ns: int) -> Source | None:
    """The newest prompt version written no later than ``when_ns`` (else the newest one)."""
    if not prompts:
        return None
    before = [p for p in prompts.values() if p.mtime_ns <= when_ns]
    pool = before or list(prompts.values())
    return max(pool, key=lambda p: (p.mtime_ns, p.version))


def _says_no_call(data_root: Path, rel: str | None) -> bool:
    if not rel:
        return False
    head = read_text_prefix(data_root / rel, max_chars=64)  # a FIFO or device is never opened
    return head is not None and head.lstrip().startswith(_NO_CALL_PROMPT_PREFIXES)


# --- the importer of 2025-09-24 ---------------------------------------------------------------


def _imported_by_importer(data_root: Path) -> dict[tuple[str, str, str], str]:
    """(stage, legacy folder name, file name) -> gen id, for gens/ dirs the 09-24 importer wrote."""
    found: dict[tuple[str, str, str], str] = {}
    for stage in IMPORTER_STAGES:
        try:
            entries = list(os.scandir(data_root / GENS_DIR / stage))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                data, _ = read_file(os.path.join(entry.path, METADATA_FILE))
                if b"origin_filename" not in data and b"source_file" not in data:
                    continue
                md = json.loads(data)
            except (OSError, ValueError):
                continue
            if not isinstance(md, dict) or "backfill" in md:
                continue
            legacy = md.get("legacy_fields")
            origin = legacy.get("origin_filename") if isinstance(legacy, dict) else None
            source = md.get("source_file") if isinstance(md.get("source_file"), str) else None
            folder = md.get("created_from") if isinstance(md.get("created_from"), str) else None
            if source:
                parts = source.replace("\\", "/").rsplit("/", 2)
                if len(parts) >= 2:
                    found[(stage, parts[-2], parts[-1])] = entry.name
            if isinstance(origin, str) and origin and folder:
                found[(stage, folder, origin)] = entry.name
    return found


# --- the plan --------------------------------------------------------------------------------


class _Planner:
    def __init__(self, data_root: Path):
        self.root = data_root
        self.plan = Plan([], [], [], [], [])
        self.book = TaskBook(data_root)
        self.plan.warnings.extend(self.book.problems)
        self.facts: dict[tuple[str, str], TaskFacts] = {}
        self.by_stage: dict[str, list[PlannedGeneration]] = {s: [] for s in STAGES}
        self.single_phase_tasks: set[str] = set()

    # facts of one task

    def task_facts(self, stage: str, task_id: str, kind: str, known: dict[str, set[str]]) -> TaskFacts:
        key = (stage, task_id)
        if key in self.facts:
            return self.facts[key]
        f = TaskFacts()
        table_kinds = {"draft": ("draft", "links", "generation"), "essay": ("essay",), "evaluation": ("evaluation",)}[
            stage
        ]
        if kind == KIND_SINGLE:
            table_kinds = ("generation",)
        for tkind in table_kinds:
            row = self.book.table_row(tkind, task_id)
            if row is not None:
                values, rel = row
                for name, value in values.items():
                    f.set(name, value, f"task table {rel}")
                break
        if stage == "draft":
            self.book.split_draft_like(kind if kind in ("generation", "links") else "draft", task_id, f)
        elif stage == "essay":
            if kind == KIND_SINGLE_ESSAY:
                f.set("template_id", SINGLE_PHASE_ESSAY_TEMPLATE, "pipeline backfill of single-phase files")
                f.set("parent_task_id", task_id, "pipeline backfill of single-phase files")
            self.book.split_essay(task_id, f)
            if f.parent_task_id is None and (p := _longest_prefix(task_id, known["draft"])):
                f.set("parent_task_id", p, SRC_FILENAME)
            if f.parent_task_id and f.template_id is None and task_id.startswith(f.parent_task_id + "_"):
                f.set("template_id", task_id[len(f.parent_task_id) + 1 :], SRC_FILENAME)
            if f.parent_task_id and (f.model_id is None or f.combo_id is None):
                parent = self.facts.get(("draft", f.parent_task_id))
                if parent is not None:
                    f.set("model_id", parent.model_id, f"parent task {f.parent_task_id}")
                    f.set("combo_id", parent.combo_id, f"parent task {f.parent_task_id}")
        else:
            self.book.split_evaluation(task_id, f)
            parts = task_id.split("__")
            if len(parts) == 3 and all(parts):
                f.set("parent_task_id", parts[0], SRC_FILENAME)
                f.set("template_id", parts[1], SRC_FILENAME)
                f.set("model_id", parts[2], SRC_FILENAME)
            if f.parent_task_id is None and (p := _longest_prefix(task_id, known["essay"] | known["draft"])):
                f.set("parent_task_id", p, SRC_FILENAME)
        self.facts[key] = f
        return f

    # attempts

    def add(
        self, stage: str, task_id: str, kind: str, version: int, files: dict[str, str], order: tuple, mode: str = "llm"
    ) -> PlannedGeneration:
        p = PlannedGeneration(
            stage=stage,
            gen_id=backfill_gen_id(stage, task_id, kind, version),
            task_id=task_id,
            kind=kind,
            version=version,
            files=files,
            logical_key_id=logical_key_id(stage, task_id),
            mode=mode,
            order_key=order,
        )
        self.by_stage[stage].append(p)
        return p

    def build(self) -> Plan:
        root, plan = self.root, self.plan
        folders = {s: {k: _scan(root, rel, plan) for k, rel in LEGACY_DIRS[s].items()} for s in STAGES}
        links = _scan(root, LEGACY_LINKS_DIR, plan)
        links_prompts = _scan(root, LEGACY_LINKS_PROMPTS_DIR, plan)
        single = {k: _scan(root, rel, plan) for k, rel in LEGACY_SINGLE_PHASE_DIRS.items()}

        known = {
            "draft": set(folders["draft"]["raw"])
            | set(folders["draft"]["parsed"])
            | set(links)
            | set(single["raw"])
            | self.book.known_task_ids("draft")
            | self.book.known_task_ids("links")
            | self.book.known_task_ids("generation"),
            "essay": set(folders["essay"]["raw"])
            | set(folders["essay"]["parsed"])
            | set(single["raw"])
            | self.book.known_task_ids("essay"),
        }

        # single-phase: a draft and a copy essay per generation response
        for task_id in sorted(single["raw"]):
            src = single["raw"][task_id][max(single["raw"][task_id])]
            files = {RAW_FILE: src.rel, PARSED_FILE: src.rel}
            prompt = _prompt_for(single["prompts"].get(task_id), src.mtime_ns)
            if prompt:
                files = {PROMPT_FILE: prompt.rel, **files}
            self.add("draft", task_id, KIND_SINGLE, src.version, files, (src.mtime_ns, 0))
            parsed = single["parsed"].get(task_id)
            essay_src = parsed[max(parsed)] if parsed else src
            self.add(
                "essay",
                task_id,
                KIND_SINGLE_ESSAY,
                essay_src.version,
                {PARSED_FILE: essay_src.rel},
                (essay_src.mtime_ns, 0),
                mode="copy",
            )
            self.single_phase_tasks.add(task_id)
        for task_id in sorted(set(single["parsed"]) - set(single["raw"])):
            for s in single["parsed"][task_id].values():
                plan.ignored.append(
                    (s.rel, "parsed single-phase text without its generation_responses file: no call to attach it to")
                )
        for task_id in sorted(set(single["prompts"]) - set(single["raw"])):
            for s in single["prompts"][task_id].values():
                plan.ignored.append((s.rel, "prompt without any response: no generation to attach it to"))

        # links_responses: the two-phase drafts of 2025-08 (the model's output, unparsed)
        for task_id in sorted(links):
            for src in sorted(links[task_id].values(), key=lambda s: (s.mtime_ns, s.version)):
                files = {RAW_FILE: src.rel, PARSED_FILE: src.rel}
                prompt = _prompt_for(links_prompts.get(task_id), src.mtime_ns)
                if prompt:
                    files = {PROMPT_FILE: prompt.rel, **files}
                self.add("draft", task_id, KIND_LINKS, src.version, files, (src.mtime_ns, 0))
        for task_id in sorted(set(links_prompts) - set(links)):
            for s in links_prompts[task_id].values():
                plan.ignored.append((s.rel, "prompt without any response: no generation to attach it to"))

        for stage in STAGES:
            raws, parseds, prompts = folders[stage]["raw"], folders[stage]["parsed"], folders[stage]["prompts"]
            for task_id in sorted(set(raws) | set(parseds)):
                for raw_src, parsed_src in _pair(raws.get(task_id, {}), parseds.get(task_id, {})):
                    anchor = raw_src or parsed_src
                    assert anchor is not None
                    when = max(s.mtime_ns for s in (raw_src, parsed_src) if s)
                    files = {}
                    prompt = _prompt_for(prompts.get(task_id), when)
                    if prompt:
                        files[PROMPT_FILE] = prompt.rel
                    if raw_src:
                        files[RAW_FILE] = raw_src.rel
                    if parsed_src:
                        files[PARSED_FILE] = parsed_src.rel
                    kind = KIND_RAW if raw_src else KIND_PARSED
                    self.add(stage, task_id, kind, anchor.version, files, (when, anchor.version))
            for task_id in sorted(
                set(prompts) - set(raws) - set(parseds) - (set(links_prompts) if stage == "draft" else set())
            ):
                if stage == "draft" and task_id in links:
                    continue
                for src in prompts[task_id].values():
                    plan.ignored.append((src.rel, "prompt without any response: no generation to attach it to"))

        # facts, modes, verbatim raw text, in lineage order (a child's facts may inherit its parent's)
        for stage in STAGES:
            for p in self.by_stage[stage]:
                f = self.task_facts(stage, p.task_id, p.kind, known)
                p.parent_task_id = f.parent_task_id if stage != "draft" else None
                fields = {"template_id": f.template_id, "llm_model_id": f.model_id}
                if stage == "draft":
                    fields["combo_id"] = f.combo_id
                p.task_fields = {k: v for k, v in fields.items() if v}
                rename = {"model_id": "llm_model_id"}
                p.facts_from = {
                    rename.get(k, k): v
                    for k, v in f.sources.items()
                    if rename.get(k, k) in p.task_fields or k == "parent_task_id"
                }
                if stage == "essay" and p.kind != KIND_SINGLE_ESSAY:
                    if self.book.essay_makes_no_call(f.template_id):
                        p.mode, p.facts_from["mode"] = (
                            "copy",
                            f"generator of {f.template_id} in {self.book.template_sources.get('essay', 'essay_templates.csv').removeprefix('id list ')}",
                        )
                    elif _says_no_call(root, p.files.get(PROMPT_FILE)):
                        p.mode, p.facts_from["mode"] = "copy", f"prompt {p.files[PROMPT_FILE]}"
                elif p.kind == KIND_SINGLE_ESSAY:
                    p.facts_from["mode"] = "pipeline backfill of single-phase files"
                if p.kind == KIND_PARSED and p.mode == "llm" and stage in ("essay", "evaluation"):
                    p.files[RAW_FILE] = p.files[PARSED_FILE]  # the stored response is the model's output
                    p.facts_from["raw.txt"] = "verbatim response (no raw side-write)"

        self._mark_importer_dirs()
        self._resolve_parents()
        for stage in STAGES:
            self.by_stage[stage].sort(key=lambda p: (p.task_id, p.order_key))
            plan.planned.extend(self.by_stage[stage])
        return plan

    def _mark_importer_dirs(self) -> None:
        index = _imported_by_importer(self.root)
        if not index:
            return
        for stage in STAGES:
            for p in self.by_stage[stage]:
                for rel in {r for r in (p.files.get(PARSED_FILE), p.files.get(RAW_FILE)) if r is not None}:
                    folder, _, name = rel.rpartition("/")
                    gen_id = index.get((stage, folder.rsplit("/", 1)[-1], name))
                    if gen_id:
                        p.status = "imported"
                        p.existing_gen_id = gen_id
                        p.note = (
                            f"already imported by the 2025-09-24 importer as {GENS_DIR}/{stage}/{gen_id} (from {rel})"
                        )
                        break

    def _latest(self, stage: str) -> dict[str, PlannedGeneration]:
        """task id -> its latest attempt: the one holding the newest parsed text, else the newest."""
        best: dict[str, PlannedGeneration] = {}
        for p in self.by_stage[stage]:
            rank = (PARSED_FILE in p.files, p.order_key)
            cur = best.get(p.task_id)
            if cur is None or rank >= (PARSED_FILE in cur.files, cur.order_key):
                best[p.task_id] = p
        return best

    def _resolve_parents(self) -> None:
        latest = {s: self._latest(s) for s in STAGES}
        seen: set[tuple[str, str]] = set()
        for stage in ("essay", "evaluation"):
            for p in self.by_stage[stage]:
                parent_task = p.parent_task_id
                target = None
                if parent_task:
                    if stage == "essay":
                        target = latest["draft"].get(parent_task)
                    else:
                        target = latest["essay"].get(parent_task) or latest["draft"].get(parent_task)
                        if target is not None and target.stage == "draft":
                            p.note = (
                                p.note + "; " if p.note else ""
                            ) + f"its document {parent_task!r} is a draft: parent kept in the draft stage"
                if target is None:
                    if (stage, p.task_id) not in seen:
                        seen.add((stage, p.task_id))
                        why = (
                            f"parent task {parent_task!r} has no legacy file"
                            if parent_task
                            else "no parent task id found in the task tables, id lists or file name"
                        )
                        self.plan.unresolved_parents.append((stage, p.task_id, why + "; parent_gen_id left out"))
                    continue
                p.parent_gen_id = target.existing_gen_id or target.gen_id


def _longest_prefix(task_id: str, candidates: Iterable[str] | set[str]) -> str | None:
    """The longest candidate that is ``task_id`` up to a ``_`` (or ``__``)."""
    cand = candidates if isinstance(candidates, set) else set(candidates)
    for i in range(len(task_id) - 2, 0, -1):
        if task_id[i] == "_":
            prefix = task_id[:i].rstrip("_")
            if prefix in cand and prefix != task_id:
                return prefix
    return None


def build_plan(data_root: Path) -> Plan:
    """Every generation the legacy store under ``data_root`` yields, all stages, parents first."""
    return _Planner(data_root).build()
