"""Era d4d2215 (2025-08-18): single-phase flat files, built by running the real writer code.

Real code run (copied under ``daydreaming_dagster/``, see each file's header): the task-table assets
``generation_tasks`` / ``evaluation_tasks`` (assets/core.py, utils/nodes_standalone.py), the asset
functions ``generation_prompt`` / ``generation_response`` / ``parsed_generation_responses``
(assets/llm_generation.py) and ``evaluation_prompt`` / ``evaluation_response`` (assets/llm_evaluation.py),
the IO managers ``PartitionedTextIOManager`` / ``CSVIOManager`` with the base paths of that commit's
definitions.py, ``ComboIDManager`` for combo ids, and ``LLMClientResource`` over the fake provider.
Not run: Dagster itself (the tooling calls the asset functions in dependency order) and the
``raw_data`` assets (the template DataFrames get a short Jinja ``content`` column here instead of
files). ``data/1_raw/*.csv`` are the real CSVs of the commit with only the flags changed.
"""

from __future__ import annotations

from pathlib import Path

from ..legacy_stubs import Context, FakeLLM, Task, Truth, concepts, flags, import_era, read_raw, use_llm

COMMIT = "d4d22154e74cd465f3fb496a5ced093fefcdc2f6"
HERE = Path(__file__).parent
GEN_MODELS = {"deepseek_r1_p", "gemini_2.5_flash", "qwen3-235b-a22b"}
EVAL_MODELS = {"sonnet-4"}
GEN_TEMPLATES = {"creative-synthesis-v7"}
EVAL_TEMPLATES = {"daydreaming-verification-v2", "style-coherence-v3"}

GEN_TEMPLATE_TEXT = "Combine these concepts into a new idea:\n{% for c in concepts %}- {{ c.name }}: {{ c.content }}\n{% endfor %}"
EVAL_TEMPLATE_TEXT = "Evaluate the essay below; end with a line SCORE: <0-9>.\n\n{{ response }}"


def build(data_root: Path, llm: FakeLLM | None = None, combos: int = 2) -> Truth:
    """Run the era's writer code into ``data_root`` (the pipeline's ``data/``) and return the truth."""
    io, client_mod, core, gen, ev, models, combo_ids = import_era(
        __name__, "resources.io_managers", "resources.llm_client", "assets.core", "assets.llm_generation",
        "assets.llm_evaluation", "models", "utils.combo_ids",
    )
    llm = use_llm(llm or FakeLLM())
    data_root = Path(data_root)
    raw = data_root / "1_raw"
    raw.mkdir(parents=True, exist_ok=True)
    llm_models = read_raw(HERE, "llm_models.csv")
    llm_models["for_generation"] = llm_models["id"].isin(GEN_MODELS)
    llm_models["for_evaluation"] = llm_models["id"].isin(EVAL_MODELS)
    llm_models.to_csv(raw / "llm_models.csv", index=False)
    gen_templates = flags(read_raw(HERE, "generation_templates.csv"), "active", GEN_TEMPLATES)
    gen_templates.to_csv(raw / "generation_templates.csv", index=False)
    gen_templates["content"] = GEN_TEMPLATE_TEXT
    eval_templates = flags(read_raw(HERE, "evaluation_templates.csv"), "active", EVAL_TEMPLATES)
    eval_templates.to_csv(raw / "evaluation_templates.csv", index=False)
    eval_templates["content"] = EVAL_TEMPLATE_TEXT

    # content_combinations asset body, with the mapping file under data_root (the real default is cwd-relative)
    manager = combo_ids.ComboIDManager(mappings_path=str(data_root / "combo_mappings.csv"))
    cs = concepts(models.Concept, combos + 2)
    content_combinations = []
    for i in range(combos):
        chosen = cs[i : i + 3]
        cid = manager.get_or_create_combo_id([c.concept_id for c in chosen], "paragraph", 3)
        content_combinations.append(models.ContentCombination.from_concepts(chosen, "paragraph", combo_id=cid))

    csv_io = io.CSVIOManager(base_path=data_root / "2_tasks")
    generation_tasks = core.generation_tasks(Context(), content_combinations, llm_models[llm_models["for_generation"]], gen_templates)
    csv_io.handle_output(Context(asset_name="generation_tasks"), generation_tasks)
    evaluation_tasks = core.evaluation_tasks(Context(), generation_tasks, llm_models[llm_models["for_evaluation"]], eval_templates)
    csv_io.handle_output(Context(asset_name="evaluation_tasks"), evaluation_tasks)

    gen_dir, eval_dir = data_root / "3_generation", data_root / "4_evaluation"
    prompt_io = io.PartitionedTextIOManager(base_path=gen_dir / "generation_prompts", overwrite=True)
    response_io = io.PartitionedTextIOManager(base_path=gen_dir / "generation_responses", overwrite=False)
    parsed_io = io.PartitionedTextIOManager(base_path=gen_dir / "parsed_generation_responses", overwrite=True)
    eval_prompt_io = io.PartitionedTextIOManager(base_path=eval_dir / "evaluation_prompts", overwrite=True)
    eval_response_io = io.PartitionedTextIOManager(base_path=eval_dir / "evaluation_responses", overwrite=False)
    client = client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0)

    truth = Truth(data_root=data_root, llm=llm)
    for _, row in generation_tasks.iterrows():
        tid = row["generation_task_id"]
        ctx = Context(tid, openrouter_client=client)
        prompt = gen.generation_prompt(ctx, generation_tasks, content_combinations, gen_templates)
        prompt_io.handle_output(ctx, prompt)
        response = gen.generation_response(ctx, prompt, generation_tasks)
        response_io.handle_output(ctx, response)
        parsed_io.handle_output(ctx, gen.parsed_generation_responses(ctx, response, generation_tasks))
        # The pipeline's later backfill made each single-phase file a draft plus a copy essay.
        truth.tasks[tid] = Task("draft", tid, row["combo_id"], row["generation_template"], row["generation_model"], calls=[llm.calls[-1]], outcomes=["ok"])
    for _, row in evaluation_tasks.iterrows():
        tid = row["evaluation_task_id"]
        ctx = Context(tid, openrouter_client=client, parsed_generation_io_manager=parsed_io)
        prompt = ev.evaluation_prompt(ctx, evaluation_tasks, eval_templates)
        eval_prompt_io.handle_output(ctx, prompt)
        eval_response_io.handle_output(ctx, ev.evaluation_response(ctx, prompt, evaluation_tasks))
        parent = row["generation_task_id"]
        truth.tasks[tid] = Task(
            "evaluation", tid, truth.tasks[parent].combo_id, row["evaluation_template"], row["evaluation_model"],
            parent_task_id=parent, calls=[llm.calls[-1]], outcomes=["ok"],
        )
    return truth
