"""Seed 000's docs store, flat layout: era 869bab4 (2025-09-07, ``data/docs/<stage>/<doc_id>/``).

Real code run (copied under ``daydreaming_dagster/`` by ``../copy_real.py``): the assets
``draft_prompt``/``draft_response`` (assets/group_generation_draft.py), ``essay_prompt``/
``essay_response`` (group_generation_essays.py: generator mode from essay_templates.csv, copy mode
returns the draft's parsed text) and ``evaluation_prompt``/``evaluation_response``
(group_evaluation.py), which write each document through ``Document.write_files``
(utils/document.py) and insert its row with ``SQLiteDocumentsIndex.insert_document``
(utils/documents_index.py, via resources/documents_index.py) into ``data/db/documents.sqlite``;
the real ``LLMClientResource`` (resources/llm_client.py) over the fake provider of
:mod:`realwriter.legacy_stubs`. ``assets/__init__.py`` is a package marker, not the real file (which
imports every asset group). Stubbed: dagster, openai, tenacity, ratelimit.

The task tables are the tooling's input, built as that era's task definitions and partition
registration script did: draft ``{combo_id}_{draft_template}_{model_id}``, essay
``{draft_task_id}_{essay_template}`` with the draft's ``parent_doc_id``, evaluation
``{essay_doc_id}__{evaluation_template}__{evaluation_model}`` with the essay's ``parent_doc_id``.

Scenario: 2 combos x 1 draft template x 2 models = 4 drafts; per draft an LLM essay
(creative-synthesis-v10) and a copy essay (parsed-from-links-v1); one evaluation per essay by
sonnet-4, and the first evaluation task run a second time (two attempts of one product).
:func:`run` also drives the nested era (``realwriter.docs_0906``).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..gens_common import COMBOS, CONCEPTS, TEMPLATE_TEXT, EraTruth, Gen, import_gens_era, score_of, write_inputs
from ..legacy_stubs import Clock, Context, FakeLLM, use_llm

COMMIT = "869bab4"
HERE = Path(__file__).parent
GEN_MODELS = {"deepseek_r1_p", "gemini_25_pro"}
EVAL_MODEL = "sonnet-4"
TEMPLATES = {"draft": {"creative-synthesis-v2"}, "essay": {"creative-synthesis-v10", "parsed-from-links-v1"}, "evaluation": {"daydreaming-verification-v2"}}
COPY_TEMPLATES = {"parsed-from-links-v1"}
LAZY = ("utils.draft_parsers", "utils.eval_response_parser", "utils.filesystem_rows", "utils.document")


@contextmanager
def _env(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _documents(data_root: Path, stage: str) -> set[str]:
    """Doc ids under ``docs/<stage>/`` in either layout (a document directory holds metadata.json)."""
    return {p.parent.name for p in (data_root / "docs" / stage).glob("**/metadata.json")}


def build(data_root: Path, llm: FakeLLM | None = None) -> EraTruth:
    return run(__name__, HERE, data_root, llm)


def run(package: str, era_dir: Path, data_root: Path, llm: FakeLLM | None = None, *, by_task: bool = False) -> EraTruth:
    """Run the era's assets. ``by_task``: the earlier tables, where an evaluation names its essay by task
    id (``document_id``, ``stage``) and the real code looks the parent document up in the index."""
    names = ["assets.group_generation_draft", "assets.group_generation_essays", "assets.group_evaluation",
             "resources.llm_client", "resources.documents_index", "resources.experiment_config", "models"]
    lazy = [m for m in LAZY if (era_dir / "daydreaming_dagster" / (m.replace(".", "/") + ".py")).exists()]
    draft_mod, essay_mod, eval_mod, client_mod, index_mod, config_mod, models, *_ = import_gens_era(package, *names, *lazy)
    data_root = Path(data_root)
    llm = use_llm(llm or FakeLLM())
    write_inputs(data_root, era_dir, gen_models=GEN_MODELS, eval_models={EVAL_MODEL}, templates=TEMPLATES)
    for tpl in TEMPLATES["evaluation"]:
        path = data_root / "1_raw" / "evaluation_templates" / f"{tpl}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE_TEXT["evaluation"])
    provider = dict(pd.read_csv(data_root / "1_raw" / "llm_models.csv")[["id", "model"]].itertuples(index=False))
    concepts = {cid: models.Concept(concept_id=cid, name=name, descriptions={"paragraph": f"{name}: a paragraph about it."}) for cid, name in CONCEPTS.items()}
    combos = [models.ContentCombination.from_concepts([concepts[c] for c in cids], level="paragraph", combo_id=combo) for combo, cids in COMBOS.items()]
    truth = EraTruth(data_root)
    clock = Clock(start=1_757_160_000.0)
    config = config_mod.ExperimentConfig()
    resources = dict(
        data_root=str(data_root),
        experiment_config=config,
        documents_index=index_mod.DocumentsIndexResource(db_path=str(data_root / "db" / "documents.sqlite"), docs_root=str(data_root / "docs")),
        openrouter_client=client_mod.LLMClientResource(api_key="fake", mandatory_delay=0.0, data_root=str(data_root)),
    )

    def step(stage, task_id, tasks, prompt_fn, response_fn, gen: Gen, *prompt_args) -> Gen:
        ctx = Context(partition_key=task_id, asset_name=f"{stage}_response", **resources)
        ctx.run_id = gen.run_id
        calls = len(llm.calls)
        before = _documents(data_root, stage)
        with clock.run(data_root):
            prompt = prompt_fn(ctx, tasks, *prompt_args)
            response_fn(ctx, prompt, tasks)
        added = _documents(data_root, stage) - before
        assert len(added) == 1, added
        gen.gen_id = added.pop()  # the real code makes the id from the time: read it from the new directory
        if len(llm.calls) > calls:
            call = llm.calls[-1]
            gen.completion_tokens, gen.max_tokens = call.completion_tokens, call.max_tokens
            gen.score = score_of(call.text) if stage == "evaluation" else None
        return truth.add(gen)

    with _env(GEN_TEMPLATES_ROOT=str(data_root / "1_raw" / "generation_templates"), DD_DOCS_INDEX_ENABLED="1"):
        draft_rows = [
            {"draft_task_id": f"{combo}_{tpl}_{model}", "combo_id": combo, "draft_template": tpl, "generation_model": model, "generation_model_name": provider[model]}
            for combo in COMBOS for tpl in sorted(TEMPLATES["draft"]) for model in sorted(GEN_MODELS)
        ]
        draft_tasks = pd.DataFrame(draft_rows)
        drafts = []
        for row in draft_rows:
            gen = Gen("draft", "", row["draft_template"], row["generation_model"], row["combo_id"], None, 1, "llm", run_id=f"run-{row['draft_task_id'][-12:]}")
            drafts.append((row, step("draft", row["draft_task_id"], draft_tasks, draft_mod.draft_prompt, draft_mod.draft_response, gen, combos)))
        essay_rows = [
            {"essay_task_id": f"{d['draft_task_id']}_{tpl}", "draft_task_id": d["draft_task_id"], "combo_id": d["combo_id"], "draft_template": d["draft_template"],
             "essay_template": tpl, "generation_model": d["generation_model"], "generation_model_name": d["generation_model_name"], "parent_doc_id": g.gen_id}
            for d, g in drafts for tpl in sorted(TEMPLATES["essay"])
        ]
        essay_tasks = pd.DataFrame(essay_rows)
        essays = []
        for row in essay_rows:
            mode = "copy" if row["essay_template"] in COPY_TEMPLATES else "llm"
            gen = Gen("essay", "", row["essay_template"], row["generation_model"], None, row["parent_doc_id"], 1, mode, run_id=f"run-{row['essay_task_id'][-12:]}")
            essays.append(step("essay", row["essay_task_id"], essay_tasks, essay_mod.essay_prompt, essay_mod.essay_response, gen))
        eval_rows = []
        for e, essay_row in zip(essays, essay_rows):
            target = essay_row["essay_task_id"] if by_task else e.gen_id
            for tpl in sorted(TEMPLATES["evaluation"]):
                row = {"evaluation_task_id": f"{target}__{tpl}__{EVAL_MODEL}", "document_id": target, "evaluation_template": tpl,
                       "evaluation_model": EVAL_MODEL, "evaluation_model_name": provider[EVAL_MODEL], "_parent": e.gen_id}
                row.update({"stage": "essay"} if by_task else {"parent_doc_id": e.gen_id})
                eval_rows.append(row)
        eval_tasks = pd.DataFrame(eval_rows)
        for i, row in enumerate(eval_rows + eval_rows[:1]):  # the first evaluation task runs twice
            gen = Gen("evaluation", "", row["evaluation_template"], EVAL_MODEL, None, row["_parent"], 1, "llm", run_id=f"run-eval-{i}")
            step("evaluation", row["evaluation_task_id"], eval_tasks, eval_mod.evaluation_prompt, eval_mod.evaluation_response, gen)
    truth.llm = llm
    gc.collect()  # the real index objects never close their connections: end them as the run's process would
    return truth
