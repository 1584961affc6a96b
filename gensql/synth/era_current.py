"""The current and transition eras: metadata.json + raw_metadata.json + parsed_metadata.json per generation.

Transition-era metadata.json files carry placeholders (``usage: null``, ``truncated: false``,
``finish_reason: null``) while the real values sit in raw_metadata.json.
"""

from __future__ import annotations

import random

from ..layout import (
    GENS_DIR,
    METADATA_FILE,
    PARENT_STAGE,
    PARSED_FILE,
    PARSED_METADATA_FILE,
    RAW_FILE,
    RAW_METADATA_FILE,
)
from .model import GenDir, JsonFile
from .plan import PARSED_OUTCOMES, Plan, texts_into
from .vocab import PARSERS, PIPELINE_ROOT


def render_split(p: Plan, g: GenDir, rng: random.Random) -> None:
    """Render a current or transition era generation: identity, call and parser facts in three files."""
    st, gid = p.stage, p.gen_id
    m = JsonFile()
    m.set("meta_stage", st)
    m.set("meta_gen_id", gid)
    m.set("origin_cohort_id", p.cohort)
    m.set("mode", p.mode)
    if p.template:
        m.set("template_id", p.template)
    if st == "draft" and p.combo:
        m.set("combo_id", p.combo)
    if p.parent:
        m.set("parent_gen_id", p.parent)
    if p.model:
        m.set("model_id", p.model)
    m.set("replicate", p.replicate)
    if p.era == "transition":  # placeholders: the real values sit in raw_metadata.json
        m.set("usage", None)
        m.set("recorded_truncated", False)
        m.set("finish_reason", None)
    g.add_json(METADATA_FILE, m, p.t_plan)
    texts_into(p, g)
    if p.outcome == "skipped":
        return
    input_mode = "copy" if p.mode == "copy" else "prompt"
    r = JsonFile()
    r.set("function", f"{st}_raw")
    r.set("mode", p.mode)
    r.set("meta_stage", st)
    r.set("meta_gen_id", gid)
    r.set("run_id", p.run_id)
    if p.model:
        r.set("model_id", p.model)
    r.set("duration_s", p.duration_s)
    r.set("finish_reason", p.finish_reason)
    r.set("recorded_truncated", p.recorded_truncated)
    r.set("usage", p.usage)
    r.set("input_mode", input_mode)
    if p.raw is not None:
        r.extra("raw_length", len(p.raw.decode("utf-8")))
        r.extra("raw_lines", p.raw.count(b"\n"))
    r.extra("raw_path", f"{PIPELINE_ROOT}/{g.rel(RAW_FILE)}")
    r.extra("raw_metadata_path", f"{PIPELINE_ROOT}/{g.rel(RAW_METADATA_FILE)}")
    if p.outcome == "gen_error":
        r.extra(
            "exception",
            rng.choice(
                (
                    "RateLimitError: 429 Too Many Requests",
                    "APITimeoutError: request timed out after 120s",
                    "InternalServerError: 502 upstream error",
                )
            ),
        )
    if p.era == "transition" or rng.random() < 0.3:
        r.extra("reused", False)
    g.add_json(RAW_METADATA_FILE, r, p.t_gen)
    if p.outcome in PARSED_OUTCOMES or p.outcome == "parse_error" or p.parsed is not None:
        q = JsonFile()
        q.set("meta_stage", st)
        q.set("meta_gen_id", gid)
        q.set("function", f"{st}_parsed")
        q.set("parser_name", "copy" if p.mode == "copy" else PARSERS[st])
        ok = p.outcome not in ("parse_error", "parse_flag_false")
        q.set("parse_success", ok)
        q.set(
            "parse_error",
            None
            if ok
            else (
                "fallback: no <essay> block, kept the whole response"
                if p.outcome == "parse_flag_false"
                else ("no SCORE line found" if st == "evaluation" else "missing <essay> block")
            ),
        )
        q.set("run_id", p.run_id)
        q.set("input_mode", input_mode)
        if p.mode == "copy" and p.parent:
            q.extra("copied_from", f"{PIPELINE_ROOT}/{GENS_DIR}/{PARENT_STAGE[st]}/{p.parent}/{PARSED_FILE}")
        q.extra("parsed_path", f"{PIPELINE_ROOT}/{g.rel(PARSED_FILE)}")
        q.extra("parsed_metadata_path", f"{PIPELINE_ROOT}/{g.rel(PARSED_METADATA_FILE)}")
        g.add_json(PARSED_METADATA_FILE, q, p.t_gen + 1)
