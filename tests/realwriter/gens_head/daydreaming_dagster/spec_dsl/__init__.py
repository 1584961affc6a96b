# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/spec_dsl/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Tuple-capable experiment DSL package."""

from .compiler import compile_design
from .errors import SpecDslError, SpecDslErrorCode
from .loader import load_spec, parse_spec_mapping
from .models import AxisSpec, ExperimentSpec

__all__ = [
    "AxisSpec",
    "ExperimentSpec",
    "compile_design",
    "load_spec",
    "parse_spec_mapping",
    "SpecDslError",
    "SpecDslErrorCode",
]
