# Copied from github.com/zby/DayDreamingDayDreaming at 974def230b3e050a323297e14a0a5745878c1332,
# path src/daydreaming_dagster/__init__.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Daydreaming Dagster package."""

__version__ = "0.1.0"