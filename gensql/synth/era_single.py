"""The older single-file era: every fact in one metadata.json (aliases, ``duration_ms``, absolute ``files``)."""

from __future__ import annotations

import random

from ..layout import METADATA_FILE
from .model import GenDir, JsonFile
from .plan import Plan, texts_into
from .vocab import LEGACY_DIR, OLD_MACHINE_ROOT, PARSERS


def render_single(p: Plan, g: GenDir, rng: random.Random) -> None:
    """Render a single-file era generation."""
    st = p.stage
    m = JsonFile()
    m.set("task_id", p.task_id)
    m.set("function", f"{st}_response")
    m.set("run_id", p.run_id)
    m.set("origin_cohort_id", p.cohort, key="cohort_id")
    if p.template:
        alias = "essay_template_id" if st == "essay" and rng.random() < 0.4 else "template_id"
        m.set("template_id", p.template, key=alias)
    if p.combo:
        m.set("combo_id", p.combo)
    if p.model:
        m.set("model_id", p.model, key="model_id")
    if p.parent:
        m.set("parent_gen_id", p.parent, key="parent_doc_id")
    if p.mode == "llm":
        m.set("parser_name", PARSERS[st])
    m.set("mode", p.mode)
    legacy = LEGACY_DIR[st]
    prompts = legacy.replace("responses", "prompts")
    m.extra(
        "files",
        {
            "prompt": f"{OLD_MACHINE_ROOT}/{prompts}/{p.task_id}.txt" if p.prompt is not None else None,
            "raw": f"{OLD_MACHINE_ROOT}/{legacy}_raw/{p.task_id}.txt" if p.raw is not None else None,
            "parsed": f"{OLD_MACHINE_ROOT}/{legacy}/{p.task_id}.txt" if p.parsed is not None else None,
        },
    )
    m.set("finish_reason", p.finish_reason)
    m.set("recorded_truncated", p.recorded_truncated)
    m.set("usage", p.usage)
    if p.duration_s is not None:
        ms = int(round(p.duration_s * 1000))
        m.set("duration_s", ms * 0.001, key="duration_ms", raw=ms)
    else:
        m.set("duration_s", None, key="duration_ms")
    m.set("max_tokens", p.cap)
    m.extra("prompt_chars", len(p.prompt.decode()) if p.prompt is not None else None)
    m.extra("raw_chars", len(p.raw.decode()) if p.raw is not None else None)
    m.extra("parsed_chars", len(p.parsed.decode()) if p.parsed is not None else None)
    m.set("total_tokens", None)
    m.set("replicate", p.replicate)
    g.add_json(METADATA_FILE, m, p.t_plan)
    texts_into(p, g)
