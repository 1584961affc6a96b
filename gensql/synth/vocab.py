"""Vocabulary of the synthetic stores: model and template ids, texts, caps, id and time helpers."""

from __future__ import annotations

MODELS = ("sonnet-4", "gpt-4o", "gemini-2.5-pro", "deepseek-r1", "llama-3.3-70b", "qwen3-235b-a22b")
EVAL_MODELS = ("sonnet-4", "gpt-4o", "gemini-2.5-pro", "deepseek-r1")
DRAFT_TEMPLATES = ("creative-synthesis-v2", "links-v4", "deliberate-rolling-thread-v1", "recursive-construction")
ESSAY_TEMPLATES = ("creative-synthesis-essay-v3", "essay-refine-v2", "essay-theme-expansion")
COPY_TEMPLATE = "parsed-from-links-v1"
EVAL_TEMPLATES = ("daydreaming-verification-v2", "novelty-v1", "scientific-rigor")
RERUN_EVAL_TEMPLATE = "o3-prior-art-eval"
CAPS = {"draft": 4096, "essay": 8192, "evaluation": 2048}
DURATIONS = {"draft": (15.0, 95.0), "essay": (25.0, 140.0), "evaluation": (4.0, 45.0)}
PARSERS = {"draft": "essay_block", "essay": "identity", "evaluation": "in_last_line"}
PREFIX = {"draft": "d_", "essay": "e_", "evaluation": "v_"}
LEGACY_DIR = {
    "draft": "3_generation/draft_responses",
    "essay": "3_generation/essay_responses",
    "evaluation": "4_evaluation/evaluation_responses",
}
PIPELINE_ROOT = "/srv/daydreaming/data"  # where the pipeline machine kept the store
OLD_MACHINE_ROOT = "/Users/mira/code/daydreaming/data"  # absolute paths in single-era files

CONCEPTS = (
    "default mode network",
    "sleep-dependent memory consolidation",
    "combinatorial search",
    "the generator-verifier gap",
    "serendipity",
    "analogical transfer",
    "economic moats",
    "feedback loops",
    "knowledge graphs",
    "incubation effects",
    "curiosity-driven exploration",
    "compression as understanding",
    "evolutionary search",
    "peer review",
    "background processing",
    "mind wandering",
)
DRAFT_LINES = (
    "{A} could act as a proposal engine while {B} filters the proposals.",
    "Pairing {A} with {B} gives a loop that keeps only surprising combinations.",
    "The key mechanism: {A} runs offline, {B} scores the results later.",
    "A cheap critic built on {B} makes {A} useful instead of noisy.",
    "Over time the loop accumulates a private library of ideas about {A}.",
    "Costs stay low because most of the work happens in idle cycles.",
)
ESSAY_LINES = (
    "Most discussions of {A} treat it as a curiosity; this essay treats it as infrastructure.",
    "The proposal couples {A} to {B} \u2014 one generates, the other verifies.",
    "What makes the loop valuable is that its outputs compound over months.",
    "A lab that runs this continuously builds a moat that competitors cannot copy quickly.",
    "The weak point is the critic: if {B} is miscalibrated, the library fills with noise.",
    "We sketch a minimal experiment that would falsify the central claim.",
)
EVAL_LINES = (
    "The essay connects {A} and {B} through a concrete mechanism.",
    "Novelty is moderate: related ideas exist in work on {A}.",
    "The feedback loop is described but not fully operationalized.",
    "The argument about compounding value is the strongest part.",
    "Evidence for the critic's calibration is thin.",
    "Overall the piece is coherent and specific.",
)
PROMPT_RULES = (
    "Write in plain prose, no bullet points.",
    "Name the mechanism explicitly.",
    "Keep the answer under 600 words.",
    "Explain why the combination is non-obvious.",
    "State one way the idea could fail.",
    "Avoid restating the concepts' definitions.",
    "End with a one-sentence summary.",
    "Prefer concrete examples over abstractions.",
)

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
T0 = 1740787200  # 2025-03-01T00:00:00Z
DAY = 86400


def b36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def day(d: float) -> int:
    return T0 + int(d * DAY)


# --------------------------------------------------------------------------------------------------
# The real pipeline's own ids (legacy flat files, seed 000's docs store, the 2025-09-15 gens store):
# model ids and template ids contain '_', '-' and '.', and '-vN' ends template ids.
# --------------------------------------------------------------------------------------------------

#: id -> provider model name, as in the pipeline's data/1_raw/llm_models.csv.
LEGACY_MODELS: dict[str, str] = {
    "deepseek_r1_p": "deepseek/deepseek-r1",
    "gemini_2.5_flash": "google/gemini-2.5-flash",
    "gemini_25_pro": "google/gemini-2.5-pro",
    "sonnet-4": "anthropic/claude-sonnet-4",
    "qwen3-235b-a22b": "qwen/qwen3-235b-a22b",
}
LEGACY_GEN_MODELS = ("deepseek_r1_p", "gemini_2.5_flash")
LEGACY_EVAL_MODELS = ("sonnet-4", "gemini_25_pro")
#: Single-phase generation template (d4d2215), links/draft templates, essay templates, evaluation templates.
LEGACY_GENERATION_TEMPLATE = "creative-synthesis-v7"
LEGACY_LINKS_TEMPLATE = "creative-synthesis-v10"
LEGACY_DRAFT_TEMPLATE = "deliberate-rolling-thread-v2"
LEGACY_ESSAY_TEMPLATE = "creative-synthesis-v10"
LEGACY_COPY_TEMPLATE = "parsed-from-links-v1"  # essay generator 'copy' in 1_raw/essay_templates.csv
LEGACY_EVAL_TEMPLATES = ("daydreaming-verification-v2", "style-coherence-v3")
