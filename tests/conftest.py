"""Test-wide settings: the helper modules beside the tests on sys.path, and Hypothesis profiles.

Profiles (``HYPOTHESIS_PROFILE``): ``dev``, the default, runs a tenth of the examples so that
``make test-fast`` stays a one-minute loop; ``ci`` (``make test``) runs the full counts and prints the
blob that reproduces a failure. A property test asks for its count with ``examples(share)``
(tests/budget.py) rather than hard-coding one, so a profile changes every test at once.
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# Examples build stores and run refreshes: their time depends on the machine, not on the code, so no
# deadline; a function-scoped fixture (tmp_path, monkeypatch) shared by the examples of one test is fine
# here because each example works in its own temporary directory.
_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.register_profile("ci", max_examples=100, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
