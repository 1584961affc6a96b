"""Writing one generation in the current store format, atomically, validated, never overwriting.

The shapes are the current pipeline's (zby/DayDreamingDayDreaming at 2849708:
``cohorts/spec_planner.py`` writes ``metadata.json``, ``unified/stage_raw.py`` writes
``raw_metadata.json``, ``unified/stage_parsed.py`` writes ``parsed_metadata.json``), so what gensql
writes is read back by ``gensql refresh`` exactly like what the pipeline writes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import layout
from ..derive import logical_key
from ..errors import GenerationExistsError, GenerationNotFoundError, WriteError
from ..fsutil import publish_dir, replace_file
from ..ids import new_gen_id

MODES = ("llm", "copy")
#: Keys gensql itself writes into metadata.json; ``extra`` may not shadow them.
_OWN_KEYS = frozenset(
    {
        "stage",
        "gen_id",
        "origin_cohort_id",
        "mode",
        "template_id",
        "combo_id",
        "parent_gen_id",
        "llm_model_id",
        "replicate",
        "task_id",
        "run_id",
    }
)
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "max_tokens", "input_tokens", "output_tokens")
#: How many attempt numbers ``new_attempt=True`` tries before giving up (a guard, not a limit in practice).
_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class GenerationRef:
    """Where a written generation lives, and the logical product it is an attempt of."""

    stage: str
    gen_id: str
    path: Path
    logical_key: str


def write_generation(
    data_root: str | os.PathLike | None,
    stage: str,
    *,
    template_id: str,
    model_id: str | None = None,
    gen_id: str | None = None,
    parent_gen_id: str | None = None,
    combo_id: str | None = None,
    replicate: int = 1,
    mode: str = "llm",
    run_id: str | None = None,
    task_id: str | None = None,
    origin_cohort_id: str | None = None,
    prompt: str | None = None,
    raw: str | None = None,
    parsed: str | None = None,
    usage: Mapping[str, int] | None = None,
    finish_reason: str | None = None,
    truncated: bool | None = None,
    duration_s: float | None = None,
    parser_name: str | None = None,
    parse_success: bool | None = None,
    parse_error: str | None = None,
    extra: Mapping[str, Any] | None = None,
    new_attempt: bool = False,
    check_parent: bool = True,
) -> GenerationRef:
    """Write a new generation ``gens/<stage>/<gen_id>/`` and return where it is.

    ``gen_id`` is the caller's deterministic id, or (when None) a new id per attempt from the logical
    key, ``run_id`` and the attempt number (:func:`gensql.ids.new_gen_id`, prefixed ``d_``/``e_``/``v_``).
    An existing generation is never overwritten: the same id again raises
    :class:`~gensql.errors.GenerationExistsError`, unless ``new_attempt`` asks for the next free attempt
    id (only without an explicit ``gen_id``). An essay's parent must exist under ``gens/draft/`` and an
    evaluation's under ``gens/essay/`` (``check_parent=False`` for imports whose parents come later).
    Files are written only for the texts and facts given: ``raw_metadata.json`` when there is a raw
    text or call facts, ``parsed_metadata.json`` when there is a parsed text or parser facts.
    """
    where = layout.resolve(data_root)
    stage = layout.check_stage(stage)
    facts = _identity(
        stage, template_id, model_id, parent_gen_id, combo_id, replicate, mode, run_id, task_id, origin_cohort_id, extra
    )
    if check_parent:
        _require_parent(where, stage, parent_gen_id)
    key = _key_of(stage, facts)
    call = _call_facts(mode, usage, finish_reason, truncated, duration_s)
    parser = _parser_facts(parser_name, parse_success, parse_error)

    explicit = gen_id is not None
    if explicit and new_attempt:
        raise WriteError("new_attempt=True makes a new id: do not pass gen_id with it")
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        gid = layout.check_name(gen_id, "gen_id") if explicit else _attempt_id(stage, key, run_id, attempt)
        target = where.gens_root / stage / gid
        files = _files(stage, gid, facts, call, parser, prompt, raw, parsed)
        if publish_dir(files, target):
            return GenerationRef(stage=stage, gen_id=gid, path=target, logical_key=key)
        if explicit or not new_attempt:
            raise GenerationExistsError(
                f"generation {stage}/{gid} already exists at {target}: gensql never overwrites one. "
                "Use update_generation() to add a file to it, or new_attempt=True for a new attempt id."
            )
    raise WriteError(f"no free attempt id for {stage} product {key} after {_MAX_ATTEMPTS} attempts")


def update_generation(
    data_root: str | os.PathLike | None,
    stage: str,
    gen_id: str,
    *,
    prompt: str | None = None,
    raw: str | None = None,
    parsed: str | None = None,
    usage: Mapping[str, int] | None = None,
    finish_reason: str | None = None,
    truncated: bool | None = None,
    duration_s: float | None = None,
    run_id: str | None = None,
    parser_name: str | None = None,
    parse_success: bool | None = None,
    parse_error: str | None = None,
) -> GenerationRef:
    """Add or replace texts of an existing generation (a pipeline that writes the prompt first).

    Each file is replaced atomically (write a sibling, fsync, rename over). A new ``raw`` rewrites
    ``raw_metadata.json`` from the given call facts, a new ``parsed`` rewrites ``parsed_metadata.json``
    from the given parser facts; ``metadata.json`` (identity and lineage) is never changed. Files are
    written in dependency order (texts before their metadata), so a crash between two files leaves
    a generation that refresh reads consistently: the newer text with the older facts at worst.
    """
    where = layout.resolve(data_root)
    stage = layout.check_stage(stage)
    target = where.gens_root / stage / layout.check_name(gen_id, "gen_id")
    meta_path = target / layout.METADATA_FILE
    if not meta_path.is_file():
        raise GenerationNotFoundError(f"no generation {stage}/{gen_id}: {meta_path} does not exist (write it first)")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WriteError(f"cannot read {meta_path}: {exc}") from exc
    if not isinstance(metadata, dict):
        raise WriteError(f"cannot update {stage}/{gen_id}: {meta_path} is not a JSON object")
    mode = str(metadata.get("mode") or "llm")
    facts = {
        "stage": stage,
        "gen_id": gen_id,
        "mode": mode,
        "run_id": run_id,
        "llm_model_id": metadata.get("llm_model_id"),
    }
    call = _call_facts(mode, usage, finish_reason, truncated, duration_s)
    parser = _parser_facts(parser_name, parse_success, parse_error)
    if raw is None and any(v is not None for v in call.values()):
        raise WriteError(
            "call facts (usage, finish_reason, truncated, duration_s) are written with the raw text: pass raw="
        )
    if parsed is None and any(v is not None for v in parser.values()):
        raise WriteError("parser facts are written with the parsed text: pass parsed=")
    files = _files(stage, gen_id, facts, call, parser, prompt, raw, parsed, with_metadata=False)
    for name in (
        layout.PROMPT_FILE,
        layout.RAW_FILE,
        layout.RAW_METADATA_FILE,
        layout.PARSED_FILE,
        layout.PARSED_METADATA_FILE,
    ):
        if name in files:
            replace_file(target / name, files[name])
    return GenerationRef(stage=stage, gen_id=gen_id, path=target, logical_key=_key_of(stage, metadata))


# --------------------------------------------------------------------------------------------------


def _identity(
    stage, template_id, model_id, parent_gen_id, combo_id, replicate, mode, run_id, task_id, origin_cohort_id, extra
) -> dict[str, Any]:
    if not isinstance(template_id, str) or not template_id.strip():
        raise WriteError(f"template_id is required for a {stage} (a non-empty string)")
    if mode not in MODES:
        raise WriteError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "llm" and not model_id:
        raise WriteError(f"model_id is required for a {stage} made by a model call (mode='llm')")
    if isinstance(replicate, bool) or not isinstance(replicate, int) or not 1 <= replicate < 2**63:
        raise WriteError(f"replicate must be a positive integer, not {replicate!r}")
    parent_stage = layout.PARENT_STAGE[stage]
    if parent_stage is None and parent_gen_id is not None:
        raise WriteError("a draft has no parent: parent_gen_id must be None")
    if parent_stage is not None and not parent_gen_id:
        raise WriteError(f"an {stage} needs parent_gen_id (its {parent_stage})")
    if parent_gen_id is not None:
        layout.check_name(parent_gen_id, "parent_gen_id")
    if combo_id is not None and stage != "draft":
        raise WriteError(f"combo_id is recorded on drafts only; an {stage} gets it through lineage")
    for name, value in (
        ("model_id", model_id),
        ("combo_id", combo_id),
        ("run_id", run_id),
        ("task_id", task_id),
        ("origin_cohort_id", origin_cohort_id),
    ):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise WriteError(f"{name} must be a non-empty string or None, not {value!r}")
    extra = dict(extra or {})
    clash = sorted(_OWN_KEYS & set(extra))
    if clash:
        raise WriteError(f"extra must not set {', '.join(clash)}: pass them as arguments")
    # The key order of the real writer (cohorts/spec_planner.py), then ours, then the caller's extras.
    facts = {
        "stage": stage,
        "gen_id": None,
        "origin_cohort_id": origin_cohort_id,
        "mode": mode,
        "template_id": template_id,
        "combo_id": combo_id,
        "parent_gen_id": parent_gen_id,
        "llm_model_id": model_id,
        "replicate": replicate,
        "task_id": task_id,
        "run_id": run_id,
    }
    facts.update(extra)
    return facts


def _require_parent(where: layout.StoreLayout, stage: str, parent_gen_id: str | None) -> None:
    parent_stage = layout.PARENT_STAGE[stage]
    if parent_stage is None or parent_gen_id is None:  # _identity() already refused a missing parent
        return
    if not (where.gens_root / parent_stage / parent_gen_id).is_dir():
        raise WriteError(
            f"parent {parent_stage}/{parent_gen_id} of this {stage} does not exist under {where.gens_root / parent_stage}: "
            "write the parent first (or pass check_parent=False for an import whose parents come later)"
        )


def _call_facts(mode, usage, finish_reason, truncated, duration_s) -> dict[str, Any]:
    if usage is not None:
        if not isinstance(usage, Mapping):
            raise WriteError(f"usage must be a mapping of token counts, not {type(usage).__name__}")
        for k, v in usage.items():
            if k not in _USAGE_KEYS:
                raise WriteError(f"unknown usage key {k!r}: expected some of {', '.join(_USAGE_KEYS)}")
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**63:
                raise WriteError(f"usage[{k!r}] must be a non-negative integer, not {v!r}")
        usage = dict(usage)
    if duration_s is not None:
        if (
            isinstance(duration_s, bool)
            or not isinstance(duration_s, (int, float))
            or not math.isfinite(duration_s)
            or duration_s < 0
        ):
            raise WriteError(f"duration_s must be a finite number of seconds >= 0, not {duration_s!r}")
        duration_s = float(duration_s)
    if truncated is not None and not isinstance(truncated, bool):
        raise WriteError(f"truncated must be True, False or None, not {truncated!r}")
    if finish_reason is not None and not isinstance(finish_reason, str):
        raise WriteError(f"finish_reason must be a string, not {finish_reason!r}")
    if mode == "copy":
        if usage or duration_s is not None:
            raise WriteError("a copy-mode generation made no model call: it has no usage or duration")
        finish_reason = finish_reason or "copy"
    return {"duration_s": duration_s, "finish_reason": finish_reason, "truncated": truncated, "usage": usage}


def _parser_facts(parser_name, parse_success, parse_error) -> dict[str, Any]:
    if parse_success is not None and not isinstance(parse_success, bool):
        raise WriteError(f"parse_success must be True, False or None, not {parse_success!r}")
    for name, value in (("parser_name", parser_name), ("parse_error", parse_error)):
        if value is not None and not isinstance(value, str):
            raise WriteError(f"{name} must be a string, not {value!r}")
    return {"parser_name": parser_name, "success": parse_success, "error": parse_error}


def _attempt_id(stage: str, key: str, run_id: str | None, attempt: int) -> str:
    return layout.STAGE_ID_PREFIX[stage] + new_gen_id(key, run_id or "", attempt)


def _key_of(stage: str, metadata: dict) -> str:
    return logical_key(
        stage,
        {
            "combo_id": metadata.get("combo_id"),
            "template_id": metadata.get("template_id"),
            "model_id": metadata.get("llm_model_id"),
            "parent_gen_id": metadata.get("parent_gen_id"),
            "replicate": metadata.get("replicate", 1),
            "task_id": metadata.get("task_id"),
        },
    )


def _json(obj: dict) -> bytes:
    # As the pipeline writes JSON: ensure_ascii=False, indent=2; keys whose value is None are left out.
    return json.dumps({k: v for k, v in obj.items() if v is not None}, ensure_ascii=False, indent=2).encode("utf-8")


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise WriteError(f"{what} must be text (str), not {type(value).__name__}")
    return value.encode("utf-8")


def _files(stage, gen_id, facts, call, parser, prompt, raw, parsed, *, with_metadata: bool = True) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    mode = facts["mode"]
    input_mode = "copy" if mode == "copy" else "prompt"
    if with_metadata:
        files[layout.METADATA_FILE] = _json({**facts, "gen_id": gen_id})
    if prompt is not None:
        files[layout.PROMPT_FILE] = _text(prompt, "prompt")
    has_call = any(v is not None for k, v in call.items() if not (mode == "copy" and k == "finish_reason"))
    if raw is not None or has_call:
        raw_meta = {
            "function": f"{stage}_raw",
            "mode": mode,
            "stage": stage,
            "gen_id": gen_id,
            "run_id": facts.get("run_id"),
            "llm_model_id": facts.get("llm_model_id") if mode == "llm" else None,
            **call,
            "input_mode": input_mode,
        }
        if raw is not None:
            raw_bytes = _text(raw, "raw")
            files[layout.RAW_FILE] = raw_bytes
            raw_meta["raw_length"] = len(raw)
            raw_meta["raw_lines"] = sum(1 for _ in raw.splitlines())
        files[layout.RAW_METADATA_FILE] = _json(raw_meta)
    if parsed is not None or any(v is not None for v in parser.values()):
        parsed_meta = {
            "stage": stage,
            "gen_id": gen_id,
            "function": f"{stage}_parsed",
            "parser_name": parser["parser_name"],
            "success": parser["success"],
            "error": parser["error"],
            "run_id": facts.get("run_id"),
            "input_mode": input_mode,
        }
        if parsed is not None:
            files[layout.PARSED_FILE] = _text(parsed, "parsed")
        files[layout.PARSED_METADATA_FILE] = _json(parsed_meta)
    return files
