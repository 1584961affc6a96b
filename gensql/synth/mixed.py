"""The mixed profile: every era and every anomaly a reader must survive, in families, reruns and cohorts."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

from ..layout import (
    COHORTS_DIR,
    DOCS_DB_FILE,
    GENS_DIR,
    MEMBERSHIP_FILE,
    METADATA_FILE,
    PARSED_FILE,
    PARSED_METADATA_FILE,
    PROMPT_FILE,
    RAW_FILE,
    RAW_METADATA_FILE,
    STAGES,
)
from .era_current import render_split
from .era_docs import ERA_FLAT, ERA_NESTED, DocRow, render_doc, write_db
from .era_fat import ERA as FAT
from .era_fat import MEMBERSHIP_COLUMNS as FAT_COLUMNS
from .era_fat import render_fat
from .era_imported import render_imported
from .era_importer import ERA as IMPORTER
from .era_importer import import_task
from .era_legacy import LegacyWriter
from .era_single import render_single
from .judges import PlantedJudges
from .model import GenDir, touch, write_gen
from .plan import (
    COHORT_BASELINE,
    COHORT_EXPORT,
    COHORT_FAT,
    COHORT_LEGACY,
    COHORT_RERUN,
    ERA_COHORT,
    ERA_SHARE,
    WINDOWS,
    Plan,
    Planner,
    group_of,
)
from .truth import Borrowed, ExpectedError, StoreTruth, finish_truth
from .vocab import (
    COPY_TEMPLATE,
    DRAFT_TEMPLATES,
    ESSAY_TEMPLATES,
    EVAL_LINES,
    EVAL_MODELS,
    EVAL_TEMPLATES,
    LEGACY_COPY_TEMPLATE,
    LEGACY_DRAFT_TEMPLATE,
    LEGACY_ESSAY_TEMPLATE,
    LEGACY_EVAL_MODELS,
    LEGACY_EVAL_TEMPLATES,
    LEGACY_GEN_MODELS,
    LEGACY_LINKS_TEMPLATE,
    MODELS,
    RERUN_EVAL_TEMPLATE,
    b36,
    day,
)

#: Optional, informational per-cohort file (layout.py has no constant for it: gensql never reads it).
COHORT_MANIFEST_FILE = "manifest.json"
#: A stray file written directly in a stage directory (an ``unexpected_entry``).
STRAY_FILE = "notes.txt"


#: Generation directories of the real eras whatever n is (importer copies, docs documents), and
#: of one 2025-09-15 family (a draft, two essays, about four evaluations).
_REAL_FIXED = 27
_FAT_FAMILY = 8


class MixedBuilder(Planner):
    """Plans, renders and registers the generations of a mixed store, then writes it with its truth."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.gens: list[GenDir] = []
        self.by_id: dict[str, GenDir] = {}
        self.members: dict[str, list[tuple[str, str, dict]]] = {}
        self.legacy = LegacyWriter(self)
        self.doc_rows: list[DocRow] = []
        #: era -> combo -> (draft templates of its families, the evaluation templates its essays are judged on)
        self.combo_templates: dict[str, dict[str, tuple[set[str], list[str]]]] = {}

    # ---- rendering -----------------------------------------------------------------------------

    def render(self, p: Plan) -> GenDir:
        g = GenDir(p.stage, p.gen_id, p.era, group_of(p), p.cohort)
        essay_task = {"draft": None, "essay": p.task_id, "evaluation": p.parent_task}[p.stage]
        g.row = {
            "task_id": p.task_id,
            "parent_gen_id": p.parent,
            "combo_id": p.combo,
            "template_id": p.template,
            "llm_model_id": p.model,
            "replicate": p.replicate,
            "essay_task_id": essay_task,
        }
        if p.era in ("current", "transition"):
            render_split(p, g, self.rng)
        elif p.era == "single":
            render_single(p, g, self.rng)
        elif p.era == FAT:
            render_fat(p, g, self.rng)
        else:
            render_imported(p, g, self.rng)
        if p.stage == "evaluation":
            g.score = p.score if PARSED_FILE in g.text else None
        g.dir_mtime = max(g.mtime.values()) if g.mtime else p.t_plan
        return g

    # ---- registration --------------------------------------------------------------------------

    def add(self, p: Plan, *, members: tuple[str, ...] | None = None) -> GenDir:
        g = self.render(p)
        self.gens.append(g)
        self.by_id[g.gen_id] = g
        cohorts = members if members is not None else ((p.cohort,) if p.cohort else (ERA_COHORT.get(p.era),))
        for c in cohorts:
            if c:
                self.member(c, g)
        return g

    def gen(self, stage: str, era: str, *, members: tuple[str, ...] | None = None, **kw: Any) -> GenDir:
        return self.add(self.plan(stage, era, **kw), members=members)

    def member(self, cohort: str, g: GenDir | tuple[str, str]) -> None:
        if isinstance(g, GenDir):
            self.members.setdefault(cohort, []).append((g.stage, g.gen_id, g.row))
        else:
            self.members.setdefault(cohort, []).append((g[0], g[1], {}))

    # ---- bulk ----------------------------------------------------------------------------------

    def family(self, era: str) -> list[GenDir]:
        """One draft product (with replicates), its essays, and their evaluations."""
        rng = self.rng
        out: list[GenDir] = []
        # a combo is sometimes drafted again with another draft template (so draft templates pair up on combos)
        drafted = self.combo_templates.setdefault(era, {})
        again = sorted(c for c, (used, _) in drafted.items() if len(used) < len(DRAFT_TEMPLATES))
        if again and rng.random() < 0.5:
            combo = rng.choice(again)
            dtemplate = rng.choice([t for t in DRAFT_TEMPLATES if t not in drafted[combo][0]])
        else:
            combo = self.combo()
            dtemplate = rng.choice(DRAFT_TEMPLATES)
            # the combo's essays are judged on the same criteria, so essay and draft templates pair up
            drafted[combo] = (set(), rng.sample(EVAL_TEMPLATES, rng.choices((1, 2), (60, 40))[0]))
        drafted[combo][0].add(dtemplate)
        criteria = drafted[combo][1]
        dmodel = rng.choice(MODELS)
        n_rep = rng.choices((1, 2, 3), (75, 18, 7))[0]
        for rep in range(1, n_rep + 1):
            links = era == "imported" and rng.random() < 0.4
            d = self.gen(
                "draft",
                era,
                combo=combo,
                template=dtemplate,
                model=dmodel,
                replicate=rep,
                outcome="ok" if links else None,
                links=links,
            )
            out.append(d)
            if PARSED_FILE not in d.text:
                continue
            pool = list(ESSAY_TEMPLATES) + ([COPY_TEMPLATE] if era != "imported" else [])
            for et in rng.sample(pool, min(len(pool), rng.choices((1, 2, 3), (20, 45, 35))[0])):
                e = self.gen(
                    "essay",
                    era,
                    parent=d,
                    template=et,
                    with_prompt=not (et == COPY_TEMPLATE and era == "single" and rng.random() < 0.5),
                )
                out.append(e)
                if PARSED_FILE not in e.text:
                    continue
                # a panel: every judge scores the essay on each chosen criterion, but one sometimes
                # does not (missing ratings); replicates are frequent (self-agreement needs them)
                for vt in criteria:
                    for vm in EVAL_MODELS:
                        if rng.random() < 0.15:
                            continue
                        for r in range(1, rng.choices((1, 2, 3), (55, 35, 10))[0] + 1):
                            out.append(self.gen("evaluation", era, parent=e, template=vt, model=vm, replicate=r))
        return out

    def rerun(self, baseline: list[GenDir], budget: int) -> None:
        """A later cohort: retries of baseline products, new evaluations of reused essays."""
        rng = self.rng
        evals = [g for g in baseline if g.stage == "evaluation"]
        failed = [g for g in evals if PARSED_FILE not in g.text]
        good = [g for g in evals if PARSED_FILE in g.text]
        chosen = failed[: max(1, budget // 2)] + rng.sample(good, min(len(good), max(1, budget // 6)))
        made = 0
        for old in chosen:
            p = self.plan(
                "evaluation",
                "current",
                window="rerun",
                cohort=COHORT_RERUN,
                parent=self.by_id[old.row["parent_gen_id"]],
                template=old.row["template_id"],
                model=old.row["llm_model_id"],
                replicate=old.row["replicate"],
                outcome=rng.choice(("ok",) * 9 + ("truncated",)),
            )
            assert group_of(p) == old.group
            self.add(p)
            made += 1
            assert p.parent is not None  # an evaluation's parent essay
            essay = self.by_id[p.parent]
            self.reuse(essay)
        drafts = [g for g in baseline if g.stage == "draft" and PARSED_FILE not in g.text]
        for old in drafts[:2]:
            p = self.plan(
                "draft",
                "current",
                window="rerun",
                cohort=COHORT_RERUN,
                combo=old.row["combo_id"],
                template=old.row["template_id"],
                model=old.row["llm_model_id"],
                replicate=old.row["replicate"],
                outcome="ok",
            )
            assert group_of(p) == old.group
            self.add(p)
            made += 1
        essays = [g for g in baseline if g.stage == "essay" and PARSED_FILE in g.text]
        for e in rng.sample(essays, min(len(essays), max(1, (budget - made) // 2))):
            self.add(
                self.plan(
                    "evaluation",
                    "current",
                    window="rerun",
                    cohort=COHORT_RERUN,
                    parent=e,
                    template=RERUN_EVAL_TEMPLATE,
                    model=rng.choice(EVAL_MODELS),
                    outcome=rng.choice(("ok",) * 9 + ("parse_error",)),
                )
            )
            self.reuse(e)

    def reuse(self, essay: GenDir) -> None:
        """List a baseline essay and its draft in the rerun cohort too (membership is many-to-many)."""
        listed = {gid for _, gid, _ in self.members.get(COHORT_RERUN, [])}
        for g in (essay, self.by_id.get(str(essay.row.get("parent_gen_id")))):
            if g is not None and g.gen_id not in listed:
                self.member(COHORT_RERUN, g)

    # ---- the anomaly kit: every case the mixed profile guarantees, whatever n is ---------------

    def kit(self) -> None:
        C, T, S, I = "current", "transition", "single", "imported"

        # current era: a chain to hang anomalies on
        d = self.gen("draft", C, outcome="ok", shape="cm")
        e = self.gen("essay", C, parent=d, template=ESSAY_TEMPLATES[0], outcome="ok", shape="openai")
        self.gen("evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[0], outcome="ok", shape="cm")
        self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[1], outcome="ok", shape="total"
        )
        self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[2], outcome="ok", shape="anthropic"
        )
        self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[3], outcome="ok", shape="null"
        )
        # replicates: intended repeats of one evaluation (different logical products)
        for r in (1, 2, 3):
            self.gen(
                "evaluation",
                C,
                parent=e,
                template=EVAL_TEMPLATES[1],
                model=EVAL_MODELS[0],
                replicate=r,
                outcome="ok",
                shape="cm",
            )
        # copy-mode essay (current: raw.txt is the parent's text, finish_reason "copy")
        ce = self.gen("essay", C, parent=d, template=COPY_TEMPLATE)
        self.gen("evaluation", C, parent=ce, template=EVAL_TEMPLATES[2], outcome="ok", shape="cm")
        # truncations
        self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[2],
            model=EVAL_MODELS[0],
            outcome="truncated",
            trunc="length",
        )
        self.gen("essay", C, parent=d, template=ESSAY_TEMPLATES[1], outcome="truncated", trunc="cap")
        self.gen(
            "essay", C, parent=d, template=ESSAY_TEMPLATES[2], outcome="truncated", trunc="provider", trunc_parsed=True
        )
        self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[2],
            model=EVAL_MODELS[1],
            outcome="truncated",
            trunc="openai",
        )
        # parse failures, unparseable score, parser flag false, never ran, failed call, empty raw
        d2 = self.gen("draft", C, outcome="parse_error", shape="cm")
        self.gen(
            "draft",
            C,
            outcome="parse_flag_false",
            shape="cm",
            combo=d2.row["combo_id"],
            template=d2.row["template_id"],
            model=d2.row["llm_model_id"],
            replicate=2,
        )
        self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[2],
            model=EVAL_MODELS[2],
            outcome="unparseable",
            shape="cm",
        )
        self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[2],
            model=EVAL_MODELS[3],
            outcome="parse_error",
            shape="cm",
        )
        self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[1],
            model=EVAL_MODELS[1],
            outcome="skipped",
            with_prompt=False,
        )
        failed = self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[1], model=EVAL_MODELS[2], outcome="gen_error"
        )
        self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[1], model=EVAL_MODELS[3], outcome="empty_raw", shape="cm"
        )
        # a retry of the failed call in a later cohort: the same logical product
        retry = self.gen(
            "evaluation",
            C,
            window="rerun",
            cohort=COHORT_RERUN,
            parent=e,
            template=EVAL_TEMPLATES[1],
            model=EVAL_MODELS[2],
            outcome="ok",
            shape="cm",
        )
        assert retry.group == failed.group
        self.reuse(e)
        # lineage: a missing parent, a parent under the wrong stage
        self.gen(
            "evaluation",
            C,
            parent=self.new_id("essay", C, suffix=False),
            template=EVAL_TEMPLATES[0],
            outcome="ok",
            parent_text=e.text[PARSED_FILE],
        )
        self.gen(
            "evaluation", C, parent=d.gen_id, template=EVAL_TEMPLATES[1], outcome="ok", parent_text=d.text[PARSED_FILE]
        )
        # stale ids after a rename: the directory got a collision suffix, the JSON did not
        stale = self.gen(
            "essay",
            C,
            parent=d,
            template=ESSAY_TEMPLATES[0],
            replicate=2,
            outcome="ok",
            gen_id=self.new_id("essay", C, suffix=True),
        )
        for j in stale.json.values():
            j.set("meta_gen_id", stale.gen_id[:-2])
        self.gen("evaluation", C, parent=stale, template=EVAL_TEMPLATES[0], outcome="ok")

        # malformed files (mostly secondary files)
        g = self.gen("evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=MODELS[4], outcome="ok")
        g.corrupt[RAW_METADATA_FILE] = "invalid_json"
        g = self.gen(
            "evaluation", C, parent=e, template=EVAL_TEMPLATES[0], model=MODELS[5], outcome="truncated", trunc="length"
        )
        g.corrupt[RAW_METADATA_FILE] = "not_an_object"  # the truncation evidence is lost with it
        g = self.gen("evaluation", C, parent=e, template=EVAL_TEMPLATES[1], model=MODELS[4], outcome="ok")
        g.corrupt[PARSED_METADATA_FILE] = "empty_file"
        g = self.gen("draft", C, outcome="parse_error", shape="cm")
        g.corrupt[PARSED_METADATA_FILE] = "not_utf8"
        g = self.gen("draft", C, outcome="ok", shape="anthropic")
        g.corrupt[RAW_METADATA_FILE] = "empty_file"
        g = self.gen("draft", C, outcome="ok", shape="cm")
        g.corrupt[METADATA_FILE] = "invalid_json"
        g = self.gen("evaluation", C, parent=e, template=EVAL_TEMPLATES[1], model=MODELS[5], outcome="ok", shape="cm")
        g.corrupt[METADATA_FILE] = "empty_file"
        g = self.gen("evaluation", C, parent=e, template=EVAL_TEMPLATES[2], model=MODELS[4], outcome="ok", shape="cm")
        g.json[RAW_METADATA_FILE].bad_value("recorded_truncated", "sometimes")
        # no metadata.json at all
        g = self.gen(
            "evaluation",
            C,
            parent=e,
            template=EVAL_TEMPLATES[2],
            model=MODELS[4],
            replicate=2,
            outcome="ok",
            shape="cm",
        )
        g.drop(METADATA_FILE)
        g = self.gen("essay", C, parent=d, template=ESSAY_TEMPLATES[2], replicate=2, outcome="skipped")
        g.drop(METADATA_FILE)
        if PROMPT_FILE not in g.text:
            g.add_text(PROMPT_FILE, self.prompt("essay", ESSAY_TEMPLATES[2], d.text[PARSED_FILE]), g.dir_mtime)

        # transition era: placeholders in metadata.json, real values in raw_metadata.json
        td = self.gen("draft", T, outcome="ok", shape="cm")
        te = self.gen("essay", T, parent=td, template=ESSAY_TEMPLATES[0], outcome="ok", shape="cm")
        self.gen(
            "evaluation",
            T,
            parent=te,
            template=EVAL_TEMPLATES[0],
            model=EVAL_MODELS[0],
            outcome="truncated",
            trunc="length",
        )
        g = self.gen(
            "evaluation", T, parent=te, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[1], outcome="ok", shape="cm"
        )
        g.corrupt[RAW_METADATA_FILE] = "invalid_json"  # placeholders are all that is left
        self.gen("evaluation", T, parent=te, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[2], outcome="skipped")

        # single-file era
        sd = self.gen("draft", S, outcome="ok")
        se = self.gen("essay", S, parent=sd, template=ESSAY_TEMPLATES[0], outcome="ok")
        self.gen("essay", S, parent=sd, template=COPY_TEMPLATE, with_prompt=False)
        self.gen("essay", S, parent=sd, template=COPY_TEMPLATE, replicate=2, with_prompt=True)
        self.gen("evaluation", S, parent=se, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[0], outcome="ok")
        g = self.gen("evaluation", S, parent=se, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[1], outcome="ok")
        reasons = "\n".join(self.lines(EVAL_LINES, 2, 3))
        text = (
            f"First pass:\n{reasons}\nSCORE: 5\nOn reflection the mechanism is more specific than it "
            f"first looked.\nSCORE: 7\n"
        ).encode()
        g.add_text(RAW_FILE, text, g.mtime[RAW_FILE])
        g.set_parsed(text, 7.0)
        self.gen("evaluation", S, parent=se, template=EVAL_TEMPLATES[1], outcome="skipped")
        self.gen(
            "evaluation",
            S,
            parent=se,
            template=EVAL_TEMPLATES[1],
            model=EVAL_MODELS[3],
            outcome="truncated",
            trunc="length",
        )
        g = self.gen("evaluation", S, parent=se, template=EVAL_TEMPLATES[2], model=EVAL_MODELS[0], outcome="ok")
        g.json[METADATA_FILE].bad_value("duration_s", "about 3s", key="duration_ms")

        # imported era
        idr = self.gen("draft", I, outcome="ok")
        ilinks = self.gen("draft", I, outcome="ok", links=True)
        ie = self.gen("essay", I, parent=idr, template=ESSAY_TEMPLATES[0], outcome="ok")
        ie.json[PARSED_METADATA_FILE].set(
            "model_id", None, key=ie.json[METADATA_FILE].keys.get("model_id", "llm_model_id"), raw="nan"
        )  # null-like never overrides the real value
        # an essay pointing at a legacy task id instead of a gen id
        self.gen(
            "essay",
            I,
            parent=f"{ilinks.row['combo_id']}_links-v4_{ilinks.row['llm_model_id']}",
            template=ESSAY_TEMPLATES[1],
            outcome="ok",
            parent_text=ilinks.text[PARSED_FILE],
        )
        self.gen("evaluation", I, parent=ie, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[0], outcome="ok")
        self.gen(
            "evaluation", I, parent=ie, template=EVAL_TEMPLATES[0], model=EVAL_MODELS[0], replicate=2, outcome="ok"
        )
        self.gen("evaluation", I, parent=ie, template=EVAL_TEMPLATES[1], model=EVAL_MODELS[1], outcome="unparseable")
        g = self.gen(
            "evaluation", I, parent=ie, template=EVAL_TEMPLATES[2], model=EVAL_MODELS[2], replicate=2, outcome="ok"
        )
        g.json[METADATA_FILE].bad_value("replicate", "two")
        # an evaluation that lost its parent (null-like parent id)
        g = self.gen(
            "evaluation",
            I,
            parent=None,
            template=EVAL_TEMPLATES[2],
            model=EVAL_MODELS[3],
            outcome="ok",
            parent_text=ie.text[PARSED_FILE],
        )
        g.json[METADATA_FILE].set("parent_gen_id", None, raw="")
        # mislabelled stage inside the JSON
        g = self.gen("draft", I, outcome="ok")
        g.json[METADATA_FILE].set("meta_stage", "essay")
        g.json[PARSED_METADATA_FILE].set("meta_stage", "essay")

    # ---- the real pipeline's other eras -------------------------------------------------------

    @staticmethod
    def fat_families(n: int) -> int:
        """Families of the 09-15 era in a store of about ``n`` generations: ~5% of it, at least two."""
        return max(2, int(n * 0.05 / _FAT_FAMILY))

    def real_eras(self, fat_families: int) -> None:
        """Legacy flat files, the 09-24 importer's gens, seed 000's docs store, the 09-15 gens store."""
        self.legacy.build()
        self.importer()
        self.docs()
        for _ in range(fat_families):
            self.fat_family()

    def importer(self) -> None:
        """The 2025-09-24 importer's copies of the two-phase era's essays and evaluations."""
        t = day(-2.5)
        essays: dict[str, str] = {}
        for task in [
            x for x in self.legacy.tasks if x.era == "legacy_two_phase" and x.stage in ("essay", "evaluation")
        ]:
            texts = {kind: self.legacy.files[path][0] for kind, path in task.versions[0].files.items()}
            gen_id = self.new_id(task.stage, IMPORTER)
            parent = essays.get(task.parent) if task.stage == "evaluation" else None
            g = import_task(
                task,
                gen_id,
                texts,
                parent,
                t,
                LEGACY_LINKS_TEMPLATE,
                LEGACY_ESSAY_TEMPLATE if task.stage == "evaluation" else None,
            )
            if task.stage == "essay":
                essays[task.task_id] = gen_id
            task.imported_gen_id = gen_id
            self.gens.append(g)
            self.by_id[gen_id] = g
            t += 2

    def docs(self) -> None:
        """Seed 000's docs store: one family in the nested layout, one in the flat layout."""
        rng = self.rng
        for era, t0 in ((ERA_NESTED, day(-6.6)), (ERA_FLAT, day(-6.1))):
            nested = era == ERA_NESTED
            run_id = "%08x-%04x-%04x-%04x-%012x" % tuple(rng.getrandbits(b) for b in (32, 16, 16, 16, 48))
            combo, model = self.combo(), LEGACY_GEN_MODELS[nested]
            t = t0

            def doc(
                stage, task, template, doc_model, parent, prompt, raw, parsed, score, group, *, combo=None, bucket=None
            ):
                nonlocal t
                t += rng.randint(40, 200)
                doc_id, lk = self.new_id(stage, era), bucket or b36(rng.getrandbits(80) % 36**16, 16)
                function = None if nested else f"{stage}_response"  # recorded from be0338f (09-07) on
                in_db = nested or stage != "essay"  # the flat commits' essays never reached the index
                g = render_doc(
                    stage,
                    doc_id,
                    era,
                    lk if nested else None,
                    task_id=task,
                    template=template,
                    model=doc_model,
                    parent=parent,
                    combo=combo,
                    function=function,
                    prompt=prompt,
                    raw=raw,
                    parsed=parsed,
                    score=score,
                    t=t,
                    group=group,
                )
                self.gens.append(g)
                self.by_id[doc_id] = g
                if in_db:
                    from datetime import datetime, timedelta

                    when = datetime.fromtimestamp(t, tz=UTC) + timedelta(milliseconds=rng.randrange(1, 1000))
                    self.doc_rows.append(
                        DocRow(
                            doc_id,
                            lk,
                            stage,
                            task,
                            parent,
                            template,
                            doc_model,
                            run_id,
                            when,
                            g.rel()[len("docs/") :],
                            len(raw.decode()),
                            len(parsed.decode()),
                            function,
                        )
                    )
                return g

            dtask = f"{combo}_{LEGACY_DRAFT_TEMPLATE}_{model}"
            raw, parsed = self.legacy._draft_texts()
            d = doc(
                "draft",
                dtask,
                LEGACY_DRAFT_TEMPLATE,
                model,
                None,
                self.legacy._prompt("Think about", LEGACY_DRAFT_TEMPLATE).encode(),
                raw.encode(),
                parsed.encode(),
                None,
                f"draft|{combo}|{LEGACY_DRAFT_TEMPLATE}|{model}|1",
                combo=combo,
            )
            for et in (LEGACY_ESSAY_TEMPLATE, LEGACY_COPY_TEMPLATE):
                etask = f"{dtask}_{et}"
                copy = et == LEGACY_COPY_TEMPLATE
                text = parsed if copy else self.legacy._essay_text()
                # copy essays: the prompt asset's COPY_MODE string (nested era), no prompt.txt later
                prompt = (
                    (b"COPY_MODE: no prompt needed" if nested else None)
                    if copy
                    else self.legacy._prompt("Write an essay", et, parsed).encode()
                )
                e = doc(
                    "essay",
                    etask,
                    et,
                    model,
                    d.gen_id,
                    prompt,
                    text.encode(),
                    text.encode(),
                    None,
                    f"essay|{d.gen_id}|{et}|1",
                )
                for k, vm in enumerate(LEGACY_EVAL_MODELS):
                    vt = LEGACY_EVAL_TEMPLATES[0]
                    etext, score = self.legacy._eval_text(scored=not (not nested and not copy and k == 1))
                    vtask = f"{etask if nested else e.gen_id}__{vt}__{vm}"  # the flat era names the essay doc
                    v = doc(
                        "evaluation",
                        vtask,
                        vt,
                        vm,
                        e.gen_id,
                        self.legacy._prompt("Evaluate", vt, text).encode(),
                        etext.encode(),
                        etext.encode(),
                        score,
                        f"evaluation|{e.gen_id}|{vt}|{vm}|1",
                    )
                    if nested and not copy and k == 0:  # a re-run: a second document in the same logical-key bucket
                        etext, score = self.legacy._eval_text()
                        doc(
                            "evaluation",
                            vtask,
                            vt,
                            vm,
                            e.gen_id,
                            self.legacy._prompt("Evaluate", vt, text).encode(),
                            etext.encode(),
                            etext.encode(),
                            score,
                            v.group,
                            bucket=v.bucket,
                        )

    def fat_family(self) -> None:
        """A 2025-09-15 family: a draft, an LLM essay and a copy essay, evaluations; membership has the combo."""
        rng = self.rng
        combo = self.combo()
        model = LEGACY_GEN_MODELS[rng.randrange(2)]

        def add(p: Plan, row: dict) -> GenDir:
            g = self.render(p)
            g.row = {
                "cohort_id": COHORT_FAT,
                "parent_gen_id": p.parent,
                "combo_id": combo,
                "template_id": p.template,
                **row,
            }
            self.gens.append(g)
            self.by_id[g.gen_id] = g
            self.member(COHORT_FAT, g)
            return g

        d = add(
            self.plan("draft", FAT, template=LEGACY_DRAFT_TEMPLATE, model=model, combo=combo, outcome="ok"),
            {"llm_model_id": model, "replicate": 1},
        )
        for et in (LEGACY_ESSAY_TEMPLATE, LEGACY_COPY_TEMPLATE):
            copy = et == LEGACY_COPY_TEMPLATE
            p = self.plan(
                "essay",
                FAT,
                parent=d,
                template=et,
                model=None if copy else model,
                mode="copy" if copy else "llm",
                with_prompt=not copy,
            )
            if copy:  # the prompt asset's return value, written by the IO manager
                p.prompt = b"COPY_MODE: no prompt needed"
            e = add(p, {"llm_model_id": model, "replicate": 1})
            if PARSED_FILE not in e.text:
                continue
            for vt in LEGACY_EVAL_TEMPLATES:
                vm = LEGACY_EVAL_MODELS[0]
                add(self.plan("evaluation", FAT, parent=e, template=vt, model=vm), {"llm_model_id": vm, "replicate": 1})

    # ---- assembly ------------------------------------------------------------------------------

    def build(self, n: int) -> None:
        self.kit()
        kit_size = len(self.gens)
        fat = self.fat_families(n)
        # the real eras are written last but count towards n: importer and docs rows, 09-15 families
        bulk = max(0, n - kit_size - _REAL_FIXED - fat * _FAT_FAMILY)
        rerun_budget = int(bulk * 0.07)
        baseline: list[GenDir] = []
        for era, share in ERA_SHARE:
            target = int((bulk - rerun_budget) * share)
            made = 0
            while made < max(1, target):
                fam = self.family(era)
                made += len(fam)
                if era == "current":
                    baseline.extend(fam)
        self.rerun(baseline, max(2, rerun_budget))
        # members listed but never generated
        self.member(COHORT_RERUN, ("evaluation", self.new_id("evaluation", "current", suffix=False)))
        self.member(COHORT_RERUN, ("evaluation", self.new_id("evaluation", "current", suffix=False)))
        self.member(COHORT_LEGACY, ("essay", self.new_id("essay", "single")))
        # a generation listed in both the legacy and the baseline cohort
        for g in self.gens:
            if g.era == "transition" and g.stage == "draft":
                self.member(COHORT_BASELINE, g)
                break
        self.real_eras(fat)

    def write(self, root: Path) -> StoreTruth:
        gens_root = root / GENS_DIR
        for stage in STAGES:
            (gens_root / stage).mkdir(parents=True, exist_ok=True)
        for g in self.gens:
            write_gen(root, g)
        for g in self.gens:  # docs/ bucket directories (nested layout): the time of their last document
            if g.bucket:
                touch(root / g.rel() / "..", max(x.dir_mtime for x in self.gens if x.bucket == g.bucket))
        # the legacy flat folders, the pipeline's tables and seed 000's documents index
        self.legacy.tables({}, day(-6.9))
        for rel, (data, t) in sorted(self.legacy.files.items()):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            touch(path, t)
        if self.doc_rows:
            write_db(root, self.doc_rows, day(-6.0))
            touch(root / DOCS_DB_FILE, day(-6.0))
        # a stray file in a stage directory
        stray = gens_root / "essay" / STRAY_FILE
        stray.write_bytes(b"essays 2025-03-05: re-run the truncated ones with max_tokens=16384\n")
        touch(stray, day(5.2))
        # cohorts
        cohorts_root = root / COHORTS_DIR
        truth = StoreTruth(profile="mixed")
        wide: list[tuple[str, int, str, str, dict[str, str]]] = []
        for cohort, rows in sorted(self.members.items()):
            cdir = cohorts_root / cohort
            cdir.mkdir(parents=True, exist_ok=True)
            header = {
                COHORT_LEGACY: [
                    "cohort_id",
                    "stage",
                    "gen_id",
                    "parent_gen_id",
                    "combo_id",
                    "template_id",
                    "llm_model_id",
                    "replicate",
                    "essay_task_id",
                ],
                COHORT_FAT: list(FAT_COLUMNS),
            }.get(cohort)
            if header:  # an old wide membership file
                lines = [",".join(header)]
                for i, (stage, gid, row) in enumerate(rows, start=1):
                    row = {**row, "cohort_id": cohort, "stage": stage, "gen_id": gid}
                    cells = ["" if row.get(c) is None else str(row.get(c)) for c in header]
                    lines.append(",".join(cells))
                    wide.append((cohort, i, stage, gid, dict(zip(header, cells))))
            else:
                lines = ["stage,gen_id"] + [f"{stage},{gid}" for stage, gid, _ in rows]
            path = cdir / MEMBERSHIP_FILE
            path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
            t_cohort = day(
                WINDOWS[
                    "rerun"
                    if cohort == COHORT_RERUN
                    else "current"
                    if cohort == COHORT_BASELINE
                    else FAT
                    if cohort == COHORT_FAT
                    else "single"
                ][0]
            )
            touch(path, t_cohort)
            if not header:
                counts = {s: sum(1 for st, _, _ in rows if st == s) for s in STAGES}
                manifest = {
                    "cohort_id": cohort,
                    "description": f"cohort {cohort}",
                    "members": len(rows),
                    "stages": counts,
                }
                mpath = cdir / COHORT_MANIFEST_FILE
                mpath.write_bytes(json.dumps(manifest, indent=2).encode("utf-8"))
                touch(mpath, t_cohort)
            truth.membership.extend((cohort, stage, gid) for stage, gid, _ in rows)
        # a membership file without a gen_id column
        cdir = cohorts_root / COHORT_EXPORT
        cdir.mkdir(parents=True, exist_ok=True)
        some = [g for g in self.gens if g.stage == "essay"][:3]
        bad = ["stage,doc_id,template_id"] + [f"{g.stage},{g.gen_id},{g.row.get('template_id') or ''}" for g in some]
        (cdir / MEMBERSHIP_FILE).write_bytes(("\n".join(bad) + "\n").encode("utf-8"))
        touch(cdir / MEMBERSHIP_FILE, day(9.9))
        truth.cohorts = sorted(list(self.members) + [COHORT_EXPORT])
        copy_templates = frozenset(t for t, gen in self.legacy.essay_generators.items() if gen == "copy")
        documents = {(r.stage, r.doc_id): r for r in self.doc_rows}
        finish_truth(truth, self.gens, Borrowed(wide, documents, copy_templates))
        truth.legacy = self.legacy.tasks
        truth.documents = list(self.doc_rows)
        truth.judges = PlantedJudges()
        truth.scan_errors.append(
            ExpectedError("essay", None, None, "unexpected_entry", f"{GENS_DIR}/essay/{STRAY_FILE}")
        )
        truth.scan_errors.append(
            ExpectedError(
                None, None, MEMBERSHIP_FILE, "bad_membership", f"{COHORTS_DIR}/{COHORT_EXPORT}/{MEMBERSHIP_FILE}"
            )
        )
        truth.scan_errors.sort(key=lambda e: (e.path, e.kind))
        return truth
