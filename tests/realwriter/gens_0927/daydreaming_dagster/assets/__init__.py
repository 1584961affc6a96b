# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/assets/__init__.py. Edits: absolute daydreaming_dagster imports point at this fixture package. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
"""Assets package init.

This file intentionally avoids re-exporting all asset symbols to reduce
import side-effects and keep import graphs explicit. Import assets from
their concrete modules instead, for example:

    from realwriter.gens_0927.daydreaming_dagster.assets.results_summary import final_results

    Public entrypoints remain stable via the daydreaming_dagster.definitions module.
"""
