# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/assets/__init__.py. Edits: absolute daydreaming_dagster imports point at this fixture package. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Assets package init.

This file intentionally avoids re-exporting all asset symbols to reduce
import side-effects and keep import graphs explicit. Import assets from
their concrete modules instead, for example:

    from realwriter.gens_head.daydreaming_dagster.assets.results_summary import final_results

    Public entrypoints remain stable via the daydreaming_dagster.definitions module.
"""
