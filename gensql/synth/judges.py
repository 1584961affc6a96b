"""Planted judges: each essay's latent quality and how each evaluation model scores it (known agreement).

The synthetic evaluation models are LLM judges with a known character, so the agreement and comparison
reports (``gensql report agreement`` / ``compare``) have something true to reveal:

* ``sonnet-4`` and ``gpt-4o`` are the **consistent pair**: both score the essay's latent quality plus a
  little noise, so they agree with each other and with themselves across replicates;
* ``gemini-2.5-pro`` is a **noisy but honest** judge: the same quality, more noise;
* ``deepseek-r1`` is the **near-random judge**: a uniform draw on 0-9 that ignores the essay, so it
  agrees with nobody, not even itself.

An essay's latent quality is ``QUALITY_MEAN + ESSAY_TEMPLATE_EFFECT[essay template] + N(0, QUALITY_SD)``
(the same for every evaluation template), so a paired comparison of essay templates also has a known
answer. Every draw comes from its own ``random.Random`` seeded by a string (the store's seed, the essay,
the evaluation's id), so the planted scores do not shift the generator's main random stream and the
same essay has the same quality wherever it is evaluated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .vocab import ESSAY_TEMPLATES, EVAL_MODELS

RANDOM_JUDGE = "deepseek-r1"
CONSISTENT_PAIR: tuple[str, str] = ("sonnet-4", "gpt-4o")
#: Standard deviation of each honest judge's noise around the essay's quality (score points).
JUDGE_NOISE: dict[str, float] = {"sonnet-4": 0.35, "gpt-4o": 0.35, "gemini-2.5-pro": 1.4}
#: Noise of a model not in JUDGE_NOISE (the kit's odd evaluation models), when it is not the random judge.
OTHER_NOISE = 1.5
QUALITY_MEAN = 5.8
QUALITY_SD = 1.3
#: Essay template -> shift of its essays' latent quality (other templates, copies: 0).
ESSAY_TEMPLATE_EFFECT: dict[str, float] = {ESSAY_TEMPLATES[0]: 0.8, ESSAY_TEMPLATES[1]: 0.0, ESSAY_TEMPLATES[2]: -0.5}
assert RANDOM_JUDGE in EVAL_MODELS and set(CONSISTENT_PAIR) <= set(EVAL_MODELS)


@dataclass(frozen=True)
class PlantedJudges:
    """What the generator planted in the evaluations it scored (``StoreTruth.judges``)."""

    random_judge: str = RANDOM_JUDGE
    consistent_pair: tuple[str, str] = CONSISTENT_PAIR
    noise: dict[str, float] = field(default_factory=lambda: dict(JUDGE_NOISE))
    essay_template_effect: dict[str, float] = field(default_factory=lambda: dict(ESSAY_TEMPLATE_EFFECT))
    quality_mean: float = QUALITY_MEAN
    quality_sd: float = QUALITY_SD


def essay_quality(seed: int, essay: str | None, essay_template: str | None) -> float:
    """The latent quality of ``essay`` (its id; None: an evaluation that lost its parent)."""
    rng = random.Random(f"{seed}|quality|{essay}")
    return QUALITY_MEAN + ESSAY_TEMPLATE_EFFECT.get(essay_template or "", 0.0) + rng.gauss(0.0, QUALITY_SD)


def planted_score(
    seed: int, essay: str | None, essay_template: str | None, judge: str | None, evaluation: str, half_steps: bool
) -> float:
    """The score ``judge`` gives ``essay`` in evaluation ``evaluation`` (0-9; halves when ``half_steps``)."""
    rng = random.Random(f"{seed}|score|{evaluation}")
    if judge == RANDOM_JUDGE:
        raw = rng.uniform(-0.5, 9.5)
    else:
        raw = essay_quality(seed, essay, essay_template) + rng.gauss(0.0, JUDGE_NOISE.get(judge or "", OTHER_NOISE))
    step = round(raw * 2) / 2 if half_steps else float(round(raw))
    return float(min(9.0, max(0.0, step)))
