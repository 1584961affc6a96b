# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/results_summary/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Pure transformations for results summary assets."""

from .transformations import (
    compute_generation_scores_pivot,
    compute_final_results,
    compute_evaluation_model_template_pivot,
    filter_perfect_score_rows,
    GenerationPivotResult,
    FinalResultsResult,
    EvaluationModelTemplatePivotResult,
)

__all__ = [
    "compute_generation_scores_pivot",
    "compute_final_results",
    "compute_evaluation_model_template_pivot",
    "filter_perfect_score_rows",
    "GenerationPivotResult",
    "FinalResultsResult",
    "EvaluationModelTemplatePivotResult",
]
