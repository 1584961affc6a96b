"""Carrying out a backfill plan: one generation directory per attempt, written atomically.

Each generation is built in ``gens/<stage>/.tmp-<gen_id>-<pid>`` and renamed into place, so a killed
run leaves no half-written generation; the next run removes temp dirs whose process is gone. Legacy
files are only read (or hard-linked with ``link=True``; a linked file is never opened for writing).
Copies keep the source's modification time (``shutil.copy2``), the only generation-time information
the legacy files carry. A target directory whose ``metadata.json`` records the same stage, task id,
kind and version is "already imported"; any other existing directory is an error and left untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LegacyStoreNotFoundError
from ..fsutil import link_or_copy
from ..layout import (
    LEGACY_DIRS,
    LEGACY_LINKS_DIR,
    LEGACY_LINKS_PROMPTS_DIR,
    LEGACY_SINGLE_PHASE_DIRS,
    METADATA_FILE,
    RAW_FILE,
    STAGES,
    WRITER_TMP_PREFIX,
    StoreLayout,
    check_stage,
    resolve,
)
from ..safeio import safe_stat
from ..workers import pid_alive
from .names import TEXT_SUFFIX
from .plan import PlannedGeneration, build_plan

if TYPE_CHECKING:  # for the annotation only: backfill needs gensql.write only when it exports
    from ..write.export_sqlite import SqliteExport

#: Prefix of the temporary sibling a generation is built in (hidden from the refresh scanner).
TMP_PREFIX = WRITER_TMP_PREFIX


@dataclass
class BackfillSummary:
    """What a backfill did (or, with ``dry_run``, would do)."""

    run_id: str
    dry_run: bool = False
    created: int = 0  # generation dirs created (dry run: that would be created)
    skipped: int = 0  # already imported (by an earlier backfill or by the pipeline's 09-24 importer)
    linked: int = 0  # files hard-linked into created dirs
    copied: int = 0  # files copied into created dirs
    unresolved_parents: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, task_id, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    planned: list[PlannedGeneration] = field(default_factory=list)  # the plan, in execution order
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was not imported)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, why a task table / id list was not used)
    stale_removed: int = 0  # temp dirs of killed runs removed
    export: SqliteExport | None = None  # written after the backfill (``db=``), else None

    def to_text(self) -> str:
        verb = "would create" if self.dry_run else "created"
        parts = [f"Backfill {self.run_id}{' (dry run)' if self.dry_run else ''}: {verb} {self.created} generation(s)"]
        if not self.dry_run:
            parts[0] += f" ({self.linked} file(s) hard-linked, {self.copied} copied)"
        parts.append(f"{self.skipped} already imported")
        parts.append(f"{len(self.unresolved_parents)} unresolved parent(s)")
        parts.append(f"{len(self.errors)} error(s)")
        if self.ignored:
            parts.append(f"{len(self.ignored)} legacy file(s) not imported")
        if self.warnings:
            parts.append(f"{len(self.warnings)} task table(s) / id list(s) not used")
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

    def plan_lines(self) -> list[str]:
        """The plan as tab-separated lines: one per attempt, then one per legacy file not imported.

        Attempt: stage, gen_id, task_id, ``<kind>-v<N>``, mode, status, files (``name=source``, comma
        separated), facts (``field=value [source]``, ``; `` separated), parent_gen_id (or ``-``), note.
        Not imported: ``not-imported``, path, reason.
        """
        lines = []
        for p in self.planned:
            files = ",".join(f"{name}={rel}" for name, rel in p.files.items())
            facts = [f"{k}={v} [{p.facts_from.get(k, '?')}]" for k, v in p.task_fields.items()]
            if p.parent_task_id:
                facts.append(f"parent_task_id={p.parent_task_id} [{p.facts_from.get('parent_task_id', '?')}]")
            for k in ("mode", "raw.txt"):
                if k in p.facts_from:
                    facts.append(f"{k} [{p.facts_from[k]}]")
            lines.append(
                "\t".join(
                    (
                        p.stage,
                        p.gen_id,
                        p.task_id,
                        f"{p.kind}-v{p.version}",
                        p.mode,
                        p.status,
                        files,
                        "; ".join(facts) or "-",
                        p.parent_gen_id or "-",
                        p.note or "-",
                    )
                )
            )
        lines.extend(f"not-imported\t{path}\t{reason}" for path, reason in self.ignored)
        return lines


def default_run_id(today: date | None = None) -> str:
    return f"backfill-{(today or date.today()):%Y%m%d}"


def _legacy_paths(stages: tuple[str, ...]) -> list[str]:
    paths = [rel for s in stages for rel in LEGACY_DIRS[s].values()]
    if "draft" in stages or "essay" in stages:
        paths += [LEGACY_LINKS_DIR, LEGACY_SINGLE_PHASE_DIRS["raw"]]
    return paths


def _legacy_stage(rel: str) -> str | None:
    """The stage a legacy path (file or folder, relative to the data root) belongs to (None: any)."""
    for s, dirs in LEGACY_DIRS.items():
        if any(rel == d or rel.startswith(d + "/") for d in dirs.values()):
            return s
    if any(rel == d or rel.startswith(d + "/") for d in (LEGACY_LINKS_DIR, LEGACY_LINKS_PROMPTS_DIR)):
        return "draft"
    return None


def _require_legacy(data_root, stages: tuple[str, ...]) -> None:
    paths = _legacy_paths(stages)
    if not any((data_root / rel).is_dir() for rel in paths):
        looked = ", ".join(str(data_root / rel) for rel in paths)
        raise LegacyStoreNotFoundError(
            f"nothing to backfill under {data_root}: none of the legacy folders exists (looked for {looked}). "
            "Pass --data-root pointing at the directory that holds 3_generation/ and 4_evaluation/."
        )


def backfill(
    data_root,
    *,
    stage: str = "all",
    run_id: str | None = None,
    link: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    db: str | os.PathLike | None = None,
) -> BackfillSummary:
    """Migrate the legacy flat folders under ``data_root`` into ``data_root/gens/<stage>/<gen_id>/``.

    ``stage`` is ``"all"`` or one stage (parents are still resolved against every stage); ``run_id``
    defaults to ``backfill-YYYYMMDD`` and is recorded in metadata only (gen ids do not depend on it);
    ``link`` hard-links files when possible (copying otherwise); ``dry_run`` writes nothing and
    returns the plan in :attr:`BackfillSummary.planned` (:meth:`BackfillSummary.plan_lines` renders it
    with the source of every fact). ``progress(done, total)`` is called once before the first
    generation and after each one. The rules are in :mod:`gensql.backfill` and docs/backfill.md.

    ``db`` (seed 000's ``--db`` option): after the backfill, refresh the index and write seed 000's
    SQLite ``documents`` export there (:func:`gensql.write.export_sqlite`); not with ``dry_run``.
    """
    layout = resolve(data_root)
    stages = STAGES if stage == "all" else (check_stage(stage),)
    _require_legacy(layout.data_root, stages)
    summary = BackfillSummary(run_id=run_id or default_run_id(), dry_run=dry_run)

    plan = build_plan(layout.data_root)
    summary.planned = [p for p in plan.planned if p.stage in stages]
    summary.unresolved_parents = [u for u in plan.unresolved_parents if u[0] in stages]
    summary.ignored = [i for i in plan.ignored if _legacy_stage(i[0]) in stages + (None,)]
    summary.errors = [e for e in plan.errors if _legacy_stage(e[0]) in stages + (None,)]
    summary.warnings = list(plan.warnings)

    if not dry_run:
        summary.stale_removed = _remove_stale_tmp(layout)
    total = len(summary.planned)
    if progress:
        progress(0, total)
    for done, planned in enumerate(summary.planned, 1):
        _execute(layout, planned, summary, link=link, dry_run=dry_run)
        if progress:
            progress(done, total)
    if db is not None and not dry_run:
        from ..refresh.index import refresh
        from ..write.export_sqlite import export_sqlite

        refresh(layout.data_root)
        summary.export = export_sqlite(layout.data_root, db)
    return summary


# --- writing ---------------------------------------------------------------------------------


def _metadata(p: PlannedGeneration, run_id: str) -> dict:
    md: dict = {
        "stage": p.stage,
        "gen_id": p.gen_id,
        "task_id": p.task_id,
        "mode": p.mode,
        "run_id": run_id,
        "replicate": 1,
    }
    md.update(p.task_fields)
    if p.parent_task_id:
        md["parent_task_id"] = p.parent_task_id
    if p.parent_gen_id:
        md["parent_gen_id"] = p.parent_gen_id
    md["backfill"] = {
        "run_id": run_id,
        "kind": p.kind,
        "version": p.version,
        "parsed_only": RAW_FILE not in p.files,
        "logical_key_id": p.logical_key_id,
        "source_files": {name.removesuffix(TEXT_SUFFIX): rel for name, rel in p.files.items()},
        "facts_from": dict(p.facts_from),
    }
    if p.note:
        md["backfill"]["note"] = p.note
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
    """Place ``src`` at ``dst``: a hard link when asked and possible (True), else a copy (False).

    ``src`` must be a regular file: a FIFO, device or a symlink to one (``/dev/zero``) is refused
    before anything is opened, so a backfill never hangs or copies forever."""
    safe_stat(src)
    if link:
        return link_or_copy(src, dst)
    shutil.copy2(src, dst)
    return False


def _execute(layout: StoreLayout, p: PlannedGeneration, summary: BackfillSummary, *, link: bool, dry_run: bool) -> None:
    target = layout.gen_dir(p.stage, p.gen_id)
    rel_target = target.relative_to(layout.data_root).as_posix()
    if p.status == "imported":  # the pipeline's own importer already copied this response into gens/
        summary.skipped += 1
        return
    if os.path.lexists(target):
        if _already_imported(target, p):
            p.status = "imported"
            summary.skipped += 1
        else:
            p.status = "conflict"
            summary.errors.append(
                (
                    rel_target,
                    f"exists but was not imported from {p.stage} {p.task_id!r} {p.kind} v{p.version}; left untouched",
                )
            )
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
            if pid_text.isdigit() and int(pid_text) != os.getpid() and pid_alive(int(pid_text)):
                continue  # a backfill running right now owns it
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed
