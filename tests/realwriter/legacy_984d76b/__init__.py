"""Era 984d76b (2025-08-20): two-phase flat files, unversioned, built by running the real writer code.

Real code run (copied under ``daydreaming_dagster/``): the task-table assets ``link_generation_tasks``
/ ``essay_generation_tasks`` / ``evaluation_tasks`` (assets/core.py), the asset functions
``links_prompt`` / ``links_response`` / ``essay_prompt`` / ``essay_response``
(assets/two_phase_generation.py) and ``evaluation_prompt`` / ``evaluation_response``
(assets/llm_evaluation.py), ``PartitionedTextIOManager`` / ``CSVIOManager`` with the base paths of
that commit's definitions.py, ``ComboIDManager``, ``LLMClientResource`` over the fake provider.
The template loader's module constant ``TEMPLATES_ROOT`` (cwd-relative ``data/1_raw/generation_templates``
in the real code) is pointed at ``<data_root>/1_raw/generation_templates``, where short templates are
written. ``data/1_raw/*.csv`` are the commit's real CSVs with only the flags changed.
"""

from __future__ import annotations

from pathlib import Path

from ..legacy_stubs import Context, FakeLLM, Task, Truth, concepts, flags, import_era, read_raw, use_llm

COMMIT = "984d76b4e98e9b39d093f324e53d8012f55e258d"
HERE = Path(__file__).parent
GEN_MODELS = {"deepseek_r1_p", "gemini_2.5_flash"}
EVAL_MODELS = {"sonnet-4", "gemini_25_pro"}
LINK_TEMPLATES = {"creative-synthesis-v10"}
ESSAY_TEMPLATES = {"creative-synthesis-v10"}
EVAL_TEMPLATES = {"daydreaming-verification-v2"}

LINKS_TEXT = "List links between:\n{% for c in concepts %}- {{ c.name }}: {{ c.content }}\n{% endfor %}"
ESSAY_TEXT = "Write an essay from these links:\n{{ links_block }}"
EVAL_TEXT = "Evaluate the essay below; end with a line SCORE: <0-9>.\n\n{{ response }}"


