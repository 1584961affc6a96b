"""The 2025-09-15 gens store (974def2): one fat metadata.json per generation, combo only in membership.

``metadata.json`` carries identity, call and parser facts (``usage`` = completion tokens and the cap,
``duration_s`` and ``duration_ms``, absolute ``files``, ``cohort_id``) but **no combo_id**; copy-mode
essays have no prompt.txt and no raw.txt and ``llm_model_id: null``. The cohort's wide
``membership.csv`` (``stage,gen_id,cohort_id,parent_gen_id,combo_id,template_id,llm_model_id,replicate``)
is the only record of each generation's combo, and of a copy essay's (draft) model.
"""

from __future__ import annotations

import random

from ..layout import METADATA_FILE, PARSED_FILE, PROMPT_FILE, RAW_FILE
from .model import GenDir, JsonFile
from .plan import Plan, texts_into
from .vocab import PARSERS, PIPELINE_ROOT

ERA = "fat_0915"
#: Columns of the era's wide membership.csv, in the order the pipeline wrote them.
MEMBERSHIP_COLUMNS = (
    "stage",
    "gen_id",
    "cohort_id",
    "parent_gen_id",
    "combo_id",
    "template_id",
    "llm_model_id",
    "replicate",
)


def render_fat(p: Plan, g: GenDir, rng: random.Random) -> None:
    """Render a 2025-09-15 generation: everything in metadata.json except the combo."""
    st = p.stage
    m = JsonFile()
    m.set("meta_stage", st)
    m.set("meta_gen_id", p.gen_id)
    if p.template:
        m.set("template_id", p.template)
    m.set("model_id", p.model)  # null for copy mode
    if p.parent:
        m.set("parent_gen_id", p.parent)
    m.set("parser_name", None if p.mode == "copy" else PARSERS[st])
    m.set("mode", p.mode)
    m.extra(
        "files",
        {
            "prompt": f"{PIPELINE_ROOT}/{g.rel(PROMPT_FILE)}" if p.prompt is not None else None,
            "raw": f"{PIPELINE_ROOT}/{g.rel(RAW_FILE)}" if p.raw is not None else None,
            "parsed": f"{PIPELINE_ROOT}/{g.rel(PARSED_FILE)}" if p.parsed is not None else None,
        },
    )
    m.set("finish_reason", None if p.mode == "copy" else p.finish_reason)
    m.set("recorded_truncated", p.recorded_truncated)
    m.set("usage", p.usage)
    m.set("duration_s", p.duration_s)
    m.set("max_tokens", p.cap)
    m.extra("duration_ms", int(round(p.duration_s * 1000)) if p.duration_s is not None else None)
    m.extra("prompt_chars", len(p.prompt.decode()) if p.prompt is not None else None)
    m.extra("raw_chars", len(p.raw.decode()) if p.raw is not None else None)
    m.extra("parsed_chars", len(p.parsed.decode()) if p.parsed is not None else None)
    m.set("total_tokens", None)
    m.set("function", f"{st}_response")
    m.set("run_id", p.run_id)
    m.set("origin_cohort_id", p.cohort, key="cohort_id")
    m.set("replicate", p.replicate)
    g.add_json(METADATA_FILE, m, p.t_plan if p.outcome == "skipped" else p.t_gen + 1)
    texts_into(p, g)
    if p.mode == "copy":
        g.json[METADATA_FILE].set("duration_s", round(rng.uniform(0.01, 0.2), 3))
