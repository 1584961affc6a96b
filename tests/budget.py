"""How many examples a property test runs, from the Hypothesis profile (tests/conftest.py).

A test whose one example runs a refresh (about a second) cannot run as many as one that splices a list,
so each states its ``share`` of the profile's ``max_examples``: ``examples(0.25)`` is 25 under ``ci``
(100) and 2 under ``dev`` (10). At least 2, so that even the quick loop tries more than one case.
"""

from __future__ import annotations

from hypothesis import settings


def examples(share: float) -> int:
    """``share`` of the loaded profile's ``max_examples``, at least 2."""
    return max(2, round(settings.default.max_examples * share))
