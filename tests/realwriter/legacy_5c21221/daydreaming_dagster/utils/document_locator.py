# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 5c21221d6e264047382818d5a10a476f31d47200,
# path daydreaming_dagster/utils/document_locator.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
from __future__ import annotations

from pathlib import Path
import os
import re
from typing import Tuple


_V_RE = re.compile(r"^(?P<stem>.+)_v(?P<ver>\d+)\.txt$")


def _latest_versioned_in_dir(dir_path: Path, stem: str) -> Path | None:
    """Return latest `{stem}_vN.txt` under dir_path, or None if none exist."""
    try:
        names = os.listdir(dir_path)
    except Exception:
        return None
    best_ver = -1
    best_name = None
    prefix = stem + "_v"
    for name in names:
        if not name.startswith(prefix) or not name.endswith(".txt"):
            continue
        m = _V_RE.match(name)
        if not m or m.group("stem") != stem:
            continue
        try:
            ver = int(m.group("ver"))
        except Exception:
            continue
        if ver > best_ver:
            best_ver = ver
            best_name = name
    if best_name is None:
        return None
    p = dir_path / best_name
    return p if p.exists() else None


def find_document_path(document_id: str, data_root: Path) -> Tuple[Path | None, str]:
    """
    Locate a generation document by ID across current and legacy locations.

    Order of search (first hit wins):
    1) data/3_generation/essay_responses/{document_id}.txt
    2) data/3_generation/draft_responses/{document_id}.txt
    3) data/3_generation/links_responses/{document_id}.txt  (legacy)
    4) data/3_generation/generation_responses/{document_id}.txt  (legacy one-phase)
    5) data/3_generation/parsed_generation_responses/{document_id}.txt  (legacy)

    Returns (Path or None, label) where label is the directory name used.
    """
    base = Path(data_root)
    # Prefer versioned file in essay/draft directories
    essay_dir = base / "3_generation" / "essay_responses"
    draft_dir = base / "3_generation" / "draft_responses"
    latest_essay = _latest_versioned_in_dir(essay_dir, document_id)
    if latest_essay is not None:
        return latest_essay, "essay_responses"
    latest_draft = _latest_versioned_in_dir(draft_dir, document_id)
    if latest_draft is not None:
        return latest_draft, "draft_responses"

    # Fall back to unversioned across known locations
    candidates = [
        (essay_dir / f"{document_id}.txt", "essay_responses"),
        (draft_dir / f"{document_id}.txt", "draft_responses"),
        (base / "3_generation" / "links_responses" / f"{document_id}.txt", "links_responses"),
        (base / "3_generation" / "generation_responses" / f"{document_id}.txt", "generation_responses"),
        (base / "3_generation" / "parsed_generation_responses" / f"{document_id}.txt", "parsed_generation_responses"),
    ]
    for path, label in candidates:
        try:
            if path.exists():
                return path, label
        except Exception:
            continue
    return None, ""
