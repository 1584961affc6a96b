# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/cohorts/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Cohort planning helpers."""

from .membership_engine import (
    CohortCatalog,
    GensDataLayerRegistry,
    InMemoryGenerationRegistry,
    MEMBERSHIP_COLUMNS,
    MembershipRow,
    generate_membership,
)
from .spec_planner import (
    CohortDefinition,
    CohortDefinitionAllowlists,
    CohortSpecContext,
    DraftPlanEntry,
    EssayPlanEntry,
    EvaluationPlanEntry,
    build_allowlists_from_definition,
    build_spec_catalogs,
    compile_cohort_definition,
    load_cohort_allowlists,
    load_cohort_context,
    load_cohort_definition,
    persist_membership_csv,
    seed_cohort_metadata,
    validate_cohort_membership,
)
from .validation import validate_cohort_definition, validate_membership_against_catalog

__all__ = [
    "CohortCatalog",
    "CohortDefinition",
    "DraftPlanEntry",
    "EssayPlanEntry",
    "EvaluationPlanEntry",
    "CohortDefinitionAllowlists",
    "CohortSpecContext",
    "GensDataLayerRegistry",
    "InMemoryGenerationRegistry",
    "MembershipRow",
    "MEMBERSHIP_COLUMNS",
    "build_allowlists_from_definition",
    "build_spec_catalogs",
    "load_cohort_allowlists",
    "load_cohort_context",
    "compile_cohort_definition",
    "load_cohort_definition",
    "persist_membership_csv",
    "seed_cohort_metadata",
    "validate_cohort_membership",
    "generate_membership",
    "validate_cohort_definition",
    "validate_membership_against_catalog",
]
