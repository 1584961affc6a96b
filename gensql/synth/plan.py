"""Planning one generation: what it is meant to be (ids, times, call facts, texts, outcome), before any era renders it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..layout import PARSED_FILE, PROMPT_FILE, RAW_FILE
from .judges import planted_score
from .model import GenDir
from .vocab import (
    CAPS,
    CONCEPTS,
    COPY_TEMPLATE,
    DAY,
    DRAFT_LINES,
    DRAFT_TEMPLATES,
    DURATIONS,
    ESSAY_LINES,
    ESSAY_TEMPLATES,
    EVAL_LINES,
    EVAL_MODELS,
    EVAL_TEMPLATES,
    MODELS,
    PREFIX,
    PROMPT_RULES,
    T0,
    b36,
    day,
)

COHORT_LEGACY = "2025-03-01-legacy"
COHORT_BASELINE = "2025-03-05-baseline"
COHORT_RERUN = "2025-03-08-rerun"
COHORT_EXPORT = "2025-03-10-export"
#: The 2025-09-15 era's cohort (a wide membership.csv: the only record of combo ids).
COHORT_FAT = "2025-02-24-fat"
#: The Dagster run that wrote the 2025-09-15 era's generations.
FAT_RUN_ID = "6f1c9e20-5b3d-4c8a-9e71-0915a2d4c3b8"

#: era -> (planning day, first generation day, last generation day); days after 2025-03-01 00:00 UTC.
WINDOWS = {
    "single": (0.25, 0.3, 1.9),
    "imported": (2.1, 2.1, 2.2),
    "transition": (2.4, 2.5, 4.3),
    "current": (4.4, 4.5, 7.8),
    "rerun": (8.0, 8.1, 9.8),
    "fat_0915": (-5.0, -4.9, -3.2),
}
ERA_COHORT = {
    "single": COHORT_LEGACY,
    "imported": COHORT_LEGACY,
    "transition": COHORT_LEGACY,
    "current": COHORT_BASELINE,
    "fat_0915": COHORT_FAT,
}
ERA_SHARE = (("single", 0.12), ("imported", 0.10), ("transition", 0.18), ("current", 0.60))

OUTCOMES = {
    "current": (
        ("ok", 80),
        ("truncated", 6),
        ("parse_error", 4),
        ("gen_error", 3),
        ("skipped", 3),
        ("parse_flag_false", 1),
        ("empty_raw", 1),
        ("unparseable", 2),
    ),
    "single": (("ok", 85), ("truncated", 6), ("parse_error", 5), ("skipped", 4)),
    "imported": (("ok", 92), ("parse_error", 4), ("unparseable", 4)),
    "fat_0915": (("ok", 86), ("truncated", 6), ("parse_error", 5), ("unparseable", 3)),
}
OUTCOMES["transition"] = OUTCOMES["current"]
SHAPES = (("cm", 75), ("openai", 8), ("total", 5), ("anthropic", 7), ("null", 5))
PARSED_OUTCOMES = ("ok", "parse_flag_false", "unparseable")


@dataclass
class Plan:
    stage: str
    era: str
    gen_id: str
    cohort: str | None
    template: str | None
    model: str | None
    parent: str | None
    combo: str | None
    replicate: int
    mode: str
    outcome: str
    run_id: str | None
    task_id: str | None
    parent_task: str | None
    t_plan: int
    t_gen: int
    shape: str = "cm"
    trunc: str = "length"
    trunc_parsed: bool = False
    finish_reason: str | None = None
    recorded_truncated: bool | None = None
    usage: dict | None = None
    cap: int | None = None
    duration_s: float | None = None
    score: float | None = None
    prompt: bytes | None = None
    raw: bytes | None = None
    parsed: bytes | None = None
    parent_template: str | None = None  # evaluations: the evaluated essay's template (planted quality)


class Planner:
    """Draws every random choice of a generation in a fixed order (same seed, same store)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.used_ids: set[str] = set()
        self.planned_counter: dict[str, int] = {}
        self.run_ids = {era: f"run-{self.rng.getrandbits(32):08x}" for era in ("current", "transition", "rerun")}

    # ---- ids, names, times -------------------------------------------------------------------

    def new_id(self, stage: str, era: str, suffix: bool | None = None) -> str:
        rng = self.rng
        while True:
            if era in ("current", "transition"):
                k = rng.choice((13, 14, 15, 16))
                gid = PREFIX[stage] + b36(rng.getrandbits(6 * k) % 36**k, k)
                if suffix or (suffix is None and rng.random() < 0.04):
                    gid += "-1"
            else:
                gid = b36(rng.getrandbits(96) % 36**16, 16)
            if gid not in self.used_ids:
                self.used_ids.add(gid)
                return gid

    def combo(self) -> str:
        return f"combo_v1_{self.rng.getrandbits(48):012x}"

    def t_in(self, era: str, lo: float | None = None) -> int:
        _, start, end = WINDOWS[era]
        a = day(start) if lo is None else max(int(lo), day(start))
        b = max(a + 60, day(end))
        return self.rng.randint(a, b)

    def t_plan(self, era: str) -> int:
        base = day(WINDOWS[era][0])
        n = self.planned_counter.get(era, 0)
        self.planned_counter[era] = n + 1
        return base + n // 40  # planning writes about 40 metadata files a second

    def pick(self, table: tuple[tuple[str, int], ...]) -> str:
        names = [n for n, _ in table]
        weights = [w for _, w in table]
        return self.rng.choices(names, weights)[0]

    # ---- text ----------------------------------------------------------------------------------

    def fill(self, line: str) -> str:
        a, b = self.rng.sample(CONCEPTS, 2)
        return line.format(A=a, B=b)

    def lines(self, pool: tuple[str, ...], lo: int, hi: int) -> list[str]:
        return [self.fill(self.rng.choice(pool)) for _ in range(self.rng.randint(lo, hi))]

    def prompt(self, stage: str, template: str | None, parent_text: bytes | None) -> bytes:
        rng = self.rng
        rules = "\n".join(rng.sample(PROMPT_RULES, rng.randint(1, len(PROMPT_RULES))))
        if stage == "draft":
            concepts = "\n".join(f"- {c}" for c in rng.sample(CONCEPTS, rng.randint(2, 6)))
            text = (
                f"You are brainstorming a short idea note ({template}).\n"
                f"Combine these concepts into one novel mechanism:\n{concepts}\n{rules}\n"
            )
        elif stage == "essay":
            body = (parent_text or b"").decode("utf-8")
            text = f"Expand the draft below into a concise essay ({template}).\n{rules}\n\nDRAFT:\n{body}"
        else:
            body = (parent_text or b"").decode("utf-8")
            if rng.random() < 0.5:
                body = "\n".join(body.splitlines()[:3]) + "\n"
            text = (
                f"Evaluate the essay below ({template}). Reason briefly, then end with a line\n"
                f"'SCORE: n' where n is between 0 and 9.\n\nESSAY:\n{body}"
            )
        return text.encode("utf-8")

    def score_value(self, p: Plan) -> float:
        """The planted judge's score of the evaluated essay (see :mod:`.judges`); halves in the split eras."""
        return planted_score(
            self.seed, p.parent, p.parent_template, p.model, p.gen_id, half_steps=p.era in ("current", "transition")
        )

    @staticmethod
    def score_text(s: float) -> str:
        return f"{s:g}"

    # ---- planning ------------------------------------------------------------------------------

    def plan(
        self,
        stage: str,
        era: str,
        *,
        cohort: str | None = None,
        parent: GenDir | str | None = None,
        template: str | None = None,
        model: str | None = None,
        combo: str | None = None,
        replicate: int = 1,
        outcome: str | None = None,
        mode: str | None = None,
        shape: str | None = None,
        trunc: str | None = None,
        trunc_parsed: bool = False,
        gen_id: str | None = None,
        t: int | None = None,
        window: str | None = None,
        parent_text: bytes | None = None,
        with_prompt: bool = True,
        links: bool = False,
    ) -> Plan:
        rng = self.rng
        window = window or era
        if isinstance(parent, GenDir):
            parent_text = parent.text.get(PARSED_FILE)
            task_id = parent.row.get("task_id")
            parent_task = task_id if isinstance(task_id, str) else None
            parent_id: str | None = parent.gen_id
            t_parent = parent.mtime.get(PARSED_FILE) or parent.dir_mtime
        else:
            parent_id, parent_task, t_parent = parent, None, None
        parent_template = parent.row.get("template_id") if isinstance(parent, GenDir) else None
        if template is None:
            template = rng.choice(
                {"draft": DRAFT_TEMPLATES, "essay": ESSAY_TEMPLATES, "evaluation": EVAL_TEMPLATES}[stage]
            )
        if mode is None:
            mode = "copy" if template == COPY_TEMPLATE else "llm"
        if model is None and mode == "llm":
            model = rng.choice(EVAL_MODELS if stage == "evaluation" else MODELS)
        if stage == "draft" and combo is None:
            combo = self.combo()
        if outcome is None:
            outcome = self.pick(OUTCOMES[era])
        if outcome == "unparseable" and stage != "evaluation":
            outcome = "ok"
        if outcome == "parse_flag_false" and stage == "evaluation":
            outcome = "unparseable"
        if mode == "copy":
            outcome = "ok"
        if t is None:
            t = self.t_in(window, None if t_parent is None else t_parent + rng.randint(60, 5400))
        gen_id = gen_id or self.new_id(stage, era)
        # task ids (written only by the single and imported eras; old membership files list them)
        sep = "_" if era == "imported" else "__"
        task = sep.join(
            x for x in ((parent_task or combo or parent_id or ""), template, model if stage != "essay" else None) if x
        )
        if window == "rerun" or era in ("current", "transition"):
            run_id: str | None = self.run_ids["rerun" if window == "rerun" else era]
        elif era == "fat_0915":
            run_id = FAT_RUN_ID
        elif era == "single":
            run_id = f"r2025030{1 + (t - T0) // DAY}-{'abc'[t % 3]}"
        else:
            run_id = None  # imported files carry a null-like run_id
        p = Plan(
            stage=stage,
            era=era,
            gen_id=gen_id,
            cohort=cohort if cohort is not None else ERA_COHORT.get(era),
            template=template,
            model=model if mode == "llm" else None,
            parent=parent_id,
            combo=combo,
            replicate=replicate,
            mode=mode,
            outcome=outcome,
            run_id=run_id,
            task_id=task,
            parent_task=parent_task,
            t_plan=self.t_plan(window),
            t_gen=t,
            shape=shape or ("cm" if era in ("single", "imported", "fat_0915") else self.pick(SHAPES)),
            trunc=trunc
            or (
                rng.choice(("length", "cap"))
                if era == "fat_0915"
                else rng.choice(("length", "length", "cap", "provider", "openai"))
            ),
            trunc_parsed=trunc_parsed,
            parent_template=parent_template,
        )
        self.call_facts(p)
        self.texts(p, parent_text, with_prompt)
        if links:  # a legacy links_responses draft: parsed text only, no call facts
            assert era == "imported" and stage == "draft" and p.parsed is not None
            p.prompt = p.raw = p.usage = p.finish_reason = p.duration_s = p.recorded_truncated = p.cap = None
        return p

    def call_facts(self, p: Plan) -> None:
        rng = self.rng
        if p.mode == "copy":
            p.finish_reason, p.recorded_truncated, p.usage = "copy", False, None
            p.duration_s = 0.0 if p.era in ("current", "transition") else None
            return
        if p.outcome == "skipped":
            return
        lo, hi = DURATIONS[p.stage]
        p.duration_s = round(rng.uniform(lo, hi), 3)
        p.recorded_truncated = False
        if p.outcome == "gen_error":
            p.finish_reason = rng.choice(("error", None))
            p.duration_s = round(rng.uniform(0.5, 30.0), 3)
            return
        cap = p.cap = CAPS[p.stage]
        prompt_tokens = rng.randint(150, 2500)
        completion = rng.randint(cap // 12, cap * 3 // 4)
        p.finish_reason = "stop"
        shape = p.shape
        if p.outcome == "truncated":
            completion = cap
            if p.trunc == "length":
                p.finish_reason, p.recorded_truncated = "length", True
            elif p.trunc == "cap":  # the provider said stop, the counts say the cap was hit
                shape = "cm"
            elif p.trunc == "provider":
                p.finish_reason, p.recorded_truncated = "MAX_TOKENS", True
            else:  # OpenAI-style usage: no cap recorded, finish_reason tells
                p.finish_reason, shape = "length", "openai"
        elif p.outcome == "empty_raw":
            completion = 0
        p.shape = shape
        if shape == "cm":
            p.usage = {"completion_tokens": completion, "max_tokens": cap}
        elif shape == "openai":
            p.usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion,
            }
        elif shape == "total":
            p.usage = {"total_tokens": prompt_tokens + completion}
        elif shape == "anthropic":
            p.usage = {"input_tokens": prompt_tokens, "output_tokens": completion}
        else:
            p.usage = None

    def texts(self, p: Plan, parent_text: bytes | None, with_prompt: bool) -> None:
        rng, o = self.rng, p.outcome
        if with_prompt and not (p.outcome == "skipped" and rng.random() < 0.5):
            p.prompt = self.prompt(p.stage, p.template, parent_text)
        if p.mode == "copy":
            p.parsed = (
                parent_text if parent_text is not None else ("\n".join(self.lines(DRAFT_LINES, 2, 4)) + "\n").encode()
            )
            if p.era in ("current", "transition"):
                p.raw = p.parsed
            return
        if o in ("skipped", "gen_error"):
            return
        if o == "empty_raw":
            p.raw = b""
            return
        if p.stage == "draft":
            body = "\n".join(self.lines(DRAFT_LINES, 2, 5))
            thinking = "\n".join(self.lines(DRAFT_LINES, 1, 2))
            if o == "parse_error":
                raw = f"<thinking>\n{thinking}\n</thinking>\n{body}\n"
            else:
                raw = f"<thinking>\n{thinking}\n</thinking>\n<essay>\n{body}\n</essay>\n"
            parsed = body + "\n"
            if o == "parse_flag_false":
                parsed = raw
        elif p.stage == "essay":
            title = self.fill("On {A} and {B}")
            paras = self.lines(ESSAY_LINES, 3, 6)
            raw = f"# {title}\n\n" + "\n\n".join(paras) + "\n"
            parsed = raw
        else:
            reasons = self.lines(EVAL_LINES, 2, 4)
            if o in ("parse_error", "unparseable"):
                raw = "\n".join(reasons) + "\nI cannot assign a single number to this essay.\n"
                parsed = "No score: the response did not end with a SCORE line.\n"
                p.score = None
            else:
                s = self.score_value(p)
                p.score = s
                raw = "\n".join(reasons) + f"\nSCORE: {self.score_text(s)}\n"
                if p.era == "single":
                    parsed = raw
                elif p.era == "imported":
                    parsed = f"{int(s)}\n"
                else:
                    parsed = f"{s:.1f}\n"
        if o == "truncated":
            cut = raw[: max(8, len(raw) * 3 // 5)]
            p.raw = cut.encode("utf-8")
            if p.trunc_parsed:
                p.parsed = cut.encode("utf-8") if p.stage != "evaluation" else parsed.encode("utf-8")
            else:
                p.score = None
            return
        p.raw = raw.encode("utf-8")
        if o in PARSED_OUTCOMES:
            p.parsed = parsed.encode("utf-8")


def group_of(p: Plan) -> str:
    """The generator's name of the logical product ``p`` is an attempt of."""
    parts: tuple[str | int | None, ...]
    if p.stage == "draft":
        parts = (p.combo, p.template, p.model, p.replicate)
    elif p.stage == "essay":
        parts = (p.parent, p.template, p.replicate)
    else:
        parts = (p.parent, p.template, p.model, p.replicate)
    return "|".join([p.stage] + ["" if x is None else str(x) for x in parts])


def texts_into(p: Plan, g: GenDir) -> None:
    """prompt.txt, raw.txt and parsed.txt of ``p`` into ``g``, timed around the call."""
    dur = int(p.duration_s or 0)
    if p.prompt is not None:
        g.add_text(PROMPT_FILE, p.prompt, p.t_gen - dur - 2)
    if p.raw is not None:
        g.add_text(RAW_FILE, p.raw, p.t_gen)
    if p.parsed is not None:
        g.add_text(PARSED_FILE, p.parsed, p.t_gen + 1)
