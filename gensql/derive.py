"""Derived columns of ``gens``: truncated, status, created_at, logical_key, is_model_call.

Every rule here reads only the generation's own files, so a ``gens`` row is a pure function of its
directory. That is what makes an incremental refresh equal to a full one.

Status, first rule that matches (seed 000's vocabulary):

1. no ``raw.txt`` and no ``parsed.txt``: ``gen_error`` if a call was attempted (``raw_metadata.json``
   exists, or a finish reason, usage or duration is recorded), else ``skipped`` (planned, never run);
2. an empty ``raw.txt`` and no ``parsed.txt``: ``gen_error``;
3. truncated: ``truncated``;
4. no ``parsed.txt``: ``parse_error`` (raw output the parser did not turn into text);
5. the parser recorded ``success: false``: ``parse_error``;
6. an evaluation without a score: ``parse_error``;
7. otherwise ``ok``.
"""

from __future__ import annotations

from typing import Any

from .ids import logical_key_id

#: Where ``created_at`` comes from, best first: the file whose mtime is closest to generation time.
CREATED_AT_SOURCES: tuple[tuple[str, str], ...] = (
    ("raw.txt", "raw"),
    ("parsed.txt", "parsed"),
    ("raw_metadata.json", "raw_metadata"),
    ("metadata.json", "metadata"),
)


def is_truncated(v: dict[str, Any]) -> bool:
    if v.get("recorded_truncated"):
        return True
    if (v.get("finish_reason") or "").lower() == "length":
        return True
    completion, cap = v.get("completion_tokens"), v.get("max_tokens")
    return completion is not None and cap is not None and cap > 0 and completion >= cap


def is_copy(v: dict[str, Any]) -> bool:
    return (v.get("mode") or "").lower() == "copy" or (v.get("finish_reason") or "").lower() == "copy"


def call_attempted(v: dict[str, Any], has_raw_metadata: bool) -> bool:
    return has_raw_metadata or any(
        v.get(k) is not None
        for k in ("finish_reason", "prompt_tokens", "completion_tokens", "total_tokens", "duration_s")
    )


def status(stage: str, v: dict[str, Any]) -> str:
    has_raw, has_parsed = v["has_raw"], v["has_parsed"]
    if not has_raw and not has_parsed:
        return "gen_error" if call_attempted(v, v["has_raw_metadata"]) and not is_copy(v) else "skipped"
    if has_raw and not has_parsed and v["raw_bytes"] == 0:
        return "gen_error"
    if v["truncated"]:
        return "truncated"
    if not has_parsed:
        return "parse_error"
    if v.get("parse_success") is False:
        return "parse_error"
    if stage == "evaluation" and v.get("score") is None:
        return "parse_error"
    return "ok"


def is_model_call(v: dict[str, Any]) -> bool:
    if is_copy(v):
        return False
    return bool(
        v["has_raw"]
        or v["has_raw_metadata"]
        or any(v.get(k) is not None for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    )


def logical_key(stage: str, v: dict[str, Any]) -> str:
    """The logical product (store-formats.md): what was asked for, independent of the attempt."""
    parts: tuple[Any, ...]
    if stage == "draft":
        parts = (v.get("combo_id"), v.get("template_id"), v.get("model_id"), v.get("replicate"))
    elif stage == "essay":
        parts = (v.get("parent_gen_id"), v.get("template_id"), v.get("replicate"))
    else:
        parts = (v.get("parent_gen_id"), v.get("template_id"), v.get("model_id"), v.get("replicate"))
    task_id = v.get("task_id")
    if task_id and any(p is None or p == "" for p in parts[:-1]):
        # A part is unknown: NULL parts must not merge different tasks into one product, so the
        # recorded task id (older eras, backfilled legacy files) names the product instead.
        return logical_key_id(stage, "task_id", task_id, v.get("replicate"))
    return logical_key_id(stage, *parts)


def fill_derived(stage: str, v: dict[str, Any]) -> None:
    """Add the derived columns to a row that holds the field and file columns."""
    if v.get("replicate") is None:
        v["replicate"] = 1
    if v.get("total_tokens") is None and v.get("prompt_tokens") is not None and v.get("completion_tokens") is not None:
        v["total_tokens"] = v["prompt_tokens"] + v["completion_tokens"]
    v["truncated"] = is_truncated(v)
    v["status"] = status(stage, v)
    v["is_model_call"] = is_model_call(v)
    v["logical_key"] = logical_key(stage, v)
