# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/unified/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Unified, stage-agnostic generation runner (scaffold).

Provides a single code path that can render a template, optionally call an LLM,
optionally parse a response, and persist artifacts in the gens store layout.

Assets can progressively adopt this runner without changing their external
interfaces or Dagster partitioning.
"""

