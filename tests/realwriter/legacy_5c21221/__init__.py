"""Era 5c21221 (2025-09-05): versioned flat files ``<task_id>_vN.txt`` plus ``*_responses_raw/`` side-writes.

Real code run (copied under ``daydreaming_dagster/``): the task-table assets ``draft_generation_tasks``
/ ``essay_generation_tasks`` / ``evaluation_tasks`` (assets/groups/group_task_definitions.py: evaluations
target essays *and* drafts, ``{document_id}__{template}__{model}``), ``draft_prompt`` /
``draft_response`` (raw side-write to draft_responses_raw/, parser from draft_templates.csv, truncation
fails after the raw write), ``essay_prompt`` / ``essay_response`` (generator modes from
essay_templates.csv: copy returns the draft text, and the raw side-write whose version regex never
matches, so it always writes ``_v1``), ``evaluation_prompt`` / ``evaluation_response``,
``VersionedTextIOManager`` / ``CSVIOManager`` with the base paths of that commit's definitions.py,
``ComboIDManager``, ``LLMClientResource.generate_with_info`` over the fake provider. ``GEN_TEMPLATES_ROOT``
(the real loader's override) points at ``<data_root>/1_raw/generation_templates``. Files of one run
get that run's simulated time (:class:`~realwriter.legacy_stubs.Clock`).

Scenario (the truth records it): draft task 0 runs twice (two versions); draft task 1 is truncated
once (raw ``_v1`` only) and then succeeds (raw ``_v2``, parsed ``_v1``); the llm essay of draft 0 runs
twice; every draft and essay is evaluated once, one evaluation twice.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..legacy_stubs import Clock, Context, FakeLLM, Task, Truth, concepts, flags, import_era, read_raw, use_llm

COMMIT = "5c21221d6e264047382818d5a10a476f31d47200"
HERE = Path(__file__).parent
GEN_MODELS = {"deepseek_r1_p", "gemini_2.5_flash"}
EVAL_MODELS = {"sonnet-4"}
DRAFT_TEMPLATES = {"deliberate-rolling-thread-v2"}
ESSAY_TEMPLATES = {"parsed-from-links-v1", "creative-synthesis-v10"}  # generator copy / llm
EVAL_TEMPLATES = {"daydreaming-verification-v2"}

DRAFT_TEXT = "Think about:\n{% for c in concepts %}- {{ c.name }}: {{ c.content }}\n{% endfor %}"
ESSAY_TEXT = "Write an essay from this draft:\n{{ draft_block }}"
EVAL_TEXT = "Evaluate the text below; end with a line SCORE: <0-9>.\n\n{{ response }}"


class _Config:
    draft_generation_max_tokens = 20480
    essay_generation_max_tokens = 4096
    min_draft_lines = 3


def build(data_root: Path, llm: FakeLLM | None = None, combos: int = 2) -> Truth:
    io, client_mod, tasks_mod, draft_mod, essay_mod, eval_mod, models, combo_ids = import_era(
        __name__, "resources.io_managers", "resources.llm_client", "assets.groups.group_task_definitions",
        "assets.groups.group_generation_draft", "assets.groups.group_generation_essays",
        "assets.groups.group_evaluation", "models", "utils.combo_ids",
    )
    data_root = Path(data_root)
    truncate_first = {"draft": None}

    def script(n, model, prompt):
        if truncate_first["draft"] and prompt.startswith("Think about") and truncate_first["draft"] == "armed":
            truncate_first["draft"] = "used"
            return f"Cut-off answer {n} from {model}\n<essay-idea>\nhalf", "length"
        return None

    llm = use_llm(llm or FakeLLM(script=script))
    raw = data_root / "1_raw"
    for phase in ("draft", "essay"):
        (raw / "generation_templates" / phase).mkdir(parents=True, exist_ok=True)
    for t in DRAFT_TEMPLATES:
        (raw / "generation_templates" / "draft" / f"{t}.txt").write_text(DRAFT_TEXT)
    for t in ESSAY_TEMPLATES:
        (raw / "generation_templates" / "essay" / f"{t}.txt").write_text(ESSAY_TEXT)
    (raw / "evaluation_templates").mkdir(parents=True, exist_ok=True)
    for t in EVAL_TEMPLATES:
        (raw / "evaluation_templates" / f"{t}.txt").write_text(EVAL_TEXT)
    llm_models = read_raw(HERE, "llm_models.csv")
    llm_models["for_generation"] = llm_models["id"].isin(GEN_MODELS)
    llm_models["for_evaluation"] = llm_models["id"].isin(EVAL_MODELS)
    llm_models.to_csv(raw / "llm_models.csv", index=False)
    flags(read_raw(HERE, "draft_templates.csv"), "active", DRAFT_TEMPLATES).to_csv(raw / "draft_templates.csv", index=False)
    flags(read_raw(HERE, "essay_templates.csv"), "active", ESSAY_TEMPLATES).to_csv(raw / "essay_templates.csv", index=False)
    flags(read_raw(HERE, "evaluation_templates.csv"), "active", EVAL_TEMPLATES).to_csv(raw / "evaluation_templates.csv", index=False)

    manager = combo_ids.ComboIDManager(mappings_path=str(data_root / "combo_mappings.csv"))
    cs = concepts(models.Concept, combos + 2)
    content_combinations = []
    for i in range(combos):
        chosen = cs[i : i + 3]
        cid = manager.get_or_create_combo_id([c.concept_id for c in chosen], "paragraph", 3)
        content_combinations.append(models.ContentCombination.from_concepts(chosen, "paragraph", combo_id=cid))

    res = dict(data_root=str(data_root), experiment_config=_Config())
    csv_io = io.CSVIOManager(base_path=data_root / "2_tasks")
    g, e = data_root / "3_generation", data_root / "4_evaluation"
    draft_prompt_io = io.VersionedTextIOManager(base_path=g / "draft_prompts")
    draft_io = io.VersionedTextIOManager(base_path=g / "draft_responses")
    essay_prompt_io = io.VersionedTextIOManager(base_path=g / "essay_prompts")
    essay_io = io.VersionedTextIOManager(base_path=g / "essay_responses")
    eval_prompt_io = io.VersionedTextIOManager(base_path=e / "evaluation_prompts")
    eval_io = io.VersionedTextIOManager(base_path=e / "evaluation_responses")
    client = client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0)
    clock = Clock()
    truth = Truth(data_root=data_root, llm=llm)

    saved_env = os.environ.get("GEN_TEMPLATES_ROOT")
    os.environ["GEN_TEMPLATES_ROOT"] = str(raw / "generation_templates")
    try:
        draft_tasks = tasks_mod.draft_generation_tasks(Context(**res), content_combinations)
        csv_io.handle_output(Context(asset_name="draft_generation_tasks"), draft_tasks)
        essay_tasks = tasks_mod.essay_generation_tasks(Context(**res), draft_tasks)
        csv_io.handle_output(Context(asset_name="essay_generation_tasks"), essay_tasks)

        def run(stage_task, prompt_fn, response_fn, prompt_io, response_io, **extra):
            ctx = Context(stage_task.task_id, openrouter_client=client, draft_response_io_manager=draft_io, **res, **extra)
            calls_before = len(llm.calls)
            with clock.run(data_root):
                prompt = prompt_fn(ctx)
                prompt_io.handle_output(ctx, prompt)
                try:
                    response_io.handle_output(ctx, response_fn(ctx, prompt))
                    outcome = "ok"
                except Exception as exc:  # the real assets raise Failure on truncation
                    if type(exc).__name__ != "Failure":
                        raise
                    outcome = "truncated"
            stage_task.calls.extend(llm.calls[calls_before:])
            stage_task.outcomes.append(outcome)

        for i, (_, row) in enumerate(draft_tasks.iterrows()):
            t = truth.tasks.setdefault(row["draft_task_id"], Task("draft", row["draft_task_id"], row["combo_id"], row["draft_template"], row["generation_model"]))
            runs = 2 if i in (0, 1) else 1
            for r in range(runs):
                if i == 1 and r == 0:
                    truncate_first["draft"] = "armed"
                run(
                    t,
                    lambda ctx: draft_mod.draft_prompt(ctx, draft_tasks, content_combinations),
                    lambda ctx, p: draft_mod.draft_response(ctx, p, draft_tasks),
                    draft_prompt_io, draft_io,
                )
        llm_essays_run = 0
        for _, row in essay_tasks.iterrows():
            copy = row["essay_template"] == "parsed-from-links-v1"
            t = truth.tasks.setdefault(
                row["essay_task_id"],
                Task("essay", row["essay_task_id"], row["combo_id"], row["essay_template"], row["generation_model"],
                     parent_task_id=row["draft_task_id"], mode="copy" if copy else "llm"),
            )
            runs = 1 if copy or llm_essays_run else 2
            llm_essays_run += 0 if copy else 1
            for _ in range(runs):
                run(
                    t,
                    lambda ctx: essay_mod.essay_prompt(ctx, essay_tasks),
                    lambda ctx, p: essay_mod.essay_response(ctx, p, essay_tasks),
                    essay_prompt_io, essay_io,
                )

        evaluation_tasks = tasks_mod.evaluation_tasks(Context(**res), essay_tasks, draft_tasks)
        csv_io.handle_output(Context(asset_name="evaluation_tasks"), evaluation_tasks)
        for i, (_, row) in enumerate(evaluation_tasks.iterrows()):
            parent = truth.tasks[row["document_id"]]
            t = Task("evaluation", row["evaluation_task_id"], row["combo_id"], row["evaluation_template"], row["evaluation_model"], parent_task_id=row["document_id"])
            truth.tasks[t.task_id] = t
            for _ in range(2 if i == 0 else 1):
                run(
                    t,
                    lambda ctx: eval_mod.evaluation_prompt(ctx, evaluation_tasks),
                    lambda ctx, p: eval_mod.evaluation_response(ctx, p, evaluation_tasks),
                    eval_prompt_io, eval_io,
                )
            assert parent
    finally:
        if saved_env is None:
            os.environ.pop("GEN_TEMPLATES_ROOT", None)
        else:
            os.environ["GEN_TEMPLATES_ROOT"] = saved_env
    return truth
