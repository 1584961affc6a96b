# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/spec_dsl/models.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Data structures backing the experiment DSL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class AxisSpec:
    """Declarative axis listing the raw levels prior to rule transforms."""

    name: str
    levels: Sequence[Any]


@dataclass(frozen=True)
class ExperimentSpec:
    """Top-level spec bundle loaded from disk."""

    axes: Mapping[str, AxisSpec]
    rules: Sequence[Mapping[str, Any]]
    output: Mapping[str, Any]
