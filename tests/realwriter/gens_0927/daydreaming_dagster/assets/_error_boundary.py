# Copied from github.com/zby/DayDreamingDayDreaming at 2e526d04d7a1fc7ac77b8bce4ec5de47ad9bd18c,
# path src/daydreaming_dagster/assets/_error_boundary.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from __future__ import annotations

from functools import wraps
from dagster import Failure


def with_asset_error_boundary(stage: str):
    """Wrap an asset so unexpected errors surface as dagster.Failure.

    This decorator preserves the wrapped function's signature via functools.wraps,
    which keeps Dagster input/resource binding unchanged.
    """

    def deco(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Failure:
                # Already a Dagster Failure — propagate as-is
                raise
            except Exception as e:  # noqa: BLE001 - convert all unexpected errors
                raise Failure(description=f"[{stage}] {e}") from e

        return wrapper

    return deco
