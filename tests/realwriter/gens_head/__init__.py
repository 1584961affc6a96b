"""Era 2849708 (HEAD, 2025-10-18): deterministic ``d_``/``e_``/``v_`` ids, slim ``membership.csv``.

Real code run (copied under ``daydreaming_dagster/`` by ``../copy_real.py``): ``cohort_membership``
(assets/group_cohorts.py: the cohort spec ``cohorts/<id>/spec/config.yaml`` compiled by the real
``CohortSpecResource`` and spec DSL, ``generate_membership`` with deterministic ids,
``seed_cohort_metadata`` writes each metadata.json, ``persist_membership_csv`` the slim
``stage,gen_id`` file), ``content_combinations`` (from ``data/combo_mappings.csv``), then per
generation ``<stage>_prompt`` / ``<stage>_raw`` / ``<stage>_parsed`` (assets/stage_asset_helpers.py
over unified/stage_inputs.py, stage_raw.py, stage_parsed.py and data_layer/gens_data_layer.py),
``GensPromptIOManager``, and the real ``LLMClientResource`` over the fake provider. Stubbed: dagster
(configuration holders and inert definitions), openai, tenacity, ratelimit.

Scenario: 2 combos x 1 draft template x 2 draft models = 4 drafts; per draft an LLM essay
(creative-synthesis-v10) and a copy essay (parsed-from-links-v1), both with essay llm deepseek_r1_p;
2 evaluation replicates per essay by sonnet-4.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from ..gens_common import COMBOS, EraTruth, Gen, cell, import_gens_era, score_of, templates_root, write_inputs
from ..legacy_stubs import Clock, Context, FakeLLM, use_llm

COMMIT = "2849708"
HERE = Path(__file__).parent
COHORT = "cohort-2025-10-18"
GEN_MODELS = {"deepseek_r1_p", "gemini_25_pro"}
ESSAY_MODEL = "deepseek_r1_p"
EVAL_MODELS = {"sonnet-4"}
TEMPLATES = {"draft": {"creative-synthesis-v2"}, "essay": {"creative-synthesis-v10", "parsed-from-links-v1"}, "evaluation": {"daydreaming-verification-v2"}}
COPY_TEMPLATES = {"parsed-from-links-v1"}
LAZY = ("utils.parser_registry", "utils.eval_response_parser", "utils.draft_parsers", "utils.combo_ids")


def _write_spec(data_root: Path) -> None:
    """The cohort spec, in the shape of the real tests' specs (assets/tests/test_cohort_membership.py)."""
    spec_dir = data_root / "cohorts" / COHORT / "spec"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "axes": {
            "combo_id": sorted(COMBOS),
            "draft_template": sorted(TEMPLATES["draft"]),
            "draft_llm": sorted(GEN_MODELS),
            "essay_template": sorted(TEMPLATES["essay"]),
            "essay_llm": [ESSAY_MODEL],
            "evaluation_template": sorted(TEMPLATES["evaluation"]),
            "evaluation_llm": sorted(EVAL_MODELS),
            "evaluation_replicate": ["1", "2"],
        },
        "rules": {"pairs": {"evaluation_bundle": {
            "left": "evaluation_template", "right": "evaluation_llm",
            "allowed": [[t, m] for t in sorted(TEMPLATES["evaluation"]) for m in sorted(EVAL_MODELS)],
        }}},
        "output": {"field_order": ["combo_id", "draft_template", "draft_llm", "essay_template", "essay_llm", "evaluation_template", "evaluation_llm", "evaluation_replicate"]},
    }
    (spec_dir / "config.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def build(data_root: Path, llm: FakeLLM | None = None) -> EraTruth:
    draft_mod, essay_mod, eval_mod, cohorts, client_mod, prompt_io, config_mod, spec_mod, *_lazy = import_gens_era(
        __name__, "assets.group_draft", "assets.group_essay", "assets.group_evaluation", "assets.group_cohorts",
        "resources.llm_client", "resources.gens_prompt_io_manager", "resources.experiment_config",
        "resources.cohort_spec", *LAZY,
    )
    stage_mods = {"draft": draft_mod, "essay": essay_mod, "evaluation": eval_mod}
    data_root = Path(data_root)
    llm = use_llm(llm or FakeLLM())
    write_inputs(data_root, HERE, gen_models=GEN_MODELS, eval_models=EVAL_MODELS, templates=TEMPLATES, flags=False)
    pd.read_csv(data_root / "2_tasks" / "selected_combo_mappings.csv").to_csv(data_root / "combo_mappings.csv", index=False)
    _write_spec(data_root)
    truth = EraTruth(data_root, cohort_id=COHORT)
    clock = Clock(start=1_760_800_000.0)
    config = config_mod.ExperimentConfig()
    resources = dict(
        data_root=str(data_root),
        experiment_config=config,
        cohort_spec=spec_mod.CohortSpecResource(),
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
                    run_id=f"run-{stage}-{gen_id[:8]}",
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
