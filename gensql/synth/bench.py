"""The bench profile: clean current-era generations with all six files, written fast (up to 1,000,000)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from ..layout import (
    COHORTS_DIR,
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
from .model import touch
from .plan import Planner
from .truth import StoreTruth
from .vocab import (
    CAPS,
    DAY,
    DRAFT_TEMPLATES,
    DURATIONS,
    ESSAY_TEMPLATES,
    EVAL_MODELS,
    EVAL_TEMPLATES,
    MODELS,
    PARSERS,
    PIPELINE_ROOT,
    PREFIX,
    T0,
    b36,
)


def _json_template(obj: dict) -> str:
    """A %-format string that renders like ``json.dumps(obj, indent=2)`` with ``"@name"`` slots.

    A slot value ``"@name"`` becomes ``%(name)s``: the caller supplies the JSON text of the value
    (quoted for strings), so ints, floats, bools and strings all render exactly as json.dumps would.
    """
    text = json.dumps(obj, indent=2).replace("%", "%%")
    for key in _slots(obj):
        text = text.replace(f'"@{key}"', f"%({key})s")
    return text


def _slots(obj: object) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _slots(v)]
    if isinstance(obj, str) and obj.startswith("@"):
        return [obj[1:]]
    return []


def _bench_templates() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for st in STAGES:
        meta: dict[str, object] = {
            "stage": st,
            "gen_id": "@gid",
            "origin_cohort_id": "@cohort",
            "mode": "llm",
            "template_id": "@template",
        }
        if st == "draft":
            meta["combo_id"] = "@combo"
        else:
            meta["parent_gen_id"] = "@parent"
        meta["llm_model_id"] = "@model"
        meta["replicate"] = "@rep"
        raw_meta = {
            "function": f"{st}_raw",
            "mode": "llm",
            "stage": st,
            "gen_id": "@gid",
            "run_id": "@run",
            "llm_model_id": "@model",
            "duration_s": "@dur",
            "finish_reason": "@finish",
            "truncated": "@trunc",
            "usage": {"completion_tokens": "@ctok", "max_tokens": CAPS[st]},
            "input_mode": "prompt",
            "raw_length": "@rlen",
            "raw_lines": "@rlines",
            "raw_path": f"{PIPELINE_ROOT}/{GENS_DIR}/{st}/@@gid/{RAW_FILE}",
            "raw_metadata_path": f"{PIPELINE_ROOT}/{GENS_DIR}/{st}/@@gid/{RAW_METADATA_FILE}",
        }
        parsed_meta = {
            "stage": st,
            "gen_id": "@gid",
            "function": f"{st}_parsed",
            "parser_name": PARSERS[st],
            "success": True,
            "error": None,
            "run_id": "@run",
            "input_mode": "prompt",
            "parsed_path": f"{PIPELINE_ROOT}/{GENS_DIR}/{st}/@@gid/{PARSED_FILE}",
            "parsed_metadata_path": f"{PIPELINE_ROOT}/{GENS_DIR}/{st}/@@gid/{PARSED_METADATA_FILE}",
        }
        out[st] = {}
        for name, obj in ((METADATA_FILE, meta), (RAW_METADATA_FILE, raw_meta), (PARSED_METADATA_FILE, parsed_meta)):
            tmpl = _json_template(obj).replace("@@gid", "%(bare_gid)s")
            out[st][name] = tmpl
    return out


#: Texts of the bench profile: a lognormal size per text around these medians (bytes), with a tail to
#: :data:`TEXT_MAX_BYTES`, as real stores have (drafts ~1.5 KB, essays ~4 KB, evaluations ~2 KB,
#: prompts ~3 KB); each (stage, template) draws from :data:`VARIANTS` precomputed texts.
TEXT_MEDIAN_BYTES = {"prompt": 3000, "draft": 1500, "essay": 4000, "evaluation": 2000}
TEXT_SIGMA = 0.6
TEXT_MAX_BYTES = 50_000
VARIANTS = 48


def _sized(base: bytes, median: int, rng: random.Random) -> bytes:
    """``base`` grown (or cut at a line) to a lognormal size around ``median`` bytes."""
    target = min(TEXT_MAX_BYTES, max(64, int(rng.lognormvariate(0, TEXT_SIGMA) * median)))
    lines = [ln for ln in base.decode("utf-8").splitlines() if ln.strip()] or ["..."]
    out: list[str] = []
    size = 0
    while size < target:
        line = lines[rng.randrange(len(lines))]
        words = line.split()
        rng.shuffle(words)  # new sentences from the same vocabulary: varied, searchable text
        out.append(" ".join(words))
        size += len(out[-1].encode()) + 1
    return ("\n".join(out) + "\n").encode()


def make_bench(root: Path, n: int, seed: int) -> StoreTruth:
    """Families of 1 draft, 2 essays, 7 evaluations (10% / 20% / 70%), all six files each."""
    rng = random.Random(seed)
    gens_root = root / GENS_DIR
    stage_dirs = {}
    for st in STAGES:
        (gens_root / st).mkdir(parents=True, exist_ok=True)
        stage_dirs[st] = str(gens_root / st)
    tmpl = _bench_templates()
    # precomputed texts per (stage, template): (prompt, raw, parsed, raw_length, raw_lines)
    helper = Planner(seed)
    variants: dict[tuple[str, str], list[tuple[bytes, bytes, bytes, str, str]]] = {}
    parent_texts: list[bytes | None] = [None]
    sizer = random.Random(seed + 1)
    for st, templates in (("draft", DRAFT_TEMPLATES), ("essay", ESSAY_TEMPLATES), ("evaluation", EVAL_TEMPLATES)):
        made: list[bytes] = []
        for template in templates:
            vs = []
            for i in range(VARIANTS):
                p = helper.plan(
                    st, "current", outcome="ok", template=template, parent_text=parent_texts[i % len(parent_texts)]
                )
                assert p.prompt is not None and p.raw is not None and p.parsed is not None
                prompt = _sized(p.prompt, TEXT_MEDIAN_BYTES["prompt"], sizer)
                raw = _sized(p.raw, TEXT_MEDIAN_BYTES[st], sizer)
                parsed = raw if st != "evaluation" else p.parsed  # an evaluation's parsed text is its score
                vs.append((prompt, raw, parsed, str(len(raw.decode("utf-8"))), str(raw.count(b"\n"))))
                made.append(parsed)
            variants[(st, template)] = vs
        parent_texts = list(made)
    q = {m: f'"{m}"' for m in MODELS + DRAFT_TEMPLATES + ESSAY_TEMPLATES + EVAL_TEMPLATES}
    n_cohorts = max(1, -(-n // 100_000))
    cohorts = [f"bench-{i + 1:02d}" for i in range(n_cohorts)]
    run_ids = [f'"run-{rng.getrandbits(32):08x}"' for _ in cohorts]
    member_files = []
    for c in cohorts:
        (root / COHORTS_DIR / c).mkdir(parents=True, exist_ok=True)
        fh = open(root / COHORTS_DIR / c / MEMBERSHIP_FILE, "w", encoding="utf-8", newline="\n")
        fh.write("stage,gen_id\n")
        member_files.append(fh)
    # ids: prefix + 14 base36 chars of an affine permutation of the counter (unique, seed-dependent)
    modulus = 36**14
    mult = (rng.getrandbits(70) % modulus) | 1
    while mult % 3 == 0:
        mult += 2
    offset = rng.getrandbits(72) % modulus
    span = 10 * DAY
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    utime, osopen, oswrite, osclose, mkdir = os.utime, os.open, os.write, os.close, os.mkdir
    stage_counts = {s: 0 for s in STAGES}
    caps = CAPS
    essay_parents = ["", ""]
    draft_id = ""
    rand = rng.random
    randrange = rng.randrange
    eval_pairs = [(vt, vm) for vt in EVAL_TEMPLATES for vm in EVAL_MODELS]
    pairs: list[tuple[str, str, int]] = []
    for i in range(n):
        k = i % 10
        fam = i // 10
        ci = fam * n_cohorts // max(1, -(-n // 10))
        if k == 0:
            st = "draft"
        elif k < 3:
            st = "essay"
        else:
            st = "evaluation"
        bare = PREFIX[st] + b36((mult * i + offset) % modulus, 14)
        t = T0 + 3600 + i * span // n
        if st == "draft":
            draft_id = bare
            template = DRAFT_TEMPLATES[randrange(4)]
            model = MODELS[randrange(6)]
            extra = {"combo": f'"combo_v1_{rng.getrandbits(48):012x}"', "rep": "1"}
            chosen = rng.sample(eval_pairs, 5)
            pairs = [
                (chosen[0][0], chosen[0][1], 1),
                (chosen[0][0], chosen[0][1], 2),
                (chosen[1][0], chosen[1][1], 1),
                (chosen[2][0], chosen[2][1], 1),
                (chosen[3][0], chosen[3][1], 1),
                (chosen[3][0], chosen[3][1], 2),
                (chosen[4][0], chosen[4][1], 1),
            ]
            ets = rng.sample(ESSAY_TEMPLATES, 2)
        elif st == "essay":
            essay_parents[k - 1] = bare
            template = ets[k - 1]
            model = MODELS[randrange(6)]
            extra = {"parent": f'"{draft_id}"', "rep": "1"}
        else:
            template, model, rep = pairs[k - 3]
            extra = {"parent": f'"{essay_parents[0 if k < 7 else 1]}"', "rep": str(rep)}
        cap = caps[st]
        if rand() < 0.03:
            ctok, finish, trunc = cap, '"length"', "true"
        else:
            ctok, finish, trunc = randrange(cap // 12, cap * 3 // 4), '"stop"', "false"
        prompt, raw, parsed, rlen, rlines = variants[(st, template)][randrange(VARIANTS)]
        dur = randrange(*(int(x * 1000) for x in DURATIONS[st])) / 1000
        vals = {
            "gid": f'"{bare}"',
            "bare_gid": bare,
            "cohort": f'"{cohorts[ci]}"',
            "template": q[template],
            "model": q[model],
            "run": run_ids[ci],
            "dur": repr(dur),
            "finish": finish,
            "trunc": trunc,
            "ctok": str(ctok),
            "rlen": rlen,
            "rlines": rlines,
        }
        vals.update(extra)
        tm = tmpl[st]
        d = f"{stage_dirs[st]}/{bare}"
        mkdir(d)
        t_plan = T0 + i * span // n
        for name, data, ts in (
            (METADATA_FILE, (tm[METADATA_FILE] % vals).encode(), t_plan),
            (PROMPT_FILE, prompt, t - 30),
            (RAW_FILE, raw, t),
            (RAW_METADATA_FILE, (tm[RAW_METADATA_FILE] % vals).encode(), t),
            (PARSED_FILE, parsed, t + 1),
            (PARSED_METADATA_FILE, (tm[PARSED_METADATA_FILE] % vals).encode(), t + 1),
        ):
            fd = osopen(f"{d}/{name}", flags, 0o644)
            oswrite(fd, data)
            ns = ts * 1_000_000_000
            utime(fd, ns=(ns, ns))
            osclose(fd)
        ns = (t + 1) * 1_000_000_000
        utime(d, ns=(ns, ns))
        member_files[ci].write(f"{st},{bare}\n")
        stage_counts[st] += 1
    for ci, fh in enumerate(member_files):
        fh.close()
        touch(root / COHORTS_DIR / cohorts[ci] / MEMBERSHIP_FILE, T0 + ci * span // n_cohorts)
    return StoreTruth(profile="bench", cohorts=cohorts, n_gens=n, stage_counts=stage_counts)
