"""The legacy flat-file eras (before the gens store), with the pipeline's task tables and id lists.

Three eras, each as the real pipeline wrote it (see docs/backfill.md and shared/store-formats.md):

* ``legacy_single`` (d4d2215, 2025-08-18): ``3_generation/generation_prompts|generation_responses|
  parsed_generation_responses/<task>.txt``, evaluations ``4_evaluation/evaluation_prompts|
  evaluation_responses/<generation task>_<template>_<model>.txt``;
* ``legacy_two_phase`` (984d76b, 2025-08-20): ``links_prompts|links_responses`` (drafts, parsed only),
  ``essay_prompts|essay_responses``, evaluations ``<essay task>_<template>_<model>.txt``, unversioned;
* ``legacy_versioned`` (5c21221, 2025-09-05): ``draft_*``, ``essay_*`` with ``<task>_vN.txt`` and the
  ``*_responses_raw/`` side-writes, evaluations ``<document>__<template>__<model>_vN.txt`` (also of drafts).

Task ids join their parts with single underscores (model ids like ``gemini_2.5_flash``, template ids
like ``creative-synthesis-v10``). ``data/2_tasks/`` holds what a store that lived through the eras
has: the stale single-phase and links tables, and the versioned era's draft, essay and evaluation
tables (which replaced the older essay and evaluation tables); ``data/1_raw/`` the id lists. These
folders are migrated by ``gensql backfill`` only, never indexed by refresh.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from .plan import Planner
from .vocab import (
    DRAFT_LINES,
    ESSAY_LINES,
    EVAL_LINES,
    LEGACY_COPY_TEMPLATE,
    LEGACY_DRAFT_TEMPLATE,
    LEGACY_ESSAY_TEMPLATE,
    LEGACY_EVAL_MODELS,
    LEGACY_EVAL_TEMPLATES,
    LEGACY_GEN_MODELS,
    LEGACY_GENERATION_TEMPLATE,
    LEGACY_LINKS_TEMPLATE,
    LEGACY_MODELS,
    day,
)

#: Legacy eras, oldest first.
LEGACY_ERAS: tuple[str, ...] = ("legacy_single", "legacy_two_phase", "legacy_versioned")
#: era -> first day (days after 2025-03-01; the legacy eras come before the synthetic gens store).
_START = {"legacy_single": -9.0, "legacy_two_phase": -8.0, "legacy_versioned": -7.0}


@dataclass
class LegacyVersion:
    """One version of a legacy task: which files it has (paths relative to the data root)."""

    n: int  # 0: unversioned file name
    files: dict[str, str]  # "prompt" | "raw" | "parsed" -> path
    score: float | None = None  # evaluations: the final SCORE line of the response (None: none)


@dataclass
class LegacyTask:
    """One pipeline task of a legacy era and the facts its task id stands for."""

    era: str
    kind: str  # generation | links | draft | essay | evaluation (the task table it belongs to)
    stage: str  # draft | essay | evaluation
    task_id: str
    combo_id: str
    template_id: str
    model_id: str | None  # copy-mode essays: the draft's model (the task id names it)
    parent_task_id: str | None
    copy: bool = False
    versions: list[LegacyVersion] = field(default_factory=list)
    in_task_table: bool = False  # listed in a data/2_tasks table the sample ships
    imported_gen_id: str | None = None  # the 2025-09-24 importer already copied it into gens/

    @property
    def parent(self) -> str:
        """The parent task id, which every essay and evaluation task has."""
        if self.parent_task_id is None:
            raise ValueError(f"legacy task {self.task_id} ({self.stage}) has no parent task")
        return self.parent_task_id

    @property
    def model(self) -> str:
        """The model id, which every task but a copy-mode essay has."""
        if self.model_id is None:
            raise ValueError(f"legacy task {self.task_id} ({self.stage}) has no model")
        return self.model_id


class LegacyWriter:
    """Plans the legacy tasks of every legacy era and the bytes and mtimes of their files."""

    def __init__(self, b: Planner) -> None:
        self.b = b
        self.tasks: list[LegacyTask] = []
        self.files: dict[str, tuple[bytes, int]] = {}  # path relative to the data root -> (bytes, mtime)
        self.combos: list[str] = []
        #: essay template -> generator, as listed in 1_raw/essay_templates.csv
        self.essay_generators = {LEGACY_ESSAY_TEMPLATE: "llm", LEGACY_COPY_TEMPLATE: "copy"}

    # ---- texts ---------------------------------------------------------------------------------

    # The client returned ``text.strip()`` and the IO managers wrote it as is: no trailing newline.

    def _draft_texts(self) -> tuple[str, str]:
        body = "\n".join(self.b.lines(DRAFT_LINES, 2, 4))
        thinking = "\n".join(self.b.lines(DRAFT_LINES, 1, 2))
        return f"<thinking>\n{thinking}\n</thinking>\n<essay>\n{body}\n</essay>", body

    def _essay_text(self) -> str:
        return "\n\n".join(self.b.lines(ESSAY_LINES, 3, 5))

    def _eval_text(self, scored: bool = True) -> tuple[str, float | None]:
        reasons = "\n".join(self.b.lines(EVAL_LINES, 2, 3))
        if not scored:
            return reasons + "\nThe essay is hard to judge on this scale.", None
        s = float(min(9, max(0, round(self.b.rng.gauss(6.0, 1.5)))))
        return f"{reasons}\n\nSCORE: {s:g}", s

    def _prompt(self, what: str, template: str, body: str = "") -> str:
        return f"{what} ({template}).\n{self.b.fill('Combine {A} with {B}.')}\n{body}"

    def _put(self, path: str, text: str, t: int) -> str:
        assert path not in self.files, path
        self.files[path] = (text.encode("utf-8"), t)
        return path

    def _combo(self) -> str:
        combo = self.b.combo()
        self.combos.append(combo)
        return combo

    # ---- eras ----------------------------------------------------------------------------------

    def build(self) -> None:
        self.single_phase()
        self.two_phase()
        self.versioned()

    def single_phase(self) -> None:
        era, t = "legacy_single", day(_START["legacy_single"])
        for combo in (self._combo(), self._combo()):
            for model in LEGACY_GEN_MODELS:
                task = f"{combo}_{LEGACY_GENERATION_TEMPLATE}_{model}"
                raw, parsed = self._draft_texts()
                failed = combo == self.combos[-1] and model == LEGACY_GEN_MODELS[1]  # no parsed file: parse failed
                files = {
                    "prompt": self._put(
                        f"3_generation/generation_prompts/{task}.txt",
                        self._prompt("Write an essay", LEGACY_GENERATION_TEMPLATE),
                        t,
                    ),
                    "raw": self._put(f"3_generation/generation_responses/{task}.txt", raw, t + 60),
                }
                if not failed:
                    files["parsed"] = self._put(f"3_generation/parsed_generation_responses/{task}.txt", parsed, t + 61)
                self.tasks.append(
                    LegacyTask(
                        era,
                        "generation",
                        "draft",
                        task,
                        combo,
                        LEGACY_GENERATION_TEMPLATE,
                        model,
                        None,
                        versions=[LegacyVersion(0, files)],
                        in_task_table=True,
                    )
                )
                t += 300
                if failed:
                    continue
                vt, vm = LEGACY_EVAL_TEMPLATES[self.b.rng.randrange(2)], LEGACY_EVAL_MODELS[0]
                etask = f"{task}_{vt}_{vm}"
                text, score = self._eval_text()
                files = {
                    "prompt": self._put(
                        f"4_evaluation/evaluation_prompts/{etask}.txt", self._prompt("Evaluate", vt, parsed), t
                    ),
                    "parsed": self._put(f"4_evaluation/evaluation_responses/{etask}.txt", text, t + 20),
                }
                self.tasks.append(
                    LegacyTask(
                        era,
                        "evaluation",
                        "evaluation",
                        etask,
                        combo,
                        vt,
                        vm,
                        task,
                        versions=[LegacyVersion(0, files, score)],
                    )
                )
                t += 300

    def two_phase(self) -> None:
        era, t = "legacy_two_phase", day(_START["legacy_two_phase"])
        for combo in (self._combo(), self._combo()):
            for model in LEGACY_GEN_MODELS:
                link = f"{combo}_{LEGACY_LINKS_TEMPLATE}_{model}"
                _, links = self._draft_texts()
                files = {
                    "prompt": self._put(
                        f"3_generation/links_prompts/{link}.txt", self._prompt("List links", LEGACY_LINKS_TEMPLATE), t
                    ),
                    "parsed": self._put(f"3_generation/links_responses/{link}.txt", links, t + 40),
                }
                self.tasks.append(
                    LegacyTask(
                        era,
                        "links",
                        "draft",
                        link,
                        combo,
                        LEGACY_LINKS_TEMPLATE,
                        model,
                        None,
                        versions=[LegacyVersion(0, files)],
                        in_task_table=True,
                    )
                )
                essay = f"{link}_{LEGACY_ESSAY_TEMPLATE}"
                text = self._essay_text()
                files = {
                    "prompt": self._put(
                        f"3_generation/essay_prompts/{essay}.txt",
                        self._prompt("Write an essay", LEGACY_ESSAY_TEMPLATE, links),
                        t + 100,
                    ),
                    "parsed": self._put(f"3_generation/essay_responses/{essay}.txt", text, t + 160),
                }
                self.tasks.append(
                    LegacyTask(
                        era,
                        "essay",
                        "essay",
                        essay,
                        combo,
                        LEGACY_ESSAY_TEMPLATE,
                        model,
                        link,
                        versions=[LegacyVersion(0, files)],
                    )
                )
                vt, vm = LEGACY_EVAL_TEMPLATES[0], LEGACY_EVAL_MODELS[model == LEGACY_GEN_MODELS[1]]
                etask = f"{essay}_{vt}_{vm}"
                etext, score = self._eval_text()
                files = {
                    "prompt": self._put(
                        f"4_evaluation/evaluation_prompts/{etask}.txt", self._prompt("Evaluate", vt, text), t + 200
                    ),
                    "parsed": self._put(f"4_evaluation/evaluation_responses/{etask}.txt", etext, t + 230),
                }
                self.tasks.append(
                    LegacyTask(
                        era,
                        "evaluation",
                        "evaluation",
                        etask,
                        combo,
                        vt,
                        vm,
                        essay,
                        versions=[LegacyVersion(0, files, score)],
                    )
                )
                t += 600

    def versioned(self) -> None:
        era, t = "legacy_versioned", day(_START["legacy_versioned"])
        rng = self.b.rng
        for combo in (self._combo(), self._combo()):
            for model in LEGACY_GEN_MODELS:
                dtask = f"{combo}_{LEGACY_DRAFT_TEMPLATE}_{model}"
                draft = LegacyTask(
                    era, "draft", "draft", dtask, combo, LEGACY_DRAFT_TEMPLATE, model, None, in_task_table=True
                )
                # the era's first draft is always retried, so every store has a versioned retry
                n_versions = 2 if rng.random() < 0.5 or not any(x.era == era for x in self.tasks) else 1
                parsed, n_parsed = "", 0
                for n in range(1, n_versions + 1):
                    raw, parsed_n = self._draft_texts()
                    files = {
                        "prompt": self._put(
                            f"3_generation/draft_prompts/{dtask}_v{n}.txt",
                            self._prompt("Think about", LEGACY_DRAFT_TEMPLATE),
                            t,
                        ),
                        "raw": self._put(f"3_generation/draft_responses_raw/{dtask}_v{n}.txt", raw, t + 50),
                    }
                    if n == n_versions or rng.random() < 0.5:  # a retry: a truncated first call has no parsed file
                        n_parsed += 1  # version counters are per folder: raw _v2 may pair with parsed _v1
                        files["parsed"] = self._put(
                            f"3_generation/draft_responses/{dtask}_v{n_parsed}.txt", parsed_n, t + 51
                        )
                        parsed = parsed_n
                    draft.versions.append(LegacyVersion(n, files))
                    t += 120
                self.tasks.append(draft)
                for et in (LEGACY_ESSAY_TEMPLATE, LEGACY_COPY_TEMPLATE):
                    etask = f"{dtask}_{et}"
                    copy = et == LEGACY_COPY_TEMPLATE
                    text = parsed if copy else self._essay_text()
                    prompt = "COPY_MODE: no prompt needed" if copy else self._prompt("Write an essay", et, parsed)
                    files = {"prompt": self._put(f"3_generation/essay_prompts/{etask}_v1.txt", prompt, t)}
                    if not copy:
                        files["raw"] = self._put(f"3_generation/essay_responses_raw/{etask}_v1.txt", text, t + 70)
                    files["parsed"] = self._put(f"3_generation/essay_responses/{etask}_v1.txt", text, t + 71)
                    self.tasks.append(
                        LegacyTask(
                            era,
                            "essay",
                            "essay",
                            etask,
                            combo,
                            et,
                            model,
                            dtask,
                            copy=copy,
                            versions=[LegacyVersion(1, files)],
                            in_task_table=True,
                        )
                    )
                    t += 120
                    self._evaluation(era, etask, combo, text, t)
                    t += 60
                if model == LEGACY_GEN_MODELS[0] and combo == self.combos[-1]:
                    self._evaluation(era, dtask, combo, parsed, t)  # an evaluation of a draft (keeps its draft parent)
                    t += 60

    def _evaluation(self, era: str, document: str, combo: str, text: str, t: int) -> None:
        vt, vm = LEGACY_EVAL_TEMPLATES[0], LEGACY_EVAL_MODELS[0]
        task = f"{document}__{vt}__{vm}"
        etext, score = self._eval_text(scored=self.b.rng.random() < 0.9)
        files = {
            "prompt": self._put(
                f"4_evaluation/evaluation_prompts/{task}_v1.txt", self._prompt("Evaluate", vt, text), t
            ),
            "parsed": self._put(f"4_evaluation/evaluation_responses/{task}_v1.txt", etext, t + 25),
        }
        self.tasks.append(
            LegacyTask(
                era,
                "evaluation",
                "evaluation",
                task,
                combo,
                vt,
                vm,
                document,
                versions=[LegacyVersion(1, files, score)],
                in_task_table=True,
            )
        )

    # ---- the pipeline's tables -----------------------------------------------------------------

    def tables(self, docs_essay_templates: dict[str, str], t: int) -> None:
        """data/2_tasks/*.csv, data/1_raw/*.csv and combo_mappings.csv, as the last legacy run left them."""
        by = {task.task_id: task for task in self.tasks}

        def of(era: str, kind: str) -> list[LegacyTask]:
            return [x for x in self.tasks if x.era == era and x.kind == kind]

        self._csv(
            "2_tasks/generation_tasks.csv",
            ["generation_task_id", "combo_id", "generation_template", "generation_model", "generation_model_name"],
            [
                [x.task_id, x.combo_id, x.template_id, x.model_id, LEGACY_MODELS[x.model]]
                for x in of("legacy_single", "generation")
            ],
            t,
        )
        self._csv(
            "2_tasks/link_generation_tasks.csv",
            ["link_task_id", "combo_id", "link_template", "generation_model", "generation_model_name"],
            [
                [x.task_id, x.combo_id, x.template_id, x.model_id, LEGACY_MODELS[x.model]]
                for x in of("legacy_two_phase", "links")
            ],
            t,
        )
        self._csv(
            "2_tasks/draft_generation_tasks.csv",
            ["draft_task_id", "combo_id", "draft_template", "generation_model", "generation_model_name"],
            [
                [x.task_id, x.combo_id, x.template_id, x.model_id, LEGACY_MODELS[x.model]]
                for x in of("legacy_versioned", "draft")
            ],
            t,
        )
        self._csv(
            "2_tasks/essay_generation_tasks.csv",
            [
                "essay_task_id",
                "draft_task_id",
                "combo_id",
                "draft_template",
                "essay_template",
                "generation_model",
                "generation_model_name",
            ],
            [
                [
                    x.task_id,
                    x.parent_task_id,
                    x.combo_id,
                    by[x.parent].template_id,
                    x.template_id,
                    x.model_id,
                    LEGACY_MODELS[x.model],
                ]
                for x in of("legacy_versioned", "essay")
            ],
            t,
        )
        rows = []
        for x in of("legacy_versioned", "evaluation"):
            doc = by[x.parent]
            draft = doc if doc.stage == "draft" else by[doc.parent]
            essay = doc if doc.stage == "essay" else None
            rows.append(
                [
                    x.task_id,
                    doc.task_id,
                    "essay2p" if essay else "draft",
                    "two_phase",
                    f"/srv/daydreaming/data/{doc.versions[-1].files['parsed']}",
                    x.combo_id,
                    draft.template_id,
                    essay.template_id if essay else "",
                    draft.model_id,
                    LEGACY_MODELS[draft.model],
                    draft.task_id,
                    essay.task_id if essay else "",
                    "essay_response" if essay else "draft_response",
                    "essay_responses" if essay else "draft_responses",
                    x.template_id,
                    x.model_id,
                    LEGACY_MODELS[x.model],
                ]
            )
        self._csv(
            "2_tasks/evaluation_tasks.csv",
            [
                "evaluation_task_id",
                "document_id",
                "stage",
                "origin",
                "file_path",
                "combo_id",
                "draft_template",
                "essay_template",
                "generation_model",
                "generation_model_name",
                "draft_task_id",
                "essay_task_id",
                "source_asset",
                "source_dir",
                "evaluation_template",
                "evaluation_model",
                "evaluation_model_name",
            ],
            rows,
            t,
        )
        self._csv(
            "1_raw/llm_models.csv",
            ["id", "model", "provider", "display_name", "for_generation", "for_evaluation", "specialization"],
            [
                [
                    k,
                    v,
                    v.split("/")[0],
                    v.split("/")[1],
                    str(k in LEGACY_GEN_MODELS),
                    str(k in LEGACY_EVAL_MODELS),
                    "general",
                ]
                for k, v in LEGACY_MODELS.items()
            ],
            t,
        )
        plain = ["template_id", "template_name", "description", "active"]
        self._csv(
            "1_raw/generation_templates.csv",
            plain,
            [[LEGACY_GENERATION_TEMPLATE, "Creative Synthesis V7", "Single-phase essay", "False"]],
            t,
        )
        self._csv(
            "1_raw/link_templates.csv",
            plain,
            [[LEGACY_LINKS_TEMPLATE, "Creative Synthesis V10", "Links phase", "False"]],
            t,
        )
        self._csv(
            "1_raw/draft_templates.csv",
            plain + ["parser"],
            [
                [LEGACY_DRAFT_TEMPLATE, "Deliberate Rolling Thread V2", "Draft phase", "True", "essay_block"],
                [LEGACY_LINKS_TEMPLATE, "Creative Synthesis V10", "Links phase as draft", "False", "essay_block"],
            ],
            t,
        )
        self._csv(
            "1_raw/essay_templates.csv",
            plain + ["generator"],
            [
                [tid, tid.replace("-", " ").title(), "Essay phase", "True", gen]
                for tid, gen in sorted({**self.essay_generators, **docs_essay_templates}.items())
            ],
            t,
        )
        self._csv(
            "1_raw/evaluation_templates.csv",
            plain,
            [[tid, tid.replace("-", " ").title(), "Evaluation", "True"] for tid in LEGACY_EVAL_TEMPLATES],
            t,
        )
        concepts = ("combinatorial-search", "default-mode-network", "generator-verifier-gap")
        self._csv(
            "combo_mappings.csv",
            ["combo_id", "version", "concept_id", "description_level", "k_max", "created_at"],
            [
                [c, "v1", concept, "paragraph", "3", "2025-02-20T09:00:00"]
                for c in self.combos
                for concept in concepts[:2]
            ],
            t,
        )

    def _csv(self, path: str, header: list[str], rows: list[list], t: int) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(["" if v is None else v for v in r] for r in rows)
        self._put(path, buf.getvalue(), t)
