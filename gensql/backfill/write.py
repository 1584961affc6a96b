"""Backfill: migrate the legacy flat folders into the gens store, one directory per attempt.

Before the gens store, the pipeline wrote one text file per task and stage into flat folders
(:data:`~gensql.layout.LEGACY_DIRS`, :data:`~gensql.layout.LEGACY_LINKS_DIR`), re-runs as
``<task_id>_vN.txt`` (also spelled ``<task_id>-vN.txt``). :func:`backfill` turns those files into
``<data-root>/gens/<stage>/<gen_id>/`` directories, as seed 000's migration plan describes.

Rules
-----
Versions
    A file name ``<task_id>_vN.txt`` or ``<task_id>-vN.txt`` is version ``N`` of ``<task_id>`` (only the
    last ``_vN``/``-vN`` suffix is a version; the rest is the task id). An unversioned
    ``<task_id>.txt`` is **version 0**: it sorts before ``v1``. Two spellings of the same version of the
    same task (``x.txt``/``x_v0.txt``, ``x_v2.txt``/``x-v2.txt``) cannot both be imported: the
    unversioned/``_vN`` one is kept and the other is reported in :attr:`BackfillSummary.errors`.
Attempts
    One attempt per raw version (``*_responses_raw/``). The parsed text (``*_responses/``; the highest
    version, else the unversioned file) is attached to the **latest** raw attempt only, whatever its
    version number. A task with parsed text but no raw file gets a single parsed-only attempt. Every
    file in ``links_responses/`` becomes a parsed-only draft attempt (highest version per task id).
    The prompt (``*_prompts/``) of the attempt's own version is copied as ``prompt.txt`` when it
    exists, else the task's preferred prompt (highest version, else unversioned).
Ids
    ``logical_key_id(stage, task_id)``; ``gen_id = new_gen_id(logical_key_id, "backfill",
    "<kind>-v<N>")`` with kind ``raw``, ``parsed`` (parsed-only) or ``links``. The id depends only on
    the legacy source, never on the run id, so re-running the backfill (any day, any ``run_id``)
    recreates nothing: a target directory whose ``metadata.json`` records the same stage, task id,
    kind and version is "skipped as already imported"; any other existing directory is reported as
    an error and left untouched.
Metadata
    ``stage``, ``gen_id``, ``task_id``, ``mode`` (always ``"llm"``: the texts came from model calls
    even when the raw output was not kept; parsed-only attempts say so in ``backfill.parsed_only``),
    ``run_id``, ``replicate`` (1), ``template_id``/``llm_model_id`` (and ``combo_id`` on drafts) only
    when the task id is made of ``__``-joined parts in the known shapes (never split on ``_``),
    ``parent_gen_id``/``parent_task_id`` when resolved, and a ``backfill`` provenance object.
Lineage
    An essay's parent is the draft, an evaluation's parent the essay, whose task id is the longest
    prefix of the child's task id followed by ``_`` or ``__``; ``parent_gen_id`` is that task's
    latest attempt (its latest raw attempt, else its parsed-only attempt, else its links attempt).
    Parents are resolved against the whole legacy store even when ``stage`` selects one stage.
    Unresolved parents are reported and the key is left out.
Safety
    Legacy files are only read (or hard-linked with ``link=True``; a linked file is never opened for
    writing). Each generation is built in ``gens/<stage>/.tmp-<gen_id>-<pid>`` and renamed into place,
    so a killed run leaves no half-written generation; the next run removes temp dirs whose process
    is gone. Copies keep the source's modification time (``shutil.copy2``), which is the only
    generation-time information the legacy files carry.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

from .errors import GensqlError, LegacyStoreNotFoundError  # noqa: F401 (re-exported)
from .ids import logical_key_id, new_gen_id
from .layout import (
    LEGACY_DIRS,
    LEGACY_LINKS_DIR,
    METADATA_FILE,
    PARENT_STAGE,
    PARSED_FILE,
    PROMPT_FILE,
    RAW_FILE,
    STAGES,
    StoreLayout,
    check_stage,
    resolve,
)

#: Stands in for the run id when deriving backfill gen ids, so ids do not depend on the run.
GEN_ID_NAMESPACE = "backfill"
#: Prefix of the temporary sibling a generation is built in (hidden from the refresh scanner).
TMP_PREFIX = ".tmp-"

KIND_RAW = "raw"  # one attempt per raw version
KIND_PARSED = "parsed"  # parsed text without any raw file
KIND_LINKS = "links"  # links_responses/: older drafts, parsed only

_TEXT_SUFFIX = ".txt"
_VERSION_RE = re.compile(r"^(?P<task>.+)(?P<sep>[_-])v(?P<n>\d+)$")
_SPELLING_RANK = {"": 0, "_": 1, "-": 2}  # preferred spelling first when a version is duplicated



@dataclass
class PlannedGeneration:
    """One generation directory the backfill creates (or found already imported)."""

    stage: str
    gen_id: str
    task_id: str
    kind: str  # KIND_RAW | KIND_PARSED | KIND_LINKS
    version: int
    #: target file name in the generation dir -> source path relative to the data root (posix)
    files: dict[str, str]
    logical_key_id: str
    parent_task_id: str | None = None
    parent_gen_id: str | None = None
    #: template_id / llm_model_id / combo_id parsed from a ``__``-joined task id
    task_fields: dict[str, str] = field(default_factory=dict)
    #: "new" (to create / created), "imported" (already there), "conflict" (another dir is there)
    status: str = "new"

    def to_dict(self) -> dict:
        return {
            "stage": self.stage,
            "gen_id": self.gen_id,
            "task_id": self.task_id,
            "kind": self.kind,
            "version": self.version,
            "files": dict(self.files),
            "parent_gen_id": self.parent_gen_id,
            "status": self.status,
        }


@dataclass
class BackfillSummary:
    """What a backfill did (or, with ``dry_run``, would do)."""

    run_id: str
    dry_run: bool = False
    created: int = 0  # generation dirs created (dry run: that would be created)
    skipped: int = 0  # already imported by an earlier run
    linked: int = 0  # files hard-linked into created dirs
    copied: int = 0  # files copied into created dirs
    unresolved_parents: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, task_id, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    planned: list[PlannedGeneration] = field(default_factory=list)  # the plan, in execution order
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was not imported)
    stale_removed: int = 0  # temp dirs of killed runs removed

    def to_text(self) -> str:
        verb = "would create" if self.dry_run else "created"
        parts = [f"Backfill {self.run_id}{' (dry run)' if self.dry_run else ''}: {verb} {self.created} generation(s)"]
        if not self.dry_run:
            parts[0] += f" ({self.linked} file(s) hard-linked, {self.copied} copied)"
        parts.append(f"{self.skipped} already imported")
        parts.append(f"{len(self.unresolved_parents)} unresolved parent(s)")
        parts.append(f"{len(self.errors)} error(s)")
        if self.ignored:
            parts.append(f"{len(self.ignored)} legacy file(s) ignored")
        if self.stale_removed:
            parts.append(f"{self.stale_removed} stale temp dir(s) of an interrupted run removed")
        text = ", ".join(parts) + "."
        if self.unresolved_parents:
            stage, task_id, reason = self.unresolved_parents[0]
            text += f" First unresolved parent: {stage} {task_id}: {reason}."
        if self.errors:
            path, message = self.errors[0]
            text += f" First error: {path}: {message}."
        return text


def backfill_gen_id(stage: str, task_id: str, kind: str, version: int) -> str:
    """The gen id the backfill gives to ``version`` of ``task_id`` from a ``kind`` source.

    Independent of the run id, so every run derives the same ids (idempotence).
    """
    return new_gen_id(logical_key_id(stage, task_id), GEN_ID_NAMESPACE, f"{kind}-v{version}")


def default_run_id(today: date | None = None) -> str:
    return f"backfill-{(today or date.today()):%Y%m%d}"


def backfill(
    data_root: str | os.PathLike | None,
    *,
    stage: str = "all",
    run_id: str | None = None,
    link: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    """Migrate the legacy flat folders under ``data_root`` into ``data_root/gens/<stage>/<gen_id>/``.

    ``stage`` is ``"all"`` or one stage; ``run_id`` defaults to ``backfill-YYYYMMDD`` and is recorded
    in metadata only; ``link`` hard-links files when possible (copying otherwise); ``dry_run`` writes
    nothing and returns the plan in :attr:`BackfillSummary.planned`. ``progress(done, total)`` is
    called once before the first generation and after each one. See the module doc for the rules.
    """
    layout = resolve(data_root)
    stages = STAGES if stage == "all" else (check_stage(stage),)
    _require_legacy(layout.data_root, stages)
    summary = BackfillSummary(run_id=run_id or default_run_id(), dry_run=dry_run)

    plan = _build_plan(layout.data_root, summary)
    summary.planned = [p for p in plan if p.stage in stages]
    summary.unresolved_parents = [u for u in summary.unresolved_parents if u[0] in stages]
    summary.ignored = [i for i in summary.ignored if _legacy_stage(i[0]) in stages]
    summary.errors = [e for e in summary.errors if _legacy_stage(e[0]) in stages]

    if not dry_run:
        summary.stale_removed = _remove_stale_tmp(layout)
    total = len(summary.planned)
    if progress:
        progress(0, total)
    for done, planned in enumerate(summary.planned, 1):
        _execute(layout, planned, summary, link=link, dry_run=dry_run)
        if progress:
            progress(done, total)
    return summary


# --- reading the legacy folders ---------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    rel: str  # path relative to the data root, posix
    task_id: str
    version: int
    spelling: str  # "", "_" or "-"


def _legacy_paths(stages: tuple[str, ...]) -> list[str]:
    paths = [rel for s in stages for rel in LEGACY_DIRS[s].values()]
    if "draft" in stages:
        paths.append(LEGACY_LINKS_DIR)
    return paths


def _legacy_stage(rel: str) -> str | None:
    """The stage a legacy path (file or folder, relative to the data root) belongs to."""
    if rel == LEGACY_LINKS_DIR or rel.startswith(LEGACY_LINKS_DIR + "/"):
        return "draft"
    for s, dirs in LEGACY_DIRS.items():
        if any(rel == d or rel.startswith(d + "/") for d in dirs.values()):
            return s
    return None


def _require_legacy(data_root: Path, stages: tuple[str, ...]) -> None:
    paths = _legacy_paths(stages)
    if not any((data_root / rel).is_dir() for rel in paths):
        looked = ", ".join(str(data_root / rel) for rel in paths)
        raise LegacyStoreNotFoundError(
            f"nothing to backfill under {data_root}: none of the legacy folders exists (looked for {looked}). "
            "Pass --data-root pointing at the directory that holds 3_generation/ and 4_evaluation/."
        )


def _parse_name(name: str) -> tuple[str, int, str] | None:
    """``<task_id>[_-]vN.txt`` -> (task_id, N, sep); ``<task_id>.txt`` -> (task_id, 0, "")."""
    if not name.endswith(_TEXT_SUFFIX) or len(name) == len(_TEXT_SUFFIX):
        return None
    stem = name[: -len(_TEXT_SUFFIX)]
    m = _VERSION_RE.match(stem)
    if m:
        return m["task"], int(m["n"]), m["sep"]
    return stem, 0, ""


def _scan(data_root: Path, rel_dir: str, summary: BackfillSummary) -> dict[str, dict[int, _Source]]:
    """task_id -> version -> source file, for one legacy folder (missing folder: empty)."""
    found: dict[str, dict[int, _Source]] = {}
    try:
        entries = sorted(os.scandir(data_root / rel_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return found
    except OSError as exc:
        summary.errors.append((rel_dir, f"cannot list folder: {exc.strerror or exc}"))
        return found
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}"
        if entry.name.startswith("."):
            continue
        parsed = _parse_name(entry.name)
        if parsed is None or not entry.is_file():
            summary.ignored.append((rel, "not a <task_id>[_vN].txt file"))
            continue
        task_id, version, sep = parsed
        src = _Source(rel, task_id, version, sep)
        versions = found.setdefault(task_id, {})
        other = versions.get(version)
        if other is not None:
            keep, drop = sorted((other, src), key=lambda s: _SPELLING_RANK[s.spelling])
            versions[version] = keep
            summary.errors.append((drop.rel, f"duplicate of version {version} of {task_id!r} ({keep.rel} is used); not imported"))
        else:
            versions[version] = src
    return found


def _preferred(versions: dict[int, _Source]) -> _Source:
    return versions[max(versions)]


# --- the plan --------------------------------------------------------------------------------


def _build_plan(data_root: Path, summary: BackfillSummary) -> list[PlannedGeneration]:
    """Every generation the legacy store yields, all stages, in lineage order (parents first)."""
    plan: list[PlannedGeneration] = []
    latest: dict[str, dict[str, str]] = {s: {} for s in STAGES}  # stage -> task_id -> latest gen_id

    for stage in STAGES:
        dirs = LEGACY_DIRS[stage]
        raw = _scan(data_root, dirs["raw"], summary)
        parsed = _scan(data_root, dirs["parsed"], summary)
        prompts = _scan(data_root, dirs["prompts"], summary)
        links = _scan(data_root, LEGACY_LINKS_DIR, summary) if stage == "draft" else {}

        stage_plan: list[PlannedGeneration] = []
        for task_id in sorted(set(raw) | set(parsed)):
            chosen = _preferred(parsed[task_id]) if task_id in parsed else None
            if task_id in raw:
                versions = sorted(raw[task_id])
                for n in versions:
                    files = {RAW_FILE: raw[task_id][n].rel}
                    if chosen is not None and n == versions[-1]:
                        files[PARSED_FILE] = chosen.rel
                    stage_plan.append(_planned(stage, task_id, KIND_RAW, n, files, prompts))
            else:
                assert chosen is not None
                stage_plan.append(_planned(stage, task_id, KIND_PARSED, chosen.version, {PARSED_FILE: chosen.rel}, prompts))
        for task_id in sorted(links):
            chosen = _preferred(links[task_id])
            stage_plan.append(_planned(stage, task_id, KIND_LINKS, chosen.version, {PARSED_FILE: chosen.rel}, prompts))

        for task_id in sorted(set(prompts) - set(raw) - set(parsed) - set(links)):
            for src in prompts[task_id].values():
                summary.ignored.append((src.rel, "prompt without any response: no generation to attach it to"))

        # Latest attempt per task: the plan lists a task's raw attempts in version order (or its one
        # parsed-only attempt) before the links files, the oldest era, which count only when alone.
        for p in stage_plan:
            if p.kind != KIND_LINKS or p.task_id not in latest[stage]:
                latest[stage][p.task_id] = p.gen_id
        plan.extend(stage_plan)

    lineage: dict[tuple[str, str], _Lineage] = {}
    for p in plan:
        key = (p.stage, p.task_id)
        if key not in lineage:
            lineage[key] = _lineage(p.stage, p.task_id, latest)
            if lineage[key].unresolved:
                summary.unresolved_parents.append((p.stage, p.task_id, lineage[key].unresolved))
        p.parent_task_id, p.parent_gen_id, p.task_fields = lineage[key][:3]
    return plan


def _planned(stage: str, task_id: str, kind: str, version: int, files: dict[str, str], prompts: dict[str, dict[int, _Source]]) -> PlannedGeneration:
    versions = prompts.get(task_id)
    if versions:
        prompt = versions.get(version) or _preferred(versions)
        files = {PROMPT_FILE: prompt.rel, **files}
    return PlannedGeneration(
        stage=stage,
        gen_id=backfill_gen_id(stage, task_id, kind, version),
        task_id=task_id,
        kind=kind,
        version=version,
        files=files,
        logical_key_id=logical_key_id(stage, task_id),
    )


def _longest_prefix(task_id: str, candidates: dict[str, str]) -> tuple[str, str] | None:
    """(parent task id, separator) for the longest ``candidates`` key that prefixes ``task_id``."""
    for i in range(len(task_id) - 2, 0, -1):
        if task_id[i] != "_":
            continue
        prefix = task_id[:i]
        if prefix in candidates:
            return prefix, ("__" if task_id.startswith("__", i) else "_")
    return None


def _dunder_parts(text: str, count: int) -> list[str] | None:
    """``text`` split on ``__`` into exactly ``count`` clean parts, else None (no guessing on ``_``)."""
    parts = text.split("__")
    if len(parts) != count or any(not p or p.startswith("_") or p.endswith("_") for p in parts):
        return None
    return parts


class _Lineage(NamedTuple):
    parent_task_id: str | None
    parent_gen_id: str | None
    task_fields: dict[str, str]
    unresolved: str | None  # why the parent could not be resolved


def _lineage(stage: str, task_id: str, latest: dict[str, dict[str, str]]) -> _Lineage:
    """Parent and the ids a ``__``-joined task id spells out, for one task."""
    if stage == "draft":
        parts = _dunder_parts(task_id, 3)  # combo__template__model
        fields = {"combo_id": parts[0], "template_id": parts[1], "llm_model_id": parts[2]} if parts else {}
        return _Lineage(None, None, fields, None)
    parent_stage = PARENT_STAGE[stage]
    assert parent_stage is not None
    match = _longest_prefix(task_id, latest[parent_stage])
    if match is None:
        fields = {}
        if stage == "essay" and (parts := _dunder_parts(task_id, 3)):  # one-phase essay: combo__template__model
            fields = {"template_id": parts[1], "llm_model_id": parts[2]}
        reason = f"no {parent_stage} task id followed by '_' is a prefix of it; parent_gen_id left out"
        if stage == "evaluation" and (hint := _longest_prefix(task_id, latest["draft"])):
            reason += f" (it starts with draft task {hint[0]!r}: an evaluation of a draft?)"
        return _Lineage(None, None, fields, reason)
    parent_task, sep = match
    fields = {}
    if sep == "__":
        suffix = task_id[len(parent_task) + 2 :]
        if stage == "essay" and (parts := _dunder_parts(suffix, 1)):  # draft__template
            fields = {"template_id": parts[0]}
        elif stage == "evaluation" and (parts := _dunder_parts(suffix, 2)):  # essay__template__model
            fields = {"template_id": parts[0], "llm_model_id": parts[1]}
    return _Lineage(parent_task, latest[parent_stage][parent_task], fields, None)


# --- writing ---------------------------------------------------------------------------------


def _metadata(p: PlannedGeneration, run_id: str) -> dict:
    md: dict = {"stage": p.stage, "gen_id": p.gen_id, "task_id": p.task_id, "mode": "llm", "run_id": run_id, "replicate": 1}
    md.update(p.task_fields)
    if p.parent_gen_id:
        md["parent_gen_id"] = p.parent_gen_id
        md["parent_task_id"] = p.parent_task_id
    md["backfill"] = {
        "run_id": run_id,
        "kind": p.kind,
        "version": p.version,
        "parsed_only": RAW_FILE not in p.files,
        "logical_key_id": p.logical_key_id,
        "source_files": {name.removesuffix(_TEXT_SUFFIX): rel for name, rel in p.files.items()},
    }
    return md


def _already_imported(target: Path, p: PlannedGeneration) -> bool:
    try:
        md = json.loads((target / METADATA_FILE).read_text(encoding="utf-8"))
        provenance = md["backfill"]
        return (
            md.get("stage") == p.stage
            and md.get("task_id") == p.task_id
            and provenance.get("kind") == p.kind
            and provenance.get("version") == p.version
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _transfer(src: Path, dst: Path, link: bool) -> bool:
    """Place ``src`` at ``dst``: a hard link when asked and possible (True), else a copy (False)."""
    if link:
        try:
            os.link(src, dst)
            return True
        except OSError:  # cross-device, permissions, link count, unsupported: copy instead
            pass
    shutil.copy2(src, dst)
    return False


def _execute(layout: StoreLayout, p: PlannedGeneration, summary: BackfillSummary, *, link: bool, dry_run: bool) -> None:
    target = layout.gen_dir(p.stage, p.gen_id)
    rel_target = target.relative_to(layout.data_root).as_posix()
    if os.path.lexists(target):
        if _already_imported(target, p):
            p.status = "imported"
            summary.skipped += 1
        else:
            p.status = "conflict"
            summary.errors.append((rel_target, f"exists but was not imported from {p.stage} {p.task_id!r} {p.kind} v{p.version}; left untouched"))
        return
    if dry_run:
        summary.created += 1
        return

    stage_dir = target.parent
    tmp = stage_dir / f"{TMP_PREFIX}{p.gen_id}-{os.getpid()}"
    linked = copied = 0
    try:
        stage_dir.mkdir(parents=True, exist_ok=True)
        os.mkdir(tmp)
        for name, rel in p.files.items():
            if _transfer(layout.data_root / rel, tmp / name, link):
                linked += 1
            else:
                copied += 1
        with open(tmp / METADATA_FILE, "x", encoding="utf-8") as fh:
            fh.write(json.dumps(_metadata(p, summary.run_id), indent=2, ensure_ascii=False) + "\n")
        os.rename(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.lexists(target) and _already_imported(target, p):  # a concurrent run won the race
            p.status = "imported"
            summary.skipped += 1
        else:
            p.status = "error"
            where = exc.filename if exc.filename else rel_target
            summary.errors.append((str(where), f"{exc.strerror or exc}; {rel_target} not created"))
        return
    summary.created += 1
    summary.linked += linked
    summary.copied += copied


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_tmp(layout: StoreLayout) -> int:
    """Remove ``.tmp-<gen_id>-<pid>`` dirs left by killed runs (the owner process is gone)."""
    removed = 0
    for stage in STAGES:
        try:
            entries = list(os.scandir(layout.stage_dir(stage)))
        except OSError:
            continue
        for entry in entries:
            if not entry.name.startswith(TMP_PREFIX):
                continue
            pid_text = entry.name.rsplit("-", 1)[-1]
            if pid_text.isdigit() and int(pid_text) != os.getpid() and _pid_alive(int(pid_text)):
                continue  # a backfill running right now owns it
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed
