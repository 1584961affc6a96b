"""Era 974def2 (2025-09-15): the gens store with one fat ``metadata.json`` and a wide ``membership.csv``.

Real code run (copied under ``daydreaming_dagster/`` by ``../copy_real.py``): the cohort assets
``selected_combo_mappings``-fed ``content_combinations`` and ``cohort_membership``
(assets/group_cohorts.py: Cartesian plan, ``reserve_gen_id``, ``df.to_csv``), then per generation
``prompt_asset`` (unified/stage_prompts.py) written by ``GensPromptIOManager.handle_output``
(resources/gens_prompt_io_manager.py), and ``response_asset`` (unified/stage_responses.py ->
stage_core.execute_llm / execute_copy -> utils/generation.write_gen_*), with the real
``LLMClientResource`` (resources/llm_client.py) over the fake provider of
:mod:`realwriter.legacy_stubs`. Stubbed: dagster, openai, tenacity, ratelimit only.

Scenario: 2 combos x 1 draft template x 2 generation models = 4 drafts; each draft gets an LLM essay
(creative-synthesis-v10) and a copy essay (parsed-from-links-v1, generator ``copy``); every essay
gets 2 evaluation replicates by sonnet-4 (daydreaming-verification-v2, parser in_last_line).
"""

from __future__ import annotations

from pathlib import Path

from ..gens_common import EraTruth, Gen, cell, score_of, templates_root, write_inputs
from ..legacy_stubs import Clock, Context, FakeLLM, import_era, use_llm

COMMIT = "974def2"
HERE = Path(__file__).parent
COHORT = "cohort-2025-09-15"
GEN_MODELS = {"deepseek_r1_p", "gemini_25_pro"}
EVAL_MODELS = {"sonnet-4"}
TEMPLATES = {"draft": {"creative-synthesis-v2"}, "essay": {"creative-synthesis-v10", "parsed-from-links-v1"}, "evaluation": {"daydreaming-verification-v2"}}
COPY_TEMPLATES = {"parsed-from-links-v1"}
LAZY = ("assets._helpers", "resources.membership_service", "utils.parser_registry", "utils.eval_response_parser", "utils.draft_parsers", "utils.combo_ids")


def build(data_root: Path, llm: FakeLLM | None = None) -> EraTruth:
    responses, prompts, cohorts, client_mod, prompt_io, config_mod, *_lazy = import_era(
        __name__, "unified.stage_responses", "unified.stage_prompts", "assets.group_cohorts",
        "resources.llm_client", "resources.gens_prompt_io_manager", "resources.experiment_config",
        # imported inside functions by the real code: imported here, while the stubs are in place
        *LAZY,
    )
    data_root = Path(data_root)
    llm = use_llm(llm or FakeLLM())
    write_inputs(data_root, HERE, gen_models=GEN_MODELS, eval_models=EVAL_MODELS, templates=TEMPLATES)
    truth = EraTruth(data_root, cohort_id=COHORT)
    clock = Clock(start=1_757_930_000.0)
    resources = dict(
        data_root=str(data_root),
        experiment_config=config_mod.ExperimentConfig(),
        openrouter_client=client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0, data_root=str(data_root)),
    )
    with templates_root(data_root):
        ctx = Context(**resources)
        combos = cohorts.content_combinations(ctx)
        with clock.run(data_root):
            membership = cohorts.cohort_membership(ctx, COHORT)
        for stage in ("draft", "essay", "evaluation"):
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
                run_ctx = Context(partition_key=gen_id, asset_name=f"{stage}_response", **resources)
                run_ctx.run_id = gen.run_id
                calls = len(llm.calls)
                with clock.run(data_root):
                    prompt = prompts.prompt_asset(run_ctx, stage, content_combinations=combos)
                    io.handle_output(run_ctx, prompt)
                    responses.response_asset(run_ctx, prompt, stage)
                if len(llm.calls) > calls:
                    call = llm.calls[-1]
                    gen.completion_tokens = call.completion_tokens
                    gen.max_tokens = resources["experiment_config"].evaluation_max_tokens if stage == "evaluation" else getattr(resources["experiment_config"], f"{stage}_generation_max_tokens")
                    gen.score = score_of(call.text) if stage == "evaluation" else None
    truth.llm = llm
    return truth
