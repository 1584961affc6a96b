"""The imported era: legacy texts copied into gens/ by an importer (null-like strings, ``source_file``)."""

from __future__ import annotations

import random

from ..layout import METADATA_FILE, PARSED_FILE, PARSED_METADATA_FILE, PROMPT_FILE, RAW_FILE
from .model import GenDir, JsonFile
from .plan import Plan
from .vocab import LEGACY_DIR


def render_imported(p: Plan, g: GenDir, rng: random.Random) -> None:
    """Render an imported generation."""
    st = p.stage
    t = p.t_gen
    m = JsonFile()
    m.set("meta_stage", st)
    m.set("meta_gen_id", p.gen_id)
    m.set("template_id", p.template, key=f"{st}_template")
    if p.model:
        m.set("model_id", p.model, key=rng.choice(("llm_model_id", "model_id")))
    if st == "draft":
        m.set("combo_id", p.combo)
    else:
        m.set("combo_id", None, raw=rng.choice(("null", "", "NaN")))
    if p.parent is not None:
        m.set("parent_gen_id", p.parent)
        m.extra("parent_task_id", p.parent_task or p.parent)
    if p.cohort and rng.random() < 0.6:
        m.set("origin_cohort_id", p.cohort, key="cohort_id")
    else:
        p.cohort = None
        m.set("origin_cohort_id", None, key="cohort_id", raw=rng.choice(("nan", "NaN", "")))
    if p.replicate == 1 and rng.random() < 0.4:
        m.set("replicate", None, raw=rng.choice(("nan", "")))
    else:
        m.set("replicate", p.replicate, raw=str(p.replicate))
    m.set("mode", p.mode)
    m.set("task_id", p.task_id)
    m.set("run_id", None, raw=rng.choice(("none", "None", "null")))
    if p.raw is not None and p.usage:
        m.set("usage", p.usage, raw={k: str(v) for k, v in p.usage.items()})
        m.set("finish_reason", p.finish_reason)
    else:
        m.set("finish_reason", None, raw="")
    m.set("total_tokens", None, raw="nan")
    where = LEGACY_DIR[st] if not (st == "draft" and p.raw is None) else "3_generation/links_responses"
    m.extra("source_file", f"data/{where}/{p.task_id}.txt")
    m.extra("created_from", "backfill_gens_from_legacy")
    m.extra(
        "legacy_fields",
        {f"{st}_task_id": p.task_id, "generation_model": p.model, "file_version": rng.choice(("", "v2", "v3"))},
    )
    g.add_json(METADATA_FILE, m, t)
    if p.prompt is not None:
        g.add_text(PROMPT_FILE, p.prompt, t)
    if p.raw is not None:
        g.add_text(RAW_FILE, p.raw, t)
    if p.parsed is not None:
        g.add_text(PARSED_FILE, p.parsed, t)
        q = JsonFile()
        q.set("meta_stage", st)
        q.set("meta_gen_id", p.gen_id)
        q.set("function", "legacy_import")
        q.set("parser_name", "legacy")
        q.set("parse_success", True)
        q.extra("copied_from", f"/mnt/old-box/daydreaming/data/{where}/{p.task_id}.txt")
        if st == "evaluation" and p.score is not None:
            q.extra("score", str(int(p.score)))
        g.add_json(PARSED_METADATA_FILE, q, t)
