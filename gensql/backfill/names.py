"""Legacy file names: ``<task_id>_vN.txt`` is version N of a task, ``<task_id>.txt`` version 0.

Only ``_vN`` (written by the pipeline's ``VersionedTextIOManager`` from 2025-09-04) is a version
suffix. ``-vN`` ends template ids (``creative-synthesis-v10``) and stays part of the task id.
"""

from __future__ import annotations

import re

TEXT_SUFFIX = ".txt"
_VERSION_RE = re.compile(r"^(?P<task>.+)_v(?P<n>\d+)$")


def parse_name(name: str) -> tuple[str, int] | None:
    """``<task_id>_vN.txt`` -> (task_id, N); ``<task_id>.txt`` -> (task_id, 0); anything else None."""
    if not name.endswith(TEXT_SUFFIX) or len(name) == len(TEXT_SUFFIX):
        return None
    stem = name[: -len(TEXT_SUFFIX)]
    m = _VERSION_RE.match(stem)
    if m:
        return m["task"], int(m["n"])
    return stem, 0
