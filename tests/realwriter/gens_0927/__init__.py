"""Era 2e526d0 (2025-09-27): the raw/parsed split (metadata.json seeded by the cohort, raw_metadata.json, parsed_metadata.json).

Real code run (copied under ``daydreaming_dagster/`` by ``../copy_real.py``): ``content_combinations``
and ``cohort_membership`` (assets/group_cohorts.py: Cartesian plan, ``_seed_generation_metadata``
writes each metadata.json, ``df.to_csv`` the wide membership.csv), then per generation the stage
assets ``<stage>_prompt`` (unified/stage_inputs.py, written again by ``GensPromptIOManager``),
``<stage>_raw`` (unified/stage_raw.py) and ``<stage>_parsed`` (unified/stage_parsed.py) of
assets/group_draft.py, group_essay.py, group_evaluation.py, through data_layer/gens_data_layer.py,
with the real ``LLMClientResource`` over the fake provider. Stubbed: dagster (and its Config classes),
pydantic.Field, openai, tenacity, ratelimit.

Scenario: as 2025-09-15 (4 drafts, an LLM and a copy essay per draft, 2 evaluation replicates per essay).
"""

from __future__ import annotations

from pathlib import Path

from ..gens_common import EraTruth, Gen, cell, import_gens_era, score_of, templates_root, write_inputs
from ..legacy_stubs import Clock, Context, FakeLLM, use_llm

COMMIT = "2e526d0"
HERE = Path(__file__).parent
COHORT = "cohort-2025-09-27"
GEN_MODELS = {"deepseek_r1_p", "gemini_25_pro"}
EVAL_MODELS = {"sonnet-4"}
TEMPLATES = {"draft": {"creative-synthesis-v2"}, "essay": {"creative-synthesis-v10", "parsed-from-links-v1"}, "evaluation": {"daydreaming-verification-v2"}}
COPY_TEMPLATES = {"parsed-from-links-v1"}
LAZY = ("utils.parser_registry", "utils.eval_response_parser", "utils.draft_parsers", "utils.combo_ids")


def build(data_root: Path, llm: FakeLLM | None = None) -> EraTruth:
    draft_mod, essay_mod, eval_mod, cohorts, client_mod, prompt_io, config_mod, *_lazy = import_gens_era(
        __name__, "assets.group_draft", "assets.group_essay", "assets.group_evaluation", "assets.group_cohorts",
        "resources.llm_client", "resources.gens_prompt_io_manager", "resources.experiment_config", *LAZY,
    )
    stage_mods = {"draft": draft_mod, "essay": essay_mod, "evaluation": eval_mod}
    data_root = Path(data_root)
    llm = use_llm(llm or FakeLLM())
    write_inputs(data_root, HERE, gen_models=GEN_MODELS, eval_models=EVAL_MODELS, templates=TEMPLATES)
    truth = EraTruth(data_root, cohort_id=COHORT)
    clock = Clock(start=1_758_960_000.0)
    config = config_mod.ExperimentConfig()
    resources = dict(
        data_root=str(data_root),
        experiment_config=config,
        openrouter_client=client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0, data_root=str(data_root)),
    )
    with templates_root(data_root):
        ctx = Context(**resources)
        combos = cohorts.content_combinations(ctx)
        with clock.run(data_root):
            membership = cohorts.cohort_membership(ctx, COHORT)
        for stage in ("draft", "essay", "evaluation"):
            mod = stage_mods[stage]
            io = prompt_io.GensPromptIOManager(data_root / "gens", stage=stage)
            for _, row in membership[membership["stage"] == stage].iterrows():
                gen_id = str(row["gen_id"])
                template = cell(row["template_id"])
                gen = truth.add(Gen(
                    stage=stage, gen_id=gen_id, template_id=template, model_id=cell(row["llm_model_id"]),
                    combo_id=cell(row["combo_id"]), parent_gen_id=cell(row["parent_gen_id"]),
                    replicate=int(row["replicate"]), mode="copy" if template in COPY_TEMPLATES else "llm",
                    run_id=f"run-{stage}-{gen_id[:6]}",
                ))
                run_ctx = Context(partition_key=gen_id, asset_name=f"{stage}_prompt", **resources)
                run_ctx.run_id = gen.run_id
                calls = len(llm.calls)
                with clock.run(data_root):
                    prompt = getattr(mod, f"{stage}_prompt")(run_ctx, combos) if stage == "draft" else getattr(mod, f"{stage}_prompt")(run_ctx)
                    io.handle_output(run_ctx, prompt)
                    getattr(mod, f"{stage}_raw")(run_ctx, prompt)
                    getattr(mod, f"{stage}_parsed")(run_ctx)
                if len(llm.calls) > calls:
                    call = llm.calls[-1]
                    gen.completion_tokens = call.completion_tokens
                    gen.max_tokens = config.stage_config[stage].generation_max_tokens
                    gen.score = score_of(call.text) if stage == "evaluation" else None
    truth.llm = llm
    return truth