def build(data_root: Path, llm: FakeLLM | None = None, combos: int = 2) -> Truth:
    io, client_mod, core, two, ev, models, combo_ids, loader = import_era(
        __name__, "resources.io_managers", "resources.llm_client", "assets.core", "assets.two_phase_generation",
        "assets.llm_evaluation", "models", "utils.combo_ids", "utils.template_loader",
    )
    llm = use_llm(llm or FakeLLM())
    data_root = Path(data_root)
    raw = data_root / "1_raw"
    (raw / "generation_templates" / "links").mkdir(parents=True, exist_ok=True)
    (raw / "generation_templates" / "essay").mkdir(parents=True, exist_ok=True)
    loader.TEMPLATES_ROOT = raw / "generation_templates"
    for t in LINK_TEMPLATES:
        (raw / "generation_templates" / "links" / f"{t}.txt").write_text(LINKS_TEXT)
    for t in ESSAY_TEMPLATES:
        (raw / "generation_templates" / "essay" / f"{t}.txt").write_text(ESSAY_TEXT)
    llm_models = read_raw(HERE, "llm_models.csv")
    llm_models["for_generation"] = llm_models["id"].isin(GEN_MODELS)
    llm_models["for_evaluation"] = llm_models["id"].isin(EVAL_MODELS)
    llm_models.to_csv(raw / "llm_models.csv", index=False)
    link_templates = flags(read_raw(HERE, "link_templates.csv"), "active", LINK_TEMPLATES)
    link_templates.to_csv(raw / "link_templates.csv", index=False)
    essay_templates = flags(read_raw(HERE, "essay_templates.csv"), "active", ESSAY_TEMPLATES)
    essay_templates.to_csv(raw / "essay_templates.csv", index=False)
    eval_templates = flags(read_raw(HERE, "evaluation_templates.csv"), "active", EVAL_TEMPLATES)
    eval_templates.to_csv(raw / "evaluation_templates.csv", index=False)
    eval_templates["content"] = EVAL_TEXT

    manager = combo_ids.ComboIDManager(mappings_path=str(data_root / "combo_mappings.csv"))
    cs = concepts(models.Concept, combos + 2)
    content_combinations = []
    for i in range(combos):
        chosen = cs[i : i + 3]
        cid = manager.get_or_create_combo_id([c.concept_id for c in chosen], "paragraph", 3)
        content_combinations.append(models.ContentCombination.from_concepts(chosen, "paragraph", combo_id=cid))

    csv_io = io.CSVIOManager(base_path=data_root / "2_tasks")
    link_tasks = core.link_generation_tasks(Context(), content_combinations, llm_models, link_templates)
    csv_io.handle_output(Context(asset_name="link_generation_tasks"), link_tasks)
    essay_tasks = core.essay_generation_tasks(Context(), link_tasks, essay_templates)
    csv_io.handle_output(Context(asset_name="essay_generation_tasks"), essay_tasks)
    evaluation_tasks = core.evaluation_tasks(Context(), essay_tasks, llm_models, eval_templates)
    csv_io.handle_output(Context(asset_name="evaluation_tasks"), evaluation_tasks)

    g, e = data_root / "3_generation", data_root / "4_evaluation"
    links_prompt_io = io.PartitionedTextIOManager(base_path=g / "links_prompts", overwrite=True)
    links_io = io.PartitionedTextIOManager(base_path=g / "links_responses", overwrite=False)
    essay_prompt_io = io.PartitionedTextIOManager(base_path=g / "essay_prompts", overwrite=True)
    essay_io = io.PartitionedTextIOManager(base_path=g / "essay_responses", overwrite=False)
    eval_prompt_io = io.PartitionedTextIOManager(base_path=e / "evaluation_prompts", overwrite=True)
    eval_io = io.PartitionedTextIOManager(base_path=e / "evaluation_responses", overwrite=False)
    client = client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0)

    truth = Truth(data_root=data_root, llm=llm)
    for _, row in link_tasks.iterrows():
        tid = row["link_task_id"]
        ctx = Context(tid, openrouter_client=client)
        prompt = two.links_prompt(ctx, link_tasks, content_combinations, link_templates)
        links_prompt_io.handle_output(ctx, prompt)
        links_io.handle_output(ctx, two.links_response(ctx, prompt, link_tasks))
        truth.tasks[tid] = Task("draft", tid, row["combo_id"], row["link_template"], row["generation_model"], calls=[llm.calls[-1]], outcomes=["ok"])
    for _, row in essay_tasks.iterrows():
        tid = row["essay_task_id"]
        ctx = Context(tid, openrouter_client=client, links_response_io_manager=links_io)
        prompt = two.essay_prompt(ctx, essay_tasks, essay_templates)
        essay_prompt_io.handle_output(ctx, prompt)
        essay_io.handle_output(ctx, two.essay_response(ctx, prompt, essay_tasks))
        truth.tasks[tid] = Task(
            "essay", tid, row["combo_id"], row["essay_template"], row["generation_model"],
            parent_task_id=row["link_task_id"], calls=[llm.calls[-1]], outcomes=["ok"],
        )
    for _, row in evaluation_tasks.iterrows():
        tid = row["evaluation_task_id"]
        ctx = Context(tid, openrouter_client=client, essay_response_io_manager=essay_io)
        prompt = ev.evaluation_prompt(ctx, evaluation_tasks, eval_templates)
        eval_prompt_io.handle_output(ctx, prompt)
        eval_io.handle_output(ctx, ev.evaluation_response(ctx, prompt, evaluation_tasks))
        parent = row["essay_task_id"]
        truth.tasks[tid] = Task(
            "evaluation", tid, truth.tasks[parent].combo_id, row["evaluation_template"], row["evaluation_model"],
            parent_task_id=parent, calls=[llm.calls[-1]], outcomes=["ok"],
        )
    return truth
