"""Shared inputs and truth records for the gens-store eras (gens_0915, gens_0927, gens_head) and the docs store.

The pipeline's own inputs (``data/1_raw/*.csv`` copied from the era's commit, with the ``active``
flags set for a small experiment; Jinja templates; concept descriptions; the selected combos) are
written here; the copied real code then plans the cohort and writes every generation. :class:`Gen`
records what the real code was given for each generation, which is what the tests compare the
index with.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CONCEPTS = {
    "dearth-ai-discoveries": "Dearth of AI-driven Discoveries",
    "default-mode-network": "Default Mode Network",
    "large-language-model-v1": "Large Language Model (LLM)",
}
#: Two combos of two concepts each (the pipeline's selected_combo_mappings.csv rows).
COMBOS = {
    "combo_v1_1a2b3c4d5e6f": ("dearth-ai-discoveries", "default-mode-network"),
    "combo_v1_9f8e7d6c5b4a": ("default-mode-network", "large-language-model-v1"),
}
TEMPLATE_TEXT = {
    "draft": "Brainstorm links between these concepts:\n{% for c in concepts %}- {{ c.name }}: {{ c.content }}\n{% endfor %}",
    "essay": "Write an essay from these notes:\n{{ draft_block }}",
    "evaluation": "Rate the essay below from 0 to 9 and end with a line SCORE: <n>.\n\n{{ response }}",
}


@dataclass
class Gen:
    """One generation as the real code was asked for it, and what came back."""

    stage: str
    gen_id: str
    template_id: str
    model_id: str | None  # the membership/metadata llm model id (copy essays: None in the call)
    combo_id: str | None
    parent_gen_id: str | None
    replicate: int
    mode: str  # llm | copy
    run_id: str | None = None
    completion_tokens: int | None = None  # what the fake provider reported
    max_tokens: int | None = None
    score: float | None = None
    outcome: str = "ok"  # ok | truncated | failed
    created_at: object = None  # docs era: the sqlite row's insert time


@dataclass
class EraTruth:
    data_root: Path
    gens: dict[tuple[str, str], Gen] = field(default_factory=dict)
    cohort_id: str | None = None

    def add(self, gen: Gen) -> Gen:
        self.gens[(gen.stage, gen.gen_id)] = gen
        return gen

    def of_stage(self, stage: str) -> list[Gen]:
        return [g for g in self.gens.values() if g.stage == stage]


def score_of(text: str) -> float | None:
    found = re.findall(r"SCORE:\s*(\d+(?:\.\d+)?)", text)
    return float(found[-1]) if found else None


def write_inputs(data_root: Path, era_dir: Path, *, gen_models: set[str], eval_models: set[str], templates: dict[str, set[str]], replicates: dict[str, int] | None = None, flags: bool = True) -> None:
    """Write the pipeline's inputs: 1_raw CSVs (real files, flags set), templates, concepts, combos.

    ``flags=False`` (HEAD, whose cohort spec chooses templates and models, and which rejects the old
    ``active``/``for_generation`` columns) writes the era's CSVs unchanged.
    """
    raw = data_root / "1_raw"
    raw.mkdir(parents=True, exist_ok=True)
    models = pd.read_csv(era_dir / "raw" / "llm_models.csv")
    if flags:
        models["for_generation"] = models["id"].isin(gen_models)
        models["for_evaluation"] = models["id"].isin(eval_models)
    models.to_csv(raw / "llm_models.csv", index=False)
    for stage, active in templates.items():
        df = pd.read_csv(era_dir / "raw" / f"{stage}_templates.csv")
        missing = active - set(df["template_id"])
        assert not missing, f"{stage} templates {missing} are not in the real list"
        if flags:
            df["active"] = df["template_id"].isin(active)
        df.to_csv(raw / f"{stage}_templates.csv", index=False)
        for tpl in active:
            for folder in ("templates", "generation_templates"):
                path = raw / folder / stage / f"{tpl}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(TEMPLATE_TEXT[stage])
    concepts = pd.read_csv(era_dir / "raw" / "concepts_metadata.csv")
    if flags:
        concepts["active"] = concepts["concept_id"].isin(CONCEPTS)
    concepts.to_csv(raw / "concepts_metadata.csv", index=False)
    for cid, name in CONCEPTS.items():
        for level in ("sentence", "paragraph"):
            path = raw / "concepts" / f"descriptions-{level}" / f"{cid}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name}: a {level} about it.")
    reps = replicates or {"draft": 1, "essay": 1, "evaluation": 2}
    pd.DataFrame({"stage": list(reps), "replicates": list(reps.values())}).to_csv(raw / "replication_config.csv", index=False)
    tasks = data_root / "2_tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    rows = [
        {"combo_id": combo, "version": "v1", "concept_id": cid, "description_level": "paragraph", "k_max": 2, "created_at": ""}
        for combo, cids in COMBOS.items()
        for cid in cids
    ]
    pd.DataFrame(rows).to_csv(tasks / "selected_combo_mappings.csv", index=False)


@contextmanager
def templates_root(data_root: Path):
    """``GEN_TEMPLATES_ROOT``: the real loader's override (its default is relative to the cwd)."""
    saved = os.environ.get("GEN_TEMPLATES_ROOT")
    os.environ["GEN_TEMPLATES_ROOT"] = str(data_root / "1_raw" / "templates")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("GEN_TEMPLATES_ROOT", None)
        else:
            os.environ["GEN_TEMPLATES_ROOT"] = saved


def cell(value) -> str | None:
    """A membership cell as the pipeline meant it (pandas NaN and '' are no value)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


class _DagsterInvalidPropertyError(Exception):
    pass


class _Config:
    """``dagster.Config`` / ``ConfigurableResource`` (pydantic models): class defaults, keyword overrides."""

    def __init__(self, **kwargs):
        for klass in reversed(type(self).__mro__):
            for key, value in vars(klass).items():
                if type(value).__module__ == "pydantic.fields":  # Field(...) / PrivateAttr(...) defaults
                    factory = getattr(value, "default_factory", None)
                    object.__setattr__(self, key, factory() if factory else value.default)
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)


def _inert_attribute(name: str):
    from .legacy_stubs import _Inert

    if name.startswith("__"):
        raise AttributeError(name)
    return _Inert


def import_gens_era(package: str, *modules: str) -> list:
    """:func:`realwriter.legacy_stubs.import_era`, plus what newer eras also import from dagster:
    ``Config``/``ConfigurableResource`` (configuration holders), ``dagster._core.errors``,
    ``dagster._check`` and inert definitions (partitions, asset keys). Nothing stubbed writes files."""
    import importlib
    import sys
    import types

    from .legacy_stubs import stubbed_modules

    core, errors = types.ModuleType("dagster._core"), types.ModuleType("dagster._core.errors")
    errors.DagsterInvalidPropertyError = _DagsterInvalidPropertyError
    check = types.ModuleType("dagster._check")
    check.CheckError = type("CheckError", (Exception,), {})
    extra = {"dagster._core": core, "dagster._core.errors": errors, "dagster._check": check}
    saved = {name: sys.modules.get(name) for name in extra}
    with stubbed_modules():
        sys.modules["dagster"].Config = _Config
        sys.modules["dagster"].ConfigurableResource = _Config
        sys.modules["dagster"].__getattr__ = _inert_attribute  # other definitions (partitions, keys) are inert
        sys.modules.update(extra)
        try:
            return [importlib.import_module(f"{package}.daydreaming_dagster.{m}") for m in modules]
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
