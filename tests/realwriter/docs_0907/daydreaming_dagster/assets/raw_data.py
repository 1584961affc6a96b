# Copied from github.com/zby/DayDreamingDayDreaming at 869bab4adfc6757efb84ddee4c38149515e6c131,
# path daydreaming_dagster/assets/raw_data.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from dagster import AssetSpec, AssetKey
from pathlib import Path

RAW_BASE = Path("data") / "1_raw"

# CSV-only SourceAssets (no per-description or per-template .txt assets)
CONCEPTS_METADATA_KEY = AssetKey(["raw_source", "concepts_metadata_csv"])
LLM_MODELS_KEY = AssetKey(["raw_source", "llm_models_csv"])
DRAFT_TEMPLATES_KEY = AssetKey(["raw_source", "draft_templates_csv"])
ESSAY_TEMPLATES_KEY = AssetKey(["raw_source", "essay_templates_csv"])
EVALUATION_TEMPLATES_KEY = AssetKey(["raw_source", "evaluation_templates_csv"])

RAW_SOURCE_ASSETS = [
    AssetSpec(
        key=CONCEPTS_METADATA_KEY,
        description=f"External raw CSV: {RAW_BASE / 'concepts_metadata.csv'}",
        group_name="raw_sources",
        metadata={"path": str(RAW_BASE / "concepts_metadata.csv")},
    ),
    AssetSpec(
        key=LLM_MODELS_KEY,
        description=f"External raw CSV: {RAW_BASE / 'llm_models.csv'}",
        group_name="raw_sources",
        metadata={"path": str(RAW_BASE / "llm_models.csv")},
    ),
    AssetSpec(
        key=DRAFT_TEMPLATES_KEY,
        description=f"External raw CSV: {RAW_BASE / 'draft_templates.csv'}",
        group_name="raw_sources",
        metadata={"path": str(RAW_BASE / "draft_templates.csv")},
    ),
    AssetSpec(
        key=ESSAY_TEMPLATES_KEY,
        description=f"External raw CSV: {RAW_BASE / 'essay_templates.csv'}",
        group_name="raw_sources",
        metadata={"path": str(RAW_BASE / "essay_templates.csv")},
    ),
    AssetSpec(
        key=EVALUATION_TEMPLATES_KEY,
        description=f"External raw CSV: {RAW_BASE / 'evaluation_templates.csv'}",
        group_name="raw_sources",
        metadata={"path": str(RAW_BASE / "evaluation_templates.csv")},
    ),
]

# Task-selected subset of combinations (strict subset of data/combo_mappings.csv)
SELECTED_COMBO_MAPPINGS_KEY = AssetKey(["task_sources", "selected_combo_mappings_csv"])

TASK_SOURCE_ASSETS = [
    AssetSpec(
        key=SELECTED_COMBO_MAPPINGS_KEY,
        description="External selected subset CSV: data/2_tasks/selected_combo_mappings.csv",
        group_name="task_sources",
        metadata={"path": str(Path("data") / "2_tasks" / "selected_combo_mappings.csv")},
    )
]
