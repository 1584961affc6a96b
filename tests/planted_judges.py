"""A store of planted judges whose bias, noise, length preference and self-preference are known.

Built with :class:`hand_store.HandStore` (exact files), refreshed once per test process. Every essay has
a latent quality ``q`` (essay template ``A`` adds ``TEMPLATE_EFFECT``); each judge scores it twice
(replicates 1 and 2) on one criterion, at one decimal, clipped to 0-10:

* ``honest``, ``honest2``: q + N(0, NOISE);
* ``biased``: q + BIAS + N(0, NOISE): correlates about 0.96 with the honest judges and reads one point
  high; it skips the B essays of every other draft, so judges are unbalanced across essay templates;
* ``random``: uniform on 0-10, ignoring the essay; PARSE_FAIL of its evaluations have no parsed.txt;
* ``lengthy``: q + LENGTH_SLOPE per 1,000 characters of the essay above 3,000 + N(0, NOISE); every
  TRUNC-th of its calls stopped at the token cap (finish_reason length);
* ``vain``: q + N(0, NOISE), plus SELF_BONUS on essays whose essay model is ``vain``.

The humans (``humans.csv``: essay_gen_id, criterion, score, rater): two raters, q + N(0, HUMAN_NOISE)
rounded to integers, on the first HUMAN_ESSAYS essays.
"""

from __future__ import annotations

import atexit
import csv
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hand_store import HandStore

DRAFTS = 60
NOISE = 0.25
BIAS = 1.0
LENGTH_SLOPE = 0.8
SELF_BONUS = 1.5
TEMPLATE_EFFECT = 0.6
PARSE_FAIL = 0.2
TRUNC = 10
HUMAN_NOISE = 0.3
HUMAN_ESSAYS = 60
CRITERION = "crit"
JUDGES = ("honest", "honest2", "biased", "random", "lengthy", "vain")
PRICES = (
    "model,match,input_per_mtok,output_per_mtok,currency,effective_from,note\n"
    "*,glob,1.00,10.00,USD,2020-01-01,every judge the same price\n"
)
COMPLETION_TOKENS = 100


@dataclass
class Planted:
    data: Path
    humans_csv: Path
    prices: Path
    quality: dict[str, float] = field(default_factory=dict)  # essay -> latent quality
    chars: dict[str, int] = field(default_factory=dict)  # essay -> characters of parsed.txt
    essay_model: dict[str, str] = field(default_factory=dict)
    essay_template: dict[str, str] = field(default_factory=dict)
    draft_of: dict[str, str] = field(default_factory=dict)
    scores: dict[tuple[str, str, int], float] = field(default_factory=dict)  # (essay, judge, replicate)
    calls: dict[str, int] = field(default_factory=dict)  # judge -> model calls
    parse_failures: dict[str, int] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)


def _clip(x: float) -> float:
    return min(10.0, max(0.0, round(x, 1)))


@lru_cache(maxsize=1)
def planted_store() -> Planted:
    root = Path(tempfile.mkdtemp(prefix="gensql-planted-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    hs = HandStore(root)
    p = Planted(hs.data, root / "humans.csv", root / "prices.csv")
    p.prices.write_text(PRICES)
    rng = random.Random(20261204)
    n_eval = 0
    for d in range(DRAFTS):
        draft = f"d{d:03d}"
        hs.draft(draft, combo=f"c{d:03d}", model="drafter", at=d)
        for template in ("A", "B"):
            essay = f"e{d:03d}{template}"
            model = "vain" if d % 2 else "writer"
            q = 5.0 + (TEMPLATE_EFFECT if template == "A" else 0.0) + rng.gauss(0.0, 1.0)
            chars = rng.randrange(1000, 5000)
            text = ("lorem ipsum " * (chars // 12 + 1))[: chars - 1] + "\n"
            hs.essay(essay, draft, template=template, model=model, parsed=text, raw=text, at=d)
            p.quality[essay], p.chars[essay], p.essay_model[essay] = q, chars, model
            p.essay_template[essay], p.draft_of[essay] = template, draft
            for judge in JUDGES:
                if judge == "biased" and template == "B" and d % 2 == 0:
                    continue
                for rep in (1, 2):
                    n_eval += 1
                    noise = rng.gauss(0.0, NOISE)
                    if judge == "random":
                        score = _clip(rng.uniform(0.0, 10.0))
                    elif judge == "biased":
                        score = _clip(q + BIAS + noise)
                    elif judge == "lengthy":
                        score = _clip(q + LENGTH_SLOPE * (chars - 3000) / 1000 + noise)
                    elif judge == "vain":
                        score = _clip(q + noise + (SELF_BONUS if model == "vain" else 0.0))
                    else:
                        score = _clip(q + noise)
                    gen = f"v{n_eval:05d}"
                    p.calls[judge] = p.calls.get(judge, 0) + 1
                    raw_meta = {"finish_reason": "stop", "usage": {"completion_tokens": COMPLETION_TOKENS}}
                    if judge == "lengthy" and n_eval % TRUNC == 0:
                        raw_meta["finish_reason"] = "length"
                        p.truncated[judge] = p.truncated.get(judge, 0) + 1
                    kw = {}
                    if judge == "random" and rng.random() < PARSE_FAIL:
                        kw = {"parsed": None, "raw": "I cannot decide.\n"}
                        p.parse_failures[judge] = p.parse_failures.get(judge, 0) + 1
                    else:
                        p.scores[(essay, judge, rep)] = score
                    hs.evaluation(
                        gen,
                        essay,
                        score=f"{score}\n",
                        template=CRITERION,
                        model=judge,
                        replicate=rep,
                        raw_meta=raw_meta,
                        at=d,
                        **kw,
                    )
    with p.humans_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["essay_gen_id", "criterion", "score", "rater"])
        for essay in sorted(p.quality)[:HUMAN_ESSAYS]:
            for rater in ("ann", "bob"):
                w.writerow([essay, CRITERION, round(p.quality[essay] + rng.gauss(0.0, HUMAN_NOISE)), rater])
    hs.refresh()
    return p
